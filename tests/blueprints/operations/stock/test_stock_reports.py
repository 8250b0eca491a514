"""The daily stock report: figures that tie out, the same figures in the page, PDF and XLSX, mark sent,
a changed regeneration, and the dashboard's reports due."""
from __future__ import annotations

import hashlib
import io
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from portal.blueprints.archive.models import ArchiveRecord
from portal.blueprints.operations.stock import reports
from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.models import DailyReport
from portal.extensions import db
from portal.i18n import fmt_decimal

from stock_clock import at

D = Decimal
DAY = date(2026, 3, 3)


@pytest.fixture
def busy_day(terminal):
    """Customer A: 5000 t received on the 2nd; on the 3rd 1000 t moved T-101 -> T-102, 300 t sold to B,
    120.5 t loaded on trucks, 2.5 t loss approved. B also receives 800 t of bonded methanol."""
    a, b = terminal.a, terminal.b
    terminal.order("ship_discharge", a, terminal.t101, "5000", at("2026-03-02"))
    terminal.order("tank_transfer", a, terminal.t101, "1000", at("2026-03-03", 1), to_tank=terminal.t102)
    terminal.order("ownership_transfer", a, terminal.t102, "300", at("2026-03-03", 2), counterparty=b)
    terminal.order("truck_loading", a, terminal.t101, "120.5", at("2026-03-03", 3))
    terminal.order("pipeline_receipt", b, terminal.t201, "800", at("2026-03-03", 4), product=terminal.methanol,
                   customs_status="bonded", density=D("791.8"))
    db.session.commit()
    return terminal


def test_the_report_ties_out_per_tank_and_in_total(busy_day):
    report = reports.build(busy_day.a, DAY)
    by_tank = {ln.tank_code: ln for ln in report.lines}
    assert set(by_tank) == {"T-101", "T-102"}
    t101, t102 = by_tank["T-101"], by_tank["T-102"]
    assert (t101.t("opening"), t101.t("transfer_out"), t101.t("delivery"), t101.t("closing")) == \
           (D("5000.000"), D("1000.000"), D("120.500"), D("3879.500"))
    assert (t102.t("opening"), t102.t("transfer_in"), t102.t("ownership_out"), t102.t("closing")) == \
           (D("0.000"), D("1000.000"), D("300.000"), D("700.000"))
    assert all(ln.ties_out() for ln in report.lines + report.product_totals + [report.total])
    assert report.total.kg["closing"] == stock.book_stock(customer_id=busy_day.a.id, at=stock.day_end(DAY))[0]
    b_report = reports.build(busy_day.b, DAY)
    assert {(ln.tank_code, ln.customs_status) for ln in b_report.lines} == {("T-102", "duty_paid"), ("T-201", "bonded")}
    # the customers' closings add up to each tank's book stock
    for tank in (busy_day.t101, busy_day.t102, busy_day.t201):
        total = sum(ln.kg["closing"] for r in (report, b_report) for ln in r.lines if ln.tank_code == tank.code)
        assert total == stock.closing_on(DAY, tank_id=tank.id)[0]


