"""The billing panel on the dashboard: last month's runs not yet exported, by state, each count linking to the
billing list showing exactly those runs; for customer service only."""
from __future__ import annotations

import re

import pytest

from portal.blueprints.admin.demo import DEMO_USERS
from portal.blueprints.operations.billing import services
from portal.blueprints.operations.billing.models import BillingRun
from portal.extensions import db

PASSWORDS = {name: password for name, _full, _roles, password, _dept in DEMO_USERS}
ITEM = re.compile(r'<a href="([^"]+)" data-billing="([a-z]+)">[^<]*</a> <span class="badge billing-count">(\d+)</span>')


def _rows(html: str) -> int:
    m = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return 0 if m is None else len(re.findall(r"<tr[\s>]", m.group(1)))


def _sign_in(app, username):
    client = app.test_client()
    assert client.post("/auth/login", data={"username": username, "password": PASSWORDS[username]}).status_code == 302
    return client


@pytest.mark.parametrize("username", ["csr", "manager"])
def test_each_count_of_the_billing_panel_matches_the_rows_of_its_list(demo_app, username):
    month = services.last_closed_month()
    runs = db.session.scalars(db.select(BillingRun).where(BillingRun.month == month).order_by(BillingRun.id)).all()
    assert len(runs) >= 4, "the demonstration prepares last month's runs"
    runs[0].state, runs[1].state, runs[2].state = "reviewed", "agreed", "exported"
    db.session.commit()
    client = _sign_in(demo_app, username)
    page = client.get("/").get_data(as_text=True)
    items = {state: (href.replace("&amp;", "&"), int(n)) for href, state, n in ITEM.findall(page)}
    assert set(items) == {"draft", "reviewed", "agreed"}
    assert items["reviewed"][1] == 1 and items["agreed"][1] == 1 and items["draft"][1] == len(runs) - 3
    for state, (href, count) in items.items():
        listed = client.get(href)
        assert listed.status_code == 200, href
        html = listed.get_data(as_text=True)
        assert _rows(html) == count, (state, href)
        assert f"{month:%Y-%m}" in html


def test_the_billing_panel_is_for_customer_service_and_says_when_all_is_exported(demo_app):
    assert "data-billing=" not in _sign_in(demo_app, "staff").get("/").get_data(as_text=True)
    month = services.last_closed_month()
    for run in db.session.scalars(db.select(BillingRun).where(BillingRun.month == month)):
        run.state = "exported"
    db.session.commit()
    page = _sign_in(demo_app, "csr").get("/").get_data(as_text=True)
    assert "data-billing=" not in page
    assert f"billing run(s) of {month:%Y-%m} are exported to finance." in page
