"""Times are stored in UTC and shown in the configured TIMEZONE."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    return datetime.now(UTC)


def tz() -> ZoneInfo:
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz())


def local_now() -> datetime:
    return utcnow().astimezone(tz())


def local_today() -> date:
    return local_now().date()


def from_local(value: datetime) -> datetime:
    """A naive local wall-clock time (from a form) as an aware UTC datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz())
    return value.astimezone(UTC)
