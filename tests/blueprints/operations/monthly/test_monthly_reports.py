"""The monthly operation and safety report and the government statistics against a hand-built March 2026:
figures, the tie-out with the stock book, SVG charts with Chinese labels, PDF/XLSX read back, issuing
versions into the archive, the statistics lock with corrections in the next month, roles and bad input."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import openpyxl
import pypdf

from portal.blueprints.archive.models import ArchiveRecord
from portal.blueprints.operations.monthly import services as monthly
from portal.blueprints.operations.monthly.models import GovStatExport, MonthlyReportIssue, MonthlySafety
from portal.extensions import db

from monthly_month import MARCH, local

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"


def test_the_management_report_computes_the_hand_built_month(mm):
    mm.march()
    r = monthly.build_report(MARCH)
    t = r.throughput["total"]
    assert (t.receipt_t, t.delivery_t) == (D("2500.000"), D("300.000"))
    by = {(row["customer"].code, row["product"].code): row["flow"] for row in r.throughput["rows"]}
    assert by[("SINOCHEM", "GO")].receipt_t == D("2000.000") and by[("SINOCHEM", "GO")].delivery_t == D("300.000")
    assert by[("VITOL", "GO")].receipt_t == D("500.000")
    assert len(r.calls) == 1 and r.orders["truck_loads"] == 1 and r.orders["truck_t"] == D("300.000")
    assert r.waiting_hours == D("6.0")  # NOR 08:00 -> all fast 14:00
    berth = r.berths[0]
    assert berth["hours"] == D("48.0") and berth["pct"] == D("6.5")  # 48 h of 744 h
    assert (r.orders["on_time"], r.orders["planned"], r.orders["on_time_pct"]) == (2, 3, D("66.7"))
    assert r.service["complaints"]["opened"] == 1 and r.service["complaints"]["on_time"] == 1
    assert r.service["inquiries"]["answered"] == 1 and r.service["inquiries"]["on_time"] == 0
    assert r.variances is None  # no month-end reconciliation yet


def test_the_throughput_ties_out_with_the_stock_book(mm):
    mm.march()
    mm.order("truck_loading", mm.b, 123.456, local(31, 20))
    for customer in (None, mm.a, mm.b):
        r = monthly.build_report(MARCH, customer)
        book = monthly.book_totals(MARCH, customer.id if customer else None)
        t = r.throughput["total"]
        assert t.receipt_kg == book.receipt_kg and t.delivery_kg == book.delivery_kg
        assert t.receipt_m3 == book.receipt_m3 and t.delivery_m3 == book.delivery_m3
        assert r.ties_out


def test_a_customer_report_shows_only_that_customer(mm):
    mm.march()
    r = monthly.build_report(MARCH, mm.b)
    assert [row["customer"].code for row in r.throughput["rows"]] == ["VITOL"]
    assert r.calls == [] and r.service["complaints"]["opened"] == 0 and r.orders["on_time"] == 1


def test_charts_are_valid_svg_with_chinese_labels(mm):
    mm.march()
    charts = monthly.build_report(MARCH).charts()
    for svg in charts.values():
        root = ET.fromstring(str(svg))
        assert root.tag == f"{SVG}svg"
    texts = [el.text for el in ET.fromstring(str(charts["throughput"])).iter(f"{SVG}text")]
    assert any("柴油" in (t or "") for t in texts) and any("吞吐量" in (t or "") for t in texts)
    assert any("一号泊位" in (el.text or "") for el in ET.fromstring(str(charts["berths"])).iter(f"{SVG}text"))


def test_pdf_and_xlsx_read_back(mm, client, login):
    mm.march()
    login("staff")
    response = client.get("/operations/monthly/2026-03/report.pdf")
    assert response.status_code == 200
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert "Monthly operation and safety report" in text and "SINOCHEM" in text and "2026-03" in text
    response = client.get("/operations/monthly/2026-03/report.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(wb["吞吐量 Throughput"].iter_rows(values_only=True))
    total = [row for row in rows if row[0] == "合计 Total"][0]
    assert D(str(total[3])) == D("2500") and D(str(total[5])) == D("300")


def test_the_manager_enters_safety_figures_and_issues_versions_into_the_archive(mm, client, login):
    mm.march()
    login("cs_manager")
    response = client.post("/operations/monthly/2026-03/safety",
                           data={"days_without_lti": "412", "incidents": "1", "near_misses": "3", "remarks": "演练"})
    assert response.status_code == 302
    page = client.get("/operations/monthly/2026-03").get_data(as_text=True)
    assert "412" in page and "Not reconciled yet" in page
    assert client.post("/operations/monthly/2026-03/issue", data={"note": ""}).status_code == 302
    assert client.post("/operations/monthly/2026-03/issue", data={"note": "corrected truck load"}).status_code == 302
    issues = db.session.scalars(db.select(MonthlyReportIssue).order_by(MonthlyReportIssue.version)).all()
    assert [i.version for i in issues] == [1, 2] and issues[1].note == "corrected truck load"
    record = db.session.get(ArchiveRecord, issues[0].archive_record_id)
    assert record is not None and issues[1].archive_record_id == record.id
    assert record.kind == "monthly_report"


def test_staff_view_but_only_the_manager_issues(mm, client, login):
    mm.march()
    login("staff")
    assert client.get("/operations/monthly/").status_code == 200
    assert client.get("/operations/monthly/2026-03").status_code == 200
    assert client.post("/operations/monthly/2026-03/issue", data={}).status_code == 403
    assert client.post("/operations/monthly/2026-03/safety", data={"days_without_lti": "1"}).status_code == 403
    assert client.post("/operations/monthly/statistics", data={"month": "2026-03"}).status_code == 403
    login("csr")
    assert client.post("/operations/monthly/2026-03/issue", data={}).status_code == 403
    assert db.session.scalar(db.select(db.func.count(MonthlyReportIssue.id))) == 0
    assert db.session.scalar(db.select(db.func.count(MonthlySafety.id))) == 0


def test_bad_input_answers_404_or_field_errors(mm, client, login):
    login("cs_manager")
    for url in ("/operations/monthly/2026-13", "/operations/monthly/abc", "/operations/monthly/2026-03?customer=x",
                "/operations/monthly/2026-03?customer=999999", "/operations/monthly/2026-03/report.pdf?customer=-1",
                "/operations/monthly/statistics/99999"):
        assert client.get(url).status_code == 404, url
    response = client.post("/operations/monthly/2026-03/safety", data={"days_without_lti": "-1"})
    assert response.status_code == 200 and db.session.scalar(db.select(db.func.count(MonthlySafety.id))) == 0
    response = client.post("/operations/monthly/statistics", data={"month": "2026/3"})
    assert response.status_code == 400 and "YYYY-MM" in response.get_data(as_text=True)
    response = client.post("/operations/monthly/statistics", data={"month": "2099-01"})
    assert response.status_code == 400 and "has not ended yet" in response.get_data(as_text=True)
    client.post("/operations/monthly/2099-01/issue", data={})
    assert db.session.scalar(db.select(db.func.count(MonthlyReportIssue.id))) == 0


def _stat_rows(data: bytes):
    ws = openpyxl.load_workbook(io.BytesIO(data))["统计 Statistics"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "月份 Month"
    return [(r[1], r[2], r[3], r[5], r[6], D(str(r[7]))) for r in rows[1:]]


def test_government_statistics_by_class_direction_mode_and_the_lock(mm, client, login):
    mm.march()
    login("cs_manager")
    first = client.post("/operations/monthly/statistics", data={"month": "2026-03"})
    assert first.status_code == 200
    assert sorted(_stat_rows(first.data)) == sorted([
        ("本期 Period", None, "diesel", "进口 Import", "船舶 Ship", D("2000")),
        ("本期 Period", None, "diesel", "内贸 Domestic", "汽车 Truck", D("300")),
        ("本期 Period", None, "diesel", "内贸 Domestic", "管道 Pipeline", D("500")),
    ])
    # A late correction in March: the locked export does not change ...
    mm.order("truck_loading", mm.a, 100, local(28, 9))
    db.session.commit()
    again = client.post("/operations/monthly/statistics", data={"month": "2026-03"})
    assert again.data == first.data
    assert db.session.scalar(db.select(db.func.count(GovStatExport.id))) == 1
    # ... it is reported as a difference in the next period, once.
    april = _stat_rows(client.post("/operations/monthly/statistics", data={"month": "2026-04"}).data)
    assert april == [("更正 Correction", "2026-03", "diesel", "内贸 Domestic", "汽车 Truck", D("100"))]
    may = _stat_rows(client.post("/operations/monthly/statistics", data={"month": "2026-05"}).data)
    assert may == []


def test_the_direction_rule():
    assert monthly.is_foreign_port("Singapore") and monthly.is_foreign_port("Fujairah")
    assert not monthly.is_foreign_port("Ningbo") and not monthly.is_foreign_port("CNNGB")
    assert not monthly.is_foreign_port("舟山") and not monthly.is_foreign_port("")
    assert monthly.direction_of("receipt", "ship", "duty_paid", "Singapore") == "import"
    assert monthly.direction_of("delivery", "ship", "bonded", "Qingdao") == "domestic"
    assert monthly.direction_of("delivery", "ship", "bonded", None) == "export"
    assert monthly.direction_of("delivery", "truck", "bonded", None) == "domestic"
    assert monthly.parse_month("2026-02") == date(2026, 2, 1) and monthly.parse_month("2026-00") is None


def test_stock_variances_show_once_the_month_end_reconciliation_exists(mm, client, login):
    from portal.blueprints.operations.monthend import services as monthend

    mm.march()
    assert monthly.build_report(MARCH).variances is None
    monthend.get_or_create_period(MARCH)
    db.session.commit()
    rows = monthly.build_report(MARCH).variances
    book = {(v.customer_code, v.product_code): v.book_t for v in rows}
    assert book[("SINOCHEM", "GO")] == D("1700.000") and book[("VITOL", "GO")] == D("500.000")
    assert [v.customer_code for v in monthly.build_report(MARCH, mm.b).variances] == ["VITOL"]
    login("staff")
    page = client.get(f"/operations/monthly/2026-03?customer={mm.b.id}").get_data(as_text=True)
    assert "Not reconciled yet" not in page and "500.000" in page
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/operations/monthly/2026-03/report.xlsx").data))
    assert len(list(wb["库存差异 Stock variances"].iter_rows())) == 3


def test_the_demo_enters_safety_figures_and_issues_last_month_once(mm, make_user):
    from portal.blueprints.operations.monthly import demo

    make_user("manager", "cs_manager")
    mm.march()
    demo.load()
    demo.load()
    db.session.commit()
    last = monthly.last_closed_month()
    assert monthly.safety_for(last) is not None
    assert [(i.month, i.customer_id, i.version) for i in db.session.scalars(db.select(MonthlyReportIssue))] == [(last, None, 1)]
