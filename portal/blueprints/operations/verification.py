"""Verification of a customer order: named rules, each with a clear message in the user's language.

A rule takes a draft (the order as typed, or as stored) and answers one `RuleResult`: `ok`, `warning`
(may be passed with a recorded reason) or `error` (blocks). `run_rules` runs them all in order; the
order form shows them live while typing and "verify" keeps every result with the verification.
Messages are lazy strings: they are read in the language of whoever looks at them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ..customers.models import Customer
from . import services
from .models import ORDER_DIRECTION, SHIP_KINDS, UNITS, Order, Product, Tank

FULL_WARNING = Decimal("0.95")


@dataclass
class RuleResult:
    rule: str
    outcome: str  # ok | warning | error
    message: object  # a lazy string
    params: dict = field(default_factory=dict)

    @property
    def label(self):
        return RULE_LABELS[self.rule]


@dataclass
class Rule:
    name: str
    label: object
    check: Callable


RULES: list[Rule] = []
RULE_LABELS: dict[str, object] = {}


def rule(name: str, label):
    def decorator(fn):
        RULES.append(Rule(name, label, fn))
        RULE_LABELS[name] = label
        return fn

    return decorator


def english(message) -> str:
    """The message in English, as kept with the verification for the record."""
    with force_locale("en"):
        return str(message)


def _ok(name: str, **params) -> RuleResult:
    return RuleResult(name, "ok", RULE_LABELS[name], params)


def _error(name: str, message, **params) -> RuleResult:
    return RuleResult(name, "error", message, params)


def _warning(name: str, message, **params) -> RuleResult:
    return RuleResult(name, "warning", message, params)


# ------------------------------------------------------------------------------------------- drafts

def draft_from_order(order: Order) -> SimpleNamespace:
    return SimpleNamespace(
        id=order.id, kind=order.kind, customer=order.customer, product=order.product, tank=order.tank,
        to_tank=order.to_tank, counterparty=order.counterparty, quantity=order.quantity, unit=order.unit,
        customs_status=order.customs_status, customs_released=order.customs_released,
        planned_start=order.planned_start, vessel_name=order.vessel_name, day=order.plan_date)


def draft_from_values(values: dict, order: Order | None = None) -> SimpleNamespace:
    """A draft from the order form's values (ids are looked up; unknown ids are None)."""

    def get(model, key):
        ident = values.get(key)
        return db.session.get(model, ident) if ident else None

    return SimpleNamespace(
        id=order.id if order is not None else None, kind=values.get("kind") or "",
        customer=get(Customer, "customer_id"), product=get(Product, "product_id"), tank=get(Tank, "tank_id"),
        to_tank=get(Tank, "to_tank_id") if values.get("kind") == "tank_transfer" else None,
        counterparty=get(Customer, "counterparty_id") if values.get("kind") == "ownership_transfer" else None,
        quantity=values.get("quantity"), unit=values.get("unit") or "",
        customs_status=values.get("customs_status") or "duty_paid",
        customs_released=bool(values.get("customs_released")), planned_start=values.get("planned_start"),
        vessel_name=(values.get("vessel_name") or "").strip(),
        day=services.plan_date_of(values.get("planned_start")))


def run_rules(draft) -> list[RuleResult]:
    return [r.check(draft) for r in RULES]


def _direction(d) -> str:
    return ORDER_DIRECTION.get(d.kind, "")


def _qty(d) -> tuple[Decimal, Decimal] | None:
    """(kg, m³) of the draft's quantity, planned with the product's typical density."""
    if d.quantity is None or d.unit not in UNITS or d.quantity <= 0:
        return None
    return services.to_kg_m3(d.quantity, d.unit, services.planning_density(d.product))


def _t(kg: Decimal) -> str:
    return f"{(kg / 1000).quantize(Decimal('0.001')):,}"


def _m3(m3: Decimal) -> str:
    return f"{m3.quantize(Decimal('0.001')):,}"


def _day(d: date | datetime) -> str:
    return d.isoformat()


# -------------------------------------------------------------------------------------------- rules

