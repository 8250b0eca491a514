"""Monthly reports demonstration data: the safety figures of the last two closed months and the management
report of the last closed month issued once (filed in the archive). Runs after the operations, stock book,
vessel calls and month-end demos."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ....demo import register
from ....extensions import db
from ....models import User
from . import services
from .models import MonthlyReportIssue


@register(68, "monthly reports")
def load():
    if db.session.scalar(select(MonthlyReportIssue.id).limit(1)) is not None:
        return
    manager = db.session.scalar(select(User).filter_by(username="manager")) or \
        db.session.scalar(select(User).filter_by(username="admin"))
    last = services.last_closed_month()
    before = (last - timedelta(days=1)).replace(day=1)
    services.save_safety(before, manager, days_without_lti=381, incidents=0, near_misses=2,
                         remarks="消防演练两次 / two fire drills")
    services.save_safety(last, manager, days_without_lti=381 + services.days_in(last), incidents=1, near_misses=3,
                         remarks="装车台软管渗漏，已更换 / hose weep at the truck rack, replaced")
    services.issue_report(last, None, manager)
