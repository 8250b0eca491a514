"""The dashboard of the day's due work per role: every count links to a list showing exactly that many rows."""
from __future__ import annotations

import re

import pytest

from portal.blueprints.admin.demo import DEMO_USERS

PASSWORDS = {name: password for name, _full, _roles, password, _dept in DEMO_USERS}
ITEM = re.compile(r'<a href="([^"]+)" data-due="([a-z-]+)">.*?<span class="badge[^"]*due-count">(\d+)</span>', re.S)


def _rows(html: str) -> int:
    """Rows of the first table body on the page (0 when the list is empty)."""
    m = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return 0 if m is None else len(re.findall(r"<tr[\s>]", m.group(1)))


@pytest.mark.parametrize("username, expected", [
    ("csr", {"my-inquiries", "my-complaints", "my-actions", "my-training", "to-read"}),
    ("trainee", {"my-inquiries", "my-training", "to-read"}),
    ("manager", {"escalations", "effectiveness", "capa-this-week", "batches-to-approve"}),
    ("records", {"records-due", "holds"}),
])
def test_each_count_on_the_dashboard_matches_the_rows_of_its_list(demo_app, username, expected):
    client = demo_app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": PASSWORDS[username]})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    items = {key: (href.replace("&amp;", "&"), int(count)) for href, key, count in ITEM.findall(page)}
    assert expected <= set(items), sorted(items)
    assert any(count for _href, count in items.values()), "the demo gives this role something to do"
    for key, (href, count) in items.items():
        listed = client.get(href)
        assert listed.status_code == 200, (key, href)
        assert _rows(listed.get_data(as_text=True)) == count, (key, href)


def test_a_due_list_of_another_role_is_refused_and_an_unknown_one_is_not_found(app, client, login):
    login("staff")
    assert client.get("/due/escalations").status_code == 403
    assert client.get("/due/no-such-list").status_code == 404
    assert client.get("/due/to-read").status_code == 200


def test_every_due_list_counts_on_the_dashboard_what_its_rows_hold_for_every_user(demo_app):
    """A list with a summary of its own (a count in SQL) agrees with its rows: the count, and the first due date."""
    from portal.extensions import db
    from portal.models import User
    from portal.panels import DueSummary, _DUE, first_due

    with demo_app.test_request_context():
        users = db.session.scalars(db.select(User).filter(User.username.in_(PASSWORDS))).all()
        assert len(users) == len(PASSWORDS)
        for user in users:
            for item in _DUE.values():
                rows = item.rows(user)
                summary = item.summarise(user)
                if rows is None:
                    assert summary is None, (item.key, user.username)
                    continue
                assert summary == DueSummary(len(rows), first_due(row.due for row in rows)), (item.key, user.username)


def test_the_capa_lists_apply_the_actions_own_access_rule_in_sql(app, people, new_complaint):
    """The due lists of CAPA actions check access in SQL (not action by action): for every user the rule selects
    exactly the actions ``can_view`` allows, restricted complaints included, and their counts agree with the rows."""
    from datetime import timedelta

    from portal.blueprints.complaints import services
    from portal.blueprints.complaints.models import CapaAction
    from portal.extensions import db
    from portal.panels import DueSummary, due_list
    from portal.timeutil import local_today

    today = local_today()
    open_one = new_complaint(title="Open to all")
    secret = new_complaint(title="Named person", restricted=True, owner_id=people["csr2"].id)
    for n, (complaint, owner) in enumerate([(open_one, "csr"), (open_one, "csr2"), (secret, "csr2"), (secret, "csr")]):
        services.add_action(complaint, people["csr2"], kind="corrective", description=f"Action {n}",
                            owner_id=people[owner].id, due_date=today + timedelta(days=n - 1))
    db.session.commit()
    every = db.session.scalars(db.select(CapaAction)).all()
    for name in ("csr", "csr2", "staff", "manager", "officer"):
        user = people[name]
        visible = set(db.session.scalars(db.select(CapaAction.id).filter(CapaAction.visible_to(user))))
        assert visible == {a.id for a in every if a.can_view(user)}, name
    assert {a.id for a in every if not a.can_view(people["staff"])}  # the restricted complaint's actions
    with app.test_request_context():
        for key, name in (("my-actions", "csr"), ("my-actions", "csr2"), ("capa-this-week", "manager")):
            listed = due_list(key)
            rows = listed.rows(people[name])
            assert listed.summarise(people[name]) == DueSummary(len(rows), min(r.due for r in rows)), (key, name)
            assert rows


def test_the_first_due_of_a_list_holding_dates_and_times_is_the_earliest_moment(app):
    """My open complaints mix an acknowledgement due at a time with an action due on a day."""
    from datetime import date, datetime

    from portal.panels import DueRow, DueList, first_due
    from portal.timeutil import tz

    day = date(2026, 12, 3)
    late_evening_before = datetime(2026, 12, 2, 23, 0, tzinfo=tz())
    that_morning = datetime(2026, 12, 3, 9, 0, tzinfo=tz())
    assert first_due([that_morning, day, None]) == day
    assert first_due([day, late_evening_before]) == late_evening_before
    assert first_due([None]) is None
    mixed = DueList("mixed", 1, "Mixed", lambda user: [DueRow("a", due=that_morning), DueRow("b", due=day), DueRow("c")])
    assert mixed.summarise(None).count == 3 and mixed.summarise(None).first_due == day


def test_my_open_complaints_count_and_first_due_agree_with_the_rows(app, people, new_complaint):
    """My open complaints are counted in SQL: the acknowledgement due of those not acknowledged and the next open
    action of the others (a time and a day), a closed action and another owner's complaint left out."""
    from datetime import UTC, datetime, timedelta

    from portal.blueprints.complaints import services
    from portal.extensions import db
    from portal.panels import DueSummary, due_list, first_due
    from portal.timeutil import local_today

    csr, today = people["csr"], local_today()
    due = due_list("my-complaints")
    with app.test_request_context():
        assert due.summarise(csr) == DueSummary(0, None)
        waiting = new_complaint(title="Not acknowledged", owner_id=csr.id,
                                received_at=datetime.now(UTC) - timedelta(hours=1))
        acted = new_complaint(title="Acknowledged", owner_id=csr.id)
        services.transition(acted, "acknowledge", csr)
        for n, days in enumerate((5, -3, -1)):
            services.add_action(acted, csr, kind="corrective", description=f"Action {n}", owner_id=csr.id,
                                due_date=today + timedelta(days=days))
        earliest = min(acted.actions, key=lambda a: a.due_date)  # done: the next open one was due yesterday
        services.update_action(earliest, csr, status="done", completion_note="Done")
        new_complaint(title="Someone else's", owner_id=people["csr2"].id)
        db.session.commit()
        rows = due.rows(csr)
        assert sorted(r.title.split(" ", 1)[1] for r in rows) == ["Acknowledged", "Not acknowledged"]
        summary = due.summarise(csr)
        assert summary == DueSummary(2, first_due(r.due for r in rows))
        assert summary.first_due == today - timedelta(days=1) and waiting.ack_due_at > datetime.now(UTC)
        earliest_open = min((a for a in acted.actions if a.status != "done"), key=lambda a: a.due_date)
        services.update_action(earliest_open, csr, status="done", completion_note="Done")
        db.session.commit()
        assert due.summarise(csr) == DueSummary(2, waiting.ack_due_at)  # now the acknowledgement due comes first
