"""Dashboard panels: covering for an absent colleague (with the handover note on the first day), notices,
and the acting manager's period."""
from sqlalchemy.orm import selectinload

from ...panels import register_panel
from ...timeutil import utcnow
from . import services
from .forms import ConfirmForm
from .models import ActingManager
from ...extensions import db


@register_panel(5, "department/_panel_covering.html")
def covering(user):
    """While a colleague is away: whom the user covers, their customers and open work."""
    if not user.has_role("csr", "cs_manager", "admin"):
        return None
    rows = services.covering_for(user)
    return {"rows": rows, "now": utcnow()} if rows else None


@register_panel(6, "department/_panel_notices.html")
def notices(user):
    rows = services.unread_notices(user)
    if not rows:
        return None
    return {"rows": [(n, services.notice_text(n)) for n in rows], "form": ConfirmForm()}


@register_panel(7, "department/_panel_acting.html")
def acting(user):
    """The acting manager sees that they hold the manager's approvals, and until when."""
    now = utcnow()
    rows = list(db.session.scalars(db.select(ActingManager).options(selectinload(ActingManager.manager)).filter(
        ActingManager.deputy_id == user.id, ActingManager.starts_at <= now, ActingManager.ends_at > now)))
    return {"rows": rows} if rows else None
