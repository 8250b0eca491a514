"""The stock book's logic: posting orders and adjustments, reversals, book stock at any time.

Services flush, never commit. Every posting writes its movements (the ledger) and, in the same
transaction, the derived daily balances (``ops_stock_daily``: per key and local day the day's sums per
kind and the closing stock) and the latest balance per key (``ops_stock_balance``). Book stock at a
time is the closing of the day before (one indexed row per key) plus that day's movements up to the
time: the ledger is never scanned.

A key is customer x tank x product x customs status. Quantities are Decimal kg and m³ at 20 °C,
signed: in positive, out negative.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, insert, select, update

from ....extensions import db
from ....services import ServiceError
from ....timeutil import from_local, to_local, utcnow
from ...customers.models import Customer
from ..models import ORDER_DIRECTION, Order, Product, Tank
from ..periods import check_open
from .models import (
    KIND_COLUMNS,
    POSTING_KINDS,
    StockAdjustment,
    StockBalance,
    StockDaily,
    StockMovement,
    StockPosting,
)
from .quantities import ZERO, QuantityError, dec, kg_to_t, round_kg, round_m3, to_kg_m3

CUSTOMS = ("bonded", "duty_paid")
# A customs release is two movements of their own kinds (customs_out of the bonded key, customs_in to the
# duty-paid key: the stock stays in the tank), summed in columns of their own; a transfer between bonded
# owners is an ownership transfer.
POSTING_KINDS.setdefault("customs", _l("Customs entry"))


class StockError(ServiceError):
    """A rule of the stock book refused the change."""


# ------------------------------------------------------------------------------------------ time

def local_day(at: datetime) -> date:
    """The portal's local day of an aware UTC time."""
    return to_local(at).date()


def day_start(day: date) -> datetime:
    """The first instant (aware UTC) of a local day."""
    return from_local(datetime.combine(day, time()))


def day_end(day: date) -> datetime:
    """The first instant of the next local day: stock "at the end of ``day``" is stock before it."""
    return day_start(day + timedelta(days=1))


# ------------------------------------------------------------------------------------------ keys

@dataclass(frozen=True)
class Key:
    customer_id: int
    tank_id: int
    product_id: int
    customs_status: str


@dataclass
class Leg:
    kind: str
    key: Key
    kg: Decimal
    m3: Decimal


def _key_filter(model, key: Key):
    return and_(model.customer_id == key.customer_id, model.tank_id == key.tank_id,
                model.product_id == key.product_id, model.customs_status == key.customs_status)


def _filters(model, customer_id=None, tank_id=None, product_id=None, customs_status=None) -> list:
    out = []
    if customer_id is not None:
        out.append(model.customer_id == customer_id)
    if tank_id is not None:
        out.append(model.tank_id == tank_id)
    if product_id is not None:
        out.append(model.product_id == product_id)
    if customs_status is not None:
        out.append(model.customs_status == customs_status)
    return out


def _q(value) -> Decimal:
    """A summed quantity as the book shows it (three decimals; SQLite sums in binary floating point)."""
    return round_m3(value if value is not None else ZERO)


# ----------------------------------------------------------------------------------- book stock

_DAILY = StockDaily.__table__
_LATEST = StockDaily.__table__.alias("latest_daily")
_BAL = StockBalance.__table__


def _latest_daily_join(day: date, *, before: bool, **filters):
    """(join condition, where clauses) of the StockBalance keys with their latest daily row on/before
    ``day`` (Core tables: building the statement stays cheap, it runs on every book stock query)."""
    d2, b, d = _LATEST.c, _BAL.c, _DAILY.c
    bound = d2.day < day if before else d2.day <= day
    latest = (select(func.max(d2.day))
              .where(d2.customer_id == b.customer_id, d2.tank_id == b.tank_id, d2.product_id == b.product_id,
                     d2.customs_status == b.customs_status, bound)
              .correlate(_BAL).scalar_subquery())
    join = and_(d.customer_id == b.customer_id, d.tank_id == b.tank_id, d.product_id == b.product_id,
                d.customs_status == b.customs_status, d.day == latest)
    where = _filters(b, **filters)
    where.append(b.first_day < day if before else b.first_day <= day)
    return join, where


