"""A customer's page lists its complaints, inquiries, review meetings, MOCs and archived records as
tabs, with counts, newest first, restricted ones only for who may see them (issue 12, item 17)."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.blueprints.complaints.models import Complaint, Inquiry
from portal.blueprints.customers.models import Customer
from portal.blueprints.meetings.models import ReviewMeeting
from portal.blueprints.moc.models import MocRequest
from portal.extensions import db

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _complaint(customer, title, days=0, **kw):
    c = Complaint(customer_id=customer.id, title=title, category="quantity", received_at=T0 + timedelta(days=days),
                  ack_due_at=T0 + timedelta(days=days + 1), **kw)
    db.session.add(c)
    return c


@pytest.fixture
def acme(app):
    customer = Customer(code="ACME", name_en="Acme Trading", name_zh="艾克美贸易")
    other = Customer(code="ZETA", name_en="Zeta Oil")
    db.session.add_all([customer, other])
    db.session.commit()
    return customer


@pytest.fixture
def records(acme, make_user):
    """Two complaints (one restricted, owned by "owner"), an inquiry, a meeting, two MOCs (one raised from
    the restricted complaint), an archived record, and one complaint of another customer."""
    from portal.audit import acting_as
    from portal.blueprints.archive import services as archive

    owner = make_user("owner", "csr")
    older = _complaint(acme, "Short delivery on truck loading", days=0)
    secret = _complaint(acme, "Driver misconduct at gate 3", days=5, restricted=True, owner_id=owner.id)
    zeta = db.session.scalar(db.select(Customer).filter_by(code="ZETA"))
    _complaint(zeta, "Someone else's complaint", days=9)
    db.session.flush()
    db.session.add(Inquiry(customer_id=acme.id, subject="Tank 12 stock figure", received_at=T0, due_at=T0 + timedelta(hours=8)))
    db.session.add(ReviewMeeting(customer_id=acme.id, meeting_date=date(2026, 3, 10), period_start=date(2025, 12, 1),
                                 period_end=date(2026, 2, 28), location="Meeting room 2"))
    db.session.add(MocRequest(title="New sampling point on line 4", customer_id=acme.id))
    db.session.add(MocRequest(title="Gate procedure after the incident", complaint_id=secret.id))
    with acting_as(owner):
        archive.file_document(kind="daily_report", title="Daily stock report 2026-03-01",
                              files=[("report.txt", b"opening closing")], user=owner, customer_id=acme.id)
    db.session.commit()
    return {"owner": owner, "older": older, "secret": secret}


def _tab_counts(page: str) -> dict[str, int]:
    return {label: int(n) for label, n in re.findall(r'>([A-Za-z ]+) <span class="count">(\d+)</span>', page)}


def test_the_tabs_count_what_a_manager_may_see(client, login, acme, records):
    login("cs_manager")
    page = client.get(f"/customers/{acme.id}").get_data(as_text=True)
    assert _tab_counts(page) == {"Complaints": 2, "Inquiries": 1, "Review meetings": 1, "MOCs": 2,
                                 "Surveys": 0, "Archived records": 1}
    # the first tab is open: newest first, the restricted one marked
    assert page.index("Driver misconduct at gate 3") < page.index("Short delivery on truck loading")
    assert "Someone else&#39;s complaint" not in page and "Someone else's complaint" not in page


def test_restricted_records_are_neither_shown_nor_counted_for_others(client, login, acme, records):
    login("staff")
    page = client.get(f"/customers/{acme.id}").get_data(as_text=True)
    assert _tab_counts(page)["Complaints"] == 1
    assert _tab_counts(page)["MOCs"] == 1, "an MOC raised from a restricted complaint is restricted too"
    assert "Driver misconduct" not in page
    mocs = client.get(f"/customers/{acme.id}", query_string={"tab": "mocs"}).get_data(as_text=True)
    assert "New sampling point on line 4" in mocs and "Gate procedure after the incident" not in mocs
    assert 'href="/complaints/moc/' in mocs, "each MOC links to its page"


def test_the_people_named_on_a_restricted_record_see_it(client, login, acme, records):
    login(records["owner"])
    page = client.get(f"/customers/{acme.id}").get_data(as_text=True)
    assert _tab_counts(page)["Complaints"] == 2 and "Driver misconduct at gate 3" in page


@pytest.mark.parametrize("tab, shown", [
    ("inquiries", "Tank 12 stock figure"),
    ("meetings", "Meeting room 2"),
    ("mocs", "New sampling point on line 4"),
    ("records", "Daily stock report 2026-03-01"),
])
def test_each_tab_works_as_a_plain_link(client, login, acme, records, tab, shown):
    login("cs_manager")
    page = client.get(f"/customers/{acme.id}", query_string={"tab": tab}).get_data(as_text=True)
    assert shown in page
    assert f'href="/customers/{acme.id}?tab={tab}"' in page
    assert re.search(rf'href="/customers/{acme.id}\?tab={tab}"[^>]*\s+aria-current="page"', page)


def test_a_tab_asked_for_by_htmx_is_the_fragment_only(client, login, acme, records):
    login("cs_manager")
    response = client.get(f"/customers/{acme.id}", query_string={"tab": "records"}, headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert "Daily stock report 2026-03-01" in text
    assert "<html" not in text and 'id="customer-records"' in text


def test_an_unknown_tab_shows_the_first(client, login, acme, records):
    login("cs_manager")
    page = client.get(f"/customers/{acme.id}", query_string={"tab": "<script>"}).get_data(as_text=True)
    assert "Short delivery on truck loading" in page and "<script>" not in page


def test_a_customer_without_records(client, login, acme):
    login("staff")
    page = client.get(f"/customers/{acme.id}").get_data(as_text=True)
    assert "Nothing recorded for this customer." in page
    assert set(_tab_counts(page).values()) == {0}


# --- customer drop-downs everywhere show both names, by code (issue 12, item 15) --------------------

def test_customer_choices_show_both_names_by_code(app, acme):
    from portal.blueprints.customers.services import customer_choices

    db.session.add(Customer(code="BETA", name_en="Beta Chemicals", name_zh="贝塔化工", active=False))
    db.session.commit()
    labels = [label for _id, label in customer_choices()]
    assert labels == ["ACME 艾克美贸易 / Acme Trading", "ZETA Zeta Oil"]
    assert [label for _id, label in customer_choices(active_only=False, blank=True)][:2] == ["—", "ACME 艾克美贸易 / Acme Trading"]


@pytest.mark.parametrize("url", ["/complaints/new", "/complaints/inquiries/new", "/meetings/new"])
def test_the_customer_drop_downs_of_other_modules_show_both_names(client, login, acme, url):
    login("csr")
    response = client.get(url)
    assert response.status_code == 200
    assert "ACME 艾克美贸易 / Acme Trading" in response.get_data(as_text=True)


def test_a_tab_of_many_records_is_shown_a_page_at_a_time_with_the_full_count(client, login, acme, records):
    """Five years of a customer's records: the tab counts them all and shows the newest page, the next pages
    a link away (the tab kept), rather than every row at once."""
    for n in range(30):
        _complaint(acme, f"Hose leak number {n:02d}", days=10 + n)
    db.session.commit()
    login("cs_manager")
    page = client.get(f"/customers/{acme.id}").get_data(as_text=True)
    assert _tab_counts(page)["Complaints"] == 32
    assert "Hose leak number 05" in page and "Hose leak number 04" not in page, "the newest 25 on the first page"
    assert page.count('href="/complaints/') - page.count('href="/complaints/new') >= 25
    assert "32 in all" in page
    second = client.get(f"/customers/{acme.id}", query_string={"page": 2}).get_data(as_text=True)
    assert "Hose leak number 04" in second and "Short delivery on truck loading" in second
    assert "Hose leak number 29" not in second
    records_page = client.get(f"/customers/{acme.id}", query_string={"tab": "records", "page": 2}).get_data(as_text=True)
    assert "Nothing recorded for this customer." in records_page, "past the last page of a tab: nothing, not an error"


def test_a_restricted_archived_record_is_neither_shown_nor_counted_for_others(client, login, acme, records):
    from portal.blueprints.archive.models import ArchiveRecord

    record = db.session.scalar(db.select(ArchiveRecord).filter_by(customer_id=acme.id))
    record.restricted = True
    db.session.commit()
    login("staff")
    page = client.get(f"/customers/{acme.id}", query_string={"tab": "records"}).get_data(as_text=True)
    assert _tab_counts(page)["Archived records"] == 0 and "Daily stock report 2026-03-01" not in page
    client.post("/auth/logout")
    login(records["owner"])  # who filed it
    page = client.get(f"/customers/{acme.id}", query_string={"tab": "records"}).get_data(as_text=True)
    assert _tab_counts(page)["Archived records"] == 1 and "Daily stock report 2026-03-01" in page


def test_the_moc_rule_in_sql_selects_exactly_what_can_view_allows(app, acme, records, make_user):
    """``MocRequest.visible_to`` (the customer's MOC tab, the MOC list) against ``can_view``, MOC by MOC, for a
    manager, a colleague and the person named on the restricted complaint one MOC was raised from."""
    users = [make_user("boss", "cs_manager"), make_user("colleague", "csr"), records["owner"]]
    every = db.session.scalars(db.select(MocRequest)).all()
    for user in users:
        visible = set(db.session.scalars(db.select(MocRequest.id).filter(MocRequest.visible_to(user))))
        assert visible == {m.id for m in every if m.can_view(user)}, user.username
    assert len({m.id for m in every if m.can_view(users[1])}) == 1, "the restricted complaint's MOC is hidden"
