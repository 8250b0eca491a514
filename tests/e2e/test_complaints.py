"""Browser test: record a complaint, watch similar complaints appear while typing, add an action, try to close
(refused), complete the action, evaluate, close, and download the report kept as sent."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def _step(page, label: str) -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def test_complaint_from_record_to_report(page, sign_in, tmp_path):
    sign_in(page, "manager")
    page.goto("/complaints/new")
    page.select_option("#customer_id", label="VITOLAP · Vitol Asia Pte Ltd")
    page.select_option("#category", "delay")
    page.fill("#title", "Tanker kept waiting at anchorage")
    page.locator("#description").press_sequentially(
        "Our tanker waited many hours at anchorage because berth 1 was still occupied by a barge.", delay=5)
    similar = page.locator("#similar-panel .similar-list li")
    similar.first.wait_for()
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
    _step(page, "Start actions")

    page.select_option("#act-kind", "corrective")
    page.select_option("#act-owner_id", label="Zhang Min 张敏")
    page.fill("#act-due_date", "2030-01-31")
    page.fill("#act-description", "Show pump maintenance in the berth line-up")
    page.get_by_role("button", name="Add action").click()
    page.get_by_text("Action added.").wait_for()
    _step(page, "Request effectiveness check")

    _step(page, "Close complaint")
    page.get_by_text("cannot be closed while 1 action(s) are open").wait_for()
    assert page.locator("[data-state]").first.get_attribute("data-state") == "awaiting_effectiveness"

    page.locator("#actions").get_by_role("link", name="Update").click()
    page.select_option("#status", "done")
    page.fill("#completion_note", "Maintenance now in the line-up")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Action updated.").wait_for()

    page.fill("#eval-effectiveness", "No berth delay caused by maintenance for two months")
    page.get_by_role("button", name="Save evaluation").click()
    page.get_by_text("Effectiveness evaluation saved.").wait_for()
    _step(page, "Close complaint")
    page.get_by_text("is now “Closed”").wait_for()
    assert page.locator("[data-state]").first.get_attribute("data-state") == "closed"

    page.fill("#rep-recipient", "tan@vitolap.example")
    page.get_by_role("button", name="Keep the report as sent").click()
    page.get_by_text("Report version 1 kept as sent.").wait_for()
    with page.expect_download() as info:
        page.locator("a.sent-report").first.click()
    download = info.value
    assert download.suggested_filename.endswith("-8D-v1.pdf")
    target = tmp_path / "report.pdf"
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    assert page.url.startswith(complaint_url)
