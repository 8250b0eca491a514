"""No page runs more SQL statements because there are more records (no N+1 queries).

The walk takes every GET page of the URL map without arguments, then follows their links to one page of
every other endpoint (record pages, tabs, exports of demo records), never a hand-kept list: a new
module's pages are walked from their first route. Each page is requested over the demonstration
terminal, then again after every record has been copied three more times (bench/grow.py: each copy with
its own customers, users, actions, files...), counting the statements the request sends to the database.
A page may not send more statements with four times the rows, and no page sends more than MAX_STATEMENTS.

SQLite only: the statements a page sends do not depend on the database.
"""
from __future__ import annotations

import importlib.util
import os
import re
from datetime import timedelta
from collections import deque
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import event
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.models import ROLES, User

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "queries-password-12345"
NOT_WALKED = {"static", "auth.logout"}
# A pager's count, a "more" check: a page may send this many more statements with more rows, not one per row.
SLACK = 2
MAX_STATEMENTS = 60
# The dashboard is the sum of what every module registers (panels and due lists): each gets its own budget.
PANEL_STATEMENTS = 2
HREF = re.compile(r'href="([^"#]+)"')

pytestmark = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="statement counts do not depend on the database (SQLite pass)")


def _grow_module():
    spec = importlib.util.spec_from_file_location("bench_grow", ROOT / "bench" / "grow.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Counter:
    def __init__(self, engine):
        self.count = 0
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self)

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        self.statements.append(" ".join(statement.split())[:240])

    def reset(self):
        self.count = 0
        self.statements = []


def _sign_in(app):
    user = db.session.scalar(db.select(User).filter_by(username="queries"))
    if user is None:
        user = User(username="queries", full_name="Queries", email="queries@example.com")
        db.session.add(user)
    user.active = True
    user.set_password(PASSWORD)
    user.set_roles(ROLES)
    db.session.commit()
    client = app.test_client()
    response = client.post("/auth/login", data={"username": "queries", "password": PASSWORD})
    assert response.status_code == 302
    return client