@rule("quantity_positive", _l("Quantity positive with a unit"))
def quantity_positive(d) -> RuleResult:
    if d.quantity is None or d.quantity <= 0:
        return _error("quantity_positive", _l("The quantity must be a positive number."))
    if d.unit not in UNITS:
        return _error("quantity_positive", _l("Give the unit of the quantity: t, m³ at 20 °C or bbl."))
    return _ok("quantity_positive")


@rule("customer_active", _l("Customer active"))
def customer_active(d) -> RuleResult:
    if d.customer is None:
        return _error("customer_active", _l("Choose the customer."))
    if not d.customer.active:
        return _error("customer_active", _l("Customer %(customer)s is not active.", customer=d.customer.code),
                      customer=d.customer.code)
    return _ok("customer_active")


@rule("contract_covers", _l("Contract covering the date"))
def contract_covers(d) -> RuleResult:
    if d.customer is None:
        return _error("contract_covers", _l("Choose the customer."))
    if services.contract_covering(d.customer.id, d.day) is None:
        return _error("contract_covers", _l("Customer %(customer)s has no contract covering %(day)s.",
                                            customer=d.customer.code, day=_day(d.day)),
                      customer=d.customer.code, day=_day(d.day))
    return _ok("contract_covers")


@rule("product_known", _l("Product known"))
def product_known(d) -> RuleResult:
    if d.product is None:
        return _error("product_known", _l("Choose the product."))
    if d.product.retired:
        return _error("product_known", _l("Product %(product)s is retired.", product=d.product.code),
                      product=d.product.code)
    return _ok("product_known")


def _receiving_tank(d) -> Tank | None:
    direction = _direction(d)
    if direction == "in":
        return d.tank
    if direction == "transfer":
        return d.to_tank
    return None


@rule("transfer_parties", _l("Transfer names its other side"))
def transfer_parties(d) -> RuleResult:
    if d.kind == "tank_transfer":
        if d.to_tank is None:
            return _error("transfer_parties", _l("A tank-to-tank transfer needs the receiving tank."))
        if d.tank is not None and d.to_tank.id == d.tank.id:
            return _error("transfer_parties", _l("The receiving tank must differ from the tank it comes from."))
    if d.kind == "ownership_transfer":
        if d.counterparty is None:
            return _error("transfer_parties", _l("A transfer of ownership needs the customer who receives the stock."))
        if d.customer is not None and d.counterparty.id == d.customer.id:
            return _error("transfer_parties", _l("The receiving customer must differ from the customer."))
    return _ok("transfer_parties")


@rule("product_allowed", _l("Product allowed in the tank"))
def product_allowed(d) -> RuleResult:
    tank = _receiving_tank(d)
    if d.product is None or tank is None or tank.product is None or tank.product_id == d.product.id:
        return _ok("product_allowed")
    current = tank.product
    if (current.compatibility_group or "") != (d.product.compatibility_group or ""):
        kg, m3 = services.book_stock(tank_id=tank.id)
        if m3 > 0 or kg > 0:
            return _error("product_allowed", _l(
                "Tank %(tank)s holds %(current)s, which must not be mixed with %(product)s (compatibility groups %(group_a)s and %(group_b)s).",
                tank=tank.code, current=current.code, product=d.product.code,
                group_a=current.compatibility_group or "—", group_b=d.product.compatibility_group or "—"),
                tank=tank.code, current=current.code, product=d.product.code)
    return _ok("product_allowed")


@rule("tank_in_service", _l("Tank in service"))
def tank_in_service(d) -> RuleResult:
    if d.tank is None:
        return _error("tank_in_service", _l("Choose the tank."))
    for tank in (d.tank, d.to_tank):
        if tank is not None and tank.status != "in_service":
            return _error("tank_in_service", _l("Tank %(tank)s is not in service (%(status)s).",
                                                tank=tank.code, status=tank.status_label),
                          tank=tank.code, status=tank.status)
    return _ok("tank_in_service")


