"""Customs clearance: lodging, releasing and closing customs entries, their documents, the customs stock per
customer, the daily customs check list and what verification asks about customs.

Services flush, never commit. The stock book keeps every customer's stock per tank and product split by
customs status (bonded | duty_paid); a release posts the move from bonded to duty-paid, a transfer between
bonded owners moves bonded stock to another customer (both through the stock book's postings, so the daily
balances stay right). Bonded entries and re-exports post nothing themselves: the ship or pipeline order they
clear posts its receipt or delivery on the bonded key when it is completed.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....services import ServiceError, file_record
from ....timeutil import local_today, to_local, utcnow
from ....uploads import check_upload
from ...customers.models import Customer, CustomerContact
from ..models import ORDER_DIRECTION, Order, Product, Tank
from ..stock import services as stock
from ..stock.models import StockBalance, StockMovement
from ..stock.quantities import ZERO, QuantityError, dec, kg_to_t, round_kg, round_m3, to_kg_m3
from .models import ENTRY_KINDS, ENTRY_UNITS, CustomsDocument, CustomsEntry

DECLARATION_RE = re.compile(r"^[A-Z0-9][A-Z0-9/-]{2,39}$")
# Which direction of order a kind of entry clears.
KIND_ORDER_DIRECTION = {"bonded_entry": "in", "re_export": "out"}
POSTING_KINDS = ("release", "bond_transfer")


class CustomsError(ServiceError):
    """A customs rule refused the change."""


# -------------------------------------------------------------------------------------- quantities

def _planning_density(product: Product | None) -> Decimal:
    value = product.density_typical if product is not None else None
    return Decimal(value) if value else Decimal(1000)


def _fmt(value: Decimal, unit: str) -> str:
    return f"{kg_to_t(value):,}" if unit == "t" else f"{round_m3(value):,}"


def measured(kg: Decimal, m3: Decimal, unit: str) -> Decimal:
    """The quantity a unit measures: kg for tonnes, m³ for m³."""
    return kg if unit == "t" else m3


def entry_kg_m3(quantity, unit: str, density_20, product: Product | None) -> tuple[Decimal, Decimal]:
    """(kg, m³ at 20 °C) of an entry's quantity, with its density or else the product's typical density."""
    if unit not in ENTRY_UNITS:
        raise CustomsError(_l("Give the unit of the quantity: t or m³ at 20 °C."), field="unit")
    try:
        quantity = dec(quantity)
        if quantity <= 0:
            raise CustomsError(_l("The quantity must be positive."), field="quantity")
        kg, m3 = to_kg_m3(quantity, unit, density_20 or _planning_density(product))
    except QuantityError as exc:
        raise CustomsError(_l("The quantity cannot be converted: %(error)s", error=str(exc)), field="quantity") from exc
    if kg <= 0 or m3 <= 0:
        raise CustomsError(_l("The quantity must be positive."), field="quantity")
    return kg, m3


def _split_of_book(book_kg: Decimal, book_m3: Decimal, quantity: Decimal, unit: str) -> tuple[Decimal, Decimal]:
    """(kg, m³) of ``quantity`` (in ``unit``) taken out of a key holding ``book_kg``/``book_m3``: the other
    measure in proportion, so that moving the whole key moves both measures exactly."""
    if unit == "t":
        kg = round_kg(quantity * 1000)
        m3 = round_m3(book_m3 * kg / book_kg) if book_kg > 0 else ZERO
    else:
        m3 = round_m3(quantity)
        kg = round_kg(book_kg * m3 / book_m3) if book_m3 > 0 else ZERO
    return kg, m3


# ----------------------------------------------------------------------------------------- entries

ENTRY_FIELDS = ("declaration_no", "kind", "customer_id", "to_customer_id", "broker_contact_id", "broker_name",
                "order_id", "product_id", "tank_id", "quantity", "unit", "density_20", "lodged_on", "remarks")


def _clean(values: dict) -> dict:
    out = {k: values.get(k) for k in ENTRY_FIELDS}
    out["declaration_no"] = (out["declaration_no"] or "").strip().upper()
    out["broker_name"] = (out["broker_name"] or "").strip()
    out["remarks"] = (out["remarks"] or "").strip()
    for key in ("to_customer_id", "broker_contact_id", "order_id", "customer_id", "product_id", "tank_id"):
        out[key] = out[key] or None
    out["unit"] = out["unit"] or "t"
    return out


def _check(values: dict, entry: CustomsEntry | None = None) -> tuple[dict, Decimal, Decimal]:
    """Check an entry's values against the register; returns the values and their (kg, m³)."""
    number = (values.get("order_number") or "").strip().upper()
    if number:
        order_id = db.session.scalar(select(Order.id).where(Order.number == number))
        if order_id is None:
            raise CustomsError(_l("There is no order %(number)s.", number=number), field="order_number")
        values = {**values, "order_id": order_id}
    elif "order_number" in values:
        values = {**values, "order_id": None}
    v = _clean(values)
    if not DECLARATION_RE.match(v["declaration_no"]):
        raise CustomsError(_l("A declaration number is 3 to 40 letters, digits, '-' or '/'."), field="declaration_no")
    taken = db.session.scalar(select(CustomsEntry.id).where(CustomsEntry.declaration_no == v["declaration_no"]))
    if taken is not None and (entry is None or taken != entry.id):
        raise CustomsError(_l("Declaration number %(value)s is already registered.", value=v["declaration_no"]),
                           field="declaration_no")
    if v["kind"] not in ENTRY_KINDS:
        raise CustomsError(_l("Choose the kind of entry."), field="kind")
    customer = db.session.get(Customer, v["customer_id"]) if v["customer_id"] else None
    if customer is None:
        raise CustomsError(_l("Choose the customer."), field="customer_id")
    product = db.session.get(Product, v["product_id"]) if v["product_id"] else None
    if product is None:
        raise CustomsError(_l("Choose the product."), field="product_id")
    tank = db.session.get(Tank, v["tank_id"]) if v["tank_id"] else None
    if tank is None:
        raise CustomsError(_l("Choose the tank."), field="tank_id")
    if not tank.bonded:
        raise CustomsError(_l("Tank %(tank)s is not bonded: bonded cargo is kept only in a bonded tank.", tank=tank.code),
                           field="tank_id")
    if v["kind"] == "bond_transfer":
        if not v["to_customer_id"] or db.session.get(Customer, v["to_customer_id"]) is None:
            raise CustomsError(_l("A transfer between bonded owners needs the customer who receives the stock."),
                               field="to_customer_id")
        if v["to_customer_id"] == customer.id:
            raise CustomsError(_l("The receiving customer must differ from the customer."), field="to_customer_id")
    else:
        v["to_customer_id"] = None
    if v["broker_contact_id"] and db.session.get(CustomerContact, v["broker_contact_id"]) is None:
        raise CustomsError(_l("Choose the broker from the list."), field="broker_contact_id")
    if not v["broker_contact_id"] and not v["broker_name"]:
        raise CustomsError(_l("Name the customs broker (a contact or the broker's name)."), field="broker_name")
    if v["order_id"]:
        order = db.session.get(Order, v["order_id"])
        if order is None:
            raise CustomsError(_l("Choose the order from the list."), field="order_number")
        if (order.customer_id, order.product_id, order.tank_id) != (customer.id, product.id, tank.id):
            raise CustomsError(_l("Order %(number)s is for another customer, product or tank.", number=order.number),
                               field="order_number")
        wanted = KIND_ORDER_DIRECTION.get(v["kind"])
        if wanted and ORDER_DIRECTION.get(order.kind) != wanted:
            raise CustomsError(_l("Order %(number)s (%(kind)s) cannot be cleared by this kind of entry.",
                                  number=order.number, kind=order.kind_label), field="order_number")
        if wanted and order.customs_status != "bonded":
            raise CustomsError(_l("Order %(number)s is for duty-paid cargo.", number=order.number), field="order_number")
    elif v["kind"] == "re_export":
        raise CustomsError(_l("A re-export clears a delivery order: give the order number."), field="order_number")
    if v["lodged_on"] is None:
        raise CustomsError(_l("Give the day the entry was lodged."), field="lodged_on")
    if v["lodged_on"] > local_today():
        raise CustomsError(_l("This day is in the future."), field="lodged_on")
    kg, m3 = entry_kg_m3(v["quantity"], v["unit"], v["density_20"], product)
    v["quantity"] = dec(v["quantity"])
    v["density_20"] = dec(v["density_20"]) if v["density_20"] else None
    return v, kg, m3


