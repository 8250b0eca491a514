"""The dashboard's survey panel: campaigns whose reminders are due, and how many contacts, as the reminder job
reckons them (services.reminders_due), counted in SQL over the open campaigns only."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from portal.blueprints.customers.models import CustomerContact
from portal.blueprints.surveys import services
from portal.blueprints.surveys.models import SurveyCampaign
from portal.extensions import db
from portal.timeutil import local_today, tz


@pytest.fixture
def mailed(app, customer, people, kit):
    """A campaign (reminder in two days, closing in five) inviting four contacts of one customer."""
    customer.contacts.extend([CustomerContact(name=name, email="") for name in ("王芳", "John Smith", "李雷", "张伟")])
    db.session.commit()
    _q, version = kit.build_version(people["csr"])
    today = local_today()
    campaign = services.create_campaign(title="2026 满意度", kind="yearly", year=2026, version=version,
                                        opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=5),
                                        reminder_on=today + timedelta(days=2), user=people["csr"])
    invs = {i.contact_name: i for i in services.invite(campaign, [customer.id])}
    db.session.commit()
    return campaign, invs


def _expected(today, now):
    campaigns = db.session.scalars(db.select(SurveyCampaign).order_by(SurveyCampaign.opens_on,
                                                                      SurveyCampaign.id)).all()
    out = []
    for c in campaigns:
        due = services.reminders_due(c, today, now)
        if due:
            out.append((c.id, len(due)))
    return out


def test_the_panel_counts_the_reminders_due_as_the_reminder_job_finds_them(app, client, login, customer, people, kit,
                                                                          mailed):
    campaign, invs = mailed
    today = local_today()
    due_day = today + timedelta(days=2)
    midnight = datetime.combine(due_day, time(0), tzinfo=tz())
    # reminded just before the reminder date (due again), exactly at its start (reminded), one answered
    invs["王芳"].reminded_at = midnight - timedelta(seconds=1)
    invs["李雷"].reminded_at = midnight
    answers = {q.id: {"value": 5} for q in campaign.version.questions if q.kind == "rating"}
    answers |= {q.id: {"value": 9} for q in campaign.version.questions if q.kind == "nps"}
    services.save_answers(invs["John Smith"], answers, submit=True)
    # an answer started but not submitted still counts as not answered
    services.save_answers(invs["张伟"], answers, submit=False)
    _q, version = kit.build_version(people["csr"], code="CSAT2")
    other = services.create_campaign(title="Closed early", kind="adhoc", year=None, version=version,
                                     opens_on=today - timedelta(days=9), closes_on=today + timedelta(days=3),
                                     reminder_on=today - timedelta(days=1), user=people["csr"])
    services.invite(other, [customer.id])
    planned = services.create_campaign(title="Planned", kind="adhoc", year=None, version=version,
                                       opens_on=today + timedelta(days=1), closes_on=today + timedelta(days=9),
                                       reminder_on=today + timedelta(days=1), user=people["csr"])
    services.invite(planned, [customer.id])
    db.session.commit()

    seen = set()
    for day in range(-1, 10):
        when = today + timedelta(days=day)
        for hour in (0, 9, 23):
            now = datetime.combine(when, time(hour), tzinfo=tz())
            got = [(c.id, n) for c, n in services.reminder_counts(when, now)]
            assert got == _expected(when, now), (day, hour)
            seen.update(got)
    assert (campaign.id, 2) in seen and (other.id, 4) in seen and any(cid == planned.id for cid, _n in seen)

    from portal.blueprints.surveys.panels import survey_work

    user = login("csr")
    assert [(c.id, n) for c, n in survey_work(user)["reminders"]] == [(other.id, 4)]  # the reminder date has come
    answer = next(a for a in invs["John Smith"].response.answers if a.value is not None)
    action = services.raise_action(answer, description="Phone about order delays", owner_id=user.id,
                                   due_date=today - timedelta(days=1), user=people["manager"])
    db.session.commit()
    panel = client.get("/").get_data(as_text=True).split("<h2>Surveys</h2>", 1)[1].split("</section>", 1)[0]
    assert f'href="/surveys/campaigns/{other.id}"' in panel and "4 contacts" in panel and "2026 满意度" not in panel
    assert f'href="/complaints/actions/{action.id}"' in panel and "Phone about order delays" in panel
    assert "overdue" in panel
    assert "<h2>Surveys</h2>" in client.get("/").get_data(as_text=True)
