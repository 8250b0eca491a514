"""The dashboard panel registry: each domain registers (in its panels.py) what its users see first thing.

Two kinds: ``register_panel`` (a template of the domain's own) and ``register_due`` (a count of due work with its
list: the dashboard shows the count and links to the list, so the two always agree).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Callable[[object], dict | None]  # (user) -> template context, or None to hide the panel


_PANELS: list[Panel] = []


def register_panel(order: int, template: str):
    """Register a panel: the decorated function returns its context for a user, or None to hide it."""

    def decorator(func):
        _PANELS.append(Panel(order, template, func))
        return func

    return decorator


PANEL_ROWS = 8  # the first rows a panel lists; its count and a link lead to the whole list


def first_and_count(stmt, rows: int | None = None) -> tuple[list, int]:
    """The first rows of a select and how many it has in all (a count query only when there may be more)."""
    from .extensions import db

    rows = PANEL_ROWS if rows is None else rows
    first = list(db.session.scalars(stmt.limit(rows)))
    if len(first) < rows:
        return first, len(first)
    return first, db.session.scalar(db.select(db.func.count()).select_from(stmt.order_by(None).subquery()))


def first_of(items: list, rows: int | None = None) -> tuple[list, int]:
    """The first rows of a list that is filtered in Python (a status reckoned per row) and how many it has."""
    return items[:PANEL_ROWS if rows is None else rows], len(items)


def panels_for(user) -> list[tuple[str, dict]]:
    out = []
    for panel in sorted(_PANELS, key=lambda p: (p.order, p.template)):
        ctx = panel.context(user)
        if ctx is not None:
            out.append((panel.template, ctx))
    return out


@dataclass(frozen=True)
class DueRow:
    """One line of a due list: what, where to open it, when it is due, a short note."""

    title: str
    url: str | None = None
    due: object = None  # a date or an aware datetime
    note: str = ""


@dataclass(frozen=True)
class DueSummary:
    """What the dashboard shows of a due list: how many rows, and the earliest due date among them."""

    count: int
    first_due: object = None  # a date or an aware datetime, None when no row has one


def _when(value) -> datetime:
    """A due date or time as a moment to compare (a date: the start of that day in the portal's time zone)."""
    from .timeutil import tz

    return value if isinstance(value, datetime) else datetime.combine(value, time.min, tzinfo=tz())


def first_due(values) -> object:
    """The earliest of due dates and times (a list may hold both: an acknowledgement due at a time, an action
    due on a day), or None."""
    return min((v for v in values if v is not None), key=_when, default=None)


@dataclass(frozen=True)
class DueList:
    key: str
    order: int
    label: object  # a lazy translated string
    rows: Callable[[object], list[DueRow] | None]  # (user) -> rows, or None when the list is not for this user
    url: Callable[[object], str] | None = None  # the domain's own filtered list, when it has one
    summary: Callable[[object], DueSummary | None] | None = None  # (user) -> the count without building the rows

    def summarise(self, user) -> DueSummary | None:
        """The count and first due date of the user's rows (from ``summary`` when the list has one)."""
        if self.summary is not None:
            return self.summary(user)
        rows = self.rows(user)
        if rows is None:
            return None
        return DueSummary(len(rows), first_due(row.due for row in rows))


_DUE: dict[str, DueList] = {}


def register_due(key: str, order: int, label, *, url: Callable[[object], str] | None = None,
                 summary: Callable[[object], DueSummary | None] | None = None):
    """Register a due list: the decorated ``fn(user)`` returns its rows (the dashboard counts them), or None to
    leave it off the user's dashboard. ``url(user)``: the domain's own filtered list showing exactly those rows;
    without it the dashboard's page /due/<key> lists them. ``summary(user)``: the same count and first due date
    reckoned without building the rows (in SQL), for lists that can be long; it must agree with the rows
    (tests/blueprints/notifications/test_dashboard.py checks every registered list)."""

    def decorator(func):
        _DUE[key] = DueList(key, order, label, func, url, summary)
        return func

    return decorator


def due_list(key: str) -> DueList | None:
    return _DUE.get(key)


def due_summaries(user) -> list[tuple[DueList, DueSummary]]:
    """The dashboard's due work: each list for this user with its count and first due date."""
    return _each_due(lambda item: item.summarise(user))


def due_for(user) -> list[tuple[DueList, list[DueRow]]]:
    return _each_due(lambda item: item.rows(user))


def _each_due(value) -> list:
    """(list, value(list)) for every registered due list in the dashboard's order, leaving out those whose value is
    None (lists not for this user)."""
    out = []
    for item in sorted(_DUE.values(), key=lambda d: (d.order, d.key)):
        found = value(item)
        if found is not None:
            out.append((item, found))
    return out
