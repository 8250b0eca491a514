"""Helpers of the customs tests (a module of its own name: test modules import it directly).

Stock gets into the book the way it does in real life: a receipt order walked to completion through the
operations services; customs entries are lodged and released through the customs services."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from portal.blueprints.operations import services
from portal.blueprints.operations.customs import services as customs
from portal.blueprints.operations.stock import services as stock
from portal.extensions import db
from portal.timeutil import local_today, utcnow

HOUR = timedelta(hours=1)


def completed_order(terminal, make_order, *, kind="pipeline_receipt", qty="1000", customer=None, tank=None,
                    product=None, customs_status="duty_paid", density="840", at: datetime | None = None):
    """An order walked to completion at ``at`` (default: two hours ago) and posted to the stock book."""
    tank = tank or terminal.t2
    order = make_order(kind=kind, customer_id=(customer or terminal.sino).id, tank_id=tank.id,
                       product_id=(product or terminal.gasoil).id, quantity=Decimal(qty),
                       customs_status=customs_status, truck_plates="浙B12345")
    order.state = "verified"
    services.hand_over(order, terminal.csr)
    services.start_execution(order, terminal.csr)
    services.complete_order(order, Decimal(qty), "t", Decimal(density), at or utcnow() - 2 * HOUR, terminal.csr)
    db.session.commit()
    return order


def entry_values(terminal, **over) -> dict:
    values = dict(declaration_no="310420260001234567", kind="release", customer_id=terminal.sino.id,
                  to_customer_id=None, broker_contact_id=None, broker_name="Ningbo Huayang Customs Brokerage",
                  order_number="", product_id=terminal.gasoil.id, tank_id=terminal.t2.id, quantity=Decimal("400"),
                  unit="t", density_20=None, lodged_on=local_today() - timedelta(days=1), remarks="")
    values.update(over)
    return values


def lodge(terminal, **over):
    entry = customs.lodge_entry(entry_values(terminal, **over), terminal.csr)
    db.session.commit()
    return entry


def release(terminal, entry, at: datetime | None = None):
    customs.release_entry(entry, at or utcnow() - HOUR, terminal.csr)
    db.session.commit()
    return entry


def split(terminal, customer=None, tank=None, product=None) -> dict:
    """Book stock (kg, m³) of a customer's tank and product: bonded, duty-paid and in all."""
    key = dict(customer_id=(customer or terminal.sino).id, tank_id=(tank or terminal.t2).id,
               product_id=(product or terminal.gasoil).id)
    return {"bonded": stock.book_stock(customs_status="bonded", **key),
            "duty_paid": stock.book_stock(customs_status="duty_paid", **key),
            "all": stock.book_stock(**key)}


def at_utc(y: int, m: int, d: int, hh: int = 4) -> datetime:
    """A UTC time; 04:00 UTC is noon in Shanghai, the same local day."""
    return datetime(y, m, d, hh, tzinfo=UTC)
