"""The customs pages: staff look, CSRs register, release, close and file documents; bad input answers the
form with its field errors (never a 500); URLs and query values that do not exist answer 404."""
from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from portal.blueprints.archive.models import ArchiveRecord
from portal.blueprints.operations.customs.models import CustomsDocument, CustomsEntry
from portal.extensions import db
from portal.timeutil import local_now, local_today

from customs_world import completed_order, lodge, split

T = Decimal(1000)


def _form(terminal, **over) -> dict:
    data = {"declaration_no": "310420260009990001", "kind": "release", "customer_id": terminal.sino.id,
            "to_customer_id": 0, "broker_contact_id": 0, "broker_name": "Huayang Customs Brokerage",
            "order_number": "", "product_id": terminal.gasoil.id, "tank_id": terminal.t2.id, "quantity": "250",
            "unit": "t", "density_20": "", "lodged_on": local_today().isoformat(), "remarks": "First release"}
    data.update(over)
    return data


def test_staff_look_but_do_not_change(terminal, make_order, client, login):
    completed_order(terminal, make_order, qty="300", customs_status="bonded")
    entry = lodge(terminal)
    login("staff")
    for url in ("/operations/customs/", f"/operations/customs/{entry.id}", "/operations/customs/stock",
                "/operations/customs/check", f"/operations/customs/stock?customer={terminal.sino.id}"):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/operations/customs/{entry.id}").get_data(as_text=True)
    assert "310420260001234567" in page and "Record the release" not in page
    assert client.get("/operations/customs/new").status_code == 403
    assert client.post("/operations/customs/new", data=_form(terminal)).status_code == 403
    assert client.post(f"/operations/customs/{entry.id}/release",
                       data={"released_at": local_now().strftime("%Y-%m-%dT%H:%M")}).status_code == 403
    assert client.post(f"/operations/customs/{entry.id}/close", data={}).status_code == 403
    assert client.post(f"/operations/customs/{entry.id}/documents", data={}).status_code == 403
    assert entry.status == "lodged" and split(terminal)["duty_paid"] == (0, 0)


def test_signed_out_users_are_sent_to_sign_in(terminal, client):
    response = client.get("/operations/customs/")
    assert response.status_code in (302, 401)