def _endpoint(adapter, url: str) -> str | None:
    parts = urlsplit(url)
    try:
        endpoint, _ = adapter.match(parts.path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _walk(app, client, counter) -> dict[str, tuple[str, int, list[str]]]:
    """{endpoint: (url, statements, the statements' first lines)} for one page of every GET endpoint."""
    adapter = app.url_map.bind("localhost")
    queue = deque()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_WALKED or "GET" not in rule.methods or rule.arguments - set(rule.defaults or {}):
            continue
        with app.test_request_context():
            queue.append(app.url_for(rule.endpoint, **(rule.defaults or {})))
    found: dict[str, tuple[str, int, list[str]]] = {}
    seen: set[str] = set()
    while queue:
        url = queue.popleft()
        endpoint = _endpoint(adapter, url)
        if url in seen or endpoint is None or endpoint in NOT_WALKED or endpoint in found:
            continue
        seen.add(url)
        found[endpoint] = _visit(client, counter, url, queue)
    return found


def _visit(client, counter, url, queue=None) -> tuple[str, int, list[str]]:
    db.session.remove()  # each request starts as a new one would, with nothing loaded
    counter.reset()
    response = client.get(url)
    count, statements = counter.count, counter.statements
    if queue is not None and response.status_code == 200 and response.mimetype == "text/html":
        for href in HREF.findall(response.get_data(as_text=True)):
            target = urlsplit(urljoin("http://localhost" + url, unescape(href)))
            if target.netloc == "localhost":
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    response.close()
    return url, count if response.status_code == 200 else -1, statements


def test_no_page_sends_more_statements_with_more_records(demo_app):
    grow = _grow_module()
    counter = Counter(db.engine)
    client = _sign_in(demo_app)
    before = _walk(demo_app, client, counter)
    assert len(before) >= 60, f"the walk found only {len(before)} pages"

    with db.engine.begin() as conn:
        rows = grow.grow(conn, db.metadata, 3)
    assert rows["cs_complaint"] >= 30 and rows["cs_inquiry"] >= 30 and rows["archive_record"] >= 30, rows
    client = _sign_in(demo_app)  # the copies hold a user of each demo user's roles: sign in again

    from portal import panels

    dashboard_max = MAX_STATEMENTS + PANEL_STATEMENTS * (len(panels._PANELS) + len(panels._DUE))
    failures = []
    for endpoint, (url, count, _statements) in sorted(before.items()):
        if count < 0:
            continue  # not a page this user reads (a 302, a 404 of a walked link)
        _url, after, statements = _visit(client, counter, url)
        if after > count + SLACK or after > (dashboard_max if endpoint == "dashboard.index" else MAX_STATEMENTS):
            failures.append(f"{endpoint} {url}: {count} statements, {after} with four times the records\n    "
                            + "\n    ".join(_repeated(statements)))
    assert not failures, f"{len(failures)} pages send a statement per row:\n" + "\n".join(failures)


def _repeated(statements: list[str]) -> list[str]:
    """The statements sent more than twice (the N+1 culprits), most frequent first."""
    counts: dict[str, int] = {}
    for statement in statements:
        counts[statement] = counts.get(statement, 0) + 1
    return [f"{n} x {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n > 2][:5]


def test_grown_copies_move_back_in_time_by_their_share_of_the_spread(app, new_complaint, people):
    """bench/grow.py spreads its copies over the years: times (the portal's UTC columns) and days alike, the second of
    two copies over 730 days a full 730 days back, the first 365."""
    from datetime import date, timedelta

    from portal.blueprints.complaints import services
    from portal.blueprints.complaints.models import CapaAction, Complaint

    complaint = new_complaint()
    services.add_action(complaint, people["csr"], kind="corrective", description="Recalibrate the meter",
                        due_date=date(2025, 7, 1))
    db.session.commit()
    received, ack_due = complaint.received_at, complaint.ack_due_at
    grow = _grow_module()
    with db.engine.begin() as conn:
        grow.grow(conn, db.metadata, 2, spread_days=730)
    db.session.expire_all()
    for k, days in ((1, 365), (2, 730)):
        copy = db.session.get(Complaint, complaint.id + k * grow.OFFSET)
        assert copy.received_at == received - timedelta(days=days)
        assert copy.ack_due_at == ack_due - timedelta(days=days)
        action = db.session.scalars(db.select(CapaAction).where(CapaAction.complaint_id == copy.id)).one()
        assert action.due_date == date(2025, 7, 1) - timedelta(days=days)


def test_the_records_shape_grows_the_records_over_the_same_master_data(demo_app):
    """bench/grow.py --shape records: five years of one terminal. Complaints, orders and archived files are
    copied and still point at the same customers, tanks and staff, which are not copied; a day's stock check
    (unique by day) is copied with its day moved back; a running balance per customer and tank (a unique key over
    master data and a state) is left alone and named."""
    from portal.blueprints.complaints.models import Complaint
    from portal.blueprints.operations.models import Order, Tank
    from portal.blueprints.operations.stock.models import StockBalance, StockCheck
    from portal.blueprints.customers.models import Customer

    grow = _grow_module()

    def count(model):
        return db.session.scalar(db.select(db.func.count()).select_from(model))

    before = {m: count(m) for m in (Complaint, Order, Customer, User, Tank, StockBalance, StockCheck)}
    checks = {c.id: c.day for c in db.session.scalars(db.select(StockCheck))}
    with db.engine.begin() as conn:
        rows = grow.grow(conn, db.metadata, 3, spread_days=3 * 365, shape="records")
    db.session.expire_all()
    after = {m: count(m) for m in before}
    for model in (Complaint, Order, StockCheck):
        assert after[model] == 4 * before[model], model
    for model in (Customer, User, Tank, StockBalance):
        assert after[model] == before[model], model
    assert "ops_stock_balance" in rows["left_alone"]
    copy = db.session.scalars(db.select(Complaint).where(Complaint.id > grow.OFFSET)).first()
    original = db.session.get(Complaint, copy.id % grow.OFFSET)
    assert copy.customer_id == original.customer_id and copy.created_by_id == original.created_by_id
    for check_id, day in checks.items():
        copies = [db.session.get(StockCheck, check_id + k * grow.OFFSET).day for k in (1, 2, 3)]
        assert copies == [day - timedelta(days=365 * k) for k in (1, 2, 3)]


def test_every_master_table_the_growth_script_names_exists(app):
    """The records shape keeps the tables it names as master data: a renamed table would be copied unseen."""
    grow = _grow_module()
    assert grow.MASTER <= set(db.metadata.tables), sorted(grow.MASTER - set(db.metadata.tables))
