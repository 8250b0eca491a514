"""Scheduled jobs of the department: due-time escalations, and each notice e-mailed to whom it reached
(the cover while the addressee is away: notices are addressed through the cover when they are made)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...jobs import register_job
from ...outbox import path_for, queue_message, register_notice_kind
from . import services
from .models import Notice

register_notice_kind("department", _l("Handovers, cover and due-time escalations"))


@register_job("department.escalate_due", "every 15m", label=_l("Due-time escalations to the owner or their cover"))
def escalate_due(now):
    return f"{len(services.escalate_due(now))} notice(s)"


@register_job("department.mail_notices", "every 5m", label=_l("Department notices by e-mail"))
def mail_notices(now):
    pending = list(db.session.scalars(db.select(Notice).filter(Notice.mailed_at.is_(None))
                                      .order_by(Notice.id).limit(500)))
    path = path_for("department.index")
    for notice in pending:
        # the text is rendered in the recipient's language (queue_message renders under their locale)
        queue_message(notice.user, "department_notice", {"notice_text": lambda n=notice: services.notice_text(n), "path": path},
                      kind="department", record_key=notice.record_key or None, dedupe_key=f"notice:{notice.id}")
        notice.mailed_at = now
    return f"{len(pending)} notice(s) e-mailed"