def lodge_entry(values: dict, user) -> CustomsEntry:
    """Register an entry lodged with customs (status lodged; nothing is posted yet)."""
    v, kg, m3 = _check(values)
    entry = CustomsEntry(status="lodged", qty_kg=kg, qty_m3=m3, created_by_id=getattr(user, "id", None), **v)
    db.session.add(entry)
    db.session.flush()
    return entry


def update_entry(entry: CustomsEntry, values: dict, user) -> CustomsEntry:
    """Correct an entry while it is lodged (after release its quantity is in the stock book)."""
    if entry.status != "lodged":
        raise CustomsError(_l("Only a lodged entry can be changed; this one is %(status)s.", status=entry.status_label))
    v, kg, m3 = _check(values, entry)
    for key, value in v.items():
        setattr(entry, key, value)
    entry.qty_kg, entry.qty_m3 = kg, m3
    db.session.flush()
    return entry


def bonded_available(entry: CustomsEntry, at: datetime) -> tuple[Decimal, Decimal]:
    """The customer's bonded book stock (kg, m³) of the entry's tank and product at ``at``."""
    return stock.book_stock(customer_id=entry.customer_id, tank_id=entry.tank_id, product_id=entry.product_id,
                            customs_status="bonded", at=at)


def release_entry(entry: CustomsEntry, at: datetime, user, *, now: datetime | None = None) -> CustomsEntry:
    """Customs released the entry at ``at``. A duty-paid release moves the quantity from the customer's bonded
    stock to its duty-paid stock; a transfer between bonded owners moves it to the receiving customer; a
    release never exceeds the bonded stock there is. A released re-export marks its order released."""
    now = now or utcnow()
    if entry.status != "lodged":
        raise CustomsError(_l("Entry %(number)s is already %(status)s.", number=entry.declaration_no,
                              status=entry.status_label))
    if at is None or at.tzinfo is None:
        raise CustomsError(_l("Give the time customs released the entry."), field="released_at")
    if at > now:
        raise CustomsError(_l("This time is in the future."), field="released_at")
    if to_local(at).date() < entry.lodged_on:
        raise CustomsError(_l("An entry is released on or after the day it was lodged."), field="released_at")
    if entry.kind in POSTING_KINDS:
        book_kg, book_m3 = bonded_available(entry, at)
        need = round_kg(entry.quantity * 1000) if entry.unit == "t" else round_m3(entry.quantity)
        have = measured(book_kg, book_m3, entry.unit)
        if need > have:
            raise CustomsError(_l(
                "The release of %(needed)s %(unit)s exceeds the bonded stock of %(product)s for %(customer)s in "
                "%(tank)s: %(available)s %(unit)s bonded at that time.",
                needed=_fmt(need, entry.unit), available=_fmt(max(have, ZERO), entry.unit), unit=entry.unit_label,
                product=entry.product.code, customer=entry.customer.code, tank=entry.tank.code))
        kg, m3 = _split_of_book(book_kg, book_m3, entry.quantity, entry.unit)
        measure = "kg" if entry.unit == "t" else "m3"
        note = f"{entry.declaration_no} {entry.kind_label}"
        try:
            if entry.kind == "release":
                posting = stock.post_customs_release(customer_id=entry.customer_id, tank_id=entry.tank_id,
                                                     product_id=entry.product_id, kg=kg, m3=m3, at=at, user=user,
                                                     note=note, measure=measure)
            else:
                posting = stock.post_bond_transfer(customer_id=entry.customer_id, to_customer_id=entry.to_customer_id,
                                                   tank_id=entry.tank_id, product_id=entry.product_id, kg=kg, m3=m3,
                                                   at=at, user=user, note=note, measure=measure)
        except stock.StockError as exc:
            raise CustomsError(exc.args[0] if exc.args else str(exc)) from exc
        entry.posting_id = posting.id
        entry.qty_kg, entry.qty_m3 = kg, m3
    if entry.kind == "re_export" and entry.order is not None:
        entry.order.customs_released = True
    entry.status = "released"
    entry.released_at = at
    entry.released_by_id = getattr(user, "id", None)
    db.session.flush()
    return entry


