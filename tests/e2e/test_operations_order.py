"""Browser test: a CSR registers a ship discharge, sees the vessel rule fail live while typing and pass once
the vessel is named, verifies the order, hands it over; operations start and complete it, and the customer's
stock page shows the movement of the order."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def test_order_from_registration_to_stock(page, sign_in):
    sign_in(page, "csr")
    page.goto("/operations/")
    page.get_by_role("link", name="New order").first.click()
    page.wait_for_url(re.compile(r"/operations/orders/new"))
    page.select_option("#kind", "ship_discharge")
    sinochem = page.locator("#customer_id option", has_text="SINOCHEM").first.get_attribute("value")
    page.select_option("#customer_id", sinochem)
    jet = page.locator("#product_id option", has_text="JET ").first.get_attribute("value")
    page.select_option("#product_id", jet)
    tank = page.locator("#tank_id option", has_text="T-103").first.get_attribute("value")
    page.select_option("#tank_id", tank)
    page.fill("#quantity", "850.5")
    page.select_option("#unit", "t")
    page.fill("#instruction_ref", "SINOCHEM/INSTR/e2e")

    vessel_rule = page.locator('#live-checks [data-rule="vessel_named"]')
    vessel_rule.wait_for()
    assert vessel_rule.get_attribute("data-outcome") == "error"
    assert "must name the vessel" in vessel_rule.inner_text()

    page.locator("#vessel_name").press_sequentially("MT Browser Star", delay=5)
    page.locator('#live-checks [data-rule="vessel_named"][data-outcome="ok"]').wait_for()
    errors = page.locator('#live-checks li[data-outcome="error"]')
    assert errors.count() == 0, errors.all_inner_texts()

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/operations/orders/\d+$"))
    number = page.locator("h1").inner_text().split(" ")[0]
    assert number.startswith("ORD-")

    page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_load_state()
    page.locator('.pagehead [data-state="verified"]').wait_for()

    page.get_by_role("button", name="Hand over to operations").click()
    page.wait_for_load_state()
    page.locator('.pagehead [data-state="handed_over"]').wait_for()
    assert "have not yet acknowledged" in page.locator("#ops-version").inner_text()

    page.get_by_role("button", name="Start execution").click()
    page.wait_for_load_state()
    page.locator('.pagehead [data-state="in_execution"]').wait_for()

    page.fill("#done-actual_qty", "849.75")
    page.fill("#done-density_20", "801.2")
    page.get_by_role("button", name="Complete the order").click()
    page.wait_for_load_state()
    page.locator('.pagehead [data-state="completed"]').wait_for()
    assert "849.750 t" in page.locator("#actuals").inner_text()

    page.locator("#customer-stock-link").click()
    page.wait_for_url(re.compile(r"/operations/stock/customers/\d+"))
    body = page.locator("main").inner_text()
    assert "T-103" in body and number in body