def closing_rows(day: date, *, before: bool = False, **filters) -> list:
    """Per key: (customer_id, tank_id, product_id, customs_status, kg, m3) at the end of ``day``
    (``before``: at the end of the day before). Keys with no movement by then are left out."""
    join, where = _latest_daily_join(day, before=before, **filters)
    stmt = (select(_BAL.c.customer_id, _BAL.c.tank_id, _BAL.c.product_id, _BAL.c.customs_status,
                   _DAILY.c.closing_kg, _DAILY.c.closing_m3)
            .select_from(_BAL.join(_DAILY, join)).where(*where))
    return list(db.session.execute(stmt))


def closing_on(day: date, **filters) -> tuple[Decimal, Decimal]:
    """Book stock (kg, m³) at the end of local ``day`` for the filters."""
    join, where = _latest_daily_join(day, before=False, **filters)
    row = db.session.execute(select(func.sum(_DAILY.c.closing_kg), func.sum(_DAILY.c.closing_m3))
                             .select_from(_BAL.join(_DAILY, join)).where(*where)).one()
    return _q(row[0]), _q(row[1])


def book_stock(customer_id=None, tank_id=None, product_id=None, customs_status=None, at: datetime | None = None
               ) -> tuple[Decimal, Decimal]:
    """Book stock (kg, m³ at 20 °C) of the filtered keys after every movement at or before ``at``
    (aware UTC; None: every movement posted). Any filter left None sums over it."""
    filters = dict(customer_id=customer_id, tank_id=tank_id, product_id=product_id, customs_status=customs_status)
    if at is None:
        row = db.session.execute(select(func.sum(StockBalance.kg), func.sum(StockBalance.m3))
                                 .where(*_filters(StockBalance, **filters))).one()
        return _q(row[0]), _q(row[1])
    day = local_day(at)
    join, where = _latest_daily_join(day, before=True, **filters)
    prior = db.session.execute(select(func.sum(_DAILY.c.closing_kg), func.sum(_DAILY.c.closing_m3))
                               .select_from(_BAL.join(_DAILY, join)).where(*where)).one()
    m = StockMovement.__table__.c
    today = db.session.execute(
        select(func.sum(m.qty_kg), func.sum(m.qty_m3))
        .where(*_filters(m, **filters), m.day == day, m.occurred_at <= at)).one()
    return _q((prior[0] or ZERO) + (today[0] or ZERO)), _q((prior[1] or ZERO) + (today[1] or ZERO))


def book_stock_by_customer(tank_id: int, customer_ids) -> dict[int, tuple[Decimal, Decimal]]:
    """Book stock now (kg, m³ at 20 °C) of each of the customers in one tank, as book_stock gives it."""
    if not customer_ids:
        return {}
    rows = db.session.execute(select(StockBalance.customer_id, func.sum(StockBalance.kg), func.sum(StockBalance.m3))
                              .where(StockBalance.tank_id == tank_id, StockBalance.customer_id.in_(list(customer_ids)))
                              .group_by(StockBalance.customer_id))
    return {r[0]: (_q(r[1]), _q(r[2])) for r in rows}


def stock_by_key(at: datetime | None = None, **filters) -> list[tuple[Key, Decimal, Decimal]]:
    """Book stock per key (non-zero only) at ``at`` (None: now), sorted by tank code, customer, product."""
    if at is None:
        rows = db.session.execute(select(StockBalance.customer_id, StockBalance.tank_id, StockBalance.product_id,
                                         StockBalance.customs_status, StockBalance.kg, StockBalance.m3)
                                  .where(*_filters(StockBalance, **filters)))
        out = {Key(*r[:4]): [_q(r[4]), _q(r[5])] for r in rows}
    else:
        day = local_day(at)
        out = {Key(*r[:4]): [_q(r[4]), _q(r[5])] for r in closing_rows(day, before=True, **filters)}
        rows = db.session.execute(
            select(StockMovement.customer_id, StockMovement.tank_id, StockMovement.product_id,
                   StockMovement.customs_status, func.sum(StockMovement.qty_kg), func.sum(StockMovement.qty_m3))
            .where(*_filters(StockMovement, **filters), StockMovement.day == day, StockMovement.occurred_at <= at)
            .group_by(StockMovement.customer_id, StockMovement.tank_id, StockMovement.product_id,
                      StockMovement.customs_status))
        for r in rows:
            pair = out.setdefault(Key(*r[:4]), [ZERO, ZERO])
            pair[0] = _q(pair[0] + r[4])
            pair[1] = _q(pair[1] + r[5])
    result = [(k, v[0], v[1]) for k, v in out.items() if v[0] != 0 or v[1] != 0]
    tanks = _codes(Tank, {k.tank_id for k, _a, _b in result})
    customers = _codes(Customer, {k.customer_id for k, _a, _b in result})
    result.sort(key=lambda item: (tanks.get(item[0].tank_id, ""), customers.get(item[0].customer_id, ""),
                                  item[0].product_id, item[0].customs_status))
    return result


