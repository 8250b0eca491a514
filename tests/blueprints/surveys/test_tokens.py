"""The open answer page: personal tokens, their life cycle, what an anonymous visitor can and cannot reach."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import inspect as sa_inspect

from portal.blueprints.surveys import services
from portal.blueprints.surveys.models import SurveyInvitation, SurveyResponse
from portal.extensions import db
from portal.timeutil import local_today


def test_the_token_is_long_random_and_only_its_hash_is_stored(survey):
    raw = survey.token
    assert len(raw) >= 43  # token_urlsafe(32): 256 bits
    inv = db.session.get(SurveyInvitation, survey.invitation.id)
    assert inv.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    for column in sa_inspect(SurveyInvitation).columns:
        assert raw not in str(getattr(inv, column.key) or "")


def test_the_contact_sees_the_survey_in_their_language_and_can_switch(client, survey):
    page = client.get(survey.url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "订单处理是否及时？" in html and "Are orders handled on time?" not in html  # 王芳: Chinese
    english = client.get(survey.url + "?lang=en").get_data(as_text=True)
    assert "Are orders handled on time?" in english and "Very satisfied" in english


def test_the_answer_page_links_nowhere_else_in_the_portal(client, survey):
    html = client.get(survey.url).get_data(as_text=True)
    assert "/customers" not in html and "/complaints" not in html and "/auth/login" not in html
    assert 'class="mainnav"' not in html


def test_guessed_tokens_get_the_invalid_link_page_and_then_are_refused(app, client, survey):
    app.config["SURVEY_BAD_TOKEN_LIMIT"] = 5
    for _ in range(5):
        response = client.get(f"/surveys/answer/{survey.campaign.id}/{secrets.token_urlsafe(32)}")
        assert response.status_code == 404
        assert "此调查链接无效" in response.get_data(as_text=True)  # no contact known: the portal's default language
    # after five wrong guesses from this address even the right link waits
    assert client.get(survey.url).status_code == 429


def test_requests_are_rate_limited_per_address(app, client, survey):
    app.config["SURVEY_RATE_LIMIT"] = 3
    assert [client.get(survey.url).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = app.test_client()
    assert other.get(survey.url, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_another_campaigns_token_does_not_open_this_campaign(kit, client, survey, people, customer):
    _q, version = kit.build_version(people["csr"], code="ADHOC")
    other, _inv = kit.open_campaign(version, people["csr"], customer, title="Ad hoc")
    db.session.commit()
    assert client.get(f"/surveys/answer/{other.id}/{survey.token}").status_code == 404
    assert client.post(f"/surveys/answer/{other.id}/{survey.token}",
                       data={**kit.form_data(survey, order_handling="5"), "submit": "1"}).status_code == 404


def test_a_draft_keeps_incomplete_answers_and_submission_needs_the_mandatory_ones(kit, client, survey):
    draft = client.post(survey.url, data={**kit.form_data(survey, billing_accuracy="na", comments="草稿"), "save": "1"})
    assert draft.status_code == 200 and "草稿" in draft.get_data(as_text=True)
    response = db.session.scalar(db.select(SurveyResponse))
    assert response.submitted_at is None and {a.question.key for a in response.answers} == {"billing_accuracy", "comments"}
    refused = client.post(survey.url, data={**kit.form_data(survey, order_handling="4"), "submit": "1"})
    assert refused.status_code == 200
    assert db.session.scalar(db.select(SurveyResponse)).submitted_at is None
    # the draft comes back on the next visit
    assert "草稿" in client.get(survey.url).get_data(as_text=True)


def test_after_submission_the_link_is_read_only(kit, client, survey):
    done = client.post(survey.url, data={**kit.form_data(survey, order_handling="2", recommend="9", channels=["0", "2"]),
                                         "submit": "1"})
    assert done.status_code == 302
    again = client.get(survey.url)
    html = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "提交，不能再修改" in html  # in the contact's language (王芳: Chinese)
    assert "<form" not in html
    client.post(survey.url, data={**kit.form_data(survey, order_handling="5", recommend="0"), "submit": "1"})
    db.session.expire_all()
    values = {a.question.key: a.value for a in db.session.scalar(db.select(SurveyResponse)).answers}
    assert values["order_handling"] == 2 and values["recommend"] == 9


def test_the_link_expires_when_the_campaign_closes(kit, client, survey):
    survey.campaign.opens_on = local_today() - timedelta(days=30)
    survey.campaign.closes_on = local_today() - timedelta(days=1)
    db.session.commit()
    response = client.get(survey.url)
    assert response.status_code == 410
    assert client.post(survey.url, data={**kit.form_data(survey, order_handling="5", recommend="9"), "submit": "1"}).status_code == 410
    assert db.session.scalar(db.select(SurveyResponse)) is None


def test_a_new_link_replaces_the_old_one(client, survey):
    new = services.issue_link(survey.invitation)
    db.session.commit()
    assert client.get(survey.url).status_code == 404
    assert client.get(f"/surveys/answer/{survey.campaign.id}/{new}").status_code == 200


def test_answering_needs_the_csrf_token(kit, app, client, survey):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(survey.url, data={**kit.form_data(survey, order_handling="5", recommend="9"), "submit": "1"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(SurveyResponse)) is None
    page = client.get(survey.url).get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_staff_enter_a_paper_answer_marked_as_such(kit, client, login, survey):
    login("csr")
    url = f"/surveys/campaigns/{survey.campaign.id}/invitations/{survey.invitation.id}/enter"
    assert client.get(url).status_code == 200
    response = client.post(url, data={**kit.form_data(survey, order_handling="3", recommend="7"), "mode": "paper", "submit": "1"})
    assert response.status_code == 302
    saved = db.session.scalar(db.select(SurveyResponse))
    assert saved.mode == "paper" and saved.submitted_at is not None and saved.entered_by_id is not None
    assert "paper" in client.get(f"/surveys/campaigns/{survey.campaign.id}").get_data(as_text=True)


def test_behind_the_local_proxy_each_client_address_is_counted_apart(app, client, survey):
    app.config["SURVEY_BAD_TOKEN_LIMIT"] = 2
    bad = f"/surveys/answer/{survey.campaign.id}/guess"
    for _ in range(2):
        client.get(bad, headers={"X-Forwarded-For": "203.0.113.7"})
    assert client.get(survey.url, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    assert client.get(survey.url, headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 200
    # a forwarded address from a peer that is not the proxy is not believed
    outsider = app.test_client()
    assert outsider.get(survey.url, headers={"X-Forwarded-For": "198.51.100.4"},
                        environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 429
