"""Demo data: backup CSRs for the customers, and csr2 away next week with csr covering."""
from __future__ import annotations

from datetime import timedelta

from ...demo import register
from ...extensions import db
from ...models import User
from ...timeutil import local_today
from ..customers.models import Customer
from . import services
from .models import Absence, PortfolioAssignment


@register(65, "department: portfolios and cover")
def load() -> None:
    csr = db.session.scalar(db.select(User).filter_by(username="csr"))
    csr2 = db.session.scalar(db.select(User).filter_by(username="csr2"))
    if csr is None or csr2 is None:
        return
    for customer in db.session.scalars(db.select(Customer).order_by(Customer.code)):
        if customer.csr_id and not db.session.scalar(db.select(PortfolioAssignment.id).filter_by(
                customer_id=customer.id, kind="backup").limit(1)):
            services.set_backup(customer, csr2.id if customer.csr_id == csr.id else csr.id)
    if not db.session.scalar(db.select(Absence.id).filter_by(user_id=csr2.id).limit(1)):
        start = local_today() + timedelta(days=7)
        services.record_absence(csr2, starts_on=start, ends_on=start + timedelta(days=4), reason="leave",
                                cover_id=csr.id, user=csr2,
                                handover_note="VITOLAP: MT Ocean Pearl ETA moved, check the berth plan daily.\n"
                                              "维多：确认下周二的装船计划。")
    db.session.flush()
