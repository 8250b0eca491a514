"""Operations domain logic: master data, orders and their life cycle, abnormal events.

Services flush, routes commit. Every change goes through the ORM, so the audit trail records it in the
same transaction. The stock book is the `stock` sub-package's: completing an order calls
`stock.services.post_order(order, user)`; verification reads `stock.services.book_stock(...)`.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ...audit import _jsonable
from ...extensions import db
from ...models import User
from ...services import ServiceError, file_record
from ...i18n import fmt_datetime
from ...timeutil import local_today, to_local, utcnow
from ..customers.models import Customer
from ..department.models import responsible_csr
from .stock import services as stock
from .stock.quantities import to_kg_m3
from .models import (
    COMMITTED_STATES,
    OPEN_STATES,
    ORDER_DIRECTION,
    WITH_OPERATIONS,
    Contract,
    Order,
    OrderEvent,
    OrderVersion,
    Product,
    RateItem,
    Tank,
    TankLease,
    Verification,
    VerificationResult,
)


class OperationsError(ServiceError):
    """A rule of the operations register refused the change."""


ZERO = Decimal(0)


# ------------------------------------------------------------------------------- the stock book (stock/)

def planning_density(product: Product | None) -> Decimal:
    """The density used to plan (the product's typical density at 20 °C; water when it is not known)."""
    value = product.density_typical if product is not None else None
    return Decimal(value) if value else Decimal(1000)


def book_stock(customer_id=None, tank_id=None, product_id=None, customs_status=None, at=None) -> tuple[Decimal, Decimal]:
    """Book stock (kg, m³ at 20 °C) from the stock book."""
    return stock.book_stock(customer_id=customer_id, tank_id=tank_id, product_id=product_id,
                            customs_status=customs_status, at=at)


# ------------------------------------------------------------------------------------------ products

PRODUCT_FIELDS = ("code", "name_en", "name_zh", "product_class", "vcf_group", "un_number", "hazard_class",
                  "density_min", "density_max", "compatibility_group", "stock_tolerance_pct")


def list_products(q: str = "", include_retired: bool = True):
    stmt = db.select(Product).order_by(Product.code)
    q = (q or "").strip()
    if q:
        stmt = stmt.filter(db.or_(Product.code.icontains(q, autoescape=True), Product.name_en.icontains(q, autoescape=True),
                                  Product.name_zh.contains(q, autoescape=True)))
    if not include_retired:
        stmt = stmt.filter(Product.retired.is_(False))
    return stmt


def product_label(code: str, name_en: str, name_zh: str) -> str:
    """`Product.choice_label` from the columns alone (choice lists load no whole rows)."""
    return f"{code} {name_zh} / {name_en}" if name_zh else f"{code} {name_en}"


def product_choices(current_id: int | None = None) -> list[tuple[int, str]]:
    """Products for order forms: those not retired, and the one already chosen."""
    rows = db.session.execute(db.select(Product.id, Product.code, Product.name_en, Product.name_zh).filter(
        db.or_(Product.retired.is_(False), Product.id == (current_id or 0))).order_by(Product.code))
    return [(pid, product_label(code, name_en, name_zh)) for pid, code, name_en, name_zh in rows]


def _check_density(values: dict) -> None:
    lo, hi = values.get("density_min"), values.get("density_max")
    if lo is not None and hi is not None and lo > hi:
        raise OperationsError(_l("The lowest density is above the highest."), field="density_min")


def _save_master(model, row, values: dict, fields, user: User, key: str, used_message):
    """Create or update a master-data row from the named fields; its key (code, number) must be free."""
    existing = db.session.scalar(db.select(model).filter_by(**{key: values[key]}))
    if existing is not None and existing is not row:
        raise OperationsError(used_message, field=key)
    if row is None:
        row = model(created_by_id=user.id)
        db.session.add(row)
    for name in fields:
        if name in values:
            setattr(row, name, values[name])
    db.session.flush()
    return row


def save_product(values: dict, product: Product | None, user: User) -> Product:
    _check_density(values)
    return _save_master(Product, product, values, PRODUCT_FIELDS, user, "code",
                        _l("The code %(code)s is already used.", code=values["code"]))


def product_in_use(product: Product) -> bool:
    used = db.session.scalar(db.select(db.func.count(Order.id)).filter_by(product_id=product.id))
    tanks = db.session.scalar(db.select(db.func.count(Tank.id)).filter_by(product_id=product.id))
    return bool(used or tanks)


def retire_product(product: Product, user: User, retired: bool = True) -> None:
    product.retired = retired
    db.session.flush()


def delete_product(product: Product, user: User) -> None:
    if product_in_use(product):
        raise OperationsError(_l("%(code)s is used by orders or tanks: retire it instead.", code=product.code))
    db.session.delete(product)
    db.session.flush()


# --------------------------------------------------------------------------------------------- tanks

TANK_FIELDS = ("code", "area", "nominal_m3", "safe_fill_m3", "heated", "bonded", "product_id", "status", "notes")


def list_tanks(q: str = "", area: str = "", status: str = "", customer_id: int | None = None,
               product_id: int | None = None):
    stmt = db.select(Tank).order_by(Tank.code).options(selectinload(Tank.product))
    q = (q or "").strip()
    if q:
        stmt = stmt.filter(Tank.code.icontains(q, autoescape=True))
    if area:
        stmt = stmt.filter(Tank.area == area)
    if status:
        stmt = stmt.filter(Tank.status == status)
    if product_id:
        stmt = stmt.filter(Tank.product_id == product_id)
    if customer_id:
        today = local_today()
        stmt = stmt.filter(Tank.id.in_(db.select(TankLease.tank_id).filter(
            TankLease.customer_id == customer_id, TankLease.starts_on <= today,
            db.or_(TankLease.ends_on.is_(None), TankLease.ends_on >= today))))
    return stmt


def tank_areas() -> list[str]:
    return [a for a in db.session.scalars(db.select(Tank.area).distinct().order_by(Tank.area)) if a]


def tank_label(code: str, area: str, product_code: str | None) -> str:
    """`Tank.choice_label` from the columns alone: "T-101 (A · GASOIL)"."""
    product = f" · {product_code}" if product_code is not None else ""
    return f"{code} ({area}{product})"


def tank_choices() -> list[tuple[int, str]]:
    """Every tank by code with its area and current product (one query over four columns)."""
    rows = db.session.execute(db.select(Tank.id, Tank.code, Tank.area, Product.code)
                              .outerjoin(Product, Product.id == Tank.product_id).order_by(Tank.code))
    return [(tid, tank_label(code, area, product_code)) for tid, code, area, product_code in rows]


def save_tank(values: dict, tank: Tank | None, user: User) -> Tank:
    if values["safe_fill_m3"] > values["nominal_m3"]:
        raise OperationsError(_l("The safe fill cannot exceed the nominal capacity."), field="safe_fill_m3")
    return _save_master(Tank, tank, values, TANK_FIELDS, user, "code",
                        _l("The code %(code)s is already used.", code=values["code"]))


def _overlaps(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return a_start <= (b_end or date.max) and b_start <= (a_end or date.max)


def add_lease(tank: Tank, customer_id: int, starts_on: date, ends_on: date | None, user: User,
              contract_id: int | None = None) -> TankLease:
    if ends_on is not None and ends_on < starts_on:
        raise OperationsError(_l("The lease ends before it starts."), field="ends_on")
    for lease in tank.leases:
        if lease.customer_id == customer_id and _overlaps(lease.starts_on, lease.ends_on, starts_on, ends_on):
            raise OperationsError(_l("This customer already leases %(tank)s in that period.", tank=tank.code),
                                  field="starts_on")
    if contract_id:
        contract = db.session.get(Contract, contract_id)
        if contract is None or contract.customer_id != customer_id:
            raise OperationsError(_l("The contract is not this customer's."), field="contract_id")
    lease = TankLease(tank=tank, customer_id=customer_id, contract_id=contract_id or None,
                      starts_on=starts_on, ends_on=ends_on)
    db.session.add(lease)
    db.session.flush()
    return lease


def remove_lease(lease: TankLease, user: User) -> None:
    db.session.delete(lease)
    db.session.flush()


def tank_stock_by_customer(tank: Tank) -> list[tuple[Customer, Decimal, Decimal]]:
    """(customer, kg, m³) of each customer with book stock in the tank (leaseholders first)."""
    ids = {lease.customer_id for lease in tank.leases}
    ids |= set(db.session.scalars(db.select(Order.customer_id).filter_by(tank_id=tank.id).distinct()))
    out = []
    by_customer = stock.book_stock_by_customer(tank.id, ids)
    for customer in db.session.scalars(db.select(Customer).filter(Customer.id.in_(ids)).order_by(Customer.code)):
        kg, m3 = by_customer.get(customer.id, (ZERO, ZERO))
        if kg or m3:
            out.append((customer, kg, m3))
    return out


# ----------------------------------------------------------------------------------------- contracts

CONTRACT_FIELDS = ("customer_id", "number", "starts_on", "ends_on", "currency", "notes")


def list_contracts(customer_id: int | None = None):
    stmt = (db.select(Contract).order_by(Contract.starts_on.desc(), Contract.number)
            .options(selectinload(Contract.customer), selectinload(Contract.rate_items)))
    if customer_id:
        stmt = stmt.filter(Contract.customer_id == customer_id)
    return stmt


def contract_choices(customer_id: int | None = None) -> list[tuple[int, str]]:
    """(id, "NUMBER · CUSTOMER") in the order of `list_contracts`, from the columns alone."""
    stmt = (db.select(Contract.id, Contract.number, Customer.code).join(Customer, Customer.id == Contract.customer_id)
            .order_by(Contract.starts_on.desc(), Contract.number))
    if customer_id:
        stmt = stmt.filter(Contract.customer_id == customer_id)
    return [(cid, f"{number} · {code}") for cid, number, code in db.session.execute(stmt)]


def save_contract(values: dict, contract: Contract | None, user: User) -> Contract:
    if values.get("ends_on") and values["ends_on"] < values["starts_on"]:
        raise OperationsError(_l("The contract ends before it starts."), field="ends_on")
    return _save_master(Contract, contract, values, CONTRACT_FIELDS, user, "number",
                        _l("The number %(number)s is already used.", number=values["number"]))


def add_rate_item(contract: Contract, kind: str, description: str, rate: Decimal, unit: str, user: User) -> RateItem:
    if rate < 0:
        raise OperationsError(_l("A rate cannot be negative."), field="rate")
    item = RateItem(contract=contract, kind=kind, description=description, rate=rate, unit=unit)
    db.session.add(item)
    db.session.flush()
    return item


def remove_rate_item(item: RateItem, user: User) -> None:
    db.session.delete(item)
    db.session.flush()


def contract_covering(customer_id: int, day: date) -> Contract | None:
    return db.session.scalar(db.select(Contract).filter(
        Contract.customer_id == customer_id, Contract.starts_on <= day,
        db.or_(Contract.ends_on.is_(None), Contract.ends_on >= day)).order_by(Contract.starts_on.desc()).limit(1))


# -------------------------------------------------------------------------------------------- orders

ORDER_FIELDS = ("kind", "customer_id", "product_id", "tank_id", "to_tank_id", "counterparty_id", "quantity", "unit",
                "customs_status", "customs_released", "planned_start", "planned_end", "vessel_name", "truck_plates",
                "instruction_ref", "remarks")
# Fields whose change after hand-over makes a new version (remarks and the release flag too: operations act on them).
VERSIONED_FIELDS = ORDER_FIELDS


def next_order_number(year: int | None = None) -> str:
    year = year or local_today().year
    prefix = f"ORD-{year}-"
    last = db.session.scalar(db.select(db.func.max(Order.number)).filter(Order.number.like(prefix + "%")))
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:05d}"


def list_orders(*, customer_id=None, product_id=None, tank_id=None, state: str = "", kind: str = "",
                date_from: date | None = None, date_to: date | None = None, q: str = "", owner_id=None):
    """Orders newest first, filtered; the dates filter on the planned start (else the day received), kept in
    the indexed `Order.sort_at`. ``owner_id``: the orders that CSR is responsible for ("mine")."""
    stmt = db.select(Order).order_by(Order.sort_at.desc(), Order.id.desc())
    if owner_id:
        stmt = stmt.filter(Order.owner_id == owner_id)
    if customer_id:
        stmt = stmt.filter(db.or_(Order.customer_id == customer_id, Order.counterparty_id == customer_id))
    if product_id:
        stmt = stmt.filter(Order.product_id == product_id)
    if tank_id:
        stmt = stmt.filter(db.or_(Order.tank_id == tank_id, Order.to_tank_id == tank_id))
    if state == "open":
        stmt = stmt.filter(Order.state.in_(OPEN_STATES))
    elif state:
        stmt = stmt.filter(Order.state == state)
    if kind:
        stmt = stmt.filter(Order.kind == kind)
    when = Order.sort_at
    if date_from:
        stmt = stmt.filter(when >= _local_midnight(date_from))
    if date_to:
        stmt = stmt.filter(when < _local_midnight(date_to, 1))
    q = (q or "").strip()
    if q:
        stmt = stmt.filter(db.or_(Order.number.icontains(q, autoescape=True),
                                  Order.vessel_name.icontains(q, autoescape=True),
                                  Order.instruction_ref.icontains(q, autoescape=True)))
    return stmt


def paginate_orders(stmt, *, page: int, per_page: int):
    """One page of `list_orders(...)` with its rows' customers, products and tanks loaded at once; the total
    is counted over the filtered ids alone (no ORDER BY, no joins)."""
    from sqlalchemy.orm import joinedload

    ids = stmt.order_by(None).with_only_columns(Order.id).subquery()
    stmt = stmt.options(joinedload(Order.customer), joinedload(Order.counterparty), joinedload(Order.product),
                        joinedload(Order.tank), joinedload(Order.to_tank), joinedload(Order.owner))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=False)
    pagination.total = db.session.scalar(db.select(db.func.count()).select_from(ids))
    return pagination


