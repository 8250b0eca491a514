"""What sends: each domain's change queues its message in the same transaction (escalations, 8D reports, minutes,
lessons, announcements, training, disposal batches, inquiry acknowledgements and answers), and the domains' jobs
run on the demonstration terminal."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal import jobs
from portal.extensions import db
from portal.jobs import JobRun, JobState
from portal.outbox import OutboxMessage


def _new_messages(after_id: int, **filters):
    stmt = db.select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id)
    for key, value in filters.items():
        stmt = stmt.where(getattr(OutboxMessage, key) == value)
    return list(db.session.scalars(stmt))


def _last_id() -> int:
    return db.session.scalar(db.select(db.func.max(OutboxMessage.id))) or 0



def test_an_inquiry_with_an_address_is_acknowledged_and_answered_by_e_mail(app, client, login, customer):
    login("csr")
    start = _last_id()
    response = client.post("/complaints/inquiries/new", data={
        "customer_id": customer.id, "channel": "email", "language": "zh", "received_at": "2026-03-02T09:00",
        "subject": "罐T-204加热", "question": "请问加热何时开始？", "assigned_to_id": 0,
        "reply_to": "stock@sinochem.example"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (ack,) = _new_messages(start)
    assert (ack.template, ack.to_address, ack.language, ack.kind) == ("inquiry_ack", "stock@sinochem.example",
                                                                      "zh_Hans", "inquiry")
    inquiry_id = int(ack.record_key.split(":")[1])
    client.post(f"/complaints/inquiries/{inquiry_id}/answer",
                data={"answer-answer": "明天上午开始加热。", "answer-answered_at": "2026-03-02T11:00"})
    (answer,) = _new_messages(ack.id)
    assert answer.template == "inquiry_answer" and "明天上午开始加热。" in answer.body_text


def test_an_inquiry_without_an_address_sends_nothing_and_a_bad_address_is_refused(app, client, login, customer):
    login("csr")
    start = _last_id()
    data = {"customer_id": customer.id, "channel": "phone", "language": "en", "received_at": "2026-03-02T09:00",
            "subject": "Heating", "question": "When?", "assigned_to_id": 0}
    assert client.post("/complaints/inquiries/new", data=data).status_code == 302
    assert _new_messages(start) == []
    page = client.post("/complaints/inquiries/new", data={**data, "reply_to": "not-an-address"})
    assert page.status_code == 200 and "not a valid e-mail address" in page.get_data(as_text=True)


def test_the_demo_terminal_queues_its_messages_and_every_job_runs(demo_app, time_machine):
    """Loading the demonstration terminal escalated inquiries, announced pages, assigned training, proposed a
    disposal batch and circulated minutes through the services: each queued its message."""
    kinds = set(db.session.scalars(db.select(OutboxMessage.kind).distinct()))
    assert {"escalation", "announcement", "training", "meeting_minutes", "complaint_report", "disposal"} <= kinds
    minutes = db.session.scalar(db.select(OutboxMessage).filter_by(kind="meeting_minutes").limit(1))
    assert minutes.attachments and minutes.attachments[0]["name"].endswith(".pdf")

    # Every job of the installation runs on the demo data (all made due now).
    jobs.ensure_states()
    now = datetime.now(UTC)
    db.session.execute(db.update(JobState).values(next_due_at=now - timedelta(minutes=1)))
    db.session.commit()
    runs = jobs.run_due(now=now)
    assert {r.name.split("@")[0] for r in runs} == set(jobs.JOBS)
    failed = [(r.name, r.detail) for r in runs if r.outcome != "ok"]
    assert failed == []
    assert db.session.scalar(db.select(db.func.count(JobRun.id))) == len(jobs.JOBS)
    # The delivery job sent (to the log: no SMTP host) what was queued; nothing failed.
    states = set(db.session.scalars(db.select(OutboxMessage.state).distinct()))
    assert "sent" in states and states <= {"sent", "queued"}


def test_the_pre_read_pack_is_e_mailed_with_its_pdf(demo_app):
    from portal.blueprints.meetings.models import ReviewMeeting

    meeting = db.session.scalar(db.select(ReviewMeeting).filter(ReviewMeeting.confirmed_at.is_(None))
                                .order_by(ReviewMeeting.id).limit(1))
    client = demo_app.test_client()
    assert client.post("/auth/login", data={"username": "csr", "password": "csr-demo-2026"}).status_code == 302
    start = _last_id()
    response = client.post(f"/meetings/{meeting.id}/preread/send",
                           data={"pre-recipients": "ops@customer.example\nqa@customer.example"})
    assert response.status_code == 302
    sent = _new_messages(start)
    assert [m.to_address for m in sent] == ["ops@customer.example", "qa@customer.example"]
    (pdf,) = sent[0].attachments
    assert pdf["name"] == f"{meeting.ref}-preread.pdf" and pdf["mimetype"] == "application/pdf"
    assert meeting.ref in sent[0].subject


def test_the_8d_report_goes_to_the_addresses_named_with_its_pdf_and_an_escalation_to_the_managers(
        app, people, customer, request_ctx):
    from portal.blueprints.complaints import services
    from portal.blueprints.customers.models import CustomerContact
    from portal.outbox import read_attachment

    manager = people["manager"]
    manager.email = "manager@terminal.example"
    db.session.add(CustomerContact(customer=customer, name="Wang Fang", email="wang@sinochem.example",
                                   language="en"))
    db.session.commit()
    csr = people["csr"]
    complaint = services.create_complaint(customer_id=customer.id, title="Product contaminated in T-204",
                                          category="quality", description="Water found.", user=csr)
    start = _last_id()
    report = services.send_report(complaint, csr, recipient="Wang Fang <wang@sinochem.example>; qa@sinochem.example")
    sent = _new_messages(start)
    assert [(m.to_address, m.language, m.template) for m in sent] == [
        ("wang@sinochem.example", "en", "complaint_8d"),  # the contact's own language
        ("qa@sinochem.example", "zh_Hans", "complaint_8d")]  # the complaint's language
    (pdf,) = sent[0].attachments
    assert read_attachment(pdf).startswith(b"%PDF") and pdf["name"] == report.filename

    # A name alone records a report handed over another way: nothing is e-mailed.
    start = _last_id()
    services.send_report(complaint, csr, recipient="Mr Wang, by hand")
    assert _new_messages(start) == []

    inquiry = services.create_inquiry(customer_id=customer.id, channel="phone", subject="Heating", question="?",
                                      received_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC), language="en", user=csr)
    start = _last_id()
    services.escalate_inquiry(inquiry, note="Needs a commercial answer.", user=csr)
    (m,) = _new_messages(start)
    assert (m.to_address, m.kind) == ("manager@terminal.example", "escalation")
    assert "Needs a commercial answer." in m.body_text
    db.session.rollback()
    assert _new_messages(0) == []  # none of it was committed: a rollback leaves no message
