"""The schedule reads only the records that are due, in SQL: exactly the records whose due date (the record page's)
is on or before the day asked, for every kind of trigger, period and review extension."""
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.blueprints.archive import services
from portal.blueprints.archive.models import ArchiveRecord, Series
from portal.extensions import db

RULES = [  # (retention kind, amount, unit, trigger)
    ("period", 3, "years", "filed"), ("period", 6, "months", "filed"), ("period", 30, "days", "filed"),
    ("period", 1, "years", "calendar_year_end"), ("period", 13, "months", "fiscal_year_end"),
    ("period", 2, "years", "event"), ("until_event", None, "years", "event"), ("period", 0, "years", "filed"),
]
DAYS = [date(2020, 2, 29), date(2020, 12, 31), date(2021, 1, 1), date(2021, 6, 30), date(2021, 7, 1),
        date(2022, 8, 31), date(2023, 2, 28), date(2023, 3, 31)]


@pytest.fixture(params=["12-31", "06-30"])
def app_config(request):
    return {"FISCAL_YEAR_END": request.param}


def test_the_schedule_lists_exactly_the_records_whose_due_date_has_passed(app):
    n = 0
    for i, (kind, amount, unit, trigger) in enumerate(RULES):
        series = Series(code=f"R{i}", title_en=f"rule {i}", retention_kind=kind, retention_amount=amount,
                        retention_unit=unit, trigger=trigger, disposition="destroy")
        db.session.add(series)
        for day in DAYS:
            # filed late in the evening in Shanghai (the local day is the next one in UTC terms minus 8 h)
            for filed in (datetime(day.year, day.month, day.day, 15, 59, tzinfo=UTC),
                          datetime(day.year, day.month, day.day, 16, 1, tzinfo=UTC)):
                for extend in (None, day + timedelta(days=900)):
                    n += 1
                    db.session.add(ArchiveRecord(
                        reference=f"S-{n}", series=series, title="t", record_date=day, filed_at=filed,
                        event_date=day + timedelta(days=40) if n % 3 else None, extend_until=extend))
    db.session.add(Series(code="P", title_en="permanent", retention_kind="permanent", disposition="permanent"))
    db.session.commit()
    records = db.session.scalars(db.select(ArchiveRecord)).all()
    checked = 0
    for as_of in [date(2020, 3, 1) + timedelta(days=37 * k) for k in range(40)] + [date(2023, 2, 28), date(2024, 2, 29)]:
        listed = {item.record.id: item.due for item in services.schedule(as_of)}
        expected = {r.id: due for r in records if (due := services.due_date(r)) is not None and due <= as_of}
        assert listed == expected, as_of
        checked += len(listed)
    assert checked > 1000  # most rules come due within the range