def _local_midnight(day: date, plus_days: int = 0) -> datetime:
    from datetime import timedelta

    from ...timeutil import from_local

    return from_local(datetime.combine(day + timedelta(days=plus_days), datetime.min.time()))


def _clean(values: dict) -> dict:
    out = {k: values.get(k) for k in ORDER_FIELDS if k in values}
    kind = out.get("kind")
    if kind != "tank_transfer":
        out["to_tank_id"] = None
    if kind != "ownership_transfer":
        out["counterparty_id"] = None
    for key in ("vessel_name", "truck_plates", "instruction_ref", "remarks"):
        if key in out:
            out[key] = (out[key] or "").strip()
    for key in ("to_tank_id", "counterparty_id"):
        if key in out:
            out[key] = out[key] or None
    if out.get("planned_start") and out.get("planned_end") and out["planned_end"] < out["planned_start"]:
        raise OperationsError(_l("The planned window ends before it starts."), field="planned_end")
    return out


def _owner_id(owner_id) -> int | None:
    """A responsible CSR chosen on the form (a CSR or CS manager), else None."""
    if not owner_id:
        return None
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.active or not owner.has_role("csr", "cs_manager"):
        raise OperationsError(_l("Choose a CSR."), field="owner_id")
    return owner.id


def create_order(values: dict, user: User, *, instruction_file: tuple[str, bytes] | None = None,
                 received_at: datetime | None = None) -> Order:
    """A new order in state received; its responsible CSR is the one chosen, else the customer's responsible CSR."""
    owner_id = _owner_id(values.get("owner_id"))
    values = _clean(values)
    if owner_id is None:
        owner = responsible_csr(values.get("customer_id"))
        owner_id = owner.id if owner is not None else None
    order = Order(number=next_order_number(), state="received", version=1, created_by_id=user.id,
                  received_at=received_at or utcnow(), owner_id=owner_id, **values)
    db.session.add(order)
    db.session.flush()
    db.session.add(OrderVersion(order=order, version=1, by_id=user.id, reason="",
                                changes=json.dumps({k: [None, _shown(k, getattr(order, k))] for k in values
                                                    if getattr(order, k) not in (None, "")}, ensure_ascii=False)))
    if instruction_file:
        file_instruction(order, *instruction_file, user=user)
    db.session.flush()
    return order


