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
