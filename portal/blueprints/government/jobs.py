"""Scheduled job: certificates and approvals expiring, to the CS managers (at 90, 60, 30, 14, 7 and 1 days left,
and on the day they expire)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...jobs import register_job
from ...outbox import queue_message, users_with_role
from ...timeutil import local_today
from .services import expiring_permits

WARN_AT_DAYS = (90, 60, 30, 14, 7, 1, 0)


@register_job("government.certificate_expiry", "daily 08:00", label=_l("Certificates expiring"))
def certificate_expiry(now):
    today = local_today()
    items = [p for p in expiring_permits(today, within_days=max(WARN_AT_DAYS)) if p.days_left(today) in WARN_AT_DAYS]
    if not items:
        return "no certificate reaches a warning day today"
    queued = queue_message(users_with_role("cs_manager"), "certificate_expiry",
                           {"items": items, "days": max(p.days_left(today) for p in items)},
                           kind="certificate_expiry", dedupe_key=f"certificates:{today.isoformat()}")
    return f"{len(items)} certificate(s), {len(queued)} message(s) queued"