def file_instruction(order: Order, filename: str, data: bytes, *, user: User) -> None:
    """File the customer's instruction (letter, e-mail) in the archive's order series; the order links it."""
    record = file_record(
        "order", f"{order.number} {order.kind_label} — {order.customer.code}"
        + (f" ({order.instruction_ref})" if order.instruction_ref else ""),
        [(filename, data)], user, customer_id=order.customer_id, source_key=f"order:{order.id}:instruction",
        event_date=order.plan_date)
    order.instruction_record_id = record.id
    db.session.flush()


_REFERENCES = {"customer_id": Customer, "counterparty_id": Customer, "product_id": Product, "tank_id": Tank,
               "to_tank_id": Tank}


def _shown(key: str, value):
    """A value as operations read it in the list of changes: codes for customers, products and tanks."""
    model = _REFERENCES.get(key)
    if model is not None and value:
        row = db.session.get(model, value)
        return row.code if row is not None else value
    if isinstance(value, datetime):
        return fmt_datetime(value)
    return _jsonable(value)


def _changes(order: Order, values: dict) -> dict:
    return {k: [_shown(k, getattr(order, k)), _shown(k, v)] for k, v in values.items() if getattr(order, k) != v}


def amend_order(order: Order, values: dict, user: User, reason: str = "") -> dict:
    """Change an order. Before hand-over, the order changes in place (a verified order is verified again).
    From hand-over on, each amendment is a new version: what changed is kept, the rules run again on it
    (an error refuses the amendment) and operations see that they hold an older version until they
    acknowledge the new one. Returns the changes."""
    if order.state not in OPEN_STATES:
        raise OperationsError(_l("A %(state)s order cannot be changed.", state=order.state_label))
    owner_id = _owner_id(values.get("owner_id"))
    if owner_id is not None and owner_id != order.owner_id:  # who is in charge: no new version for operations
        order.owner_id = owner_id
    values = _clean(values)
    changes = _changes(order, values)
    if not changes:
        return {}
    after_handover = order.state in WITH_OPERATIONS
    if after_handover and not (reason or "").strip():
        raise OperationsError(_l("Give the reason for the amendment: operations will see it."), field="reason")
    for key, value in values.items():
        setattr(order, key, value)
    if after_handover:
        from . import verification

        results = verification.run_rules(verification.draft_from_order(order))
        errors = [r for r in results if r.outcome == "error"]
        if errors:
            raise OperationsError(_l("The amendment fails verification: %(message)s", message=str(errors[0].message)))
        order.version += 1
        db.session.add(OrderVersion(order=order, version=order.version, by_id=user.id, reason=reason.strip(),
                                    changes=json.dumps(changes, ensure_ascii=False)))
        _record_verification(order, results, user, warning_reason=reason.strip(), passed=True)
    elif order.state == "verified":
        order.state = "received"
        order.verified_at = None
        order.verified_by_id = None
    db.session.flush()
    return changes


