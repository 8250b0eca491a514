"""Customs clearance demonstration data: for the bonded stock the stock book's demo left in bonded tanks,
bonded entries of the receipts (closed), duty-paid releases in each status (closed, released and not yet
delivered, lodged and waiting), a transfer between bonded owners and re-exports. Runs after the stock book's
demo; releases and transfers post through the customs services, so bonded and duty-paid stock tie to the book."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from ....demo import register
from ....extensions import db
from ....models import User
from ....timeutil import local_today, to_local, utcnow
from ...customers.models import CustomerContact
from ..models import Order, Tank
from ..stock.models import StockBalance
from . import services
from .models import CustomsEntry

D = Decimal
BROKER = "宁波华洋报关有限公司 Ningbo Huayang Customs Brokerage"


@register(64, "customs clearance")
def load():
    if db.session.scalar(select(CustomsEntry.id).limit(1)) is not None:
        return
    bonded_tanks = {t.id for t in db.session.scalars(select(Tank).where(Tank.bonded.is_(True)))}
    keys = [b for b in db.session.scalars(select(StockBalance).where(StockBalance.customs_status == "bonded",
                                                                     StockBalance.kg > 1_000_000)
                                          .order_by(StockBalance.kg.desc()))
            if b.tank_id in bonded_tanks][:6]
    if not keys:
        return
    csr = db.session.scalar(select(User).filter_by(username="csr"))
    numbers = itertools.count(1)
    today = local_today()
    now = utcnow()

    def declaration() -> str:
        return f"3104{today.year}{next(numbers) + 10_000:010d}"

    def values(key, kind, quantity, lodged_on, **extra) -> dict:
        contact = db.session.scalar(select(CustomerContact).where(CustomerContact.customer_id == key.customer_id)
                                    .order_by(CustomerContact.id).limit(1))
        return {"declaration_no": declaration(), "kind": kind, "customer_id": key.customer_id,
                "broker_contact_id": contact.id if contact is not None else None, "broker_name": BROKER,
                "product_id": key.product_id, "tank_id": key.tank_id, "quantity": quantity, "unit": "t",
                "density_20": None, "lodged_on": lodged_on, "remarks": "", **extra}

    def attempt(fn):
        """Run one step in a savepoint: a step the book refuses (not enough bonded stock then) is skipped."""
        savepoint = db.session.begin_nested()
        try:
            result = fn()
        except services.CustomsError:
            savepoint.rollback()
            return None
        savepoint.commit()
        return result

    for n, key in enumerate(keys):
        bonded_t = (D(key.kg) / 1000).quantize(D("1"))
        # The bonded entry of the key's latest bonded receipt: lodged before discharge, closed since.
        receipt = db.session.scalar(
            select(Order).where(Order.customer_id == key.customer_id, Order.tank_id == key.tank_id,
                                Order.product_id == key.product_id, Order.customs_status == "bonded",
                                Order.state == "completed", Order.kind.in_(("ship_discharge", "pipeline_receipt")))
            .order_by(Order.completed_at.desc()).limit(1))
        if receipt is not None:
            done = receipt.completed_at
            lodged = to_local(done).date() - timedelta(days=1)

            def bonded_entry(receipt=receipt, done=done, lodged=lodged, key=key):
                entry = services.lodge_entry(values(key, "bonded_entry", receipt.quantity, lodged,
                                                    order_number=receipt.number), csr)
                services.release_entry(entry, done, csr, now=now)
                services.close_entry(entry, min(to_local(done).date() + timedelta(days=3), today), csr)
                return entry

            attempt(bonded_entry)
        # Duty-paid releases: a closed one, a released one not yet delivered, a lodged one waiting.
        first = (bonded_t * D("0.10")).quantize(D("1"))
        second = (bonded_t * D("0.15")).quantize(D("1"))

        def closed_release(key=key, first=first, n=n):
            entry = services.lodge_entry(values(key, "release", first, today - timedelta(days=6 + n)), csr)
            services.release_entry(entry, now - timedelta(hours=3, minutes=n), csr, now=now)
            services.close_entry(entry, today, csr)
            return entry

        def open_release(key=key, second=second, n=n):
            entry = services.lodge_entry(values(key, "release", second, today - timedelta(days=2)), csr)
            services.release_entry(entry, now - timedelta(hours=2, minutes=n), csr, now=now)
            return entry

        attempt(closed_release)
        if n % 2 == 0:
            attempt(open_release)
        attempt(lambda key=key, n=n: services.lodge_entry(
            values(key, "release", D(200 + 50 * n), today - timedelta(days=n % 4),
                   remarks="Duty and VAT paid, release expected"), csr))
    # A transfer between bonded owners in a tank two customers share, and re-exports of bonded loadings.
    shared = {}
    for key in db.session.scalars(select(StockBalance).where(StockBalance.customs_status == "bonded",
                                                             StockBalance.kg > 600_000)
                                  .order_by(StockBalance.tank_id, StockBalance.customer_id)):
        if key.tank_id in bonded_tanks:
            shared.setdefault((key.tank_id, key.product_id), []).append(key)
    for group in shared.values():
        if len(group) > 1:
            seller, buyer = group[0], group[1]

            def transfer(seller=seller, buyer=buyer):
                entry = services.lodge_entry(values(seller, "bond_transfer", D(500), today - timedelta(days=1),
                                                    to_customer_id=buyer.customer_id), csr)
                services.release_entry(entry, now - timedelta(hours=1), csr, now=now)
                return entry

            attempt(transfer)
            break
    for key in keys[:2]:
        loading = db.session.scalar(
            select(Order).where(Order.customer_id == key.customer_id, Order.tank_id == key.tank_id,
                                Order.product_id == key.product_id, Order.customs_status == "bonded",
                                Order.state == "completed", Order.kind.in_(("ship_loading", "pipeline_delivery")))
            .order_by(Order.completed_at.desc()).limit(1))
        if loading is None:
            continue

        def re_export(loading=loading, key=key):
            done = loading.completed_at
            entry = services.lodge_entry(values(key, "re_export", loading.quantity,
                                                to_local(done).date() - timedelta(days=2),
                                                order_number=loading.number), csr)
            services.release_entry(entry, done - timedelta(hours=6), csr, now=now)
            services.close_entry(entry, min(to_local(done).date() + timedelta(days=2), today), csr)
            return entry

        attempt(re_export)
    db.session.flush()
