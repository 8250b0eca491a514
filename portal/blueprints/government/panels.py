"""Dashboard panel: certificates and approvals expiring within 90 days (editors)."""
from __future__ import annotations

from ...timeutil import local_today
from ...panels import first_and_count, register_panel
from . import services
from .models import is_editor


@register_panel(16, "government/_panel_certificates.html")
def certificates_panel(user):
    if not is_editor(user):
        return None
    today = local_today()
    permits, total = first_and_count(services.expiring_permits_select(today, 90))
    if not permits:
        return None
    return {"permits": permits, "total": total, "today": today}