def test_page_pdf_and_xlsx_show_the_same_figures(busy_day, client, login):
    login("csr")
    a = busy_day.a
    page = client.get(f"/operations/stock/reports/{a.id}/{DAY}").get_data(as_text=True)
    expected = ["5,000.000", "1,000.000", "120.500", "300.000", "3,879.500", "700.000"]
    m3_closing = fmt_decimal(reports.build(a, DAY).total.m3["closing"])
    for figure in expected + [m3_closing]:
        assert figure in page
    pdf = client.get(f"/operations/stock/reports/{a.id}/{DAY}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    for figure in expected + [m3_closing, "库存日报", "Daily stock report", "SINOCHEM", "期初", "Opening"]:
        assert figure in text
    xlsx = client.get(f"/operations/stock/reports/{a.id}/{DAY}/report.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    t101_t = next(r for r in rows if r[0] == "T-101" and r[3].endswith("t"))
    values = dict(zip(header, t101_t))
    assert D(str(values["期初 Opening"])) == D("5000") and D(str(values["期末 Closing"])) == D("3879.5")
    assert D(str(values["出库 Deliveries"])) == D("120.5") and D(str(values["倒罐转出 Transfers out"])) == D("1000")


def test_mark_sent_keeps_the_exact_file_and_files_it(busy_day, people, request_ctx):
    a = busy_day.a
    sent = reports.mark_sent(a, DAY, people["csr"], now=at("2026-03-04", 1))
    db.session.commit()
    assert sent.version == 1 and sent.recipient_list == ["stock@sinochem.example", "ops@sinochem.example"]
    data = reports.read_sent(sent)
    assert hashlib.sha256(data).hexdigest() == sent.sha256 and data.startswith(b"%PDF")
    record = db.session.get(ArchiveRecord, sent.archive_record_id)
    assert record.series.code == "CS-02-01" and record.customer_id == a.id
    assert reports.statuses(DAY, [a], with_changes=True)[0].state == "sent"
    # a late correction changes the day's figures: the page says so and a second version is kept
    stock.request_adjustment(customer_id=a.id, tank_id=busy_day.t101.id, product_id=busy_day.diesel.id,
                             customs_status="duty_paid", direction="gain", quantity=D("1.5"), unit="t",
                             density_20=D("845"), occurred_at=at("2026-03-03", 5), reason="Meter correction",
                             user=people["csr"])
    adj = db.session.scalar(db.select(stock.StockAdjustment))
    stock.decide_adjustment(adj, people["manager"], approve=True)
    db.session.commit()
    assert reports.statuses(DAY, [a], with_changes=True)[0].state == "changed"
    second = reports.mark_sent(a, DAY, people["csr"], recipients=["stock@sinochem.example"], now=at("2026-03-04", 3))
    db.session.commit()
    assert second.version == 2 and second.sha256 != sent.sha256
    assert reports.read_sent(sent) == data  # the first version is kept as it was
    assert [v.version for v in reports.sent_versions(a, DAY)] == [1, 2]
    assert db.session.get(ArchiveRecord, second.archive_record_id).current_version == 2


def test_mark_sent_refuses_today_and_no_recipients(busy_day, people, request_ctx):
    with pytest.raises(stock.StockError):
        reports.mark_sent(busy_day.a, DAY, people["csr"], now=at("2026-03-03", 8))
    with pytest.raises(stock.StockError) as exc:
        reports.mark_sent(busy_day.a, DAY, people["csr"], recipients=[], now=at("2026-03-04", 8))
    assert exc.value.field == "recipients"
    assert db.session.scalar(db.select(db.func.count(DailyReport.id))) == 0


def test_mark_sent_through_the_page(busy_day, client, login):
    login("csr")
    a = busy_day.a
    response = client.post(f"/operations/stock/reports/{a.id}/{DAY}/sent",
                           data={"recipients": "stock@sinochem.example\nnot an address"})
    assert response.status_code == 200 and "not a valid e-mail address" in response.get_data(as_text=True)
    response = client.post(f"/operations/stock/reports/{a.id}/{DAY}/sent", data={"recipients": "stock@sinochem.example"})
    assert response.status_code == 302
    sent = db.session.scalar(db.select(DailyReport))
    download = client.get(f"/operations/stock/reports/{a.id}/sent/{sent.id}")
    assert hashlib.sha256(download.data).hexdigest() == sent.sha256
    assert client.get(f"/operations/stock/reports/{busy_day.b.id}/sent/{sent.id}").status_code == 404


def test_reports_due_and_overdue_on_the_dashboard(busy_day, people, client, login, monkeypatch):
    a, b = busy_day.a, busy_day.b
    # A is due at 09:00, B at 10:30 (Shanghai) on the 4th: at 09:30 A is overdue, B due
    monkeypatch.setattr(reports, "utcnow", lambda: at("2026-03-04", 1, 30))
    items = reports.due_today(people["manager"], now=at("2026-03-04", 1, 30))
    assert [(s.customer.code, s.state) for s in items] == [("SINOCHEM", "overdue"), ("VITOL", "due")]
    a.csr_id = people["csr"].id
    db.session.commit()
    assert [s.customer.code for s in reports.due_today(people["csr"], now=at("2026-03-04", 1, 30))] == ["SINOCHEM"]
    with_sent = reports.mark_sent(a, DAY, people["csr"], now=at("2026-03-04", 1, 40))
    db.session.commit()
    assert with_sent.due_at == at("2026-03-04", 1, 0)
    assert [s.customer.code for s in reports.due_today(people["manager"], now=at("2026-03-04", 1, 45))] == ["VITOL"]
    login("manager")
    page = client.get("/").get_data(as_text=True)
    panel = page.split("Daily stock reports due today", 1)[1].split("</section>", 1)[0]
    assert f"/operations/stock/reports/{b.id}/{DAY}" in panel and f"/reports/{a.id}/" not in panel


def _with_stock_reference(day):
    """The customers whose report of ``day`` is due, read the long way: every key's closing, every daily row."""
    from portal.blueprints.customers.models import Customer
    from portal.blueprints.operations.stock.models import StockDaily

    ids = {r.customer_id for r in stock.closing_rows(day) if r.closing_kg or r.closing_m3}
    ids |= set(db.session.scalars(db.select(StockDaily.customer_id).where(StockDaily.day == day)))
    customers = db.session.scalars(db.select(Customer).where(Customer.id.in_(ids), Customer.active.is_(True))).all()
    return sorted((c.code for c in customers))


def test_customers_with_stock_and_reports_due_agree_with_the_book(busy_day, people):
    """Stock at the end of the day or a movement on it makes a report due; an emptied book, an inactive customer,
    no agreed time or a report sent leave it off the due list, for a manager and for a CSR's own customers."""
    from portal.blueprints.customers.models import Customer

    t = busy_day
    c = Customer(code="CNOOC", name_en="CNOOC Trading", name_zh="中海油贸易")  # no agreed time
    d = Customer(code="DEAD", name_en="Dead Trading", name_zh="", active=False, daily_report_time=time(9, 0))
    e = Customer(code="EMPTY", name_en="Empty Trading", name_zh="", daily_report_time=time(8, 0))
    db.session.add_all([c, d, e])
    db.session.flush()
    t.order("pipeline_receipt", c, t.t101, "50", at("2026-03-01"))
    t.order("pipeline_receipt", d, t.t101, "50", at("2026-03-01"))
    t.order("pipeline_receipt", e, t.t101, "40", at("2026-03-01"))
    t.order("truck_loading", e, t.t101, "40", at("2026-03-02"))  # empty before the day
    db.session.commit()
    for day in (date(2026, 3, 1), date(2026, 3, 2), DAY, date(2026, 3, 4)):
        expected = _with_stock_reference(day)
        assert [x.code for x in reports.customers_with_stock(day)] == expected, day
        assert [s.customer.code for s in reports.statuses(day)] == expected
    assert _with_stock_reference(date(2026, 3, 2)) == ["CNOOC", "EMPTY", "SINOCHEM"]
    assert _with_stock_reference(DAY) == ["CNOOC", "SINOCHEM", "VITOL"]

    def due(user, now):
        day = now.date() - timedelta(days=1)  # 12:00 UTC is the same local day
        longhand = [s for s in reports.statuses(day) if s.sent is None and s.due_at is not None
                    and (user.has_role("cs_manager", "admin") or s.customer.csr_id == user.id)]
        items = reports.due_today(user, now=now)
        assert [(s.customer.code, s.due_at, s.sent) for s in items] == [(s.customer.code, s.due_at, None) for s in longhand]
        return [s.customer.code for s in items]

    manager, csr = people["manager"], people["csr"]
    t.b.csr_id = c.csr_id = csr.id
    db.session.commit()
    assert due(manager, at("2026-03-04")) == ["SINOCHEM", "VITOL"]
    assert due(csr, at("2026-03-04")) == ["VITOL"]
    assert due(manager, at("2026-03-03")) == ["EMPTY", "SINOCHEM"]
    reports.mark_sent(t.b, DAY, csr, now=at("2026-03-04", 3))
    db.session.commit()
    assert due(manager, at("2026-03-04")) == ["SINOCHEM"] and due(csr, at("2026-03-04")) == []
    assert reports.customers_with_stock(DAY, customer_ids=[t.b.id, c.id]) == [c, t.b]
    assert [s.customer for s in reports.unsent_due(DAY, customer_ids=[t.b.id, c.id, t.a.id])] == [t.a]


def test_the_dashboard_lists_the_first_eight_reports_due_and_how_many_there_are(terminal, client, login, people):
    """Yesterday's unsent reports of ten customers with stock: the manager's panel lists the first eight by code,
    says how many are due, and links to the whole list."""
    from portal.blueprints.customers.models import Customer
    from portal.timeutil import local_today

    yesterday = local_today() - timedelta(days=1)
    for n in range(10):
        customer = Customer(code=f"TRADER{n:02}", name_en=f"Trader {n:02}", name_zh="", daily_report_time=time(9, 0))
        db.session.add(customer)
        db.session.flush()
        terminal.order("pipeline_receipt", customer, terminal.t101, "10", at(yesterday.isoformat()))
    db.session.commit()
    login(people["manager"])
    panel = client.get("/").get_data(as_text=True).split('class="card panel-daily-reports"', 1)[1].split("</section>", 1)[0]
    assert panel.count("<li") == 8 and "TRADER07" in panel and "TRADER08" not in panel
    assert "8 of 10 due today or overdue." in panel and "/operations/stock/reports" in panel
    listed = client.get("/operations/stock/reports").get_data(as_text=True)
    assert all(f"TRADER{n:02}" in listed for n in range(10))
