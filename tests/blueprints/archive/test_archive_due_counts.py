"""The dashboard's figures of the disposal schedule (the archive's panel and the "Records due for disposal" count)
are reckoned in SQL without reading the due records: they must be what the schedule lists, day after day, with
legal holds (record, parent series, customer), a pending batch, an open complaint, review extensions and
restricted records."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

import portal.blueprints.archive.services as services
from portal.blueprints.archive.models import ArchiveRecord, Series
from portal.blueprints.archive.plan import ensure_starter_plan
from portal.blueprints.customers.models import Customer
from portal.extensions import db

KINDS = ["order", "daily_report", "monthly_report", "inquiry", "complaint_report", "meeting_minutes", "survey",
         "certificate", "contract", "billing", "statement", "correspondence", "training_certificate"]
DAYS = [date(2026, 6, 1), date(2027, 1, 1), date(2028, 3, 31), date(2030, 12, 31), date(2034, 1, 2)]


@pytest.fixture
def archive(app, people, customer, new_complaint):
    ensure_starter_plan()
    others = [Customer(code=f"C{i}", name_en=f"Customer {i}") for i in range(2)]
    db.session.add_all(others)
    db.session.flush()
    customers = [None, customer.id, others[0].id, others[1].id]
    records = []
    for n in range(78):
        kind = KINDS[n % len(KINDS)]
        day = date(2012 + n % 14, 1 + n % 12, 1 + n % 28)
        user = people["csr2"] if n % 5 == 0 else people["csr"]
        records.append(services.file_document(
            kind=kind, title=f"Record {n}", files=[(f"{n}.txt", f"content {n}".encode())], user=user,
            record_date=day, event_date=day + timedelta(days=400) if n % 4 else None,
            customer_id=customers[n % len(customers)], restricted=n % 5 == 0))
    records[3].extend_until = date(2029, 5, 5)
    records[7].extend_until = date(2020, 1, 1)
    new_complaint(title="Open complaint: its customer's records wait")
    services.place_hold(user=people["officer"], reason="Claim", record=records[10])
    services.place_hold(user=people["officer"], reason="Audit", series=db.session.scalar(
        db.select(Series).filter_by(code="CS-02")))  # the parent of the daily and monthly reports' series
    services.place_hold(user=people["officer"], reason="Dispute", customer_id=others[0].id)
    db.session.commit()
    due = [item for item in services.schedule(date(2026, 6, 1)) if not item.skipped]
    services.propose_batch(user=people["officer"], record_ids=[due[0].record.id], as_of=date(2026, 6, 1))
    db.session.commit()
    return records


def _check(people, day):
    items = services.schedule(day)
    ready = [item for item in items if not item.skipped]
    assert services.due_counts_today() == services.DueCounts(len(ready), len(items) - len(ready)), day
    for name in ("officer", "manager", "csr", "csr2"):
        may_open = services.opener(people[name])
        first = next((item.due for item in ready if may_open(item.record)), None)
        assert services.first_due_today(people[name]) == first, (day, name)
    return items


@pytest.mark.parametrize("bulk", [True, False], ids=["in SQL", "from the schedule"])
def test_the_counts_and_first_due_date_are_the_schedule_s(app, people, archive, monkeypatch, bulk):
    if not bulk:  # a blocker that cannot be asked in bulk: the figures come from the schedule itself
        blockers = services.disposal_blockers()
        monkeypatch.setattr(services, "disposal_blockers", lambda: blockers + (lambda record: None,))
    seen = []
    for day in DAYS:
        monkeypatch.setattr(services, "today", lambda day=day: day)
        seen.append(_check(people, day))
    reasons = " ".join(r for items in seen for item in items for r in item.reasons)
    for why in ("On legal hold: Claim", "On legal hold: Audit", "On legal hold: Dispute", "Already in disposal batch",
                "Open complaint of this customer"):
        assert why in reasons
    assert any(item.record.restricted and not item.skipped for items in seen for item in items)
    assert len(seen[-1]) > len(seen[0]) > 0
    assert db.session.scalar(db.select(db.func.count(ArchiveRecord.id))) == 78