def _record_verification(order: Order, results, user: User, *, warning_reason: str, passed: bool) -> Verification:
    from .verification import english

    check = Verification(order=order, version=order.version, by_id=user.id, passed=passed,
                         warning_reason=warning_reason, at=utcnow())
    for r in results:
        params = dict(r.params)
        if hasattr(r.message, "_args") and r.message._args:  # the message itself, to show it in any language
            params["_msgid"] = r.message._args[0]
            params["_values"] = {k: str(v) for k, v in (r.message._kwargs or {}).items()}
        check.results.append(VerificationResult(rule=r.rule, outcome=r.outcome,
                                                params=json.dumps(params, ensure_ascii=False, default=str),
                                                message=english(r.message)))
    db.session.add(check)
    db.session.flush()
    return check


def verify_order(order: Order, user: User, warning_reason: str = "") -> Verification:
    """Run every rule on the order and keep the results. Errors block; warnings pass only with a reason.
    On success the order is verified. The verification is kept either way (the route commits it)."""
    from . import verification

    if order.state not in ("received", "verified"):
        raise OperationsError(_l("Only a received order can be verified."))
    results = verification.run_rules(verification.draft_from_order(order))
    errors = [r for r in results if r.outcome == "error"]
    warnings = [r for r in results if r.outcome == "warning"]
    reason = (warning_reason or "").strip()
    passed = not errors and (not warnings or bool(reason))
    check = _record_verification(order, results, user, warning_reason=reason if warnings else "", passed=passed)
    if passed:
        order.state = "verified"
        order.verified_at = check.at
        order.verified_by_id = user.id
    db.session.flush()
    return check


