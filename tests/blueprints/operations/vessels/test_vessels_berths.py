"""Berths as master data (edited by CSRs and managers, audited), vessel calls found by search, the demo line-up."""
from __future__ import annotations

from portal.audit import AuditEntry
from portal.blueprints.operations.vessels import plan as berth_plan
from portal.blueprints.operations.vessels.models import Berth, BerthPlanVersion, CallRevision, VesselCall
from portal.extensions import db
from portal.search import search

URL = "/operations/vessels"


def _berth(t, **over):
    data = {"code": "b5", "name_en": "Berth 5", "name_zh": "5号泊位", "max_loa_m": "180", "max_draught_m": "11.5",
            "product_ids": [t.gasoil.id, t.jet.id], "active": "y", "notes": ""}
    data.update(over)
    return data


def test_a_csr_adds_and_edits_a_berth_and_the_change_is_audited(client, login, terminal):
    login("csr")
    assert client.post(f"{URL}/berths/new", data=_berth(terminal)).status_code == 302
    berth = db.session.scalar(db.select(Berth))
    assert berth.code == "B5" and {p.code for p in berth.products} == {"GASOIL", "JET"}
    response = client.post(f"{URL}/berths/{berth.id}/edit",
                           data=_berth(terminal, code="B5", max_loa_m="200", product_ids=[terminal.gasoil.id]))
    assert response.status_code == 302
    db.session.expire_all()
    berth = db.session.get(Berth, berth.id)
    assert berth.max_loa_m == 200 and [p.code for p in berth.products] == ["GASOIL"]
    entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.entity == "ops_berth",
                                                             AuditEntry.action == "update")).all()
    changes = entries[-1].change_map
    assert changes["max_loa_m"][1] in ("200", "200.00") and "products" in changes
    page = client.get(f"{URL}/berths").get_data(as_text=True)
    assert 'data-berth="B5"' in page and "GASOIL" in page


def test_berth_input_is_checked_on_its_fields(client, login, terminal):
    login("csr")
    bad = client.post(f"{URL}/berths/new", data=_berth(terminal, code="b 5!", max_loa_m="-3", max_draught_m="x"))
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert "Use 1-20 capital letters" in text
    client.post(f"{URL}/berths/new", data=_berth(terminal))
    again = client.post(f"{URL}/berths/new", data=_berth(terminal, name_en="Other"))
    assert "Berth B5 exists already." in again.get_data(as_text=True)
    unknown_product = client.post(f"{URL}/berths/new", data=_berth(terminal, code="B6", product_ids=["999999"]))
    assert unknown_product.status_code == 200
    assert db.session.scalar(db.select(db.func.count(Berth.id))) == 1


def test_staff_reads_berths_but_does_not_edit_them(client, login, terminal):
    login("staff")
    assert client.get(f"{URL}/berths").status_code == 200
    assert client.post(f"{URL}/berths/new", data=_berth(terminal)).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Berth.id))) == 0


def test_calls_are_found_by_number_vessel_imo_and_order(app, harbour):
    t = harbour.t
    call = harbour.announce(parcels=[(t.sino, t.gasoil, "9000")])
    staff = t.people["staff"]

    def keys(query):
        return [hit.key for hit in search(query, user=staff, kinds=["vessel_call"]).hits]

    key = f"vessel_call:{call.id}"
    assert key in keys(call.number)
    assert key in keys("Pioneer")
    assert key in keys("9074729")
    assert key in keys("中化")  # the customer's Chinese name


def test_demo_lineup(app):
    from portal.blueprints.operations.vessels import demo
    from portal.blueprints.operations.vessels.services import eta_change_rows
    from portal.demo import loaders

    wanted = {"portal.blueprints.admin.demo", "portal.blueprints.customers.demo", "portal.blueprints.operations.demo"}
    for _order, _name, fn in loaders():  # what the line-up builds on: users, customers, products, tanks, orders
        if fn.__module__ in wanted:
            fn()
    demo.load()
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Berth.id))) == 4
    calls = db.session.scalars(db.select(VesselCall)).all()
    assert len(calls) >= 55  # about 15 a month over four months
    assert {c.status for c in calls} >= {"departed", "announced"}
    assert any(p.order_id for c in calls for p in c.parcels)  # the ship orders of the operations demo ride on calls
    assert db.session.scalar(db.select(db.func.count(CallRevision.id))
                             .where(CallRevision.note == "Agent's ETA notice by e-mail")) == 5
    assert db.session.scalar(db.select(db.func.count(BerthPlanVersion.id))) == 2
    overlaps = [c for cs in berth_plan.find_conflicts(calls).values() for c in cs if c.kind == "overlap"]
    assert len(overlaps) == 2  # the one conflict, flagged on both calls
    with app.test_request_context():
        assert eta_change_rows()  # some ETA changes not told yet
    demo.load()  # a second run adds nothing
    assert db.session.scalar(db.select(db.func.count(Berth.id))) == 4