def tank_book_on(day: date, tank_ids=None) -> dict[int, tuple[Decimal, Decimal]]:
    """Book stock per tank (all customers) at the end of ``day``: {tank_id: (kg, m³)}."""
    totals: dict[int, list] = defaultdict(lambda: [ZERO, ZERO])
    for r in closing_rows(day):
        if tank_ids is not None and r.tank_id not in tank_ids:
            continue
        totals[r.tank_id][0] += r.closing_kg
        totals[r.tank_id][1] += r.closing_m3
    return {t: (_q(v[0]), _q(v[1])) for t, v in totals.items()}


def _codes(model, ids) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.code).where(model.id.in_(ids))).all())


# ------------------------------------------------------------------------------------- posting

def _lock_tanks(tank_ids) -> None:
    """Serialise postings per tank (PostgreSQL row locks; SQLite serialises writers anyway)."""
    ids = sorted(set(tank_ids))
    if ids:
        db.session.execute(select(Tank.id).where(Tank.id.in_(ids)).order_by(Tank.id).with_for_update()).all()


def _key_stock_at(key: Key, at: datetime) -> tuple[Decimal, Decimal]:
    return book_stock(at=at, **key.__dict__)


def _min_closing_from(key: Key, day: date) -> tuple[Decimal | None, Decimal | None]:
    row = db.session.execute(select(func.min(StockDaily.closing_kg), func.min(StockDaily.closing_m3))
                             .where(_key_filter(StockDaily, key), StockDaily.day >= day)).one()
    return row[0], row[1]


def _describe(key: Key) -> dict:
    customer = db.session.get(Customer, key.customer_id)
    tank = db.session.get(Tank, key.tank_id)
    product = db.session.get(Product, key.product_id)
    return {"customer": customer.code if customer else key.customer_id, "tank": tank.code if tank else key.tank_id,
            "product": product.code if product else key.product_id}


def measure_of(unit: str | None) -> str:
    """The quantity a posting is checked in: mass for tonnes (and kg), volume for m³ and barrels."""
    return "m3" if unit in ("m3", "bbl") else "kg"


def _check_not_negative(leg: Leg, at: datetime, day: date, measure: str = "kg") -> None:
    """Refuse an out leg that would take the key below zero at its time or on any later day, in the
    quantity the posting was measured in (mass and volume of a key drift apart by the densities and the
    rounding of each movement; the other one may end a little below zero)."""
    if leg.kg >= 0 and leg.m3 >= 0:
        return
    kg, m3 = _key_stock_at(leg.key, at)
    min_kg, min_m3 = _min_closing_from(leg.key, day)
    if min_kg is not None:
        kg, m3 = min(kg, _q(min_kg)), min(m3, _q(min_m3))
    short = (m3 + leg.m3 < 0) if measure == "m3" else (kg + leg.kg < 0)
    if short:
        raise StockError(_l(
            "Not enough book stock: %(customer)s has %(book_t)s t / %(book_m3)s m³ of %(product)s in %(tank)s "
            "(%(status)s), this needs %(need_t)s t / %(need_m3)s m³.",
            book_t=kg_to_t(kg), book_m3=m3, need_t=kg_to_t(-leg.kg), need_m3=-leg.m3,
            status=leg.key.customs_status, **_describe(leg.key)))


def _daily_column(kind: str) -> str:
    """The column of the daily balances a movement kind is summed in."""
    return kind if kind in KIND_COLUMNS else "adjustment"


