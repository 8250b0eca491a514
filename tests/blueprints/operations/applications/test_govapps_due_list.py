"""The "applications due" list (overdue in red, due in the next 24 h, filters), its dashboard count, the deadline
e-mails and search."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from portal.blueprints.operations.applications import jobs, services
from portal.extensions import db
from portal.outbox import OutboxMessage
from portal.search import search

DUE_ITEM = re.compile(r'<a href="([^"]+)" data-due="applications-due">.*?<span class="badge[^"]*due-count">(\d+)</span>',
                      re.S)


def _rows(html: str) -> list[str]:
    m = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return [] if m is None else re.findall(r"<tr[\s>][^>]*>?", m.group(1))


def _line_up(ga, now):
    """Three calls: the DG declaration of one overdue (ETA in 20 h), of one due in 6 h (ETA in 30 h), none due
    for the third (ETA in 10 days)."""
    late = ga.make_call(now + timedelta(hours=20))
    soon = ga.make_call(now + timedelta(hours=30))
    later = ga.make_call(now + timedelta(days=10))
    return late, soon, later


def test_overdue_rows_are_red_and_due_soon_rows_amber(ga, client, login):
    now = datetime.now(UTC)
    late, soon, later = _line_up(ga, now)
    login(ga.csr)
    html = client.get("/operations/applications/").get_data(as_text=True)
    rows = re.findall(r'<tr class="([^"]*)" data-application="(\d+)">\s*<td>.*?</td>\s*<td><a [^>]*>(VC-[0-9-]+)</a>',
                      html, re.S)
    by_call = {}
    for css, _app_id, number in rows:
        by_call.setdefault(number, set()).add(css)
    assert "app-overdue" in by_call[late.number]
    assert by_call[soon.number] >= {"app-due-soon"}
    assert later.number not in by_call
    assert 'href="/static/css/applications.css"' in html  # where app-overdue is red


def test_filters_of_the_list(ga, client, login):
    now = datetime.now(UTC)
    late, soon, later = _line_up(ga, now)
    login(ga.csr)

    def numbers(query):
        html = client.get("/operations/applications/?" + query).get_data(as_text=True)
        return re.findall(r'data-application="(\d+)"', html)

    assert len(numbers("window=all")) == 9
    assert len(numbers("window=7d&state=to_file")) == 6  # not the call arriving in 10 days
    ports = numbers("window=all&authority=port_authority")
    assert len(ports) == 3
    assert len(numbers(f"window=all&q={later.number}")) == 3
    assert len(numbers("window=all&q=Ocean+Pioneer")) == 9
    assert numbers("window=overdue") and all(n in numbers("window=due") for n in numbers("window=overdue"))
    assert numbers("window=all&state=approved") == []
    # Unknown filter values fall back to the defaults; numbers that are not numbers are a 404, never a 500.
    assert client.get("/operations/applications/?window=<script>&state=x&authority=y").status_code == 200
    assert client.get("/operations/applications/?type=abc").status_code == 404
    assert client.get("/operations/applications/99999999999").status_code == 404


def test_the_dashboard_count_is_the_rows_of_its_list(ga, client, login):
    now = datetime.now(UTC)
    _line_up(ga, now)
    login(ga.csr)
    page = client.get("/").get_data(as_text=True)
    href, count = DUE_ITEM.search(page).groups()
    listed = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
    assert int(count) == len(_rows(listed)) == len(services.due_now()) > 0


def test_the_dashboard_summary_is_the_count_and_first_due_time_of_the_rows(ga, app):
    """The summary (counted in SQL) agrees with the rows: filed, closed-call and later applications left out."""
    from portal.panels import DueSummary, due_list

    now = datetime.now(UTC)
    late, soon, later = _line_up(ga, now)
    filed = next(a for a in services.for_call(soon) if a.due_at is not None and a.due_at <= now + timedelta(hours=24))
    services.submit(filed, ga.csr, reference_no="MSA-NB-2026-00001", at=now)
    closed = ga.make_call(now + timedelta(hours=10))
    assert services.for_call(closed)
    closed.status = "cancelled"  # its declarations stay, the list leaves them out
    db.session.commit()
    item = due_list("applications-due")
    with app.test_request_context():
        rows = item.rows(ga.csr)
        assert rows and all(later.number not in r.title and closed.number not in r.title for r in rows)
        assert all(r.url != f"/operations/applications/{filed.id}" for r in rows)
        summary = item.summarise(ga.csr)
        assert summary == DueSummary(len(rows), min(r.due for r in rows))
        assert summary.count == len(services.due_now()) and summary.first_due.tzinfo is not None
        assert item.summarise(ga.people["staff"]) is None and item.rows(ga.people["staff"]) is None


def test_the_due_list_is_not_on_the_dashboard_of_a_records_officer(ga, app, login):
    _line_up(ga, datetime.now(UTC))
    client = app.test_client()
    login(ga.people["officer"], client=client)
    assert 'data-due="applications-due"' not in client.get("/").get_data(as_text=True)


def _mail():
    return list(db.session.scalars(db.select(OutboxMessage).filter_by(kind="application_deadline")
                                   .order_by(OutboxMessage.id)))


def test_deadline_notices_once_per_application_and_due_time(ga, make_user):
    ga.csr.email = "csr@terminal.example"
    db.session.commit()
    now = datetime.now(UTC)
    call = ga.make_call(now + timedelta(hours=30))  # DG declaration due in 6 h, port application overdue
    summary = jobs.application_deadlines(now)
    db.session.commit()
    sent = _mail()
    assert {m.to_address for m in sent} == {"csr@terminal.example"}
    dg = [m for m in sent if "Dangerous goods" in m.subject]
    assert len(dg) == 1 and call.number in dg[0].subject and "MT Ocean Pioneer" in dg[0].subject
    assert "Documents needed:" in dg[0].body_text and "Crew list" in dg[0].body_text
    assert summary.endswith(f"{len(sent)} notice(s) queued")
    # Run again: nothing new.
    jobs.application_deadlines(now + timedelta(minutes=15))
    db.session.commit()
    assert len(_mail()) == len(sent)
    # The ETA moves 2 hours earlier: the DG declaration has a new due time and is told again.
    ga.move(call, eta=call.eta - timedelta(hours=2))
    jobs.application_deadlines(now + timedelta(minutes=30))
    db.session.commit()
    again = [m for m in _mail()[len(sent):] if "Dangerous goods" in m.subject]
    assert len(again) == 1


def test_applications_are_found_by_call_vessel_and_approval_number(ga, people):
    call = ga.make_call(datetime.now(UTC) + timedelta(days=2))
    dg = next(a for a in services.for_call(call) if a.type.code == "MSA-DG-ARR")
    services.submit(dg, ga.csr, reference_no="MSA-NB-2026-00417", at=datetime.now(UTC) - timedelta(hours=2))
    services.approve(dg, ga.csr, approval_no="NBDG20261183", at=datetime.now(UTC) - timedelta(hours=1))
    db.session.commit()
    staff = people["staff"]

    def keys(q):
        return [h.key for h in search(q, user=staff, kinds=["application"]).hits]

    assert keys("NBDG20261183") == [f"application:{dg.id}"]
    assert f"application:{dg.id}" in keys(call.number)
    assert f"application:{dg.id}" in keys("危险货物")  # the Chinese name of the declaration
