"""Whatever a user types or puts in a URL, the meeting pages answer with a page, an error on the form or a
404: never a server error, never markup of theirs, and downloads whatever the names hold."""
from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest

from portal.blueprints.customers.models import Customer
from portal.blueprints.meetings import services
from portal.blueprints.meetings.models import ReviewAction, ReviewCirculation
from portal.extensions import db

pytestmark = pytest.mark.usefixtures("request_ctx")  # services raise translated messages

MARKUP = '"><img src=x onerror=alert(1)>'
HUGE = "99999999999999999999"


@pytest.fixture
def no_propagation(app):
    """Server errors answer 500 as they would in production, instead of raising in the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False


def _meeting(customer, people, d: date = date(2025, 6, 19)):
    m = services.create_meeting(customer_id=customer.id, meeting_date=d, user=people["csr"])
    db.session.commit()
    return m


def test_markup_typed_into_every_meeting_form_comes_back_escaped(client, login, customer, people):
    m = _meeting(customer, people)
    services.save_minutes(m, minutes="Minutes", decisions="")
    services.circulate(m, people["csr"], recipients=["tan@vitolap.example"])
    db.session.commit()
    login(people["csr"])
    posts = {
        "/meetings/new": {"customer_id": customer.id, "meeting_date": MARKUP, "period_start": MARKUP,
                          "period_end": MARKUP, "location": MARKUP, "agenda": MARKUP},
        f"/meetings/{m.id}/attendees": {"att-name": MARKUP, "att-company": MARKUP, "att-position": MARKUP,
                                        "att-email": MARKUP},
        f"/meetings/{m.id}/actions": {"act-description": MARKUP, "act-owner_id": MARKUP, "act-owner_name": "",
                                      "act-due_date": MARKUP},
        f"/meetings/{m.id}/circulate": {"circ-recipients": MARKUP},
        f"/meetings/{m.id}/confirm": {"conf-confirmed_by": MARKUP, "conf-version": MARKUP},
        "/meetings/preview": {"minutes": MARKUP + "x" * 100001},
    }
    for url, data in posts.items():
        response = client.post(url, data=data, headers={"HX-Request": "true"} if url.endswith("preview") else {})
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "<img src=x" not in html, url
        assert 'class="errors"' in html, url  # the user is told what to correct
    response = client.post(f"/meetings/{m.id}/minutes", data={"minutes": MARKUP, "decisions": MARKUP, "agenda": MARKUP,
                                                              "location": MARKUP})
    assert response.status_code == 302
    client.post(f"/meetings/{m.id}/attendees", data={"att-name": MARKUP, "att-company": MARKUP, "att-position": MARKUP})
    client.post(f"/meetings/{m.id}/actions", data={"act-description": MARKUP, "act-owner_name": MARKUP})
    assert client.post(f"/meetings/{m.id}/confirm", data={"conf-confirmed_by": MARKUP, "conf-version": 1}).status_code == 302
    for url in (f"/meetings/{m.id}", f"/meetings/{m.id}/preread", "/meetings/"):
        html = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in html, url
    assert "&lt;img src=x" in client.get(f"/meetings/{m.id}").get_data(as_text=True)


def test_dates_outside_the_calendar_of_reviews_are_form_errors(client, login, customer, people, no_propagation):
    login(people["csr"])
    for value in ("0001-01-01", "9999-12-31"):
        response = client.post("/meetings/new", data={"customer_id": customer.id, "meeting_date": value})
        assert response.status_code == 200, value
        assert "Enter a date between 2000-01-01 and 2099-12-31." in response.get_data(as_text=True)
    m = _meeting(customer, people)
    response = client.post(f"/meetings/{m.id}/actions", data={"act-description": "Check the meters",
                                                              "act-owner_name": "Ms Tan", "act-due_date": "0001-01-01"})
    assert response.status_code == 200 and not m.actions


def test_numbers_in_urls_out_of_range_answer_404(client, login, customer, people, no_propagation):
    m = _meeting(customer, people)
    login(people["csr"])
    assert client.get(f"/meetings/?customer={HUGE}").status_code == 404
    assert client.get("/meetings/?customer=-1").status_code == 404
    assert client.get("/meetings/?customer=abc").status_code == 404
    assert client.get(f"/meetings/new?customer={HUGE}").status_code == 404
    assert client.get(f"/meetings/{HUGE}").status_code == 404
    assert client.post(f"/meetings/{m.id}/actions/{HUGE}/close").status_code == 404
    assert client.post(f"/meetings/{m.id}/attendees/{HUGE}/delete").status_code == 404
    assert client.get(f"/meetings/{m.id}/circulated/{HUGE}").status_code == 404
    # the customer filter still works
    assert client.get(f"/meetings/?customer={customer.id}").status_code == 200


def test_children_are_reached_only_through_their_own_meeting(client, login, customer, people):
    other = Customer(code="TRAFIG", name_en="Trafigura Pte Ltd")
    db.session.add(other)
    db.session.commit()
    q1 = _meeting(customer, people, date(2025, 3, 20))
    q2 = _meeting(customer, people, date(2025, 6, 19))
    theirs = _meeting(other, people, date(2025, 6, 19))
    carried = services.add_action(q1, description="Send variance analysis", owner_name="Ms Tan")
    later = services.add_action(q2, description="Review berth window", owner_name="Ms Tan")
    attendee = services.add_attendee(q2, name="Ms Tan", email="tan@vitolap.example")
    services.save_minutes(q2, minutes="Minutes", decisions="")
    (sent,) = services.circulate(q2, people["csr"], recipients=["tan@vitolap.example"])
    db.session.commit()
    login(people["csr"])

    # another customer's meeting does not reach them
    assert client.post(f"/meetings/{theirs.id}/actions/{carried.id}/close").status_code == 404
    assert client.post(f"/meetings/{theirs.id}/attendees/{attendee.id}/delete").status_code == 404
    assert client.get(f"/meetings/{theirs.id}/circulated/{sent.id}").status_code == 404
    # an earlier meeting cannot close an action raised later (it is not shown there)
    assert client.post(f"/meetings/{q1.id}/actions/{later.id}/close").status_code == 404
    assert db.session.get(ReviewAction, later.id).is_open
    # a later meeting closes an action carried over to it
    assert client.post(f"/meetings/{q2.id}/actions/{carried.id}/close").status_code == 302
    db.session.expire_all()
    assert not db.session.get(ReviewAction, carried.id).is_open


@pytest.mark.parametrize("code", ["维多石化", "OIL😀CO", 'A"B;C'])
def test_downloads_whatever_the_names_hold(client, login, people, code):
    customer = Customer(code=code, name_en="Name test", name_zh="名称测试", long_term=True)
    db.session.add(customer)
    db.session.commit()
    m = _meeting(customer, people)
    services.save_minutes(m, minutes="纪要", decisions="")
    services.circulate(m, people["csr"], recipients=["tan@vitolap.example"])
    db.session.commit()
    sent = db.session.scalar(db.select(ReviewCirculation))
    login(people["csr"])
    for url, disposition in ((f"/meetings/{m.id}/preread.pdf", "inline"), (f"/meetings/{m.id}/minutes.pdf", "inline"),
                             (f"/meetings/{m.id}/circulated/{sent.id}", "attachment")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.data.startswith(b"%PDF")
        header = response.headers["Content-Disposition"]
        header.encode("latin-1")  # a header value a server can send
        assert header.startswith(disposition) and "filename*=UTF-8''" in header
        assert "ORM-" + quote(code, safe="") in header  # the name as it was, in RFC 5987 form
        assert response.headers.get("X-Content-Type-Options") == "nosniff"


# customer_choices and staff_choices are the shared drop-down helpers beside their models (issue 13);
# staff_choices moves from complaints to admin services, complaints re-exporting it meanwhile.
ALLOWED = {("customers.services", "customer_choices"), ("admin.services", "staff_choices"),
           ("complaints.services", "staff_choices")}


def test_meetings_use_other_domains_through_their_models_only():
    """The meetings package imports the core and other domains' models, never their services or routes
    (but the shared drop-down helpers)."""
    package = Path(__file__).resolve().parents[3] / "portal" / "blueprints" / "meetings"
    bad = []
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                if node.module.partition(".")[2] == "models":
                    continue
                bad += [f"{path.name}: from ..{node.module} import {a.name}" for a in node.names
                        if (node.module, a.name) not in ALLOWED]
    assert bad == []