def close_entry(entry: CustomsEntry, on: date, user) -> CustomsEntry:
    """The entry's business with customs is over (paperwork complete, parcel gone or used)."""
    if entry.status != "released":
        raise CustomsError(_l("Only a released entry can be closed; this one is %(status)s.", status=entry.status_label))
    if on is None:
        raise CustomsError(_l("Give the day the entry was closed."), field="closed_on")
    if on > local_today():
        raise CustomsError(_l("This day is in the future."), field="closed_on")
    if entry.released_at is not None and on < to_local(entry.released_at).date():
        raise CustomsError(_l("An entry is closed on or after the day it was released."), field="closed_on")
    entry.status = "closed"
    entry.closed_on = on
    entry.closed_by_id = getattr(user, "id", None)
    db.session.flush()
    return entry


def attach_document(entry: CustomsEntry, filename: str, data: bytes, user, *, title: str = "") -> CustomsDocument:
    """Check an uploaded document and file it in the archive with the entry's customer and order."""
    safe_name, _mimetype = check_upload(filename, data)
    title = (title or "").strip() or safe_name
    record = file_record(
        "order", f"{entry.declaration_no} {entry.kind_label} — {entry.customer.code}: {title}",
        [(safe_name, data)], user, customer_id=entry.customer_id, event_date=entry.lodged_on,
        description=f"Customs entry {entry.declaration_no}" + (f", order {entry.order.number}" if entry.order else ""))
    doc = CustomsDocument(entry=entry, record_id=record.id, title=title[:300], filename=safe_name[:255],
                          uploaded_at=utcnow(), uploaded_by_id=getattr(user, "id", None))
    db.session.add(doc)
    db.session.flush()
    return doc


