"""Records whose visibility derives from another follow it in the index: an MOC and the archive records
filed from a complaint are re-indexed when the complaint changes, so that totals, facets, suggestions
and similar records never count what a user may not open (issue 12, item 1)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal import search
from portal.extensions import db
from portal.search import registry

WHEN = datetime(2025, 6, 3, 2, 0, tzinfo=UTC)


def model(kind: str):
    return search.KINDS[kind].model


# `people` and `customer`: tests/conftest.py

@pytest.fixture
def filer(app):
    """The archive's filing service behind portal.services.file_record (registered by the archive at
    start; registered here while it is not yet)."""
    from portal import services

    if not services.has_filer():
        from portal.blueprints.archive.services import file_document

        services.register_filer(file_document)
    return services.file_record


@pytest.fixture
def complaint(customer, people):
    c = model("complaint")(customer_id=customer.id, title="Short delivery on truck loading", category="quantity",
                           description="Weighbridge lower than the meter ticket.", received_at=WHEN, ack_due_at=WHEN,
                           created_by_id=people["csr"].id, owner_id=people["csr"].id)
    db.session.add(c)
    db.session.commit()
    return c


@pytest.fixture
def moc(complaint, customer, people):
    m = model("moc")(title="Recalibrate the gantry flowmeter", complaint_id=complaint.id, customer_id=customer.id,
                     description="Replace the meter's temperature probe.", created_by_id=people["csr"].id)
    db.session.add(m)
    db.session.commit()
    return m


def _restrict(complaint, value=True):
    complaint.restricted = value
    db.session.commit()


def _counts(results) -> int:
    return sum(f.count for facet in results.facets.values() for f in facet)


def test_moc_of_a_complaint_made_restricted_is_counted_nowhere(moc, complaint, people):
    staff, manager = people["staff"], people["manager"]
    before = search.search("flowmeter", user=staff)
    assert before.total == 1 and [f.value for f in before.facets["customer"]] == ["SINOCHEM"]

    _restrict(complaint)
    assert search.check()["moc"]["acl"] == []  # re-indexed with the complaint, before anyone searched

    after = search.search("flowmeter", user=staff)
    assert after.total == 0 and after.hits == []
    assert _counts(after) == 0  # no customer, year or kind counts
    assert search.search("customer:SINOCHEM kind:moc", user=staff).total == 0
    assert search.suggest("Recalibrate", user=staff) == []
    assert search.similar_text("recalibrate gantry flowmeter temperature probe", user=staff, kinds=["moc"]) == []
    assert search.search("flowmeter", user=manager).total == 1  # who may open it still finds it
    assert search.search("flowmeter", user=people["csr"]).total == 1  # named on the complaint

    _restrict(complaint, False)
    assert search.search("flowmeter", user=staff).total == 1


def test_someone_named_on_the_complaint_later_finds_its_moc(moc, complaint, people):
    _restrict(complaint)
    assert search.search("flowmeter", user=people["csr2"]).total == 0
    from portal.blueprints.complaints.models import CapaAction

    db.session.add(CapaAction(complaint=complaint, kind="corrective", description="Probe replaced",
                              owner_id=people["csr2"].id, status="open", created_by_id=people["csr"].id))
    db.session.commit()
    assert moc.can_view(people["csr2"])
    assert search.search("flowmeter", user=people["csr2"]).total == 1


def test_archive_records_filed_from_a_complaint_follow_its_restriction(complaint, people, filer):
    filer("complaint_report", f"{complaint.ref} 8D report naphtha odour", user=people["csr"],
                files=[("8d.txt", b"8D report: naphtha odour at the jetty")], customer_id=complaint.customer_id,
                source_key=f"complaint:{complaint.id}:8d-report", event_date=date(2025, 7, 1))
    filer("complaint_report", f"{complaint.ref} evidence naphtha odour", user=people["csr"],
                files=[("photo.txt", b"evidence photos of the naphtha odour")], customer_id=complaint.customer_id,
                source_key=f"complaint:{complaint.id}:evidence", event_date=date(2025, 7, 1))
    db.session.commit()
    staff = people["staff"]
    assert search.search("naphtha odour", user=staff, kinds=["record"]).total == 2

    _restrict(complaint)
    assert search.check()["record"]["acl"] == []

    results = search.search("naphtha odour", user=staff, kinds=["record"])
    assert results.total == 0 and _counts(results) == 0
    assert search.search("naphtha odour", user=people["manager"], kinds=["record"]).total == 2


def test_a_restricted_record_filed_from_an_open_source_stays_restricted(complaint, people, filer):
    filer("complaint_report", "Settlement letter naphtha", user=people["csr"], restricted=True,
                files=[("letter.txt", b"settlement letter")], source_key=f"complaint:{complaint.id}:letter")
    db.session.commit()
    assert search.search("settlement letter", user=people["staff"]).total == 0
    assert search.search("settlement letter", user=people["csr"]).total == 1  # filed it, named on the complaint
    assert search.search("settlement letter", user=people["manager"]).total == 1


def test_review_meeting_actions_reach_their_meeting(customer, people):
    meetings = pytest.importorskip("portal.blueprints.meetings.services")
    meeting = meetings.create_meeting(customer_id=customer.id, meeting_date=date(2025, 3, 4), user=people["csr"])
    db.session.commit()
    meetings.add_action(meeting, description="Provide berth occupancy forecast", owner_name="Li Wei")
    db.session.commit()
    hits = search.search("occupancy forecast", user=people["staff"]).hits
    assert [h.key for h in hits] == [f"review_meeting:{meeting.id}"]


def test_combined_acl_keeps_only_who_may_open_both():
    assert registry.combine_acl(["all"], ["all"]) == ["all"]
    assert registry.combine_acl(["all"], ["role:admin", "user:3"]) == ["role:admin", "user:3"]
    assert registry.combine_acl(["role:admin", "user:3", "user:4"], ["role:admin", "user:4"]) == ["role:admin", "user:4"]
    assert registry.combine_acl(["role:admin"], None) == ["role:admin"]  # a source that is gone


@pytest.fixture
def unfollowed(app):
    """The index as it was before dependents: the MOC keeps the acl it was indexed with."""
    found = registry.DEPENDENTS.get("complaint", [])[:]
    registry.DEPENDENTS["complaint"] = []
    try:
        yield
    finally:
        registry.DEPENDENTS["complaint"] = found


def test_check_reports_acl_drift_and_fix_repairs_it(moc, complaint, people, unfollowed, runner):
    _restrict(complaint)
    report = search.check()
    assert report["moc"]["acl"] == [f"moc:{moc.id}"]
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and f"acl: moc:{moc.id}" in result.output
    result = runner.invoke(args=["search", "check", "--fix"])
    assert result.exit_code == 0, result.output
    assert search.check()["moc"]["acl"] == []


def test_counts_leave_out_a_record_that_refuses_even_when_the_index_is_behind(moc, complaint, people, unfollowed):
    search.get_store().index_keys([f"moc:{moc.id}"])
    _restrict(complaint)
    results = search.search("flowmeter", user=people["staff"])
    assert results.total == 0 and _counts(results) == 0
    assert search.check()["moc"]["acl"] == []  # and the index was repaired on the way


def test_similar_past_complaints_are_complaints(complaint, customer, people, client, login):
    """The complaint page's panel lists complaints, not the inquiries that share its words."""
    Complaint, Inquiry = model("complaint"), model("inquiry")
    for n in range(3):
        db.session.add(Inquiry(customer_id=customer.id, subject=f"Short delivery on truck loading? ({n})",
                               question="Weighbridge lower than the meter ticket on truck loading.",
                               received_at=WHEN, due_at=WHEN))
    earlier = Complaint(customer_id=customer.id, title="Diesel short at the gantry", category="quantity",
                        description="Truck weighbridge lower than the meter ticket.", received_at=WHEN,
                        ack_due_at=WHEN)
    db.session.add(earlier)
    db.session.commit()
    hits = search.similar(complaint, user=people["csr"])
    assert [h.key for h in hits] == [f"complaint:{earlier.id}"]
    assert {h.kind for h in search.similar(complaint, user=people["csr"], kinds=["inquiry"])} == {"inquiry"}
    login(people["csr"])
    html = client.get(f"/complaints/{complaint.id}/similar", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert earlier.ref in html and "INQ-" not in html
