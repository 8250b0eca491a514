"""The stock book's pages: book stock per tank and per customer, the ledger, reversing a posting,
asking for and approving an adjustment; staff may look but not change."""
from __future__ import annotations

from decimal import Decimal

from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.models import StockAdjustment, StockPosting
from portal.extensions import db

from stock_clock import at


def test_stock_pages_show_the_book(terminal, client, login):
    terminal.order("ship_discharge", terminal.a, terminal.t101, "5000", at("2026-03-02"))
    terminal.order("ownership_transfer", terminal.a, terminal.t101, "1200", at("2026-03-03"), counterparty=terminal.b)
    db.session.commit()
    login("staff")
    page = client.get("/operations/stock/").get_data(as_text=True)
    assert "T-101" in page and "3,800.000" in page and "1,200.000" in page and "5,000.000" in page  # per customer, tank total
    page = client.get("/operations/stock/?day=2026-03-02").get_data(as_text=True)
    assert "5,000.000" in page and "1,200.000" not in page
    page = client.get(f"/operations/stock/customers/{terminal.b.id}").get_data(as_text=True)
    assert "1,200.000" in page and "Ownership transfer in" in page
    rows = client.get(f"/operations/stock/movements?customer={terminal.a.id}", headers={"HX-Request": "true"})
    assert "<html" not in rows.get_data(as_text=True) and "Ownership transfer out" in rows.get_data(as_text=True)
    assert client.get("/operations/stock/movements?start=2026-13-01").status_code == 404
    posting = db.session.scalar(db.select(StockPosting).order_by(StockPosting.id))
    assert client.post(f"/operations/stock/postings/{posting.id}/reverse", data={"reason": "x"}).status_code == 403


def test_reverse_from_the_posting_page(terminal, client, login):
    order = terminal.order("ship_discharge", terminal.a, terminal.t101, "100", at("2026-03-02"))
    db.session.commit()
    login("csr")
    posting = stock.order_posting(order)
    page = client.post(f"/operations/stock/postings/{posting.id}/reverse", data={"reason": ""})
    assert page.status_code == 200 and stock.book_stock(customer_id=terminal.a.id)[0] == Decimal("100000")
    response = client.post(f"/operations/stock/postings/{posting.id}/reverse", data={"reason": "Booked twice in PEPI"})
    assert response.status_code == 302
    assert stock.book_stock(customer_id=terminal.a.id)[0] == 0
    again = client.post(f"/operations/stock/postings/{posting.id}/reverse", data={"reason": "again"})
    assert "already been reversed" in again.get_data(as_text=True)


def test_adjustment_pages_request_then_manager_approves(terminal, client, login, people):
    terminal.order("ship_discharge", terminal.a, terminal.t101, "100", at("2026-03-02"))
    db.session.commit()
    login("csr")
    form = {"customer_id": terminal.a.id, "tank_id": terminal.t101.id, "product_id": terminal.diesel.id,
            "customs_status": "duty_paid", "direction": "loss", "quantity": "0.75", "unit": "t", "density_20": "845",
            "occurred_at": "2026-03-03T10:00", "reason": "Sample losses, March"}
    assert client.get("/operations/stock/adjustments/new").status_code == 200
    response = client.post("/operations/stock/adjustments/new", data=form)
    assert response.status_code == 302
    adj = db.session.scalar(db.select(StockAdjustment))
    assert client.post(f"/operations/stock/adjustments/{adj.id}/decide", data={"decision": "approve"}).status_code == 403
    client.post("/auth/logout")
    login(people["manager"])
    page = client.get(f"/operations/stock/adjustments/{adj.id}").get_data(as_text=True)
    assert "Sample losses, March" in page and "Save the decision" in page
    assert client.post(f"/operations/stock/adjustments/{adj.id}/decide", data={"decision": "approve"}).status_code == 302
    assert stock.book_stock(customer_id=terminal.a.id)[0] == Decimal("99250")
    assert "ADJ-" in client.get("/operations/stock/adjustments?state=approved").get_data(as_text=True)


def test_the_morning_check_procedure_links_to_working_pages(client, login):
    """The knowledge procedure "Morning stock check" links to the stock book's pages, and each answers."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[4] / "knowledge" / "morning-stock-check.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((/operations/stock[^)]*)\)", text)
    assert len(links) >= 4
    login("csr")
    for link in links:
        assert client.get(link).status_code == 200, link