def list_entries(*, status: str = "", kind: str = "", customer_id: int | None = None, q: str = ""):
    stmt = (select(CustomsEntry).options(selectinload(CustomsEntry.customer), selectinload(CustomsEntry.product),
                                         selectinload(CustomsEntry.tank), selectinload(CustomsEntry.order))
            .order_by(CustomsEntry.lodged_on.desc(), CustomsEntry.id.desc()))
    if status:
        stmt = stmt.where(CustomsEntry.status == status)
    if kind:
        stmt = stmt.where(CustomsEntry.kind == kind)
    if customer_id:
        stmt = stmt.where(CustomsEntry.customer_id == customer_id)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(CustomsEntry.declaration_no.contains(q.upper(), autoescape=True))
    return stmt


# ------------------------------------------------------------------------------------ verification

@dataclass
class Cover:
    """What the released re-export entries of an order cover."""

    kg: Decimal = ZERO
    m3: Decimal = ZERO
    lodged: list[str] = field(default_factory=list)


def reexport_cover(order_id: int | None) -> Cover:
    cover = Cover()
    if not order_id:
        return cover
    for entry in db.session.scalars(select(CustomsEntry).where(CustomsEntry.order_id == order_id,
                                                               CustomsEntry.kind == "re_export")):
        if entry.status == "lodged":
            cover.lodged.append(entry.declaration_no)
        else:
            cover.kg += entry.qty_kg
            cover.m3 += entry.qty_m3
    return cover


# ---------------------------------------------------------------------------------- customs stock

