"""Scheduled jobs of customer service: each CSR's inquiries due today or overdue, and overdue inquiries to the
CS managers (both on working days, once a day)."""
from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...jobs import register_job
from ...outbox import queue_message, users_with_role
from ...timeutil import local_today, to_local
from .models import Inquiry


def _open_inquiries():
    return list(db.session.scalars(db.select(Inquiry).filter(Inquiry.answered_at.is_(None)).order_by(Inquiry.due_at)))


@register_job("complaints.inquiry_reminders", "workdays 08:45", label=_l("Inquiry reminders to CSRs"))
def inquiry_reminders(now):
    """One message per CSR listing their open inquiries due today or overdue (local date)."""
    today = local_today()
    mine = defaultdict(list)
    for i in _open_inquiries():
        if i.assigned_to is not None and to_local(i.due_at).date() <= today:
            mine[i.assigned_to].append(i)
    sent = 0
    for user, items in mine.items():
        sent += len(queue_message(user, "inquiry_reminder", {"items": items}, kind="reminder",
                                  dedupe_key=f"inquiry-reminder:{user.id}:{today.isoformat()}"))
    return f"{sent} reminder(s) queued"


@register_job("complaints.overdue_escalations", "workdays 10:00", label=_l("Overdue inquiries to the CS managers"))
def overdue_escalations(now):
    """The CS managers get the list of inquiries past their answer time, once a working day."""
    items = [i for i in _open_inquiries() if i.due_at < now]
    if not items:
        return "no overdue inquiries"
    queued = queue_message(users_with_role("cs_manager"), "overdue_escalation", {"items": items},
                           kind="escalation", dedupe_key=f"inquiries-overdue:{local_today().isoformat()}")
    return f"{len(items)} overdue inquiry(ies), {len(queued)} message(s) queued"
