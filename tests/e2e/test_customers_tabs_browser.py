"""In the browser: a customer's records as tabs, swapped in place by htmx, the address kept in step."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def test_the_customer_tabs_swap_in_place(page, sign_in):
    from playwright.sync_api import expect

    sign_in(page, "csr2")  # a demo CSR no other browser test signs in as
    page.goto("/customers/?q=SINOCHEM")
    page.locator("#customer-rows a", has_text="SINOCHEM").click()
    page.wait_for_url(re.compile(r"/customers/\d+$"))
    tabs = page.locator("nav.tabs a")
    expect(tabs).to_have_count(6)
    expect(tabs.first).to_have_attribute("aria-current", "page")

    page.evaluate("window.__notReloaded = true")
    page.locator("nav.tabs a[href*='tab=inquiries']").click()
    page.wait_for_url(re.compile(r"\?tab=inquiries"))
    expect(page.locator("nav.tabs a[href*='tab=inquiries']")).to_have_attribute("aria-current", "page")
    expect(page.locator(".tab-panel")).to_have_attribute("aria-label", "Inquiries")
    assert page.evaluate("window.__notReloaded") is True, "the tab was swapped in place"
    expect(page.locator("h1")).to_contain_text("SINOCHEM")
