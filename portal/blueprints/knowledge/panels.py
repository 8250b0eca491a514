"""Dashboard panels: "To read" (announcements, training, re-reads) and procedures overdue for review."""
from __future__ import annotations

from ...timeutil import local_today
from ...panels import first_and_count, first_of, register_panel
from . import services
from .models import is_editor


@register_panel(15, "knowledge/_panel_to_read.html")
def to_read_panel(user):
    announcements, unread = first_of(services.to_read(user, pages=True))
    mine = services.my_assignments(user)
    progress = {a.id: services.progress_summary(a) for a in mine}  # once per assignment
    assignments = [a for a in mine if a.completed_at is None]
    rereads = [(a, step) for a in mine for step in progress[a.id]["reread"]]
    if not (announcements or assignments or rereads):
        return None
    today = local_today()
    return {"announcements": announcements, "unread": unread, "assignments": assignments, "rereads": rereads, "today": today,
            "progress": {a.id: progress[a.id] for a in assignments}}


@register_panel(16, "knowledge/_panel_reviews.html")
def reviews_panel(user):
    if not is_editor(user):
        return None
    overdue_reviews, total = first_and_count(services.due_for_review_select(local_today(), 0))
    if not overdue_reviews:
        return None
    return {"overdue_reviews": overdue_reviews, "total": total}
