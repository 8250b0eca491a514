"""The month-end pages: the month's reconciliation, sign-off by a manager other than the preparer, the lock."""
from __future__ import annotations

from portal.blueprints.operations.monthend import services
from portal.extensions import db

from monthend_helpers import MONTH, book, calibrate, dip


def test_the_month_page_shows_physical_book_and_customs(terminal, client, login):
    calibrate(terminal.t1)
    book(terminal.sino, terminal.t1, terminal.gasoil, "3355600", "4000.000", customs_status="bonded")
    dip(terminal.t1, "4000.0")
    db.session.commit()
    login(terminal.csr)
    page = client.get("/operations/month-end/2026-03")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "T-101" in html and "SINOCHEM" in html and "4,000.000" in html or "4000.000" in html
    assert client.get("/operations/month-end/").status_code == 200
    assert client.get("/operations/month-end/2026-13").status_code == 404
    assert client.get("/operations/month-end/nonsense").status_code == 404
    assert services.month_locked(MONTH) is False


def test_the_dashboard_lists_months_awaiting_sign_off_and_open_investigations(terminal, app, people):
    from portal.panels import due_for

    calibrate(terminal.t1)
    book(terminal.sino, terminal.t1, terminal.gasoil, "3355600", "4000.000")
    dip(terminal.t1, "3980.0")
    services.prepare(MONTH, terminal.csr)
    db.session.commit()
    with app.test_request_context():
        lists = {item.key: rows for item, rows in due_for(people["manager"])}
        assert [r.title for r in lists["monthend-signoff"]][0].startswith("2026-03")
        assert "T-101 SINOCHEM" in lists["monthend-investigations"][0].title
        assert "monthend-signoff" not in {item.key for item, _rows in due_for(people["staff"])}


def test_a_signed_off_month_page_offers_a_correction_linked_to_the_next_month(terminal, app, login, people):
    calibrate(terminal.t1)
    book(terminal.sino, terminal.t1, terminal.gasoil, "3355600", "4000.000")
    dip(terminal.t1, "4000.0")
    period = services.prepare(MONTH, terminal.csr)
    services.sign_off(period, people["manager"])
    db.session.commit()
    client = app.test_client()
    login(terminal.csr, client=client)
    html = client.get("/operations/month-end/2026-03").get_data(as_text=True)
    assert "the month is locked" in html and "Enter a correction" in html
    assert client.get("/operations/month-end/2026-03/corrections/new").status_code == 200
    response = client.post("/operations/month-end/2026-03/corrections/new", data={
        "customer_id": terminal.sino.id, "tank_id": terminal.t1.id, "product_id": terminal.gasoil.id,
        "customs_status": "duty_paid", "direction": "loss", "quantity": "3.2", "unit": "t", "density_20": "839",
        "reason": "March loss booked in April"})
    assert response.status_code == 302
    html = client.get("/operations/month-end/2026-03").get_data(as_text=True)
    assert "Corrections in later months" in html and "March loss booked in April" in html
    bad = client.post("/operations/month-end/2026-03/corrections/new", data={"quantity": "-1"})
    assert bad.status_code == 422
    assert client.get("/operations/month-end/2026-04/corrections/new").status_code == 404
    pdf = client.get("/operations/month-end/2026-03/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