def hand_over(order: Order, user: User) -> None:
    if order.state != "verified":
        raise OperationsError(_l("Only a verified order can be handed over to operations."))
    order.state = "handed_over"
    order.handed_over_at = utcnow()
    order.handed_over_by_id = user.id
    order.acknowledged_version = None
    db.session.flush()


def acknowledge(order: Order, user: User) -> None:
    """Operations confirm they hold the order's current version."""
    if order.state not in WITH_OPERATIONS:
        raise OperationsError(_l("Only an order handed over to operations can be acknowledged."))
    order.acknowledged_version = order.version
    order.acknowledged_at = utcnow()
    order.acknowledged_by_id = user.id
    db.session.flush()


def start_execution(order: Order, user: User) -> None:
    if order.state != "handed_over":
        raise OperationsError(_l("Only an order handed over to operations can start."))
    if order.acknowledged_version != order.version:
        acknowledge(order, user)
    order.state = "in_execution"
    db.session.flush()


def complete_order(order: Order, actual_qty: Decimal, unit: str, density_20: Decimal, at: datetime, user: User) -> None:
    """Record the actual quantity (kg and m³ at 20 °C from the quantity, unit and density at 20 °C) and post
    the order to the stock book."""
    if order.state not in WITH_OPERATIONS:
        raise OperationsError(_l("Only an order in execution can be completed."))
    if actual_qty is None or actual_qty <= 0:
        raise OperationsError(_l("The actual quantity must be positive."), field="actual_qty")
    if density_20 is None or density_20 <= 0:
        raise OperationsError(_l("The density at 20 °C must be positive."), field="density_20")
    if at > utcnow():
        raise OperationsError(_l("This time is in the future."), field="completed_at")
    order.actual_kg, order.actual_m3 = to_kg_m3(actual_qty, unit, density_20)
    order.density_20 = density_20
    order.completed_at = at
    order.state = "completed"
    db.session.flush()
    stock.post_order(order, user)  # the stock book's movements of this order


