"""Demonstration data: last month's reconciliation prepared by the CSR, one investigation with a proposed
resolution awaiting the manager, the rest open; the month awaits the manager's sign-off."""
from __future__ import annotations

from datetime import timedelta

from ....demo import register
from ....extensions import db
from ....models import User
from ....timeutil import local_today
from . import services
from .models import MonthEnd


@register(67, "month-end reconciliation")
def load():
    if db.session.scalar(db.select(MonthEnd.id).limit(1)) is not None:
        return
    csr = db.session.scalar(db.select(User).filter_by(username="csr"))
    if csr is None:
        return
    month = services.month_of(services.month_of(local_today()) - timedelta(days=1))
    if not services.month_end_dips(month):
        return
    period = services.prepare(month, csr)
    investigations = services.open_investigations(period)
    if investigations:
        services.propose(investigations[0], cause="Meter factor of the receiving line not applied to one receipt",
                         resolution="Terminal system corrected by the operations department; book re-run",
                         user=csr)
    db.session.commit()
