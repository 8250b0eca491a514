"""Scheduled job: each customer's daily stock report of yesterday, e-mailed at the customer's agreed time."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from ....extensions import db
from ....jobs import register_job
from ....services import ServiceError
from ....timeutil import to_local
from . import reports

log = logging.getLogger(__name__)


def due_reports(now) -> list[reports.Status]:
    """Yesterday's (local) reports not sent yet whose customer's time has passed at ``now``."""
    day = to_local(now).date() - timedelta(days=1)
    return [s for s in reports.statuses(day) if s.sent is None and s.due_at is not None and s.due_at <= now]


@register_job("operations.daily_reports", "every 5m", label=_l("Daily stock reports due"))
def daily_reports(now):
    """Send each report due (one savepoint per customer: a customer that fails is reported, the others go)."""
    sent, messages, skipped = [], 0, []
    for status in due_reports(now):
        customer = status.customer
        try:
            with db.session.begin_nested():
                _report, queued = reports.send_report(customer, status.day, None, now=now)
        except ServiceError as exc:
            skipped.append(f"{customer.code}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - one customer's failure must not stop the others' reports
            log.exception("daily report of %s for %s failed", customer.code, status.day)
            skipped.append(f"{customer.code}: {type(exc).__name__}: {exc}")
            continue
        sent.append(customer.code)
        messages += len(queued)
    summary = f"{len(sent)} report(s) sent, {messages} message(s) queued"
    if skipped:
        summary += f"; {len(skipped)} skipped: " + "; ".join(skipped)
    return summary
