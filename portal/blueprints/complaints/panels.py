"""Dashboard panels: inquiries due, escalations, overdue CAPA actions, lessons to acknowledge."""
from ...extensions import db
from ...timeutil import local_today, utcnow
from ...panels import register_panel
from . import services
from .models import Inquiry


@register_panel(30, "complaints/_panel_inquiries.html")
def my_inquiries(user):
    if not user.has_role("csr", "cs_manager"):
        return None
    now = utcnow()
    rows = db.session.scalars(
        db.select(Inquiry).filter(Inquiry.assigned_to_id == user.id, Inquiry.answered_at.is_(None)).order_by(Inquiry.due_at)
    )
    items = [(i, i.status(now)) for i in rows]
    items = [(i, s) for i, s in items if s in ("due_today", "overdue")]
    if not items and not user.has_role("csr"):
        return None
    return {"items": items}


@register_panel(31, "complaints/_panel_escalations.html")
def escalations(user):
    if not user.has_role("cs_manager", "admin"):
        return None
    rows = list(db.session.scalars(
        db.select(Inquiry).filter(Inquiry.escalated_at.is_not(None), Inquiry.escalation_resolved_at.is_(None))
        .order_by(Inquiry.escalated_at)
    ))
    return {"items": rows, "now": utcnow()}


@register_panel(32, "complaints/_panel_actions.html")
def my_overdue_actions(user):
    items = services.overdue_actions(user, local_today())
    lessons = [s for s in services.lessons_for(user) if s.acknowledged_at is None]
    if not items and not lessons:
        return None
    return {"items": items, "lessons": lessons}
