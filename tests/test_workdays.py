"""portal.workdays: the Chinese statutory calendar, make-up days, config extras, deadlines."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import flask
import pytest

from portal.workdays import (
    add_workdays,
    is_workday,
    next_workday,
    workdays_between,
    working_hours_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    """An aware Shanghai wall-clock time."""
    return datetime(*args, tzinfo=SHANGHAI)


def make_app(**config: object) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(
        TIMEZONE="Asia/Shanghai",
        WORKDAY_START="08:30",
        WORKDAY_END="17:30",
        EXTRA_HOLIDAYS=(),
        EXTRA_WORKDAYS=(),
    )
    app.config.update(config)
    return app


# is_workday: the statutory calendar

@pytest.mark.parametrize("day", range(1, 9))
def test_national_day_2025_is_a_holiday(day):
    assert not is_workday(date(2025, 10, day))


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2025, 9, 27), False),  # Saturday
        (date(2025, 9, 28), True),  # Sunday, make-up working day
        (date(2025, 9, 30), True),
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, make-up working day
        (date(2025, 10, 12), False),
    ],
)
def test_national_day_2025_make_up_days(d, expected):
    assert is_workday(d) is expected


@pytest.mark.parametrize("d", [date(2025, 1, 28) + timedelta(days=i) for i in range(8)])
def test_spring_festival_2025_is_a_holiday(d):
    assert not is_workday(d)


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2025, 1, 25), False),  # Saturday
        (date(2025, 1, 26), True),  # Sunday, make-up working day
        (date(2025, 1, 27), True),
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # Saturday, make-up working day
        (date(2025, 2, 9), False),
    ],
)
def test_spring_festival_2025_make_up_days(d, expected):
    assert is_workday(d) is expected


def test_spring_festival_2026_follows_the_package():
    assert is_workday(date(2026, 2, 14))  # Saturday, make-up working day
    for offset in range(9):
        assert not is_workday(date(2026, 2, 15) + timedelta(days=offset))
    assert is_workday(date(2026, 2, 24))
    assert is_workday(date(2026, 2, 28))  # Saturday, make-up working day
    d = date(2026, 1, 1)
    while d <= date(2026, 10, 7):
        assert is_workday(d) is chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_is_workday_accepts_aware_datetime_in_local_time():
    # 2025-09-30 17:00 UTC is already 1 October in Shanghai.
    assert not is_workday(datetime(2025, 9, 30, 17, 0, tzinfo=UTC))
    assert is_workday(datetime(2025, 9, 30, 15, 0, tzinfo=UTC))


# Outside the package's range, and config extras

def test_2027_falls_back_to_monday_to_friday():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 1))
    assert is_workday(date(2027, 1, 1))  # Friday
    assert not is_workday(date(2027, 1, 2))  # Saturday
    assert not is_workday(date(2027, 1, 3))  # Sunday


def test_2027_with_extra_holidays_and_workdays():
    app = make_app(
        EXTRA_HOLIDAYS=["2027-01-01", "2027-02-05", "2027-02-08"],
        EXTRA_WORKDAYS=["2027-02-07"],
    )
    with app.app_context():
        assert not is_workday(date(2027, 1, 1))
        assert is_workday(date(2027, 2, 7))  # Sunday made a working day
        assert next_workday(date(2027, 2, 4)) == date(2027, 2, 7)
        assert next_workday(date(2027, 2, 7)) == date(2027, 2, 9)
        assert workdays_between(date(2026, 12, 31), date(2027, 1, 8)) == 5
        start = local(2027, 2, 4, 10, 0)
        assert add_workdays(start, 2) == local(2027, 2, 9, 10, 0).astimezone(UTC)


def test_extras_override_inside_the_package_range():
    app = make_app(EXTRA_HOLIDAYS=["2025-09-30"], EXTRA_WORKDAYS=["2025-10-08"])
    with app.app_context():
        assert not is_workday(date(2025, 9, 30))
        assert is_workday(date(2025, 10, 8))
    assert is_workday(date(2025, 9, 30))
    assert not is_workday(date(2025, 10, 8))


def test_extras_as_comma_separated_string():
    with make_app(EXTRA_HOLIDAYS="2027-01-04, 2027-01-05").app_context():
        assert not is_workday(date(2027, 1, 4))
        assert not is_workday(date(2027, 1, 5))


def test_bad_extra_date_is_an_error():
    with make_app(EXTRA_HOLIDAYS=["2027-13-01"]).app_context(), pytest.raises(ValueError):
        is_workday(date(2027, 1, 4))


# next_workday and workdays_between

def test_next_workday():
    assert next_workday(date(2025, 9, 30)) == date(2025, 10, 9)
    assert next_workday(date(2025, 10, 10)) == date(2025, 10, 11)
    assert next_workday(date(2025, 1, 24)) == date(2025, 1, 26)
    assert next_workday(date(2025, 1, 27)) == date(2025, 2, 5)


def test_workdays_between():
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    # 28, 29, 30 September and 9, 10, 11 October
    assert workdays_between(date(2025, 9, 26), date(2025, 10, 12)) == 6
    assert workdays_between(date(2025, 10, 12), date(2025, 9, 26)) == -6
    assert workdays_between(date(2025, 10, 1), date(2025, 10, 1)) == 0
    assert workdays_between(date(2025, 10, 1), date(2025, 10, 8)) == 0


# add_workdays

def test_friday_receipt_rolls_over_spring_festival():
    received = local(2025, 1, 24, 10, 0)  # Friday
    assert add_workdays(received, 1) == local(2025, 1, 26, 10, 0)  # make-up Sunday
    assert add_workdays(received, 2) == local(2025, 1, 27, 10, 0)
    assert add_workdays(received, 3) == local(2025, 2, 5, 10, 0)


def test_friday_receipt_rolls_over_spring_festival_2026():
    received = local(2026, 2, 13, 14, 15)  # Friday
    assert add_workdays(received, 1) == local(2026, 2, 14, 14, 15)  # make-up Saturday
    assert add_workdays(received, 2) == local(2026, 2, 24, 14, 15)


def test_receipt_before_national_day_rolls_over_the_holiday():
    assert add_workdays(local(2025, 9, 30, 16, 0), 1) == local(2025, 10, 9, 16, 0)
    assert add_workdays(local(2025, 9, 26, 9, 0), 5) == local(2025, 10, 10, 9, 0)


def test_receipt_on_make_up_saturday_counts_as_working_day():
    received = local(2025, 10, 11, 9, 15)
    assert add_workdays(received, 0) == received
    assert add_workdays(received, 1) == local(2025, 10, 13, 9, 15)


def test_receipt_on_non_working_day_starts_next_working_morning():
    assert add_workdays(local(2025, 9, 27, 10, 0), 0) == local(2025, 9, 28, 8, 30)
    assert add_workdays(local(2025, 9, 27, 10, 0), 1) == local(2025, 9, 29, 8, 30)
    assert add_workdays(local(2025, 10, 3, 11, 0), 1) == local(2025, 10, 10, 8, 30)


def test_receipt_outside_working_hours():
    assert add_workdays(local(2025, 9, 29, 18, 0), 1) == local(2025, 10, 9, 8, 30)
    assert add_workdays(local(2025, 9, 29, 17, 30), 1) == local(2025, 10, 9, 8, 30)
    assert add_workdays(local(2025, 9, 29, 7, 0), 1) == local(2025, 9, 30, 8, 30)
    assert add_workdays(local(2025, 9, 29, 8, 30), 1) == local(2025, 9, 30, 8, 30)


def test_add_workdays_returns_utc_for_aware_input():
    received = datetime(2025, 1, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    due = add_workdays(received, 3)
    assert due.tzinfo is UTC
    assert due == datetime(2025, 2, 5, 2, 0, tzinfo=UTC)


def test_add_workdays_converts_to_local_time_first():
    # 23:00 UTC on Monday 29 September is 07:00 on Tuesday in Shanghai: before hours.
    received = datetime(2025, 9, 29, 23, 0, tzinfo=UTC)
    assert add_workdays(received, 1) == local(2025, 10, 9, 8, 30)


def test_add_workdays_naive_is_local_wall_clock():
    assert add_workdays(datetime(2025, 9, 30, 16, 0), 1) == datetime(2025, 10, 9, 16, 0)


def test_add_workdays_uses_configured_hours_and_timezone():
    app = make_app(TIMEZONE="Europe/Berlin", WORKDAY_START="09:00", WORKDAY_END="17:00")
    berlin = ZoneInfo("Europe/Berlin")
    with app.app_context():
        received = datetime(2025, 9, 29, 17, 30, tzinfo=berlin)
        assert add_workdays(received, 1) == datetime(2025, 10, 9, 9, 0, tzinfo=berlin)


def test_add_workdays_refuses_negative():
    with pytest.raises(ValueError):
        add_workdays(local(2025, 9, 29, 10, 0), -1)


# working_hours_between

def test_working_hours_between_skips_nights_weekends_and_holidays():
    # Friday 16:00-17:30 and make-up Sunday 08:30-09:00
    hours = working_hours_between(local(2025, 1, 24, 16, 0), local(2025, 1, 26, 9, 0))
    assert hours == Decimal("2.00")
    assert isinstance(hours, Decimal)
    hours = working_hours_between(local(2025, 9, 30, 17, 0), local(2025, 10, 9, 9, 0))
    assert hours == Decimal("1.00")


def test_working_hours_between_full_days_and_rounding():
    assert working_hours_between(local(2025, 9, 29, 0, 0), local(2025, 9, 30, 23, 59)) == Decimal("18.00")
    assert working_hours_between(local(2025, 9, 29, 9, 0), local(2025, 9, 29, 9, 20)) == Decimal("0.33")
    assert working_hours_between(local(2025, 9, 29, 9, 0), local(2025, 9, 29, 9, 10)) == Decimal("0.17")
    assert working_hours_between(local(2025, 10, 2, 9, 0), local(2025, 10, 5, 17, 0)) == Decimal("0.00")


def test_working_hours_between_is_signed_and_timezone_aware():
    a = datetime(2025, 9, 29, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    b = local(2025, 9, 29, 11, 30)
    assert working_hours_between(a, b) == Decimal("2.50")
    assert working_hours_between(b, a) == Decimal("-2.50")


def test_working_hours_between_naive_local():
    assert working_hours_between(datetime(2025, 9, 29, 8, 0), datetime(2025, 9, 29, 12, 0)) == Decimal("3.50")
