"""The records officer's due list on the dashboard: records due for disposal today and not skipped (restricted
ones the reader may not open are counted as lines without a name)."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from ...panels import DueRow, DueSummary, register_due
from . import services


def _for(user) -> bool:
    return user.has_role("records_officer", "admin", "cs_manager")


def records_due_summary(user):
    """The count of the rows (every record due and not skipped, restricted ones as lines) and the first due date
    among those the user may open (the restricted lines have none), reckoned in SQL without reading the records."""
    if not _for(user):
        return None
    return DueSummary(services.due_counts_today().ready, services.first_due_today(user))


@register_due("records-due", 30, _l("Records due for disposal"), summary=records_due_summary)
def records_due(user):
    if not _for(user):
        return None
    items = [item for item in services.schedule_today() if not item.skipped]
    shown, hidden = services.split_visible(items, user)
    rows = [DueRow(f"{i.record.reference} {i.record.title}", url_for("archive.record", record_id=i.record.id), i.due,
                   i.action) for i in shown]
    return rows + [DueRow(str(_l("(restricted record)"))) for _ in range(hidden.total)]