@dataclass
class StockRow:
    customer: Customer
    tank: Tank
    product: Product
    bonded_kg: Decimal = ZERO
    bonded_m3: Decimal = ZERO
    duty_paid_kg: Decimal = ZERO
    duty_paid_m3: Decimal = ZERO
    awaiting_kg: Decimal = ZERO  # lodged releases not yet released
    awaiting_m3: Decimal = ZERO
    book_kg: Decimal = ZERO  # the stock book's own total of the key (all statuses)
    book_m3: Decimal = ZERO

    @property
    def total_kg(self) -> Decimal:
        return self.bonded_kg + self.duty_paid_kg

    @property
    def total_m3(self) -> Decimal:
        return self.bonded_m3 + self.duty_paid_m3

    @property
    def ties(self) -> bool:
        return self.total_kg == self.book_kg and self.total_m3 == self.book_m3


def customs_stock(customer_id: int | None = None) -> list[StockRow]:
    """Per customer, tank and product now: bonded and duty-paid book stock next to the stock book's total of
    the three (they tie), and what lodged releases would move."""
    rows: dict[tuple, StockRow] = {}
    keys = stock.stock_by_key(customer_id=customer_id)
    customers = _load(Customer, {k.customer_id for k, _a, _b in keys})
    tanks = _load(Tank, {k.tank_id for k, _a, _b in keys})
    products = _load(Product, {k.product_id for k, _a, _b in keys})
    for key, kg, m3 in keys:
        row = rows.setdefault((key.customer_id, key.tank_id, key.product_id), StockRow(
            customers[key.customer_id], tanks[key.tank_id], products[key.product_id]))
        if key.customs_status == "bonded":
            row.bonded_kg, row.bonded_m3 = kg, m3
        else:
            row.duty_paid_kg, row.duty_paid_m3 = kg, m3
    # The stock book's own total of each customer x tank x product, all customs statuses (one statement).
    bal = StockBalance
    totals = select(bal.customer_id, bal.tank_id, bal.product_id, func.sum(bal.kg), func.sum(bal.m3)) \
        .group_by(bal.customer_id, bal.tank_id, bal.product_id)
    if customer_id:
        totals = totals.where(bal.customer_id == customer_id)
    for cid, tid, pid, kg, m3 in db.session.execute(totals):
        row = rows.get((cid, tid, pid))
        if row is not None:
            row.book_kg, row.book_m3 = stock._q(kg), stock._q(m3)
    lodged = select(CustomsEntry).where(CustomsEntry.status == "lodged", CustomsEntry.kind.in_(POSTING_KINDS))
    if customer_id:
        lodged = lodged.where(CustomsEntry.customer_id == customer_id)
    for entry in db.session.scalars(lodged):
        row = rows.get((entry.customer_id, entry.tank_id, entry.product_id))
        if row is not None:
            row.awaiting_kg += entry.qty_kg
            row.awaiting_m3 += entry.qty_m3
    return sorted(rows.values(), key=lambda r: (r.customer.code, r.tank.code, r.product.code))


def _load(model, ids) -> dict:
    if not ids:
        return {}
    return {o.id: o for o in db.session.scalars(select(model).where(model.id.in_(ids)))}


# ----------------------------------------------------------------------------------- check list

@dataclass
class Unused:
    entry: CustomsEntry
    unused_kg: Decimal
    unused_m3: Decimal

    @property
    def fully_unused(self) -> bool:
        return self.unused_kg >= self.entry.qty_kg


@dataclass
class CheckList:
    day: date
    waiting: list[CustomsEntry]
    unused: list[Unused]
    reexports_open: list[CustomsEntry]