@rule("tank_leased", _l("Tank leased to the customer"))
def tank_leased(d) -> RuleResult:
    if d.tank is None or d.customer is None:
        return _ok("tank_leased")
    for tank in (d.tank, d.to_tank):
        if tank is None:
            continue
        if any(lease.customer_id == d.customer.id for lease in tank.leases_on(d.day)):
            continue
        kg, m3 = services.book_stock(customer_id=d.customer.id, tank_id=tank.id)
        if kg > 0 or m3 > 0:
            continue
        return _error("tank_leased", _l("Tank %(tank)s is not leased to %(customer)s on %(day)s and holds no stock of theirs.",
                                        tank=tank.code, customer=d.customer.code, day=_day(d.day)),
                      tank=tank.code, customer=d.customer.code, day=_day(d.day))
    return _ok("tank_leased")


@rule("bonded_tank", _l("Bonded cargo in a bonded tank"))
def bonded_tank(d) -> RuleResult:
    tank = _receiving_tank(d)
    if d.customs_status == "bonded" and tank is not None and not tank.bonded:
        return _error("bonded_tank", _l("Bonded cargo can only go into a bonded tank; %(tank)s is not bonded.",
                                        tank=tank.code), tank=tank.code)
    return _ok("bonded_tank")


@rule("ullage", _l("Enough ullage"))
def ullage(d) -> RuleResult:
    tank = _receiving_tank(d)
    qty = _qty(d)
    if tank is None or qty is None:
        return _ok("ullage")
    stock_m3 = services.book_stock(tank_id=tank.id)[1]
    planned = services.planned_receipts_m3(d, tank.id)
    free = Decimal(tank.safe_fill_m3) - stock_m3 - planned
    params = {"tank": tank.code, "free": _m3(free), "needed": _m3(qty[1]), "stock": _m3(stock_m3), "planned": _m3(planned)}
    if qty[1] > free:
        return _error("ullage", _l(
            "Not enough ullage in %(tank)s: %(free)s m³ free below the safe fill (book stock %(stock)s m³, other planned receipts %(planned)s m³), %(needed)s m³ needed.",
            **params), **params)
    return _ok("ullage", **params)


@rule("stock_available", _l("Enough book stock"))
def stock_available(d) -> RuleResult:
    direction = _direction(d)
    qty = _qty(d)
    if direction not in ("out", "transfer", "ownership") or qty is None or None in (d.customer, d.tank, d.product):
        return _ok("stock_available")
    kg, m3 = services.book_stock(customer_id=d.customer.id, tank_id=d.tank.id, product_id=d.product.id,
                                 customs_status=d.customs_status)
    other_kg, other_m3 = services.committed_elsewhere(d, customer_id=d.customer.id, tank_id=d.tank.id,
                                                      product_id=d.product.id, customs_status=d.customs_status)
    by_mass = d.unit == "t"
    available = (kg - other_kg) if by_mass else (m3 - other_m3)
    needed = qty[0] if by_mass else qty[1]
    fmt = _t if by_mass else _m3
    unit = "t" if by_mass else "m³"
    params = {"customer": d.customer.code, "tank": d.tank.code, "product": d.product.code,
              "status": str(_customs_label(d.customs_status)), "available": fmt(available), "needed": fmt(needed),
              "committed": fmt(other_kg if by_mass else other_m3), "unit": unit}
    if needed > available:
        return _error("stock_available", _l(
            "Not enough %(status)s book stock of %(product)s for %(customer)s in %(tank)s: %(available)s %(unit)s available after %(committed)s %(unit)s of other verified orders, %(needed)s %(unit)s needed.",
            **params), **params)
    return _ok("stock_available", **params)


def _customs_label(status: str):
    from .models import CUSTOMS_STATUSES

    return CUSTOMS_STATUSES.get(status, status)