def _apply(leg: Leg, day: date) -> None:
    """Add one movement's quantity to the derived daily rows and the latest balance of its key."""
    key, kg, m3 = leg.key, leg.kg, leg.m3
    column = _daily_column(leg.kind)
    col_kg, col_m3 = f"{column}_kg", f"{column}_m3"
    t = StockDaily.__table__.c
    result = db.session.execute(
        update(StockDaily).where(_key_filter(StockDaily, key), StockDaily.day == day)
        .values({col_kg: t[col_kg] + kg, col_m3: t[col_m3] + m3,
                 "closing_kg": t.closing_kg + kg, "closing_m3": t.closing_m3 + m3})
        .execution_options(synchronize_session=False))
    if result.rowcount == 0:
        prev = db.session.execute(select(StockDaily.closing_kg, StockDaily.closing_m3)
                                  .where(_key_filter(StockDaily, key), StockDaily.day < day)
                                  .order_by(StockDaily.day.desc()).limit(1)).first()
        prev_kg, prev_m3 = (prev[0], prev[1]) if prev else (ZERO, ZERO)
        values = {c: ZERO for k in KIND_COLUMNS for c in (f"{k}_kg", f"{k}_m3")}
        values.update({col_kg: kg, col_m3: m3, "closing_kg": _q(prev_kg + kg), "closing_m3": _q(prev_m3 + m3)})
        db.session.execute(insert(StockDaily).values(day=day, **key.__dict__, **values))
    db.session.execute(
        update(StockDaily).where(_key_filter(StockDaily, key), StockDaily.day > day)
        .values(closing_kg=t.closing_kg + kg, closing_m3=t.closing_m3 + m3)
        .execution_options(synchronize_session=False))
    b = StockBalance.__table__.c
    result = db.session.execute(
        update(StockBalance).where(_key_filter(StockBalance, key)).values(kg=b.kg + kg, m3=b.m3 + m3)
        .execution_options(synchronize_session=False))
    if result.rowcount == 0:
        db.session.execute(insert(StockBalance).values(kg=kg, m3=m3, first_day=day, last_day=day, **key.__dict__))
    else:
        db.session.execute(update(StockBalance).where(_key_filter(StockBalance, key), StockBalance.first_day > day)
                           .values(first_day=day).execution_options(synchronize_session=False))
        db.session.execute(update(StockBalance).where(_key_filter(StockBalance, key), StockBalance.last_day < day)
                           .values(last_day=day).execution_options(synchronize_session=False))


def _post(legs: list[Leg], *, kind: str, at: datetime, user, order=None, adjustment=None, reverses=None,
          note: str = "", measure: str = "kg") -> StockPosting:
    if at is None or at.tzinfo is None:
        raise StockError(_l("A posting needs the time it happened."))
    for leg in legs:
        if leg.key.customs_status not in CUSTOMS:
            raise StockError(_l("Unknown customs status %(value)s.", value=leg.key.customs_status))
        leg.kg, leg.m3 = round_kg(leg.kg), round_m3(leg.m3)
    day = local_day(at)
    check_open(day)  # a signed-off month takes no posting (operations/periods.py)
    _lock_tanks(leg.key.tank_id for leg in legs)
    # Out legs first: an in leg of the same posting never makes room for its own out leg.
    for leg in legs:
        _check_not_negative(leg, at, day, measure)
    posting = StockPosting(kind=kind, order=order, adjustment=adjustment, reverses=reverses, occurred_at=at, day=day,
                           note=note or "", posted_at=utcnow(), posted_by_id=getattr(user, "id", None))
    db.session.add(posting)
    for leg in legs:
        posting.movements.append(StockMovement(
            kind=leg.kind, occurred_at=at, day=day, qty_kg=leg.kg, qty_m3=leg.m3, **leg.key.__dict__))
    db.session.flush()
    for leg in legs:
        _apply(leg, day)
    db.session.flush()
    return posting


