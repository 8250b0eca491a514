"""Browser test: a customer contact answers the satisfaction survey on a phone-sized window through the
personal link (no sign-in), saving a draft first; then the CSR sees the answer in the results, flagged, and
raises a corrective action (a CAPA action) from it, marks it done, and a CS manager verifies it: the loop closes."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db

pytestmark = pytest.mark.e2e


def _open_invitation(app):
    from portal.blueprints.surveys import services
    from portal.blueprints.surveys.models import SurveyCampaign

    with app.app_context():
        campaign = [c for c in services.yearly_campaigns() if services.campaign_status(c) == "open"][-1]
        inv = next(i for i in campaign.invitations if i.response is None)
        token = services.issue_link(inv)
        questions = {q.key: q.id for q in db.session.get(SurveyCampaign, campaign.id).version.questions}
        db.session.commit()
        return campaign.id, inv.contact_name, inv.customer.code, token, questions


def test_a_contact_answers_on_a_phone_and_the_csr_acts_on_it(browser, live_app, live_server, page, sign_in):
    campaign_id, contact, code, token, q = _open_invitation(live_app)
    phone = browser.new_context(base_url=live_server, locale="en-GB", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    url = f"/surveys/answer/{campaign_id}/{token}"
    mobile.goto(url + "?lang=zh")
    assert "订单" in mobile.content() and mobile.locator(".mainnav").count() == 0
    with mobile.expect_navigation():
        mobile.get_by_role("link", name="English").click()
    # fits the phone: nothing wider than the screen
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 392
    mobile.locator(f"#q-{q['order_handling']} label.survey-option", has_text="Very dissatisfied").tap()
    mobile.fill(f"#q{q['comments']}", "Trucks waited two hours at the loading rack")
    with mobile.expect_navigation():
        mobile.get_by_role("button", name="Save draft").tap()
    assert "Draft saved" in mobile.content()
    # submitting without the required recommendation is refused, the draft stays
    with mobile.expect_navigation():
        mobile.get_by_role("button", name="Submit answers").tap()
    assert "Please answer the questions marked as required" in mobile.content()
    assert mobile.locator(f"#q{q['comments']}").input_value() == "Trucks waited two hours at the loading rack"
    mobile.locator(f"#q-{q['recommend']} label.survey-option", has_text=re.compile(r"^\s*3\s*$")).tap()
    with mobile.expect_navigation():
        mobile.get_by_role("button", name="Submit answers").tap()
    assert "your answers have been received" in mobile.content()
    assert mobile.locator("form").count() == 0
    phone.close()

    sign_in(page, "csr")
    page.goto(f"/surveys/campaigns/{campaign_id}/results")
    row = page.locator("tr", has_text=contact).filter(has_text="How well are your orders").first
    assert "no follow-up yet" in row.inner_text()
    row.get_by_role("link", name="Follow up").click()
    page.wait_for_url(re.compile(r"/surveys/answers/\d+$"))
    page.fill("#fu-description", "Call the customer about order handling and agree a plan")
    page.select_option("#fu-owner_id", index=1)
    from portal.timeutil import local_today

    page.fill("#fu-due_date", (local_today() + timedelta(days=10)).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Raise action").click()
    assert "Corrective action raised" in page.content()
    page.goto(f"/surveys/campaigns/{campaign_id}/results")
    row = page.locator("tr", has_text=contact).filter(has_text="How well are your orders").first
    assert "follow-up under way" in row.inner_text()
    assert code in row.inner_text() and re.search(r"CAPA-\d+ · Open", row.inner_text())

    # the action's own page (from the answer page): the CSR records it done
    row.get_by_role("link", name="Follow up").click()
    page.wait_for_url(re.compile(r"/surveys/answers/\d+$"))
    answer_url = page.url
    with page.expect_navigation():
        page.locator("table.capa-actions a.update-link").first.click()
    assert "Survey answer" in page.content() and "Call the customer about order handling" in page.content()
    page.select_option("#status", "done")
    page.fill("#completion_note", "Called the customer; a second order desk shift agreed")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert "Action updated" in page.content()  # back on the answer page
    assert "Done, awaiting verification" in page.locator("table.capa-actions").inner_text()

    # someone else verifies it: the loop is closed
    other = browser.new_context(base_url=live_server, locale="en-GB")
    manager = sign_in(other.new_page(), "manager")
    manager.goto(answer_url)
    with manager.expect_navigation():
        manager.locator("table.capa-actions a.verify-link").first.click()
    manager.select_option("#ver-decision", "accept")
    manager.fill("#ver-note", "Confirmed with the customer")
    with manager.expect_navigation():
        manager.get_by_role("button", name="Record verification").click()
    assert "Action verified" in manager.content() and "loop closed" in manager.content()
    other.close()