@rule("customs_release", _l("Customs clearance of the delivery"))
def customs_release(d) -> RuleResult:
    """A delivery of duty-paid stock needs duty-paid book stock (customs releases) to cover it; bonded stock
    leaves only as a re-export that released re-export entries of the order cover."""
    qty = _qty(d)
    if _direction(d) != "out" or qty is None or None in (d.customer, d.tank, d.product):
        return _ok("customs_release")
    from .customs import services as customs

    by_mass = d.unit == "t"
    fmt = _t if by_mass else _m3
    unit = "t" if by_mass else "m³"
    needed = qty[0] if by_mass else qty[1]
    params = {"customer": d.customer.code, "tank": d.tank.code, "product": d.product.code, "needed": fmt(needed),
              "unit": unit}
    if d.customs_status == "bonded":
        cover = customs.reexport_cover(d.id)
        covered = cover.kg if by_mass else cover.m3
        params["covered"] = fmt(covered)
        if covered >= needed:
            return _ok("customs_release", **params)
        if cover.lodged:
            params["entries"] = ", ".join(cover.lodged)
            return _error("customs_release", _l(
                "Bonded stock leaves only as a re-export released by customs: re-export entry %(entries)s is lodged but not yet released (%(covered)s of %(needed)s %(unit)s released).",
                **params), **params)
        return _error("customs_release", _l(
            "Bonded stock leaves only as a re-export released by customs: released re-export entries of this order cover %(covered)s %(unit)s, %(needed)s %(unit)s needed.",
            **params), **params)
    kg, m3 = services.book_stock(customer_id=d.customer.id, tank_id=d.tank.id, product_id=d.product.id,
                                 customs_status="duty_paid")
    other_kg, other_m3 = services.committed_elsewhere(d, customer_id=d.customer.id, tank_id=d.tank.id,
                                                      product_id=d.product.id, customs_status="duty_paid")
    available = (kg - other_kg) if by_mass else (m3 - other_m3)
    if needed <= available:
        return _ok("customs_release", **params)
    bonded_kg, bonded_m3 = services.book_stock(customer_id=d.customer.id, tank_id=d.tank.id, product_id=d.product.id,
                                               customs_status="bonded")
    bonded = bonded_kg if by_mass else bonded_m3
    if bonded <= 0:  # nothing waits for customs: the stock rule reports the shortage
        return _ok("customs_release", **params)
    params.update(available=fmt(available), bonded=fmt(bonded))
    return _error("customs_release", _l(
        "Duty-paid stock of %(product)s for %(customer)s in %(tank)s covers %(available)s %(unit)s after other verified orders, %(needed)s %(unit)s needed; %(bonded)s %(unit)s is still bonded: customs must release it before it is delivered duty-paid.",
        **params), **params)


@rule("vessel_named", _l("Ship orders name a vessel"))
def vessel_named(d) -> RuleResult:
    if d.kind in SHIP_KINDS and not d.vessel_name:
        return _error("vessel_named", _l("A ship order must name the vessel."))
    return _ok("vessel_named")


@rule("tank_fill", _l("Tank not too full"))
def tank_fill(d) -> RuleResult:
    tank = _receiving_tank(d)
    qty = _qty(d)
    if tank is None or qty is None or not tank.safe_fill_m3:
        return _ok("tank_fill")
    after = services.book_stock(tank_id=tank.id)[1] + services.planned_receipts_m3(d, tank.id) + qty[1]
    share = after / Decimal(tank.safe_fill_m3)
    if share > FULL_WARNING:
        pct = f"{(share * 100).quantize(Decimal('0.1'))}"
        return _warning("tank_fill", _l("Tank %(tank)s will be %(pct)s %% full of its safe fill.", tank=tank.code, pct=pct),
                        tank=tank.code, pct=pct)
    return _ok("tank_fill")


@rule("product_change", _l("Product change"))
def product_change(d) -> RuleResult:
    tank = _receiving_tank(d)
    if tank is None or d.product is None or tank.product is None or tank.product_id == d.product.id:
        return _ok("product_change")
    return _warning("product_change", _l("Tank %(tank)s last held %(current)s: the change to %(product)s may need tank cleaning.",
                                         tank=tank.code, current=tank.product.code, product=d.product.code),
                    tank=tank.code, current=tank.product.code, product=d.product.code)


def summary(results: list[RuleResult]) -> dict:
    return {
        "errors": [r for r in results if r.outcome == "error"],
        "warnings": [r for r in results if r.outcome == "warning"],
        "ok": [r for r in results if r.outcome == "ok"],
    }