def order_legs(order: Order) -> list[Leg]:
    """The movements a completed order posts (out legs before in legs)."""
    if order.actual_kg is None or order.actual_m3 is None:
        raise StockError(_l("Order %(number)s has no actual quantity to post.", number=order.number))
    kg, m3 = round_kg(order.actual_kg), round_m3(order.actual_m3)
    if kg <= 0 or m3 <= 0:
        raise StockError(_l("The actual quantity of order %(number)s must be positive.", number=order.number))
    direction = ORDER_DIRECTION.get(order.kind)
    own = Key(order.customer_id, order.tank_id, order.product_id, order.customs_status)
    if direction == "in":
        return [Leg("receipt", own, kg, m3)]
    if direction == "out":
        return [Leg("delivery", own, -kg, -m3)]
    if direction == "transfer":
        if not order.to_tank_id or order.to_tank_id == order.tank_id:
            raise StockError(_l("A tank-to-tank transfer needs a different receiving tank."))
        to = Key(order.customer_id, order.to_tank_id, order.product_id, order.customs_status)
        return [Leg("transfer_out", own, -kg, -m3), Leg("transfer_in", to, kg, m3)]
    if direction == "ownership":
        if not order.counterparty_id or order.counterparty_id == order.customer_id:
            raise StockError(_l("A transfer of ownership needs another customer receiving the stock."))
        to = Key(order.counterparty_id, order.tank_id, order.product_id, order.customs_status)
        return [Leg("ownership_out", own, -kg, -m3), Leg("ownership_in", to, kg, m3)]
    raise StockError(_l("Unknown order kind %(value)s.", value=order.kind))


def order_posting(order: Order) -> StockPosting | None:
    """The order's posting in force (not reversed), or None."""
    rows = db.session.scalars(select(StockPosting).where(StockPosting.order_id == order.id, StockPosting.kind == "order")
                              .order_by(StockPosting.id))
    return next((p for p in rows if not p.is_reversed), None)


def post_order(order: Order, user) -> StockPosting:
    """Post a completed order's movements at its completion time. An order is posted once (again only
    after its posting was reversed)."""
    if order.completed_at is None:
        raise StockError(_l("Order %(number)s is not completed.", number=order.number))
    if order_posting(order) is not None:
        raise StockError(_l("Order %(number)s is already in the stock book.", number=order.number))
    return _post(order_legs(order), kind="order", at=order.completed_at, user=user, order=order,
                 note=order.number, measure=measure_of(order.unit))


def post_movement(*, customer_id: int, tank_id: int, product_id: int, customs_status: str, kg, m3,
                  at: datetime | None = None, user=None, kind: str = "receipt", note: str = "") -> StockMovement:
    """A one-leg posting (an opening balance taken over from the terminal management system, or a
    fixture): ``kg`` and ``m3`` signed, in the movement kind's sense."""
    if kind not in KIND_COLUMNS:
        raise StockError(_l("Unknown movement kind %(value)s.", value=kind))
    leg = Leg(kind, Key(customer_id, tank_id, product_id, customs_status), dec(kg), dec(m3))
    posting = _post([leg], kind="opening", at=at or utcnow(), user=user, note=note)
    return posting.movements[0]


def post_customs_release(*, customer_id: int, tank_id: int, product_id: int, kg, m3, at: datetime, user,
                         note: str = "", measure: str = "kg") -> StockPosting:
    """A customs release: ``kg``/``m3`` (positive) move from the customer's bonded key to its duty-paid
    key on the tank and product at ``at``. Refused (StockError) beyond the bonded book stock."""
    kg, m3 = dec(kg), dec(m3)
    if kg <= 0 or m3 <= 0:
        raise StockError(_l("The quantity must be positive."), field="quantity")
    legs = [Leg("customs_out", Key(customer_id, tank_id, product_id, "bonded"), -kg, -m3),
            Leg("customs_in", Key(customer_id, tank_id, product_id, "duty_paid"), kg, m3)]
    return _post(legs, kind="customs", at=at, user=user, note=note, measure=measure)


def post_bond_transfer(*, customer_id: int, to_customer_id: int, tank_id: int, product_id: int, kg, m3,
                       at: datetime, user, note: str = "", measure: str = "kg") -> StockPosting:
    """A transfer between bonded owners: bonded stock of the tank and product changes hands at ``at``."""
    kg, m3 = dec(kg), dec(m3)
    if kg <= 0 or m3 <= 0:
        raise StockError(_l("The quantity must be positive."), field="quantity")
    if not to_customer_id or to_customer_id == customer_id:
        raise StockError(_l("A transfer of ownership needs another customer receiving the stock."))
    legs = [Leg("ownership_out", Key(customer_id, tank_id, product_id, "bonded"), -kg, -m3),
            Leg("ownership_in", Key(to_customer_id, tank_id, product_id, "bonded"), kg, m3)]
    return _post(legs, kind="customs", at=at, user=user, note=note, measure=measure)


