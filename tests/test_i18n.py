"""Chinese UI: the user's language, else the browser's, else the default; dates in the local time zone."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portal.blueprints.customers.models import Customer
from portal.extensions import db
from portal.i18n import fmt_date, fmt_datetime, fmt_decimal, normalise_locale


@pytest.fixture
def chinese_user(make_user):
    return make_user("li", "csr", language="zh_Hans", full_name="李伟")


def test_the_dashboard_is_in_chinese_for_a_chinese_user(client, login, chinese_user):
    login(chinese_user)
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    assert "仪表板" in page  # Dashboard
    assert "客户" in page  # Customers
    assert "李伟，您好" in page  # Good day, %(name)s
    assert "我的账号" in page and "退出登录" in page
    assert "Dashboard" not in page and "Sign out" not in page


def test_the_customer_pages_are_in_chinese(client, login, chinese_user):
    customer = Customer(code="SINOCHEM", name_en="Sinochem Energy Trading Co., Ltd.", name_zh="中化能源贸易有限公司")
    db.session.add(customer)
    db.session.commit()
    login(chinese_user)
    index = client.get("/customers/").get_data(as_text=True)
    assert "新建客户" in index and "按代码或名称筛选" in index and "负责的客服代表" in index
    detail = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "SINOCHEM · 中化能源贸易有限公司" in detail  # the Chinese name first
    assert "添加联系人" in detail and "尚无联系人。" in detail
    form = client.post("/customers/new", data={"code": "SINOCHEM", "name_en": "Again"}).get_data(as_text=True)
    assert "代码 SINOCHEM 已被 Sinochem Energy Trading Co., Ltd. 使用。" in form
    assert "请更正标出的字段。" in form


def test_flash_messages_are_in_chinese(client, login, chinese_user):
    login(chinese_user)
    response = client.post("/customers/new", data={"code": "ACME", "name_en": "Acme"}, follow_redirects=True)
    assert "客户 ACME 已创建。" in response.get_data(as_text=True)


def test_the_sign_in_page_follows_the_browser(client):
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    assert "登录" in page and "用户名" in page and "密码" in page
    page = client.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "User name" in page


def test_a_failed_sign_in_is_explained_in_chinese(client, make_user):
    make_user("li", "csr")
    response = client.post("/auth/login", data={"username": "li", "password": "wrong-password-1"},
                           headers={"Accept-Language": "zh-CN"})
    assert "登录失败。" in response.get_data(as_text=True)


def test_the_users_setting_wins_over_the_browser(client, login, make_user):
    login(make_user("wang", "csr", language="en"))
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Dashboard" in page


def test_without_a_preference_the_default_is_english(client, login):
    login("csr")
    page = client.get("/", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_the_admin_pages_are_in_chinese(client, login, make_user):
    login(make_user("boss", "admin", language="zh_Hans"))
    page = client.get("/admin/users").get_data(as_text=True)
    assert "新建用户" in page and "最近登录" in page
    assert "审计日志" in client.get("/admin/audit").get_data(as_text=True)


@pytest.mark.parametrize("value, expected", [
    ("zh-CN", "zh_Hans"), ("zh_Hans", "zh_Hans"), ("zh-TW", "zh_Hans"), ("en-US", "en"), ("fr", None), ("", None),
])
def test_normalise_locale(value, expected):
    assert normalise_locale(value) == expected


def test_times_are_shown_in_the_terminals_time_zone(app):
    with app.test_request_context():
        assert fmt_datetime(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)) == "2026-03-02 00:30"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Amsterdam", "America/Chicago"])
def test_a_time_reads_as_the_locales_formatter_writes_it_in_every_language_and_zone(app, zone):
    """The default pattern is written without Babel's formatter: the same text as Babel's, naive times taken as UTC,
    across midnight, the year's end and a change of summer time."""
    from datetime import timedelta

    from flask_babel import force_locale, format_date, format_datetime, refresh

    app.config["TIMEZONE"] = zone
    times = [datetime(2026, 3, 29, 0, 0, tzinfo=UTC) + timedelta(minutes=37 * k) for k in range(80)]
    times += [datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 0), datetime(2026, 11, 1, 6, 30)]
    with app.test_request_context():
        refresh()
        for locale in ("en", "zh_Hans"):
            with force_locale(locale):
                for value in times:
                    assert fmt_datetime(value) == format_datetime(value, "yyyy-MM-dd HH:mm"), (locale, value)
                    assert fmt_datetime(value, "yyyy-MM-dd") == format_datetime(value, "yyyy-MM-dd")
                    assert fmt_date(value) == format_datetime(value, "yyyy-MM-dd")
                    assert fmt_date(value.date()) == format_date(value.date(), "yyyy-MM-dd")
                    assert fmt_datetime(value.date()) == format_datetime(value.date(), "yyyy-MM-dd HH:mm")
        assert fmt_datetime(datetime(2027, 1, 1, 0, 0)) == fmt_datetime(datetime(2027, 1, 1, 0, 0, tzinfo=UTC))


@pytest.mark.parametrize("value, shown", [
    (Decimal("-0.000"), "0.000"), (Decimal("-0.0004"), "0.000"), (Decimal("0"), "0.000"),
    (Decimal("-1.5"), "-1.500"), (Decimal("12345.6785"), "12,345.678"), (None, ""),
])
def test_quantities_print_with_separators_and_never_as_minus_zero(value, shown):
    # A delivery column of a day without deliveries is a negative zero in the ledger's arithmetic.
    assert fmt_decimal(value) == shown


def test_template_translations_escape_values_and_follow_the_locale_of_the_moment(app):
    """The page's translation callables: values escaped in HTML, not in text; plural and context forms;
    a locale forced for a moment (an e-mail in the customer's language) and chosen afresh both take effect."""
    from flask_babel import force_locale, refresh

    env = app.jinja_env
    html = env.from_string(
        '{{ _("Good day, %(name)s", name=who) }}|{{ ngettext("%(num)s result", "%(num)s results", n) }}'
        '|{{ pgettext("follow-up", "Action") }}|{% trans %}Dashboard{% endtrans %}'
    )
    text = env.from_string('{% autoescape false %}{{ _("Good day, %(name)s", name=who) }}{% endautoescape %}')
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert html.render(who="<b>Li</b>", n=1) == "Good day, &lt;b&gt;Li&lt;/b&gt;|1 result|Action|Dashboard"
        assert text.render(who="<b>Li</b>") == "Good day, <b>Li</b>"
        with force_locale("zh_Hans"):
            assert html.render(who="李伟", n=3) == "李伟，您好|3 条结果|措施|仪表板"
        assert html.render(who="Li", n=2).startswith("Good day, Li|2 results|")
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert html.render(who="Li", n=2).startswith("Good day, Li|")
        app.config["BABEL_DEFAULT_LOCALE"], default = "zh_Hans", app.config["BABEL_DEFAULT_LOCALE"]
        try:
            with app.test_request_context("/"):
                refresh()
                assert html.render(who="Li", n=2).startswith("Li，您好|2 条结果|")
        finally:
            app.config["BABEL_DEFAULT_LOCALE"] = default