def unused_releases(customer_id: int | None = None) -> list[Unused]:
    """Released duty-paid releases whose quantity is still (partly) in the customer's duty-paid stock.

    Duty-paid stock leaves first in, first out: of everything that came into a key's duty-paid stock (releases,
    duty-paid receipts, transfers in), the oldest is used first by what has left it (all that came in less the
    stock now). A release is unused by as much of it as lies beyond what has left, counted in time order.
    """
    stmt = (select(CustomsEntry).where(CustomsEntry.kind == "release", CustomsEntry.status == "released",
                                       CustomsEntry.posting_id.is_not(None))
            .options(selectinload(CustomsEntry.customer), selectinload(CustomsEntry.tank),
                     selectinload(CustomsEntry.product)))
    if customer_id:
        stmt = stmt.where(CustomsEntry.customer_id == customer_id)
    by_key: dict[tuple, dict[int, CustomsEntry]] = defaultdict(dict)
    for entry in db.session.scalars(stmt):
        by_key[(entry.customer_id, entry.tank_id, entry.product_id)][entry.posting_id] = entry
    out = []
    if not by_key:
        return out
    m, b = StockMovement, StockBalance
    customers, tanks, products = ({k[i] for k in by_key} for i in range(3))
    # Two statements for every key: the duty-paid movements in (time order) and the duty-paid stock now.
    ins_by_key: dict[tuple, list] = defaultdict(list)
    for row in db.session.execute(
            select(m.customer_id, m.tank_id, m.product_id, m.posting_id, m.qty_kg, m.qty_m3)
            .where(m.customer_id.in_(customers), m.tank_id.in_(tanks), m.product_id.in_(products),
                   m.customs_status == "duty_paid", m.qty_kg > 0)
            .order_by(m.occurred_at, m.id)):
        ins_by_key[(row[0], row[1], row[2])].append((row[3], row[4], row[5]))
    now = {(r[0], r[1], r[2]): (r[3], r[4]) for r in db.session.execute(
        select(b.customer_id, b.tank_id, b.product_id, b.kg, b.m3)
        .where(b.customer_id.in_(customers), b.tank_id.in_(tanks), b.product_id.in_(products),
               b.customs_status == "duty_paid"))}
    for key, releases in by_key.items():
        ins = ins_by_key.get(key, [])
        stock_kg, stock_m3 = now.get(key, (ZERO, ZERO))
        used_kg = sum((r[1] for r in ins), ZERO) - stock_kg
        used_m3 = sum((r[2] for r in ins), ZERO) - stock_m3
        cum_kg = cum_m3 = ZERO
        for posting_id, kg, m3 in ins:
            cum_kg, cum_m3 = cum_kg + kg, cum_m3 + m3
            entry = releases.get(posting_id)
            if entry is None:
                continue
            left_kg = min(max(cum_kg - used_kg, ZERO), kg)
            left_m3 = min(max(cum_m3 - used_m3, ZERO), m3)
            if left_kg > 0:
                out.append(Unused(entry, round_kg(left_kg), round_m3(left_m3)))
    out.sort(key=lambda u: (u.entry.released_at, u.entry.id))
    return out


def check_list(day: date | None = None) -> CheckList:
    """The daily customs check: entries waiting for release (oldest first), releases not yet used by
    deliveries, and released re-exports whose order is not completed yet."""
    day = day or local_today()
    waiting = list(db.session.scalars(
        select(CustomsEntry).where(CustomsEntry.status == "lodged")
        .options(selectinload(CustomsEntry.customer), selectinload(CustomsEntry.tank),
                 selectinload(CustomsEntry.product), selectinload(CustomsEntry.order))
        .order_by(CustomsEntry.lodged_on, CustomsEntry.id)))
    reexports = list(db.session.scalars(
        select(CustomsEntry).join(Order, CustomsEntry.order_id == Order.id)
        .where(CustomsEntry.kind == "re_export", CustomsEntry.status == "released",
               Order.state.notin_(("completed", "cancelled", "rejected")))
        .options(selectinload(CustomsEntry.customer), selectinload(CustomsEntry.order))
        .order_by(CustomsEntry.released_at)))
    return CheckList(day, waiting, unused_releases(), reexports)


def waiting_days(entry: CustomsEntry, day: date) -> int:
    return (day - entry.lodged_on).days


def counts() -> dict:
    """Numbers for the overview: entries per status."""
    return dict(db.session.execute(select(CustomsEntry.status, func.count(CustomsEntry.id))
                                   .group_by(CustomsEntry.status)).all())
