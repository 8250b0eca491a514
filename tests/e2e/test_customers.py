"""In the browser: sign in, switch to Chinese, filter the customers as you type, create a customer after
correcting a field error."""
from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import User

pytestmark = pytest.mark.e2e

USERNAME = "trainee"  # a CSR of the demo data that no other browser test uses


@pytest.fixture
def reset_language(live_app):
    yield
    with live_app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username=USERNAME))
        user.language = None
        db.session.commit()


def test_customers_in_chinese_with_live_filter_and_a_field_error(page, sign_in, reset_language):
    from playwright.sync_api import expect

    sign_in(page, USERNAME)
    expect(page.locator("h1")).to_contain_text("Good day")

    # Switch to Chinese with the language menu in the top bar.
    page.select_option("#lang-select", "zh_Hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("nav.mainnav")).to_contain_text("仪表板")
    expect(page.locator("nav.mainnav")).to_contain_text("客户")

    # Open the customer list.
    page.locator("nav.mainnav a[href='/customers/']").click()
    page.wait_for_url("**/customers/")
    expect(page.locator("h1")).to_have_text("客户")
    rows = page.locator("#customer-rows tbody tr")
    assert rows.count() >= 10

    # Filter as you type: htmx replaces the rows without reloading the page.
    page.evaluate("window.__notReloaded = true")
    page.locator("#customer-q").press_sequentially("中化", delay=50)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("SINOCHEM")
    assert page.evaluate("window.__notReloaded") is True, "the list was filtered in place"
    page.wait_for_url(re.compile(r"q=%E4%B8%AD%E5%8C%96|q=中化"))
    page.locator("#customer-q").fill("no such customer")
    expect(page.locator("#customer-rows")).to_contain_text("没有与“no such customer”匹配的客户。")

    # Create a customer: first with a code that is taken, then corrected.
    page.locator("#customer-q").fill("")
    expect(rows.filter(has_text="VITOLAP")).to_have_count(1)  # the whole list is back: the filter is done
    page.get_by_role("link", name="新建客户").click()
    page.wait_for_url("**/customers/new")
    page.fill("#code", "sinochem")
    page.fill("#name_en", "Browser Test Chemicals Co., Ltd.")
    page.fill("#name_zh", "浏览器测试化工有限公司")
    page.fill("#daily_report_time", "09:30")
    page.fill("#report_recipients", "stock@browser-test.example")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".field.has-error")).to_contain_text("代码 SINOCHEM 已被 Sinochem Energy Trading Co., Ltd. 使用。")
    expect(page.locator("[role=alert]").first).to_contain_text("请更正标出的字段。")
    # What was typed is kept.
    expect(page.locator("#name_zh")).to_have_value("浏览器测试化工有限公司")

    page.fill("#code", "E2E-BROWSER")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/customers/\d+$"))
    expect(page.locator(".notice-success")).to_contain_text("客户 E2E-BROWSER 已创建。")
    expect(page.locator("h1")).to_contain_text("E2E-BROWSER · 浏览器测试化工有限公司")

    # The notice can be dismissed.
    page.locator(".notice-success [data-dismiss]").click()
    expect(page.locator(".notice-success")).to_have_count(0)

    # The new customer is found by the filter.
    page.locator("nav.mainnav a[href='/customers/']").click()
    page.locator("#customer-q").press_sequentially("E2E", delay=50)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("浏览器测试化工有限公司")
