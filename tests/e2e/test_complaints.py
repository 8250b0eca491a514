"""Browser test: record a complaint, watch similar complaints appear while typing, attach evidence with a
Chinese name, add an action, try to request the effectiveness check (refused while the action is open),
the owner completes it and someone else verifies it, evaluate, try to close without the report (refused),
keep the report as sent, close, and download the report kept as sent."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.e2e

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DESCRIPTION = "Our tanker waited many hours at anchorage because berth 1 was still occupied by a barge."


def _step(page, label: str) -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def test_complaint_from_record_to_report(page, sign_in, browser, live_server, tmp_path):
    sign_in(page, "manager")
    similar_requests: list[str] = []
    page.on("request", lambda r: similar_requests.append(r.url) if "/complaints/similar" in r.url else None)
    page.goto("/complaints/new")
    vitol = page.locator("#customer_id option", has_text="VITOLAP").first.get_attribute("value")
    page.select_option("#customer_id", vitol)
    page.select_option("#category", "delay")
    page.fill("#title", "Tanker kept waiting at anchorage")
    def carries(text):
        def check(response) -> bool:
            query = parse_qs(urlsplit(response.url).query)
            return "/complaints/similar" in response.url and query.get("description") == [text]
        return check

    with page.expect_response(carries(DESCRIPTION)):
        page.locator("#description").press_sequentially(DESCRIPTION, delay=5)
    # text committed without key events (an input method choosing characters, a paste) is asked about too
    typed = DESCRIPTION + " 锚地等候"
    with page.expect_response(carries(typed)):
        page.keyboard.insert_text(" 锚地等候")
    similar = page.locator("#similar-panel .similar-list li")
    similar.first.wait_for()
    page.wait_for_load_state("networkidle")
    # the last request carries the text after the last keystroke
    assert parse_qs(urlsplit(similar_requests[-1]).query)["description"] == [typed]
    assert "Vessel waited 14 hours for berth 1" in page.locator("#similar-panel").inner_text()
    assert "Recurrence" in page.locator("#similar-panel").inner_text()
    page.get_by_role("button", name="Record complaint").click()
    page.wait_for_url(re.compile(r"/complaints/\d+$"))
    complaint_url = page.url

    _step(page, "Acknowledge to customer")
    _step(page, "Start investigation")
    page.fill("#inv-why_1", "The barge loading overran")
    page.fill("#inv-root_cause", "Pump maintenance not visible to the berth planner")
    page.select_option("#inv-cause_category", "communication")
    page.get_by_role("button", name="Save investigation").click()
    page.get_by_text("Investigation saved.").wait_for()

    evidence = "投诉证据（现场照片）.pdf"
    page.set_input_files("#att-file", files=[{"name": evidence, "mimeType": "application/pdf", "buffer": PDF_BYTES}])
    page.get_by_role("button", name="Attach").click()
    page.get_by_text("Evidence attached.").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name=evidence).click()
    assert info.value.suggested_filename == evidence
    _step(page, "Start actions")

    page.select_option("#act-kind", "corrective")
    page.select_option("#act-owner_id", label="Zhang Min 张敏")
    page.fill("#act-due_date", "2030-01-31")
    page.fill("#act-description", "Show pump maintenance in the berth line-up")
    page.get_by_role("button", name="Add action").click()
    page.get_by_text("Action added.").wait_for()
    _step(page, "Request effectiveness check")
    page.get_by_text("1 action(s) are still open or awaiting verification").wait_for()
    assert page.locator("[data-state]").first.get_attribute("data-state") == "actions_in_progress"

    # the action's owner marks it done
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900})
    try:
        owner = context.new_page()
        owner.set_default_timeout(15000)
        sign_in(owner, "csr")
        owner.goto(complaint_url)
        owner.locator("#actions").get_by_role("link", name="Update").click()
        owner.select_option("#status", "done")
        owner.fill("#completion_note", "Maintenance now in the line-up")
        owner.get_by_role("button", name="Save").click()
        owner.get_by_text("Action updated.").wait_for()
    finally:
        context.close()

    # someone else verifies it
    page.goto(complaint_url)
    page.locator("#actions").get_by_role("link", name="Verify").click()
    page.select_option("#ver-decision", "accept")
    page.fill("#ver-note", "Line-up of next week seen with the P-12 window")
    page.get_by_role("button", name="Record verification").click()
    page.get_by_text("Action verified.").wait_for()
    _step(page, "Request effectiveness check")
    assert page.locator("[data-state]").first.get_attribute("data-state") == "awaiting_effectiveness"

    page.fill("#eval-effectiveness", "No berth delay caused by maintenance for two months")
    page.get_by_role("button", name="Save evaluation").click()
    page.get_by_text("Effectiveness evaluation saved.").wait_for()
    _step(page, "Close complaint")
    page.get_by_text("The report has not been sent to the customer").first.wait_for()
    assert page.locator("[data-state]").first.get_attribute("data-state") == "awaiting_effectiveness"

    page.fill("#rep-recipient", "tan@vitolap.example")
    page.get_by_role("button", name="Keep the report as sent").click()
    page.get_by_text("Report version 1 kept as sent.").wait_for()
    _step(page, "Close complaint")
    page.get_by_text("is now “Closed”").wait_for()
    assert page.locator("[data-state]").first.get_attribute("data-state") == "closed"

    with page.expect_download() as info:
        page.locator("a.sent-report").first.click()
    download = info.value
    assert download.suggested_filename.endswith("-8D-v1.pdf")
    target = tmp_path / "report.pdf"
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    assert page.url.startswith(complaint_url)
