"""Every dashboard panel lists its first rows only, with how many there are and where the rest are: a dashboard of
five years of a department's work stays one screen (86 certificates and 127 procedures were listed in full)."""
from __future__ import annotations

from datetime import timedelta

from portal import panels
from portal.blueprints.admin.demo import DEMO_USERS
from portal.extensions import db
from portal.timeutil import local_today, utcnow

PASSWORDS = {name: password for name, _full, _roles, password, _dept in DEMO_USERS}


def _row_lists(context: dict) -> dict[str, list]:
    """The lists of rows a panel hands its template (at the top level or one level down, as the orders panel's
    groups)."""
    out = {}
    for key, value in context.items():
        if isinstance(value, (list, tuple)) and not all(isinstance(v, (int, str)) for v in value):
            out[key] = value
        elif isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items() if isinstance(v, (list, tuple))})
    return out


def test_every_registered_panel_lists_at_most_its_first_rows_for_every_demo_user(demo_app, monkeypatch):
    """Walks the panel registry (a new panel is covered from its first line) with the limit lowered to two rows,
    so that the demonstration data is more than any panel may list."""
    from portal.models import User

    monkeypatch.setattr(panels, "PANEL_ROWS", 2)
    longest, over = {}, set()
    with demo_app.test_request_context():
        users = db.session.scalars(db.select(User).filter(User.username.in_(PASSWORDS))).all()
        for user in users:
            for panel in panels._PANELS:
                context = panel.context(user)
                for key, rows in _row_lists(context or {}).items():
                    where = (panel.template, key)
                    longest[where] = max(longest.get(where, 0), len(rows))
                    if len(rows) > 2:
                        over.add((panel.template, key))
    assert not over, sorted(over)
    assert longest and max(longest.values()) == 2, longest  # the data does reach the limit somewhere


def _expiring_certificates(count: int) -> None:
    from portal.blueprints.government.models import Permit

    today = local_today()
    for n in range(count):
        db.session.add(Permit(number=f"LIC-{n:03}", title=f"Licence {n:03}", expires_on=today + timedelta(days=n)))


def _overdue_procedures(count: int) -> None:
    from portal.blueprints.knowledge.models import Page

    for n in range(count):
        db.session.add(Page(slug=f"procedure-{n:03}", title=f"Procedure {n:03}", kind="procedure",
                            next_review_date=local_today() - timedelta(days=count - n)))


def test_certificates_and_reviews_panels_show_eight_and_link_to_all(client, login, people):
    _expiring_certificates(12)
    _overdue_procedures(11)
    db.session.commit()
    login(people["csr"])
    page = client.get("/").get_data(as_text=True)
    certificates = page.split('id="gov-expiring"', 1)[1].split("</section>", 1)[0]
    assert certificates.count("<li") == 8 and "Licence 007" in certificates and "Licence 008" not in certificates
    assert "All 12 expiring within 90 days" in certificates and "/knowledge/gov#certificates" in certificates
    reviews = page.split('id="kb-overdue-reviews"', 1)[1].split("</section>", 1)[0]
    assert reviews.count("<li") == 8 and "Procedure 007" in reviews and "Procedure 008" not in reviews
    assert "All 11 overdue for review" in reviews
    review_list = client.get("/knowledge/review").get_data(as_text=True)
    assert all(f"Procedure {n:03}" in review_list for n in range(11))
    assert 'id="certificates"' in client.get("/knowledge/gov").get_data(as_text=True)
    assert "11 procedures are overdue for review" in client.get("/knowledge/").get_data(as_text=True)


def test_a_short_list_has_no_link_to_more(client, login, people):
    _expiring_certificates(3)
    db.session.commit()
    login(people["csr"])
    certificates = client.get("/").get_data(as_text=True).split('id="gov-expiring"', 1)[1].split("</section>", 1)[0]
    assert certificates.count("<li") == 3 and "All 3" not in certificates


def test_inquiries_panel_shows_the_first_eight_of_those_due(client, login, customer, people):
    from portal.blueprints.complaints import services

    now = utcnow()
    for n in range(10):
        inquiry = services.create_inquiry(customer_id=customer.id, channel="email", subject=f"Question {n:02}",
                                          question="?", received_at=now - timedelta(days=3), language="en",
                                          user=people["csr"], assigned_to_id=people["csr"].id)
        inquiry.due_at = now - timedelta(hours=10 - n)
    db.session.commit()
    login(people["csr"])
    panel = client.get("/").get_data(as_text=True).split('class="card panel-inquiries"', 1)[1].split("</section>", 1)[0]
    assert panel.count("<li") == 8 and "Question 07" in panel and "Question 08" not in panel
    assert "8 of 10 due today or overdue." in panel


def test_first_of_keeps_the_count_of_the_whole_list():
    assert panels.first_of(["a", "b", "c"], 1) == (["a"], 3)
    assert panels.first_of([]) == ([], 0)
