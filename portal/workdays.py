"""Working-day arithmetic with the Chinese statutory calendar (holidays and make-up working days).

Dates the ``chinese_calendar`` package knows come from it; other years fall back to
Monday to Friday. ``EXTRA_HOLIDAYS`` and ``EXTRA_WORKDAYS`` (ISO dates in the app config)
override both; a date listed in both counts as a holiday. Working hours run from
``WORKDAY_START`` to ``WORKDAY_END`` local time in ``TIMEZONE``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from flask import current_app, has_app_context

_DEFAULTS: dict[str, object] = {
    "TIMEZONE": "Asia/Shanghai",
    "WORKDAY_START": "08:30",
    "WORKDAY_END": "17:30",
    "EXTRA_HOLIDAYS": (),
    "EXTRA_WORKDAYS": (),
}
_ONE_DAY = timedelta(days=1)
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
_CENT = Decimal("0.01")


def _setting(key: str) -> object:
    if has_app_context():
        return current_app.config.get(key, _DEFAULTS[key])
    return _DEFAULTS[key]


def _as_tuple(value: object) -> tuple[str | date, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, date):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    raise TypeError(f"expected a list of ISO dates, got {value!r}")


@lru_cache(maxsize=32)
def _parse_dates(values: tuple[str | date, ...]) -> frozenset[date]:
    return frozenset(
        v if isinstance(v, date) and not isinstance(v, datetime) else date.fromisoformat(str(v))
        for v in values
    )


@lru_cache(maxsize=32)
def _parse_time(value: str) -> time:
    return time.fromisoformat(value)


def _statutory_workday(d: date) -> bool:
    """The package's answer where it knows the year, else Monday to Friday."""
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return d.weekday() < 5


@dataclass(frozen=True)
class _Calendar:
    holidays: frozenset[date]
    workdays: frozenset[date]
    tz: ZoneInfo
    start: time
    end: time

    def is_workday(self, d: date) -> bool:
        if d in self.holidays:
            return False
        if d in self.workdays:
            return True
        return _statutory_workday(d)

    def next_workday(self, d: date) -> date:
        d += _ONE_DAY
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def local(self, value: datetime) -> datetime:
        """Aware values in local time; naive values are taken as local already."""
        return value.astimezone(self.tz) if value.tzinfo is not None else value


def _calendar() -> _Calendar:
    start = _parse_time(str(_setting("WORKDAY_START")))
    end = _parse_time(str(_setting("WORKDAY_END")))
    if not start < end:
        raise ValueError("WORKDAY_START must be before WORKDAY_END")
    return _Calendar(
        holidays=_parse_dates(_as_tuple(_setting("EXTRA_HOLIDAYS"))),
        workdays=_parse_dates(_as_tuple(_setting("EXTRA_WORKDAYS"))),
        tz=ZoneInfo(str(_setting("TIMEZONE"))),
        start=start,
        end=end,
    )


def _as_date(cal: _Calendar, d: date) -> date:
    return cal.local(d).date() if isinstance(d, datetime) else d


def is_workday(d: date) -> bool:
    """Whether ``d`` is a working day (statutory calendar, make-up days, config extras)."""
    cal = _calendar()
    return cal.is_workday(_as_date(cal, d))


def next_workday(d: date) -> date:
    """The first working day after ``d``."""
    cal = _calendar()
    return cal.next_workday(_as_date(cal, d))


def workdays_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``."""
    cal = _calendar()
    a, b = _as_date(cal, a), _as_date(cal, b)
    sign = 1
    if b < a:
        a, b, sign = b, a, -1
    count = 0
    d = a + _ONE_DAY
    while d <= b:
        count += cal.is_workday(d)
        d += _ONE_DAY
    return sign * count


def add_workdays(start: datetime, n: int) -> datetime:
    """The same local wall-clock time ``n`` working days after ``start``.

    A start on a non-working day or after working hours counts from the next working
    day's WORKDAY_START; a start before working hours counts from that day's
    WORKDAY_START. Aware inputs give an aware UTC result; naive inputs are local
    wall-clock times and give a naive local result.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    cal = _calendar()
    local = cal.local(start)
    day, clock = local.date(), local.time()
    if not cal.is_workday(day) or clock >= cal.end:
        day, clock = cal.next_workday(day), cal.start
    elif clock < cal.start:
        clock = cal.start
    for _ in range(n):
        day = cal.next_workday(day)
    result = datetime.combine(day, clock)
    if start.tzinfo is None:
        return result
    return result.replace(tzinfo=cal.tz).astimezone(UTC)


def working_hours_between(a: datetime, b: datetime) -> Decimal:
    """Hours between ``a`` and ``b`` inside working hours on working days, to 2 places.

    Negative when ``b`` is before ``a``. Both must be aware, or both naive local times.
    """
    if b < a:
        return -working_hours_between(b, a)
    cal = _calendar()
    aware = a.tzinfo is not None

    def absolute(day: date, clock: time) -> datetime:
        moment = datetime.combine(day, clock)
        return moment.replace(tzinfo=cal.tz).astimezone(UTC) if aware else moment

    lo = a.astimezone(UTC) if aware else a
    hi = b.astimezone(UTC) if aware else b
    total = timedelta(0)
    day, last = cal.local(a).date(), cal.local(b).date()
    while day <= last:
        if cal.is_workday(day):
            begin = max(lo, absolute(day, cal.start))
            end = min(hi, absolute(day, cal.end))
            if end > begin:
                total += end - begin
        day += _ONE_DAY
    hours = Decimal(total // timedelta(microseconds=1)) / _MICROSECONDS_PER_HOUR
    return hours.quantize(_CENT, rounding=ROUND_HALF_UP)
