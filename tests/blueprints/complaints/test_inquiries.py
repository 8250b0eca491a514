"""Inquiries: the one-working-day clock on the Chinese calendar, live status, escalation, conversion, figures."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from portal.blueprints.complaints import services
from portal.blueprints.complaints.models import Complaint, Inquiry
from portal.extensions import db

SH = ZoneInfo("Asia/Shanghai")


def _inquiry(customer, user, received_local: datetime, **kw) -> Inquiry:
    inquiry = services.create_inquiry(
        customer_id=customer.id, channel="email", subject=kw.pop("subject", "Tank T-101 ullage for next discharge?"),
        question="What ullage is available in T-101?", received_at=received_local.replace(tzinfo=SH).astimezone(UTC),
        language="en", user=user, **kw,
    )
    db.session.commit()
    return inquiry


def test_due_time_skips_the_national_day_holiday(app, customer, people):
    inquiry = _inquiry(customer, people["csr"], datetime(2025, 9, 30, 15, 0))
    assert inquiry.due_at.astimezone(SH) == datetime(2025, 10, 9, 15, 0, tzinfo=SH)


def test_due_time_on_an_ordinary_day_is_the_next_working_day(app, customer, people):
    inquiry = _inquiry(customer, people["csr"], datetime(2025, 6, 5, 10, 30))  # Thursday
    assert inquiry.due_at.astimezone(SH) == datetime(2025, 6, 6, 10, 30, tzinfo=SH)
    inquiry = _inquiry(customer, people["csr"], datetime(2025, 6, 6, 10, 30))  # Friday -> Monday
    assert inquiry.due_at.astimezone(SH) == datetime(2025, 6, 9, 10, 30, tzinfo=SH)


def test_status_on_time_due_today_overdue_answered(app, customer, people):
    inquiry = _inquiry(customer, people["csr"], datetime(2025, 9, 30, 15, 0))
    assert inquiry.status(datetime(2025, 10, 3, 12, 0, tzinfo=SH)) == "on_time"
    assert inquiry.status(datetime(2025, 10, 9, 9, 0, tzinfo=SH)) == "due_today"
    assert inquiry.status(datetime(2025, 10, 9, 15, 1, tzinfo=SH)) == "overdue"
    services.answer_inquiry(inquiry, answer="About 8,000 m3.", answered_at=datetime(2025, 10, 9, 10, 0, tzinfo=SH), user=people["csr"])
    assert inquiry.status(datetime(2025, 10, 20, tzinfo=SH)) == "answered"


def test_list_shows_live_status(client, login, customer, people):
    _inquiry(customer, people["csr"], datetime(2025, 9, 30, 15, 0), subject="Overdue question")
    with time_machine.travel(datetime(2025, 10, 9, 16, 0, tzinfo=SH), tick=False):
        login(people["csr"])
        html = client.get("/complaints/inquiries").get_data(as_text=True)
    assert "Overdue question" in html and 'data-due-status="overdue"' in html
    with time_machine.travel(datetime(2025, 10, 9, 9, 0, tzinfo=SH), tick=False):
        login(people["csr"])
        html = client.get("/complaints/inquiries").get_data(as_text=True)
    assert 'data-due-status="due_today"' in html


def test_log_answer_and_form_errors(client, login, customer, people):
    login(people["csr"])
    response = client.post("/complaints/inquiries/new", data={"customer_id": 0, "subject": "", "question": ""})
    assert response.status_code == 200 and "Please correct the marked fields." in response.get_data(as_text=True)
    with time_machine.travel(datetime(2025, 9, 30, 16, 0, tzinfo=SH), tick=False):
        login(people["csr"])
        response = client.post("/complaints/inquiries/new", data={
            "customer_id": customer.id, "channel": "phone", "language": "zh", "received_at": "2025-09-30T15:00",
            "subject": "船期咨询", "question": "下周的靠泊计划？", "assigned_to_id": people["csr"].id,
        })
    assert response.status_code == 302
    inquiry = db.session.scalar(db.select(Inquiry))
    assert inquiry.due_at.astimezone(SH) == datetime(2025, 10, 9, 15, 0, tzinfo=SH)
    with time_machine.travel(datetime(2025, 10, 9, 10, 0, tzinfo=SH), tick=False):
        login(people["csr"])
        response = client.post(f"/complaints/inquiries/{inquiry.id}/answer",
                               data={"answer-answer": "周二靠泊。", "answer-answered_at": "2025-10-09T09:30"})
    assert response.status_code == 302
    db.session.refresh(inquiry)
    assert inquiry.answer == "周二靠泊。" and inquiry.status() == "answered"


def test_staff_cannot_log_inquiries(client, login, customer):
    login("staff")
    assert client.get("/complaints/inquiries").status_code == 200
    assert client.get("/complaints/inquiries/new").status_code == 403


def test_escalation_reaches_the_manager_dashboard_and_my_due_panel(client, login, customer, people):
    inquiry = _inquiry(customer, people["csr"], datetime(2025, 6, 5, 10, 0), subject="Complex bonded transfer question",
                       assigned_to_id=people["csr"].id)
    with time_machine.travel(datetime(2025, 6, 6, 9, 0, tzinfo=SH), tick=False):
        login(people["csr"])
        html = client.get("/").get_data(as_text=True)
        assert "Complex bonded transfer question" in html and 'data-due-status="due_today"' in html
        response = client.post(f"/complaints/inquiries/{inquiry.id}/escalate", data={"esc-note": "Needs customs advice"})
        assert response.status_code == 302
    client.post("/auth/logout")
    login(people["manager"])
    html = client.get("/").get_data(as_text=True)
    assert "Escalated inquiries" in html and "Needs customs advice" in html


def test_inquiry_becomes_a_complaint_keeping_the_link(client, login, customer, people):
    inquiry = _inquiry(customer, people["csr"], datetime(2025, 6, 5, 10, 0), subject="Wrong B/L quantity")
    login(people["csr"])
    response = client.post(f"/complaints/inquiries/{inquiry.id}/to-complaint", data={"conv-category": "documentation"})
    assert response.status_code == 302
    complaint = db.session.scalar(db.select(Complaint))
    assert complaint.title == "Wrong B/L quantity" and complaint.category == "documentation"
    db.session.refresh(inquiry)
    assert inquiry.complaint_id == complaint.id
    assert inquiry.ref in client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    again = client.post(f"/complaints/inquiries/{inquiry.id}/to-complaint", data={"conv-category": "documentation"})
    assert again.status_code == 302 and db.session.scalar(db.select(db.func.count(Complaint.id))) == 1


def test_monthly_figures(app, customer, people):
    a = _inquiry(customer, people["csr"], datetime(2025, 6, 5, 9, 30))
    b = _inquiry(customer, people["csr"], datetime(2025, 6, 5, 10, 30))
    _inquiry(customer, people["csr"], datetime(2025, 6, 10, 10, 30))  # not answered
    services.answer_inquiry(a, answer="x", answered_at=datetime(2025, 6, 5, 11, 30, tzinfo=SH), user=people["csr"])  # 2 h
    services.answer_inquiry(b, answer="y", answered_at=datetime(2025, 6, 9, 10, 30, tzinfo=SH), user=people["csr"])  # late
    db.session.commit()
    (june,) = services.inquiry_figures()
    assert june["month"] == "2025-06" and june["count"] == 3 and june["answered"] == 2
    assert june["on_time_pct"] == Decimal("33.3")
    # b: Thu 10:30 -> Mon 10:30 = 7 h Thu + 9 h Fri + 2 h Mon = 18 h; median of 2 and 18 = 10
    assert june["median_hours"] == Decimal("10.00")


def test_the_manager_panels_show_the_first_rows_and_lead_to_the_whole_list(client, login, customer, people, new_complaint):
    """Escalations and effectiveness checks waiting: the first eight, oldest first, and "All N" leads to the
    list with every one of them (five years of records must not make the dashboard list them all)."""
    from portal.panels import PANEL_ROWS

    inquiries = [_inquiry(customer, people["csr"], datetime(2025, 6, 2 + n, 10, 0), subject=f"Escalated question {n:02}")
                 for n in range(PANEL_ROWS + 3)]
    for n, inquiry in enumerate(inquiries):
        services.escalate_inquiry(inquiry, note=f"Needs advice {n:02}", user=people["csr"],
                                  now=datetime(2025, 6, 2 + n, 4, 0, tzinfo=UTC))
    complaints = [new_complaint(title=f"Waiting check {n:02}") for n in range(PANEL_ROWS + 2)]
    for n, complaint in enumerate(complaints):
        complaint.state = "awaiting_effectiveness"
        complaint.updated_at = datetime(2025, 7, 1 + n, tzinfo=UTC)
    db.session.commit()
    login(people["manager"])
    html = client.get("/").get_data(as_text=True)
    shown = [n for n in range(PANEL_ROWS + 3) if f"Escalated question {n:02}" in html]
    assert shown == list(range(PANEL_ROWS))  # the oldest escalations first
    assert f"All {PANEL_ROWS + 3} escalated" in html and "/complaints/inquiries?status=escalated" in html
    assert [n for n in range(PANEL_ROWS + 2) if f"Waiting check {n:02}" in html] == list(range(PANEL_ROWS))
    assert f"All {PANEL_ROWS + 2} waiting" in html and "/complaints/?state=awaiting_effectiveness" in html
    listed = client.get("/complaints/inquiries?status=escalated").get_data(as_text=True)
    assert all(f"Escalated question {n:02}" in listed for n in range(PANEL_ROWS + 3))
    listed = client.get("/complaints/?state=awaiting_effectiveness").get_data(as_text=True)
    assert all(f"Waiting check {n:02}" in listed for n in range(PANEL_ROWS + 2))