def reverse_posting(posting: StockPosting, user, reason: str, at: datetime | None = None) -> StockPosting:
    """Cancel a posting with a reversing one (every leg negated) at ``at`` (default now)."""
    reason = (reason or "").strip()
    if not reason:
        raise StockError(_l("Give the reason for the reversal."), field="reason")
    if posting.kind == "reversal":
        raise StockError(_l("A reversal cannot be reversed: post the movement again."))
    if posting.is_reversed:
        raise StockError(_l("This posting has already been reversed."))
    at = at or utcnow()
    if at < posting.occurred_at:
        raise StockError(_l("A reversal cannot be dated before the posting it reverses."))
    legs = [Leg(m.kind, Key(m.customer_id, m.tank_id, m.product_id, m.customs_status), -m.qty_kg, -m.qty_m3)
            for m in posting.movements]
    legs.sort(key=lambda leg: leg.kg >= 0)  # out legs first
    unit = posting.order.unit if posting.order else (posting.adjustment.unit if posting.adjustment else None)
    reversal = _post(legs, kind="reversal", at=at, user=user, order=posting.order, adjustment=posting.adjustment,
                     reverses=posting, note=reason, measure=measure_of(unit))
    db.session.expire(posting, ["reversed_by"])
    return reversal


def reverse_order(order: Order, user, reason: str, at: datetime | None = None) -> StockPosting:
    posting = order_posting(order)
    if posting is None:
        raise StockError(_l("Order %(number)s has nothing in the stock book to reverse.", number=order.number))
    return reverse_posting(posting, user, reason, at=at)


# ---------------------------------------------------------------------------------- adjustments

def request_adjustment(*, customer_id: int, tank_id: int, product_id: int, customs_status: str, direction: str,
                       quantity, unit: str, density_20, occurred_at: datetime, reason: str, user,
                       now: datetime | None = None) -> StockAdjustment:
    """Record a gain or loss awaiting a manager's approval (nothing is posted yet)."""
    now = now or utcnow()
    if direction not in ("gain", "loss"):
        raise StockError(_l("Choose gain or loss."), field="direction")
    if customs_status not in CUSTOMS:
        raise StockError(_l("Unknown customs status %(value)s.", value=customs_status), field="customs_status")
    if not (reason or "").strip():
        raise StockError(_l("Give the reason for the adjustment."), field="reason")
    if occurred_at > now:
        raise StockError(_l("This time is in the future."), field="occurred_at")
    check_open(local_day(occurred_at), field="occurred_at")
    try:
        quantity = dec(quantity)
        if quantity <= 0:
            raise StockError(_l("The quantity must be positive."), field="quantity")
        kg, m3 = to_kg_m3(quantity, unit, density_20)
    except QuantityError as exc:
        raise StockError(_l("The quantity cannot be converted: %(error)s", error=str(exc)), field="quantity") from exc
    if kg <= 0 or m3 <= 0:
        raise StockError(_l("The quantity must be positive."), field="quantity")
    adj = StockAdjustment(customer_id=customer_id, tank_id=tank_id, product_id=product_id, customs_status=customs_status,
                          direction=direction, quantity=quantity, unit=unit, density_20=dec(density_20), qty_kg=kg,
                          qty_m3=m3, occurred_at=occurred_at, reason=reason.strip(), state="pending",
                          requested_by_id=getattr(user, "id", None))
    db.session.add(adj)
    db.session.flush()
    return adj


def decide_adjustment(adj: StockAdjustment, user, *, approve: bool, note: str = "",
                      now: datetime | None = None) -> StockAdjustment:
    """A manager other than the requester approves (the adjustment posts at its time) or rejects it."""
    if adj.state != "pending":
        raise StockError(_l("This adjustment has already been decided."))
    if not user.has_role("cs_manager", "admin"):
        raise StockError(_l("Only a CS manager approves stock adjustments."))
    if adj.requested_by_id is not None and adj.requested_by_id == user.id:
        raise StockError(_l("An adjustment is approved by another manager than the one who requested it."))
    if not approve and not (note or "").strip():
        raise StockError(_l("Give the reason for the rejection."), field="note")
    adj.decided_by_id = user.id
    adj.decided_at = now or utcnow()
    adj.decision_note = (note or "").strip()
    if approve:
        key = Key(adj.customer_id, adj.tank_id, adj.product_id, adj.customs_status)
        _post([Leg("adjustment", key, adj.signed_kg, adj.signed_m3)], kind="adjustment", at=adj.occurred_at,
              user=user, adjustment=adj, note=adj.reason, measure=measure_of(adj.unit))
        adj.state = "approved"
    else:
        adj.state = "rejected"
    db.session.flush()
    return adj


