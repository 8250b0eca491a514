"""The daily stock report e-mailed at the customer's agreed time by the job ``operations.daily_reports``:
nothing before the time, one message per recipient after it (PDF as kept and XLSX attached, in the contact's
language), once; a customer that cannot be sent is reported and the others still go; the local day around
midnight; "Send now" on the report page queues the same e-mail."""
from __future__ import annotations

import hashlib
import io
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook

from portal import jobs
from portal.blueprints.customers.models import CustomerContact
from portal.blueprints.operations.stock.models import DailyReport
from portal.extensions import db
from portal.jobs import JobState
from portal.outbox import OutboxMessage, read_attachment

from stock_clock import at

DAY = date(2026, 3, 3)


@pytest.fixture
def stocked(terminal):
    """A holds diesel from the 2nd and moves some on the 3rd; B receives methanol on the 3rd.
    A's report goes to a contact who reads Chinese, a plain address and a contact who switched reports off."""
    a, b = terminal.a, terminal.b
    terminal.order("ship_discharge", a, terminal.t101, "5000", at("2026-03-02"))
    terminal.order("truck_loading", a, terminal.t101, "120.5", at("2026-03-03", 3))
    terminal.order("pipeline_receipt", b, terminal.t201, "800", at("2026-03-03", 4), product=terminal.methanol,
                   customs_status="bonded")
    a.report_recipients = "stock@sinochem.example\nops@sinochem.example\nquiet@sinochem.example"
    a.contacts.extend([CustomerContact(name="王芳", email="stock@sinochem.example", language="zh_Hans"),
                       CustomerContact(name="Li Lei", email="quiet@sinochem.example", notices_off="daily_report")])
    db.session.commit()
    return terminal


def run_job(moment: datetime, time_machine) -> str:
    time_machine.move_to(moment, tick=False)
    jobs.ensure_states(moment)
    db.session.execute(db.update(JobState).filter_by(name="operations.daily_reports").values(next_due_at=moment))
    db.session.commit()
    runs = jobs.run_due(now=moment, only=["operations.daily_reports"])
    assert [(r.name, r.outcome) for r in runs] == [("operations.daily_reports", "ok")]
    return runs[0].detail


def mail() -> list[OutboxMessage]:
    return list(db.session.scalars(db.select(OutboxMessage).filter_by(kind="daily_report").order_by(OutboxMessage.id)))


def sent_reports() -> list[tuple[str, date]]:
    return [(r.customer.code, r.day) for r in db.session.scalars(db.select(DailyReport).order_by(DailyReport.id))]


def test_the_report_goes_at_the_customers_time_once_per_recipient_with_both_files(app, stocked, time_machine):
    # A's time is 09:00 and B's 10:30 in Shanghai (01:00 and 02:30 UTC) on the 4th.
    assert run_job(at("2026-03-04", 0, 55), time_machine).startswith("0 report(s) sent")
    assert mail() == [] and sent_reports() == []

    summary = run_job(at("2026-03-04", 1, 5), time_machine)
    assert summary.startswith("1 report(s) sent, 2 message(s) queued")
    assert sent_reports() == [("SINOCHEM", DAY)]
    sent = db.session.scalar(db.select(DailyReport))
    assert sent.sent_by_id is None and sent.recipient_list == ["stock@sinochem.example", "ops@sinochem.example"]
    messages = mail()
    assert {(m.to_address, m.language) for m in messages} == {("stock@sinochem.example", "zh_Hans"),
                                                              ("ops@sinochem.example", "en")}
    zh = next(m for m in messages if m.language == "zh_Hans")
    en = next(m for m in messages if m.language == "en")
    # the customer named in the reader's language (the wording itself comes from the catalogue)
    assert "中化能源贸易有限公司" in zh.body_text and "Sinochem Energy Trading" not in zh.body_text
    assert "Sinochem Energy Trading Co., Ltd." in en.body_text and "王芳" in zh.body_text
    assert en.subject.startswith("Daily stock report SINOCHEM 2026-03-03") and "GO: 4,879.500 t" in en.body_text
    for message in messages:
        pdf, xlsx = message.attachments
        assert pdf["name"].endswith(".pdf") and xlsx["name"].endswith(".xlsx")
        data = read_attachment(pdf)
        assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == sent.sha256
        book = load_workbook(io.BytesIO(read_attachment(xlsx)), read_only=True)
        facts = {row[0]: row[1] for row in book["报表 Report"].iter_rows(values_only=True)}
        assert facts["客户 Customer"] == "SINOCHEM" and facts["数据摘要 Figures digest"] == sent.figures_digest

    # A second run (and a third, later) sends nothing more for A; B goes at its own time.
    assert run_job(at("2026-03-04", 1, 10), time_machine).startswith("0 report(s) sent")
    assert len(mail()) == 2
    assert run_job(at("2026-03-04", 2, 35), time_machine).startswith("1 report(s) sent, 1 message(s) queued")
    assert sent_reports() == [("SINOCHEM", DAY), ("VITOL", DAY)]
    assert [m.to_address for m in mail()][2:] == ["tanks@vitol.example"]
    assert run_job(at("2026-03-04", 3), time_machine).startswith("0 report(s) sent") and len(mail()) == 3


