"""The month lock of the operations register: the one check every posting, dip and import of a day calls.

A part of the register that closes months (the month-end sign-off) registers ``fn(day) -> message | None``
with ``register_month_lock``; ``check_open(day)`` raises ``PeriodLocked`` with that message when any says
the day's month is closed. The stock book's posting function and the recording of dips call it.
"""
from __future__ import annotations

from datetime import date
from typing import Callable

from ...services import ServiceError

MonthLock = Callable[[date], "str | None"]
_LOCKS: list[MonthLock] = []


class PeriodLocked(ServiceError):
    """The day lies in a month that has been signed off: nothing of it may change."""


def register_month_lock(fn: MonthLock) -> MonthLock:
    if fn not in _LOCKS:
        _LOCKS.append(fn)
    return fn


def check_open(day: date, field: str | None = None) -> None:
    for fn in _LOCKS:
        message = fn(day)
        if message:
            raise PeriodLocked(message, field=field)
