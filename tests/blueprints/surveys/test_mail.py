"""Survey e-mail through the portal's outbox: invitations when the CSR sends them, reminders from the daily job."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest

from portal import jobs
from portal.blueprints.customers.models import CustomerContact
from portal.blueprints.surveys import services
from portal.blueprints.surveys.models import SurveyInvitation
from portal.extensions import db
from portal.jobs import JobState
from portal.outbox import OutboxMessage
from portal.timeutil import local_today, tz

BASE = "https://portal.terminal.example"
LINK = re.compile(re.escape(BASE) + r"/surveys/answer/(\d+)/([\w-]+)")


@pytest.fixture
def mailed(app, customer, people, kit):
    """A campaign (reminder in two days, closing in five) inviting four contacts of one customer."""
    app.config["BASE_URL"] = BASE
    customer.contacts.extend([
        CustomerContact(name="王芳", email="wang.fang@sinochem.example"),
        CustomerContact(name="John Smith", email="john.smith@sinochem.example"),
        CustomerContact(name="李雷", email="li.lei@sinochem.example", notices_off="survey"),
        CustomerContact(name="张伟", email=""),
    ])
    db.session.commit()
    _q, version = kit.build_version(people["csr"])
    today = local_today()
    campaign = services.create_campaign(title="2026 满意度", kind="yearly", year=2026, version=version,
                                        opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=5),
                                        reminder_on=today + timedelta(days=2), user=people["csr"])
    invs = {i.contact_name: i for i in services.invite(campaign, [customer.id])}
    db.session.commit()
    return campaign, invs


def _survey_mail(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(db.select(OutboxMessage).filter_by(kind="survey", template=template)
                                   .order_by(OutboxMessage.id)))


def test_sending_queues_one_invitation_per_contact_in_their_language_with_a_working_link(app, client, login, mailed):
    campaign, invs = mailed
    login("csr")
    page = client.get(f"/surveys/campaigns/{campaign.id}").get_data(as_text=True)
    assert "E-mail the invitation to 2 contacts" in page

    assert client.post(f"/surveys/campaigns/{campaign.id}/send").status_code == 302
    messages = _survey_mail("survey_invitation")
    assert {(m.to_address, m.language) for m in messages} == {("wang.fang@sinochem.example", "zh_Hans"),
                                                              ("john.smith@sinochem.example", "en")}
    zh = next(m for m in messages if m.language == "zh_Hans")
    en = next(m for m in messages if m.language == "en")
    assert "尊敬的王芳" in zh.body_text and "客户满意度调查" in zh.body_text
    assert "Dear John Smith" in en.body_text and en.subject.startswith("Customer satisfaction survey")
    assert zh.record_key == f"sv_invitation:{invs['王芳'].id}"

    # Each message carries its contact's own link, built on BASE_URL; it opens that contact's answer page.
    for message, name in ((zh, "王芳"), (en, "John Smith")):
        campaign_id, token = LINK.search(message.body_text).groups()
        assert int(campaign_id) == campaign.id
        assert services.find_invitation(campaign.id, token).id == invs[name].id
        assert f'href="{BASE}/surveys/answer/{campaign.id}/{token}"' in message.body_html
        assert "<br>" in message.body_html and "&lt;br&gt;" not in message.body_html
        client.get("/auth/logout")
        assert client.get(f"/surveys/answer/{campaign.id}/{token}").status_code == 200
        login("csr")

    # Sending again queues nothing (every mailable contact has its link); the page no longer offers it.
    client.post(f"/surveys/campaigns/{campaign.id}/send")
    assert len(_survey_mail("survey_invitation")) == 2
    assert "E-mail the invitation to" not in client.get(f"/surveys/campaigns/{campaign.id}").get_data(as_text=True)

    # The contact who switched survey mail off and the one without an address got nothing; their links are copied.
    for name in ("李雷", "张伟"):
        inv = db.session.get(SurveyInvitation, invs[name].id)
        assert inv.link_issued_at is None
        page = client.post(f"/surveys/campaigns/{campaign.id}/invitations/{inv.id}/link").get_data(as_text=True)
        assert f"/surveys/answer/{campaign.id}/" in page
    assert len(_survey_mail("survey_invitation")) == 2


def test_a_rollback_queues_no_invitation_and_issues_no_link(app, people, mailed):
    campaign, invs = mailed
    sent = services.send_invitations(campaign, user=people["csr"])
    assert len(sent) == 2 and len(_survey_mail("survey_invitation")) == 2
    db.session.rollback()
    assert _survey_mail("survey_invitation") == []
    assert all(db.session.get(SurveyInvitation, i.id).link_issued_at is None for i in invs.values())


def test_a_closed_campaign_sends_no_invitations(app, client, login, people, mailed):
    campaign, _invs = mailed
    login("csr")
    with pytest.raises(services.ServiceError):
        services.send_invitations(campaign, user=people["csr"],
                                  now=services.closes_at(campaign) + timedelta(minutes=1))
    assert _survey_mail("survey_invitation") == []


def _run_reminder_job(at: datetime) -> str:
    jobs.ensure_states(at)
    db.session.execute(db.update(JobState).filter_by(name="surveys.reminders").values(next_due_at=at))
    db.session.commit()
    runs = jobs.run_due(now=at, only=["surveys.reminders"])
    assert [(r.name, r.outcome) for r in runs] == [("surveys.reminders", "ok")]
    return runs[0].detail


def test_the_reminder_job_queues_the_due_reminders_once_and_never_after_submission_or_close(
        app, client, people, kit, mailed, time_machine):
    campaign, invs = mailed
    services.send_invitations(campaign, user=people["csr"])
    db.session.commit()
    first_link = LINK.search(_survey_mail("survey_invitation")[-1].body_text).group(2)
    # John Smith answers; 王芳 does not.
    john = invs["John Smith"]
    services.save_answers(john, {q.id: {"value": 5} for q in campaign.version.questions if q.kind == "rating"}
                          | {q.id: {"value": 9} for q in campaign.version.questions if q.kind == "nps"}, submit=True)
    db.session.commit()
    assert john.submitted

    def at(day: int, hour: int) -> datetime:
        return datetime.combine(local_today() + timedelta(days=day), time(hour), tzinfo=tz())

    # Before the reminder date: nothing.
    assert _run_reminder_job(at(1, 9)) == "0 survey reminder(s) queued"
    assert _survey_mail("survey_reminder") == []

    # On the reminder date: exactly the contact who was sent a link and has not answered.
    time_machine.move_to(at(2, 9))
    assert _run_reminder_job(at(2, 9)) == "1 survey reminder(s) queued"
    reminders = _survey_mail("survey_reminder")
    assert [(m.to_address, m.language) for m in reminders] == [("wang.fang@sinochem.example", "zh_Hans")]
    assert "2026 满意度" in reminders[0].subject
    token = LINK.search(reminders[0].body_text).group(2)
    assert services.find_invitation(campaign.id, token).id == invs["王芳"].id
    assert first_link != token
    assert db.session.get(SurveyInvitation, invs["王芳"].id).reminded_at is not None

    # The job running again that day, or the next day, queues nothing more.
    assert _run_reminder_job(at(2, 15)) == "0 survey reminder(s) queued"
    time_machine.move_to(at(3, 9))
    assert _run_reminder_job(at(3, 9)) == "0 survey reminder(s) queued"
    # After the close: nothing either (a fresh reminder date would not count once closed).
    time_machine.move_to(at(7, 9))
    assert _run_reminder_job(at(7, 9)) == "0 survey reminder(s) queued"
    assert len(_survey_mail("survey_reminder")) == 1


def test_a_reminder_caught_up_after_the_date_goes_once_and_not_to_contacts_never_sent_a_link_or_switched_off(
        app, people, mailed, time_machine):
    """The machine was off on the reminder date: the next run reminds; contacts never sent a link, or who switched
    survey mail off, get nothing."""
    campaign, invs = mailed
    link = services.issue_link(invs["王芳"])  # copied by the CSR, not e-mailed
    services.issue_link(invs["李雷"])  # copied too, but 李雷 switched survey mail off
    db.session.commit()
    assert link
    later = datetime.combine(local_today() + timedelta(days=4), time(9), tzinfo=tz())
    time_machine.move_to(later)
    assert _run_reminder_job(later) == "1 survey reminder(s) queued"
    assert [m.to_address for m in _survey_mail("survey_reminder")] == ["wang.fang@sinochem.example"]
    assert _run_reminder_job(later + timedelta(hours=1)) == "0 survey reminder(s) queued"