def close_order(order: Order, state: str, reason: str, user: User) -> None:
    """Cancel (the customer withdrew it) or reject (it cannot be done), with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise OperationsError(_l("Give the reason."), field="reason")
    if state == "rejected" and order.state not in ("received", "verified"):
        raise OperationsError(_l("Only an order not yet handed over can be rejected."))
    if state == "cancelled" and order.state not in OPEN_STATES:
        raise OperationsError(_l("Only an open order can be cancelled."))
    if any(e.closed_at is None for e in order.events):
        raise OperationsError(_l("Close the order's abnormal events first."))
    order.state = state
    order.closed_reason = reason
    db.session.flush()


def committed_elsewhere(order, *, customer_id, tank_id, product_id, customs_status) -> tuple[Decimal, Decimal]:
    """(kg, m³) that other verified but not completed orders take out of this stock position."""
    kg = m3 = ZERO
    stmt = db.select(Order).filter(Order.state.in_(COMMITTED_STATES), Order.customer_id == customer_id,
                                   Order.tank_id == tank_id, Order.product_id == product_id,
                                   Order.customs_status == customs_status,
                                   Order.kind.in_([k for k, d in ORDER_DIRECTION.items() if d != "in"]))
    if getattr(order, "id", None):
        stmt = stmt.filter(Order.id != order.id)
    for other in db.session.scalars(stmt):
        k, m = to_kg_m3(other.quantity, other.unit, planning_density(other.product))
        kg += k
        m3 += m
    return kg, m3


def planned_receipts_m3(order, tank_id: int) -> Decimal:
    """m³ other verified but not completed orders will put into the tank."""
    total = ZERO
    stmt = db.select(Order).filter(Order.state.in_(COMMITTED_STATES), db.or_(
        db.and_(Order.tank_id == tank_id, Order.kind.in_([k for k, d in ORDER_DIRECTION.items() if d == "in"])),
        db.and_(Order.to_tank_id == tank_id, Order.kind == "tank_transfer")))
    if getattr(order, "id", None):
        stmt = stmt.filter(Order.id != order.id)
    for other in db.session.scalars(stmt):
        total += to_kg_m3(other.quantity, other.unit, planning_density(other.product))[1]
    return total


def order_status_counts() -> dict[str, int]:
    rows = db.session.execute(db.select(Order.state, db.func.count(Order.id)).group_by(Order.state))
    return {state: n for state, n in rows}


def plan_date_of(planned_start: datetime | None) -> date:
    return to_local(planned_start).date() if planned_start else local_today()


# -------------------------------------------------------------------------------------- abnormal events

EVENT_FIELDS = ("kind", "occurred_at", "description", "impact", "informed_at", "informed_by_id", "informed_how")


def save_event(order: Order, values: dict, user: User, event: OrderEvent | None = None) -> OrderEvent:
    if event is None:
        event = OrderEvent(order=order, created_by_id=user.id)
        db.session.add(event)
    elif event.closed_at is not None:
        raise OperationsError(_l("A closed event cannot be changed."))
    for key in EVENT_FIELDS:
        if key in values:
            setattr(event, key, values[key] if values[key] != 0 else None)
    event.informed_how = event.informed_how or ""
    if event.informed_at and event.occurred_at and event.informed_at < event.occurred_at:
        raise OperationsError(_l("The customer cannot be informed before the event."), field="informed_at")
    db.session.flush()
    return event


def close_event(event: OrderEvent, user: User) -> None:
    if event.closed_at is not None:
        return
    if not event.customer_informed:
        raise OperationsError(_l("Record when, by whom and how the customer was informed before closing the event."))
    event.closed_at = utcnow()
    event.closed_by_id = user.id
    db.session.flush()


def complaint_link(event: OrderEvent) -> str:
    """The complaints form, pre-filled from the event (customer, title, description, source)."""
    order = event.order
    when = fmt_datetime(event.occurred_at)
    description = f"{event.kind_label} — {order.number} ({order.kind_label}, {order.product.code}, {order.tank.code}), {when}\n\n" \
                  f"{event.description}"
    if event.impact:
        description += f"\n\n{event.impact}"
    args = {"customer_id": order.customer_id, "title": f"{order.number}: {event.kind_label}"[:200],
            "description": description, "source": f"order:{order.id}"}
    from ...web import safe_url

    return safe_url("complaints.create", **args) or "/complaints/new?" + urlencode(args)


def customs_entries(order: Order) -> list:
    """The customs entries of this order's parcel, oldest first: the order page and form show its customs
    release from them (a released entry, not a tick on the order, is what verification looks at)."""
    from .customs.models import CustomsEntry

    return list(db.session.scalars(db.select(CustomsEntry).where(CustomsEntry.order_id == order.id)
                                   .order_by(CustomsEntry.lodged_on, CustomsEntry.id)))
