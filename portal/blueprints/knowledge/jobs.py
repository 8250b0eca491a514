"""Scheduled job: procedures overdue or due for review within 30 days, to the CS managers, once a week."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...jobs import register_job
from ...outbox import queue_message, users_with_role
from ...timeutil import local_today
from .services import due_for_review


@register_job("knowledge.review_dates", "workdays 08:30", label=_l("Procedures due for review"))
def review_dates(now):
    today = local_today()
    items = list(due_for_review(today))
    if not items:
        return "no procedure due for review"
    year, week, _day = today.isocalendar()
    queued = queue_message(users_with_role("cs_manager"), "review_due", {"items": items}, kind="review_due",
                           dedupe_key=f"review-due:{year}-W{week:02d}")
    return f"{len(items)} procedure(s) due, {len(queued)} message(s) queued"
