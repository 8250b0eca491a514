"""Scheduled job: e-mail notices of government application deadlines (due within 24 hours or overdue)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ....jobs import register_job
from . import services


@register_job("operations.application_deadlines", "every 15m", label=_l("Government application deadlines"))
def application_deadlines(now):
    """Calls still to come get their declarations; each one due soon or overdue is told once per due time."""
    created = services.ensure_for_open_calls(now)
    apps, queued = services.send_deadline_notices(now)
    summary = f"{apps} application(s) due within 24 h or overdue, {queued} notice(s) queued"
    if created:
        summary += f"; {created} declaration(s) created for new calls"
    return summary
