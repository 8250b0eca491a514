"""Dashboard panel: certificates and approvals expiring within 90 days (editors)."""
from __future__ import annotations

from ...timeutil import local_today
from ...panels import register_panel
from . import services
from .models import is_editor


@register_panel(16, "government/_panel_certificates.html")
def certificates_panel(user):
    if not is_editor(user):
        return None
    today = local_today()
    permits = services.expiring_permits(today, 90, related=False)
    if not permits:
        return None
    return {"permits": permits, "today": today}
