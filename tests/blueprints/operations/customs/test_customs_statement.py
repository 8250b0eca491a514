"""The customs statement of a customer for a period ties out (opening + in - out = closing per customs
status), and its PDF and XLSX carry the page's figures."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from portal.blueprints.operations.customs import reports
from portal.blueprints.operations.customs import services as customs
from portal.extensions import db

from customs_world import at_utc, completed_order, entry_values

D = Decimal


def _history(terminal, make_order):
    """February: 1,000 t bonded in. March: 400 t released, 150 t delivered duty-paid, 100 t to VITOL under
    bond, 500 t more bonded in."""
    completed_order(terminal, make_order, qty="1000", customs_status="bonded", at=at_utc(2026, 2, 20))
    release = customs.lodge_entry(entry_values(terminal, declaration_no="REL-0301", lodged_on=date(2026, 3, 2),
                                               quantity=D("400")), terminal.csr)
    customs.release_entry(release, at_utc(2026, 3, 3), terminal.csr)
    completed_order(terminal, make_order, kind="truck_loading", qty="150", at=at_utc(2026, 3, 5))
    bond = customs.lodge_entry(entry_values(terminal, declaration_no="BT-0310", kind="bond_transfer",
                                            to_customer_id=terminal.vitol.id, lodged_on=date(2026, 3, 9),
                                            quantity=D("100")), terminal.csr)
    customs.release_entry(bond, at_utc(2026, 3, 10), terminal.csr)
    completed_order(terminal, make_order, qty="500", customs_status="bonded", at=at_utc(2026, 3, 20))
    db.session.commit()


def test_statement_ties_out_per_customs_status(terminal, make_order, request_ctx):
    _history(terminal, make_order)
    st = reports.build(terminal.sino, date(2026, 3, 1), date(2026, 3, 31))
    assert st.ties_out
    bonded, duty_paid = st.status_totals
    assert bonded.t("opening") == D("1000") and bonded.t("receipt") == D("500")
    assert bonded.t("customs_out") == D("400") and bonded.t("ownership_out") == D("100")
    assert bonded.t("closing") == D("1000")
    assert duty_paid.t("opening") == 0 and duty_paid.t("customs_in") == D("400")
    assert duty_paid.t("delivery") == D("150") and duty_paid.t("closing") == D("250")
    assert {e.declaration_no for e in st.entries} == {"REL-0301", "BT-0310"}
    # The receiving bonded owner sees the transfer on its own statement.
    vitol = reports.build(terminal.vitol, date(2026, 3, 1), date(2026, 3, 31))
    assert vitol.ties_out and vitol.status_totals[0].t("ownership_in") == D("100")
    assert [e.declaration_no for e in vitol.entries] == ["BT-0310"]
    # February alone: only the bonded receipt.
    feb = reports.build(terminal.sino, date(2026, 2, 1), date(2026, 2, 28))
    assert feb.status_totals[0].t("closing") == D("1000") and not feb.entries


def test_statement_page_pdf_and_xlsx_carry_the_figures(terminal, make_order, client, login):
    _history(terminal, make_order)
    login("staff")
    query = f"customer={terminal.sino.id}&start=2026-03-01&end=2026-03-31"
    page = client.get(f"/operations/customs/statement?{query}").get_data(as_text=True)
    for figure in ("1,000.000", "400.000", "150.000", "250.000", "REL-0301", "BT-0310", "ties out"):
        assert figure in page
    pdf = client.get(f"/operations/customs/statement.pdf?{query}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    for figure in ("海关对账单", "Customs statement", "SINOCHEM", "1,000.000", "400.000", "150.000", "250.000",
                   "REL-0301", "保税", "完税"):
        assert figure in text, figure
    xlsx = client.get(f"/operations/customs/statement.xlsx?{query}")
    book = load_workbook(io.BytesIO(xlsx.data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = rows[0]
    totals = {r[0]: dict(zip(header, r)) for r in rows if r[1] == "合计 Total" and r[3].endswith("t")}
    bonded, duty_paid = totals["保税 bonded"], totals["完税 duty-paid"]
    assert D(str(bonded["期初 Opening"])) == D("1000") and D(str(bonded["期末 Closing"])) == D("1000")
    assert D(str(bonded["放行转出 Released out of bond"])) == D("400")
    assert D(str(duty_paid["放行转入 Released duty-paid"])) == D("400")
    assert D(str(duty_paid["出库 Deliveries"])) == D("150") and D(str(duty_paid["期末 Closing"])) == D("250")
    entries = [r[0] for r in book.worksheets[1].iter_rows(values_only=True)][1:]
    assert entries == ["REL-0301", "BT-0310"]


def test_statement_arguments(terminal, client, login):
    login("staff")
    assert client.get("/operations/customs/statement").status_code == 200  # choose a customer first
    assert client.get(f"/operations/customs/statement?customer={terminal.sino.id}&start=2026-02-30").status_code == 404
    assert client.get(f"/operations/customs/statement?customer={terminal.sino.id}&start=2026-03-31&end=2026-03-01"
                      ).status_code == 404
    assert client.get("/operations/customs/statement?customer=999999").status_code == 404
    assert client.get("/operations/customs/statement.pdf").status_code == 404
    assert client.get("/operations/customs/statement.xlsx?customer=x").status_code == 404