def test_a_customer_without_recipients_is_skipped_with_its_reason_and_the_others_go(app, stocked, time_machine):
    stocked.a.report_recipients = ""
    db.session.commit()
    summary = run_job(at("2026-03-04", 2, 35), time_machine)
    assert summary.startswith("1 report(s) sent, 1 message(s) queued; 1 skipped: SINOCHEM: ")
    assert "no report recipients" in summary
    assert sent_reports() == [("VITOL", DAY)] and [m.to_address for m in mail()] == ["tanks@vitol.example"]
    # every recipient switched reports off: skipped too, nothing recorded as sent
    stocked.a.report_recipients = "quiet@sinochem.example"
    db.session.commit()
    assert "SINOCHEM: Every recipient has switched daily stock reports off." in run_job(at("2026-03-04", 2, 40),
                                                                                       time_machine)
    assert sent_reports() == [("VITOL", DAY)] and len(mail()) == 1


def test_around_midnight_the_report_is_the_previous_local_days(app, stocked, time_machine):
    # A agreed 00:10 and B 23:50 (Shanghai). Local midnight of the 4th is 16:00 UTC on the 3rd.
    stocked.a.daily_report_time, stocked.b.daily_report_time = time(0, 10), time(23, 50)
    db.session.commit()
    assert run_job(at("2026-03-03", 16, 5), time_machine).startswith("0 report(s) sent")  # 00:05 local on the 4th
    assert run_job(at("2026-03-03", 16, 15), time_machine).startswith("1 report(s) sent")  # 00:15: the 3rd's report
    assert sent_reports() == [("SINOCHEM", DAY)]
    assert run_job(at("2026-03-04", 15, 45), time_machine).startswith("0 report(s) sent")  # 23:45 on the 4th
    assert run_job(at("2026-03-04", 15, 55), time_machine).startswith("1 report(s) sent")  # 23:55: still the 3rd's
    assert sent_reports() == [("SINOCHEM", DAY), ("VITOL", DAY)]
    assert len(mail()) == 3


def test_send_now_on_the_report_page_queues_the_same_e_mail(app, stocked, client, login):
    login("csr")
    a = stocked.a
    response = client.post(f"/operations/stock/reports/{a.id}/{DAY}/sent",
                           data={"recipients": "stock@sinochem.example\nbuyer@example.com"})
    assert response.status_code == 302
    sent = db.session.scalar(db.select(DailyReport))
    assert {(m.to_address, m.language) for m in mail()} == {("stock@sinochem.example", "zh_Hans"),
                                                            ("buyer@example.com", "en")}
    assert all(hashlib.sha256(read_attachment(m.attachments[0])).hexdigest() == sent.sha256 for m in mail())
    # a new version sent again goes out again (its own key); the job leaves a sent day alone
    assert client.post(f"/operations/stock/reports/{a.id}/{DAY}/sent",
                       data={"recipients": "buyer@example.com"}).status_code == 302
    assert [m.to_address for m in mail()][2:] == ["buyer@example.com"] and "(v2)" in mail()[2].subject