def test_csr_registers_releases_files_and_closes(terminal, make_order, client, login):
    completed_order(terminal, make_order, qty="1000", customs_status="bonded")
    login("csr")
    assert client.get("/operations/customs/new").status_code == 200
    # lodged yesterday, so a release half an hour ago is never before the lodging day (just after midnight)
    response = client.post("/operations/customs/new",
                           data=_form(terminal, lodged_on=(local_today() - timedelta(days=1)).isoformat()))
    assert response.status_code == 302
    entry = db.session.scalar(db.select(CustomsEntry))
    assert entry.status == "lodged" and entry.qty_kg == 250 * T
    page = client.get(f"/operations/customs/{entry.id}").get_data(as_text=True)
    assert "Record the release" in page and "1,000.000" in page  # the bonded stock there is

    when = (local_now() - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/operations/customs/{entry.id}/release", data={"released_at": when})
    assert response.status_code == 302
    db.session.expire_all()
    assert entry.status == "released" and split(terminal)["duty_paid"][0] == 250 * T
    assert client.get(f"/operations/customs/{entry.id}/edit").status_code == 302  # no change after release

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(f"/operations/customs/{entry.id}/documents",
                           data={"title": "Release note 放行单", "file": (io.BytesIO(pdf), "release-note.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    doc = db.session.scalar(db.select(CustomsDocument))
    record = db.session.get(ArchiveRecord, doc.record_id)
    assert record.customer_id == terminal.sino.id and "310420260009990001" in record.title
    assert "Release note 放行单" in client.get(f"/operations/customs/{entry.id}").get_data(as_text=True)

    response = client.post(f"/operations/customs/{entry.id}/close", data={"closed_on": local_today().isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    assert entry.status == "closed"


def test_bad_input_answers_the_form(terminal, make_order, client, login):
    completed_order(terminal, make_order, qty="100", customs_status="bonded")
    login("csr")
    bad = [
        ({"declaration_no": "<b>"}, "3 to 40"),
        ({"quantity": "-5"}, 'id="quantity-error"'),
        ({"quantity": "abc"}, 'id="quantity-error"'),
        ({"customer_id": "999999"}, 'id="customer_id-error"'),
        ({"tank_id": terminal.t1.id}, 'id="tank_id-error"'),  # only bonded tanks are offered
        ({"lodged_on": (local_today() + timedelta(days=3)).isoformat()}, "in the future"),
        ({"kind": "re_export"}, "give the order number"),
        ({"order_number": "ORD-0000-00000"}, "There is no order ORD-0000-00000"),
        ({"broker_name": ""}, "Name the customs broker"),
    ]
    for over, fragment in bad:
        response = client.post("/operations/customs/new", data=_form(terminal, **over))
        assert response.status_code == 200, over
        assert fragment in response.get_data(as_text=True), (over, fragment)
    assert db.session.scalar(db.select(db.func.count(CustomsEntry.id))) == 0

    entry = lodge(terminal, quantity=Decimal("150"))
    response = client.post(f"/operations/customs/{entry.id}/release",
                           data={"released_at": local_now().strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 200
    assert "exceeds the bonded stock" in response.get_data(as_text=True)
    for value in ("not a time", (local_now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")):
        response = client.post(f"/operations/customs/{entry.id}/release", data={"released_at": value})
        assert response.status_code == 200
    response = client.post(f"/operations/customs/{entry.id}/documents",
                           data={"file": (io.BytesIO(b"MZ\x90\x00 not a document"), "virus.exe")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and db.session.scalar(db.select(CustomsDocument)) is None
    response = client.post(f"/operations/customs/{entry.id}/documents", data={}, content_type="multipart/form-data")
    assert response.status_code == 200 and "Choose a file." in response.get_data(as_text=True)
    response = client.post(f"/operations/customs/{entry.id}/close", data={"closed_on": "2026-02-30"})
    assert response.status_code == 200
    db.session.expire_all()
    assert entry.status == "lodged" and split(terminal)["duty_paid"] == (0, 0)


def test_list_filters_and_unknown_urls(terminal, make_order, client, login):
    completed_order(terminal, make_order, qty="100", customs_status="bonded")
    lodge(terminal, declaration_no="AAA-111")
    lodge(terminal, declaration_no="BBB-222", kind="bond_transfer", to_customer_id=terminal.vitol.id)
    login("staff")
    page = client.get("/operations/customs/?kind=bond_transfer").get_data(as_text=True)
    assert "BBB-222" in page and "AAA-111" not in page
    page = client.get("/operations/customs/?q=aaa").get_data(as_text=True)
    assert "AAA-111" in page and "BBB-222" not in page
    rows = client.get("/operations/customs/?status=lodged", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in rows and "AAA-111" in rows
    assert client.get("/operations/customs/?status=nonsense").status_code == 200
    assert client.get("/operations/customs/?customer=abc").status_code == 404
    assert client.get("/operations/customs/999999").status_code == 404
    assert client.get("/operations/customs/stock?customer=999999").status_code == 404
    page = client.get("/operations/customs/check").get_data(as_text=True)
    assert "AAA-111" in page and "BBB-222" in page


def test_dashboard_lists_entries_waiting_for_release(terminal, make_order, client, login):
    completed_order(terminal, make_order, qty="100", customs_status="bonded")
    entry = lodge(terminal, declaration_no="WAIT-0001")
    login("csr")
    page = client.get("/").get_data(as_text=True)
    assert "Customs entries waiting for release" in page
    listed = client.get("/operations/customs/?status=lodged&per_page=200").get_data(as_text=True)
    assert "WAIT-0001" in listed
    client.post("/auth/logout")
    login("staff")
    assert "Customs entries waiting for release" not in client.get("/").get_data(as_text=True)
    assert entry.status == "lodged"


def test_csr_corrects_a_lodged_entry(terminal, make_order, client, login):
    completed_order(terminal, make_order, qty="100", customs_status="bonded")
    entry = lodge(terminal, declaration_no="EDIT-0001", quantity=Decimal("40"))
    login("csr")
    page = client.get(f"/operations/customs/{entry.id}/edit").get_data(as_text=True)
    assert 'value="EDIT-0001"' in page and 'value="40.000"' in page
    response = client.post(f"/operations/customs/{entry.id}/edit",
                           data=_form(terminal, declaration_no="EDIT-0001", quantity="45.5"))
    assert response.status_code == 302
    db.session.expire_all()
    assert entry.quantity == Decimal("45.500") and entry.qty_kg == Decimal("45500")
    response = client.post(f"/operations/customs/{entry.id}/edit", data=_form(terminal, declaration_no=""))
    assert response.status_code == 200 and 'id="declaration_no-error"' in response.get_data(as_text=True)