def adjustment_posting(adj: StockAdjustment) -> StockPosting | None:
    return db.session.scalar(select(StockPosting).where(StockPosting.adjustment_id == adj.id,
                                                        StockPosting.kind == "adjustment"))


# ------------------------------------------------------------------------------------- ledger

def list_movements(*, customer_id=None, tank_id=None, product_id=None, start: date | None = None,
                   end: date | None = None):
    """The ledger, newest first, filtered (a select for pagination)."""
    stmt = (select(StockMovement).join(StockPosting)
            .where(*_filters(StockMovement, customer_id=customer_id, tank_id=tank_id, product_id=product_id))
            .order_by(StockMovement.occurred_at.desc(), StockMovement.id.desc()))
    if start:
        stmt = stmt.where(StockMovement.day >= start)
    if end:
        stmt = stmt.where(StockMovement.day <= end)
    return stmt


# ----------------------------------------------------------------------------------- rebuilding

def rebuild_balances() -> int:
    """Recompute the daily balances and the latest balances from the ledger; returns the daily rows."""
    db.session.execute(StockDaily.__table__.delete())
    db.session.execute(StockBalance.__table__.delete())
    m = StockMovement
    rows = db.session.execute(
        select(m.customer_id, m.tank_id, m.product_id, m.customs_status, m.day, m.kind,
               func.sum(m.qty_kg), func.sum(m.qty_m3))
        .group_by(m.customer_id, m.tank_id, m.product_id, m.customs_status, m.day, m.kind)
        .order_by(m.customer_id, m.tank_id, m.product_id, m.customs_status, m.day))
    per_key: dict[tuple, dict[date, dict]] = defaultdict(dict)
    for r in rows:
        key = (r[0], r[1], r[2], r[3])
        day_row = per_key[key].setdefault(r[4], {c: ZERO for k in KIND_COLUMNS for c in (f"{k}_kg", f"{k}_m3")})
        kind = _daily_column(r[5])
        day_row[f"{kind}_kg"] = _q(day_row[f"{kind}_kg"] + r[6])
        day_row[f"{kind}_m3"] = _q(day_row[f"{kind}_m3"] + r[7])
    daily, balances = [], []
    for key, days in per_key.items():
        kg = m3 = ZERO
        for day in sorted(days):
            values = days[day]
            kg = _q(kg + sum(values[f"{k}_kg"] for k in KIND_COLUMNS))
            m3 = _q(m3 + sum(values[f"{k}_m3"] for k in KIND_COLUMNS))
            daily.append({"customer_id": key[0], "tank_id": key[1], "product_id": key[2], "customs_status": key[3],
                          "day": day, "closing_kg": kg, "closing_m3": m3, **values})
        balances.append({"customer_id": key[0], "tank_id": key[1], "product_id": key[2], "customs_status": key[3],
                         "kg": kg, "m3": m3, "first_day": min(days), "last_day": max(days)})
    for start in range(0, len(daily), 5000):
        db.session.execute(insert(StockDaily), daily[start:start + 5000])
    if balances:
        db.session.execute(insert(StockBalance), balances)
    db.session.flush()
    return len(daily)


def check_balances() -> list[str]:
    """Differences between the derived balances and the ledger (empty when they agree)."""
    m = StockMovement
    problems = []
    ledger = {(r[0], r[1], r[2], r[3]): (_q(r[4]), _q(r[5])) for r in db.session.execute(
        select(m.customer_id, m.tank_id, m.product_id, m.customs_status, func.sum(m.qty_kg), func.sum(m.qty_m3))
        .group_by(m.customer_id, m.tank_id, m.product_id, m.customs_status))}
    balances = {(b.customer_id, b.tank_id, b.product_id, b.customs_status): (_q(b.kg), _q(b.m3))
                for b in db.session.scalars(select(StockBalance))}
    for key in sorted(set(ledger) | set(balances), key=str):
        if ledger.get(key) != balances.get(key):
            problems.append(f"key {key}: ledger {ledger.get(key)} balance {balances.get(key)}")
    return problems
