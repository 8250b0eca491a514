"""Dashboard panels: own open complaints, inquiries due, escalations, effectiveness checks waiting,
CAPA actions due within a week, lessons to acknowledge."""
from datetime import datetime, time, timedelta

from sqlalchemy.orm import selectinload

from ...extensions import db
from ...timeutil import local_today, to_local, tz, utcnow
from ...panels import first_and_count, first_of, register_panel
from . import services
from .models import Inquiry


@register_panel(29, "complaints/_panel_complaints.html")
def my_open_complaints(user):
    """A CSR's own open complaints with the acknowledgement due time (those to acknowledge first)."""
    if not user.has_role("csr", "cs_manager"):
        return None
    items, total = first_and_count(services.own_open_complaints(user))
    if not items:
        return None
    return {"items": items, "total": total, "now": utcnow()}


@register_panel(30, "complaints/_panel_inquiries.html")
def my_inquiries(user):
    if not user.has_role("csr", "cs_manager"):
        return None
    now = utcnow()
    # due today or overdue: due before the local midnight that ends today (the statuses are then checked as ever)
    tomorrow = datetime.combine(to_local(now).date() + timedelta(days=1), time(0), tzinfo=tz())
    rows = db.session.scalars(
        db.select(Inquiry).filter(Inquiry.assigned_to_id == user.id, Inquiry.answered_at.is_(None),
                                  Inquiry.due_at < tomorrow).order_by(Inquiry.due_at)
    )
    items = [(i, i.status(now)) for i in rows]
    items, total = first_of([(i, s) for i, s in items if s in ("due_today", "overdue")])
    if not items and not user.has_role("csr"):
        return None
    return {"items": items, "total": total}


@register_panel(31, "complaints/_panel_escalations.html")
def escalations(user):
    """Escalated inquiries not yet resolved, oldest escalation first (managers only)."""
    if not user.has_role("cs_manager", "admin"):
        return None
    rows, total = first_and_count(
        db.select(Inquiry).filter(Inquiry.escalated_at.is_not(None), Inquiry.escalation_resolved_at.is_(None))
        .order_by(Inquiry.escalated_at, Inquiry.id)
        .options(selectinload(Inquiry.customer)))  # the panel shows the customer's code, not the people
    return {"items": rows, "total": total, "now": utcnow()}


@register_panel(31, "complaints/_panel_effectiveness.html")
def effectiveness_checks(user):
    """Complaints waiting for a CS manager's effectiveness check, oldest request first (managers only)."""
    if not user.has_role("cs_manager", "admin"):
        return None
    items, total = first_and_count(services.awaiting_effectiveness(user))
    return {"items": items, "total": total} if items else None


@register_panel(32, "complaints/_panel_actions.html")
def my_due_actions(user):
    """The user's CAPA actions overdue or due in the next 7 days, and lessons to acknowledge."""
    today = local_today()
    items, total = first_and_count(services.due_actions_query(user, today, days=7))
    lessons = [s for s in services.lessons_for(user) if s.acknowledged_at is None]
    if not items and not lessons:
        return None
    return {"items": items, "total": total, "lessons": lessons, "today": today}
