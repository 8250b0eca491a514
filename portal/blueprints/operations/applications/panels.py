"""The dashboard's due list of government applications: still to file and due within 24 hours or overdue."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from ....panels import DueRow, DueSummary, register_due
from ....timeutil import utcnow
from . import services

MAX_LISTED = 200  # the linked list is opened with this page size, so every counted row is on one page


def applications_due_summary(user):
    """The count and soonest due time of the rows below, reckoned in SQL."""
    if not user.has_role("csr", "cs_manager"):
        return None
    return DueSummary(*services.due_now_summary(utcnow()))


@register_due("applications-due", 30, _l("Government applications due"),
              url=lambda user: url_for("operations.applications.due", window="due", state="to_file",
                                       per_page=MAX_LISTED), summary=applications_due_summary)
def applications_due(user):
    """CSRs and managers: the applications in draft or returned, overdue or due within 24 hours."""
    if not user.has_role("csr", "cs_manager"):
        return None
    now = utcnow()
    return [DueRow(f"{a.call.number} {a.call.vessel.name} · {a.type.name}",
                   url_for("operations.applications.detail", application_id=a.id), a.due_at,
                   str(_l("overdue")) if a.is_overdue(now) else a.state_label)
            for a in services.due_now(now)]
