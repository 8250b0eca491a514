"""Billing demonstration data: a few chargeable services, then the billing runs of the last two closed
months for every customer with a contract; the older month of SINOCHEM walked through review and the
customer's agreement to an exported version, with a correction of one of its lines in the next run.
Runs after the operations and stock book demos (contracts, leases, a year of orders)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from ....demo import register
from ....extensions import db
from ....models import User
from ....timeutil import from_local
from ...customers.models import Customer
from ..models import Contract, Tank
from . import services
from .models import BillingRun


@register(66, "billing records")
def load():
    if db.session.scalar(select(BillingRun.id).limit(1)) is not None:
        return
    csr = db.session.scalar(select(User).filter_by(username="csr"))
    manager = db.session.scalar(select(User).filter_by(username="manager")) or csr
    customer_ids = list(db.session.scalars(select(Contract.customer_id).distinct()))
    customers = list(db.session.scalars(select(Customer).where(Customer.id.in_(customer_ids)).order_by(Customer.code)))
    if not customers:
        return
    older = services.previous_month(services.last_closed_month())
    newer = services.last_closed_month()
    _services(customers, older, newer, csr)
    for month in (older, newer):
        for customer in customers:
            services.prepare_run(customer, month, csr)
    sino = next((c for c in customers if c.code == "SINOCHEM"), customers[0])
    run = services.run_for(sino.id, older)
    agreed = from_local(datetime.combine(services.next_month(older) + timedelta(days=3), time(10, 30)))
    run.prepared_at = agreed - timedelta(days=2)
    services.review_run(run, csr, now=agreed - timedelta(days=1))
    services.record_agreement(run, manager, by_name="Ms. Li Na (finance, 李娜)", at=agreed, how="email",
                              note="Confirmed by reply to the billing statement e-mail.")
    services.export_run(run, csr, now=agreed + timedelta(hours=2))
    storage = next((line for line in run.lines if line.kind == "storage"), run.lines[0] if run.lines else None)
    if storage is not None:
        services.add_correction(storage, csr, amount=Decimal("-350.00"),
                                reason="Two days out of service for a valve repair were not deducted.")
    db.session.flush()


def _services(customers, older, newer, csr):
    by_code = {c.code: c for c in customers}
    tanks = {t.code: t for t in db.session.scalars(select(Tank))}
    plans = [
        ("SINOCHEM", older + timedelta(days=11), "tank_cleaning", "T-103", "Tank cleaning before the change to jet fuel"),
        ("HMCHEM", newer + timedelta(days=6), "tank_cleaning", "T-204", "Tank cleaning, MEG to styrene"),
        ("WILMAR", newer + timedelta(days=15), "tank_cleaning", "T-305", "Tank cleaning after palm olein"),
    ]
    for code, day, kind, tank_code, text in plans:
        customer = by_code.get(code)
        if customer is not None:
            services.record_service(customer=customer, day=day, kind=kind, description=text, quantity=Decimal("1"),
                                    unit="job", tank=tanks.get(tank_code), user=csr)
