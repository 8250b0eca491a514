"""The archive's dashboard panel counts what the disposal schedule lists: due and ready, and skipped (legal holds,
an open complaint of the customer, already in a batch), restricted records included as the schedule counts them."""
from __future__ import annotations

import re

import pytest

from portal.blueprints.admin.demo import DEMO_USERS

PASSWORDS = {name: password for name, _full, _roles, password, _dept in DEMO_USERS}
DUE = re.compile(r"(\d+) record\(s\) due for disposition</a>(?: <span class=\"muted\">\((\d+) skipped)?")


def _schedule_counts(html: str) -> tuple[int, int]:
    """(ready, skipped) rows of the schedule page, the line of restricted records counted by its numbers."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    if body is None:
        return 0, 0
    ready = skipped = 0
    for row in re.findall(r"<tr(?: class=\"([^\"]*)\")?>(.*?)</tr>", body.group(1), re.S):
        css, cells = row
        if "archive-hidden" in css:
            hidden = re.search(r"(\d+) restricted record\(s\) you may not open", cells)
            skip = re.search(r"(\d+) skipped", cells)
            skipped += int(skip.group(1)) if skip else 0
            ready += int(hidden.group(1)) - (int(skip.group(1)) if skip else 0)
        elif 'class="skip-reason"' in cells:
            skipped += 1
        else:
            ready += 1
    return ready, skipped


@pytest.mark.parametrize("username", ["records", "admin"])
def test_the_panel_counts_what_the_schedule_lists(demo_app, username):
    client = demo_app.test_client()
    assert client.post("/auth/login", data={"username": username, "password": PASSWORDS[username]}).status_code == 302
    page = client.get("/").get_data(as_text=True)
    m = DUE.search(page)
    assert m, "the panel shows the records due"
    due, skipped = int(m.group(1)), int(m.group(2) or 0)
    schedule = client.get("/archive/schedule").get_data(as_text=True)
    assert _schedule_counts(schedule) == (due, skipped)
    assert due and skipped, "the demonstration has records due and records held back"
    assert "On legal hold" in schedule and "Open complaint of this customer" in schedule
