"""Billing records for finance: chargeable lines per customer and month priced from the contract's rate
items, the monthly billing run (draft → reviewed → agreed → exported), corrections after export.

Services flush, never commit.

How each rate item is priced (the contract covering the day, or the completion day of an order, applies;
every rate item of a kind gives its own lines):

- ``storage`` per m³ per month (``m3_month``): leased capacity. Per lease and day the tank's nominal
  capacity, shared equally when several leases cover the tank that day: quantity = capacity m³ × days,
  divisor = days in the month × leases sharing the tank.
- ``storage`` per t per month (``t_month``): average book stock. Quantity = the sum over the month's days
  of the customer's closing book stock in the tank (t × days, from the stock book's daily balances),
  divisor = days in the month (sum ÷ days = the average stock). ``t_day``: the same sum, divisor 1.
- ``throughput`` per t (``t``) or per m³ at 20 °C (``m3``): t (or m³) received and delivered by the
  customer's completed orders of the month (receipts and deliveries, one line per direction and product;
  tank-to-tank transfers and transfers of ownership are not throughput).
- ``heating`` per t per day (``t_day``; ``t_month`` divides by the days in the month): the customer's
  closing book stock in heated tanks summed over the days with stock (t × days heated).
- ``tank_cleaning``, ``blending``, ``extra``: the chargeable services recorded for the month
  (``BillingService``), priced by the rate item of the same kind and unit (``job``, ``t``, ``m3``).

A line's amount is ``quantity × rate ÷ divisor`` rounded half up to two decimals, once; the run's total is
the sum of the line amounts. ``period_locked`` is the one place that says whether a customer's month may
still change.
"""
from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ....extensions import db
from ....services import ServiceError, file_record
from ....storage import ContentStore
from ....timeutil import local_today, to_local, utcnow
from ...customers.models import Customer
from ..models import ORDER_DIRECTION, RATE_KINDS, Contract, Order, OrderEvent, Tank, TankLease
from ..stock.models import StockDaily
from ..stock.services import closing_rows
from .models import AGREED_HOW, SERVICE_KINDS, SERVICE_UNITS, BillingExport, BillingLine, BillingRun, BillingService, BillingSource

CENT = Decimal("0.01")
ZERO = Decimal(0)
MAX_AMOUNT = Decimal("1000000000000")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class BillingError(ServiceError):
    """A rule of the billing records refused the change."""


# ------------------------------------------------------------------------------------------ months

def month_of(day: date) -> date:
    """The first day of ``day``'s month (the key of a billing month)."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def days_in(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def month_days(month: date) -> list[date]:
    return [month + timedelta(days=n) for n in range(days_in(month))]


def parse_month(text) -> date | None:
    """``YYYY-MM`` (years 2000-2999) as the first day of the month, else None."""
    match = _MONTH_RE.fullmatch((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def last_closed_month(today: date | None = None) -> date:
    return previous_month(month_of(today or local_today()))


def money(value) -> Decimal:
    """Round an amount to two decimals (half up): done once, on a line's amount."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------------ period lock

PeriodLock = Callable[[int, date], bool]
_PERIOD_LOCKS: list[PeriodLock] = []


def register_period_lock(fn: PeriodLock) -> PeriodLock:
    """Register ``fn(customer_id, month) -> bool``: True when that customer's month is locked elsewhere.

    The month lock of the three-way reconciliation (the manager's month sign-off) plugs in here; once it
    returns True for a month, that month's billing run can no longer be prepared again, and services and
    corrections go to the next open month. Registering the same function twice keeps it once.
    """
    if fn not in _PERIOD_LOCKS:
        _PERIOD_LOCKS.append(fn)
    return fn


def period_locked(customer_id: int, month: date) -> bool:
    """Whether the customer's billing month is locked: today, when its billing run has been exported to
    finance; and when any registered period lock (``register_period_lock``) says so."""
    month = month_of(month)
    state = db.session.scalar(select(BillingRun.state).where(BillingRun.customer_id == customer_id,
                                                             BillingRun.month == month))
    if state == "exported":
        return True
    return any(fn(customer_id, month) for fn in _PERIOD_LOCKS)


# ------------------------------------------------------------------------------------- computing

@dataclass
class Draft:
    """A chargeable line before it is stored."""

    kind: str
    description: str
    quantity: Decimal
    quantity_unit: str
    rate: Decimal
    rate_unit: str
    divisor: int
    contract: Contract
    rate_item_id: int | None
    tank_id: int | None = None
    product_id: int | None = None
    sort: tuple = ()
    sources: list[dict] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.rate / self.divisor)

    def signature(self) -> tuple:
        return (self.kind, self.description, self.quantity, self.quantity_unit, Decimal(self.rate), self.divisor,
                self.amount, self.rate_item_id, self.tank_id, self.product_id)


def line_signature(line: BillingLine) -> tuple:
    return (line.kind, line.description, Decimal(line.quantity), line.quantity_unit, Decimal(line.rate), line.divisor,
            Decimal(line.amount), line.rate_item_id, line.tank_id, line.product_id)


def _contracts(customer_id: int, first: date, last: date) -> list[Contract]:
    return list(db.session.scalars(
        select(Contract).where(Contract.customer_id == customer_id, Contract.starts_on <= last,
                               (Contract.ends_on.is_(None)) | (Contract.ends_on >= first))
        .order_by(Contract.starts_on.desc(), Contract.id.desc())))


def _contract_on(contracts: list[Contract], day: date) -> Contract | None:
    """The contract covering the day (the latest begun when several do)."""
    for contract in contracts:
        if contract.covers(day):
            return contract
    return None


def _items(contract: Contract | None, kind: str, units) -> list:
    if contract is None:
        return []
    return [item for item in contract.rate_items if item.kind == kind and item.unit in units]


def _ranges(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive runs of sorted days as (first, last) pairs."""
    out: list[list[date]] = []
    for day in sorted(days):
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1][1] = day
        else:
            out.append([day, day])
    return [(a, b) for a, b in out]


def _lease_lines(customer_id: int, month: date, contracts: list[Contract]) -> list[Draft]:
    first, last = month, month + timedelta(days=days_in(month) - 1)
    overlapping = (TankLease.starts_on <= last) & ((TankLease.ends_on.is_(None)) | (TankLease.ends_on >= first))
    mine = list(db.session.scalars(select(TankLease).where(TankLease.customer_id == customer_id, overlapping)
                                   .order_by(TankLease.id)))
    if not mine:
        return []
    tank_ids = {lease.tank_id for lease in mine}
    all_leases = list(db.session.scalars(select(TankLease).where(TankLease.tank_id.in_(tank_ids), overlapping)))
    groups: dict[tuple, list[date]] = defaultdict(list)
    refs: dict[tuple, tuple] = {}
    for lease in mine:
        for day in month_days(month):
            if not lease.covers(day):
                continue
            contract = lease.contract if lease.contract is not None and lease.contract.covers(day) else None
            contract = contract or _contract_on(contracts, day)
            sharing = sum(1 for other in all_leases if other.tank_id == lease.tank_id and other.covers(day))
            for item in _items(contract, "storage", ("m3_month",)):
                key = (item.id, lease.id, sharing)
                groups[key].append(day)
                refs[key] = (contract, item, lease)
    out = []
    for key, days in groups.items():
        contract, item, lease = refs[key]
        sharing = key[2]
        tank = lease.tank
        capacity = Decimal(tank.nominal_m3)
        description = f"{tank.code} · {capacity.normalize():f} m³" + (f" · 1/{sharing}" if sharing > 1 else "")
        draft = Draft(kind="storage", description=description, quantity=capacity * len(days), quantity_unit="m3_day",
                      rate=Decimal(item.rate), rate_unit=item.unit, divisor=days_in(month) * sharing, contract=contract,
                      rate_item_id=item.id, tank_id=tank.id, sort=(tank.code, item.id, sharing))
        for a, b in _ranges(days):
            draft.sources.append({"lease_id": lease.id, "tank_id": tank.id, "day": a, "day_to": b,
                                  "quantity": capacity * ((b - a).days + 1),
                                  "note": f"{capacity.normalize():f} m³ × {(b - a).days + 1}"})
        out.append(draft)
    return out


def daily_stock_t(customer_id: int, month: date) -> dict[int, dict[date, Decimal]]:
    """The customer's closing book stock in t per tank and day of the month (all products and customs
    statuses), from the stock book's daily balances."""
    first, last = month, month + timedelta(days=days_in(month) - 1)
    current: dict[tuple, Decimal] = {}
    for row in closing_rows(first, before=True, customer_id=customer_id):
        current[(row.tank_id, row.product_id, row.customs_status)] = Decimal(row.closing_kg)
    by_day: dict[date, list] = defaultdict(list)
    for row in db.session.execute(
            select(StockDaily.tank_id, StockDaily.product_id, StockDaily.customs_status, StockDaily.day,
                   StockDaily.closing_kg)
            .where(StockDaily.customer_id == customer_id, StockDaily.day >= first, StockDaily.day <= last)):
        by_day[row.day].append(row)
    out: dict[int, dict[date, Decimal]] = defaultdict(dict)
    for day in month_days(month):
        for row in by_day.get(day, ()):
            current[(row.tank_id, row.product_id, row.customs_status)] = Decimal(row.closing_kg)
        per_tank: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for (tank_id, _p, _c), kg in current.items():
            per_tank[tank_id] += kg
        for tank_id, kg in per_tank.items():
            out[tank_id][day] = kg / 1000
    return out


def _stock_lines(customer_id: int, month: date, contracts: list[Contract], stock: dict, tanks: dict) -> list[Draft]:
    out = []
    for kind, units in (("storage", ("t_month", "t_day")), ("heating", ("t_day", "t_month"))):
        groups: dict[tuple, list[tuple[date, Decimal]]] = defaultdict(list)
        refs: dict[tuple, tuple] = {}
        for tank_id, days in stock.items():
            tank = tanks[tank_id]
            if kind == "heating" and not tank.heated:
                continue
            for day, t in sorted(days.items()):
                contract = _contract_on(contracts, day)
                for item in _items(contract, kind, units):
                    if t <= 0:
                        continue
                    key = (item.id, tank_id)
                    groups[key].append((day, t))
                    refs[key] = (contract, item)
        for (item_id, tank_id), days in groups.items():
            contract, item = refs[(item_id, tank_id)]
            tank = tanks[tank_id]
            quantity = sum((t for _d, t in days), ZERO)
            divisor = days_in(month) if item.unit == "t_month" else 1
            draft = Draft(kind=kind, description=f"{tank.code} · {len(days)} d", quantity=quantity,
                          quantity_unit="t_day", rate=Decimal(item.rate), rate_unit=item.unit, divisor=divisor,
                          contract=contract, rate_item_id=item.id, tank_id=tank_id, sort=(tank.code, item.id))
            draft.sources = [{"tank_id": tank_id, "day": d, "quantity": t, "note": ""} for d, t in days]
            out.append(draft)
    return out


def _throughput_lines(customer_id: int, month: date, contracts: list[Contract]) -> list[Draft]:
    first, after = month, next_month(month)
    orders = list(db.session.scalars(
        select(Order).where(Order.customer_id == customer_id, Order.state == "completed",
                            Order.completed_at.is_not(None),
                            Order.completed_at >= _utc_start(first) - timedelta(days=1),
                            Order.completed_at < _utc_start(after) + timedelta(days=1))
        .order_by(Order.completed_at, Order.id)))
    groups: dict[tuple, list[tuple[Order, Decimal]]] = defaultdict(list)
    refs: dict[tuple, tuple] = {}
    for order in orders:
        direction = ORDER_DIRECTION.get(order.kind)
        day = to_local(order.completed_at).date()
        if direction not in ("in", "out") or not (first <= day < after):
            continue
        contract = _contract_on(contracts, day)
        for item in _items(contract, "throughput", ("t", "m3")):
            qty = Decimal(order.actual_kg or 0) / 1000 if item.unit == "t" else Decimal(order.actual_m3 or 0)
            key = (item.id, direction, order.product_id)
            groups[key].append((order, qty))
            refs[key] = (contract, item, order.product)
    out = []
    for (item_id, direction, product_id), members in groups.items():
        contract, item, product = refs[(item_id, direction, product_id)]
        label = "进库 receipts" if direction == "in" else "出库 deliveries"
        draft = Draft(kind="throughput", description=f"{product.code} · {label}",
                      quantity=sum((q for _o, q in members), ZERO), quantity_unit=item.unit, rate=Decimal(item.rate),
                      rate_unit=item.unit, divisor=1, contract=contract, rate_item_id=item.id, product_id=product_id,
                      sort=(0 if direction == "in" else 1, product.code, item.id))
        draft.sources = [{"order_id": o.id, "tank_id": o.tank_id, "day": to_local(o.completed_at).date(), "quantity": q,
                          "note": o.number} for o, q in members]
        out.append(draft)
    return out


def _utc_start(day: date) -> datetime:
    from ..stock.services import day_start

    return day_start(day)


def month_services(customer_id: int, month: date) -> list[BillingService]:
    return list(db.session.scalars(
        select(BillingService).where(BillingService.customer_id == customer_id, BillingService.day >= month,
                                     BillingService.day < next_month(month))
        .order_by(BillingService.day, BillingService.id)))


def _service_lines(customer_id: int, month: date, contracts: list[Contract]) -> tuple[list[Draft], list[BillingService]]:
    out, unpriced = [], []
    for service in month_services(customer_id, month):
        contract = _contract_on(contracts, service.day)
        items = _items(contract, service.kind, (service.unit,))
        if not items:
            unpriced.append(service)
            continue
        for item in items:
            tank = f"{service.tank.code} · " if service.tank else ""
            draft = Draft(kind=service.kind, description=f"{service.day.isoformat()} · {tank}{service.description}"[:300],
                          quantity=Decimal(service.quantity), quantity_unit=service.unit, rate=Decimal(item.rate),
                          rate_unit=item.unit, divisor=1, contract=contract, rate_item_id=item.id,
                          tank_id=service.tank_id, sort=(service.day, service.id, item.id))
            draft.sources = [{"service_id": service.id, "order_id": service.order_id, "tank_id": service.tank_id,
                              "day": service.day, "quantity": Decimal(service.quantity), "note": service.description[:300]}]
            out.append(draft)
    return out, unpriced


KIND_ORDER = {kind: n for n, kind in enumerate(RATE_KINDS)}


def compute_lines(customer_id: int, month: date) -> list[Draft]:
    """The month's chargeable lines for the customer, priced from the contracts' rate items, in the order
    a run shows them (by kind, then tank or product). Reads only; the same data gives the same lines."""
    month = month_of(month)
    first, last = month, month + timedelta(days=days_in(month) - 1)
    contracts = _contracts(customer_id, first, last)
    if not contracts:
        return []
    drafts = _lease_lines(customer_id, month, contracts)
    if any(item.kind in ("storage", "heating") and item.unit in ("t_month", "t_day")
           for contract in contracts for item in contract.rate_items):
        stock = daily_stock_t(customer_id, month)
        tanks = {t.id: t for t in db.session.scalars(select(Tank).where(Tank.id.in_(list(stock))))} if stock else {}
        drafts += _stock_lines(customer_id, month, contracts, stock, tanks)
    drafts += _throughput_lines(customer_id, month, contracts)
    drafts += _service_lines(customer_id, month, contracts)[0]
    drafts.sort(key=lambda d: (KIND_ORDER.get(d.kind, 99), d.sort, d.description))
    return drafts


def unpriced_services(run: BillingRun) -> list[BillingService]:
    """The month's services no rate item of the contract prices (shown on the run's page)."""
    month = run.month
    contracts = _contracts(run.customer_id, month, month + timedelta(days=days_in(month) - 1))
    return _service_lines(run.customer_id, month, contracts)[1]


def is_current(run: BillingRun) -> bool:
    """Whether the run's computed lines are what the records give now."""
    stored = [line_signature(line) for line in run.lines if not line.is_correction]
    return stored == [d.signature() for d in compute_lines(run.customer_id, run.month)]


# ----------------------------------------------------------------------------------------- runs

def run_for(customer_id: int, month: date) -> BillingRun | None:
    return db.session.scalar(select(BillingRun).where(BillingRun.customer_id == customer_id,
                                                      BillingRun.month == month_of(month)))


def _new_run(customer: Customer, month: date, currency: str = "CNY") -> BillingRun:
    run = BillingRun(customer_id=customer.id, month=month_of(month), state="draft", currency=currency)
    run.customer = customer
    db.session.add(run)
    db.session.flush()
    return run


def prepare_run(customer: Customer, month: date, user, *, today: date | None = None) -> BillingRun:
    """Compute (or compute again) the customer's run of ``month``: its computed lines are replaced by the
    lines the records give now; correction lines stay. Refused for a locked month, a month not yet over,
    and a run past draft (reopen it first)."""
    month = month_of(month)
    if month >= month_of(today or local_today()):
        raise BillingError(_l("A month is billed once it is over."), field="month")
    if period_locked(customer.id, month):
        raise BillingError(_l("The billing of %(month)s for this customer is locked (exported): corrections go "
                              "into the next month's run.", month=f"{month:%Y-%m}"), field="month")
    run = run_for(customer.id, month)
    if run is not None and run.state != "draft":
        raise BillingError(_l("This run has been %(state)s: reopen it before preparing it again.",
                              state=run.state_label), field="month")
    drafts = compute_lines(customer.id, month)
    currencies = {d.contract.currency for d in drafts}
    if len(currencies) > 1:
        raise BillingError(_l("The customer's contracts of this month are in different currencies (%(currencies)s): "
                              "bill them separately.", currencies=", ".join(sorted(currencies))), field="month")
    if run is None:
        run = _new_run(customer, month)
    corrections = [line for line in run.lines if line.is_correction]
    for line in [line for line in run.lines if not line.is_correction]:
        run.lines.remove(line)
    db.session.flush()
    if currencies:
        run.currency = currencies.pop()
    elif not corrections:
        contracts = _contracts(customer.id, month, month + timedelta(days=days_in(month) - 1))
        if contracts:
            run.currency = contracts[0].currency
    position = 0
    for draft in drafts:
        position += 1
        line = BillingLine(position=position, kind=draft.kind, description=draft.description, contract_id=draft.contract.id,
                           rate_item_id=draft.rate_item_id, tank_id=draft.tank_id, product_id=draft.product_id,
                           quantity=draft.quantity, quantity_unit=draft.quantity_unit, rate=draft.rate,
                           rate_unit=draft.rate_unit, divisor=draft.divisor, amount=draft.amount)
        line.sources = [BillingSource(**source) for source in draft.sources]
        run.lines.append(line)
    for line in sorted(corrections, key=lambda c: c.position):
        position += 1
        line.position = position
    run.prepared_at = utcnow()
    run.prepared_by_id = getattr(user, "id", None)
    db.session.flush()
    return run


def review_run(run: BillingRun, user, *, now: datetime | None = None) -> None:
    """The CSR has checked the draft's lines."""
    if run.state != "draft":
        raise BillingError(_l("Only a draft is reviewed."))
    if run.prepared_at is None:
        raise BillingError(_l("Prepare the run before reviewing it."))
    run.state = "reviewed"
    run.reviewed_at = now or utcnow()
    run.reviewed_by_id = getattr(user, "id", None)
    db.session.flush()


def reopen_run(run: BillingRun, user) -> None:
    """Back to draft (a reviewed or agreed run that needs changing); review and agreement are cleared."""
    if run.state not in ("reviewed", "agreed"):
        raise BillingError(_l("Only a reviewed or agreed run is reopened; an exported run is corrected in the "
                              "next month's run."))
    run.state = "draft"
    run.reviewed_at = run.reviewed_by_id = None
    run.agreed_at = run.agreement_recorded_at = run.agreement_recorded_by_id = None
    run.agreed_by_name = run.agreed_how = run.agreement_note = ""
    db.session.flush()


def record_agreement(run: BillingRun, user, *, by_name: str, at: datetime, how: str, note: str = "",
                     now: datetime | None = None) -> None:
    """The customer agreed to the reviewed run: who (at the customer), when, how."""
    now = now or utcnow()
    if run.state != "reviewed":
        raise BillingError(_l("The customer agrees to a run once the CSR has reviewed it."))
    by_name = (by_name or "").strip()
    if not by_name:
        raise BillingError(_l("Name the person at the customer who agreed."), field="by_name")
    if how not in AGREED_HOW:
        raise BillingError(_l("Choose how the customer agreed."), field="how")
    if at is None or at > now:
        raise BillingError(_l("This time is in the future."), field="at")
    if run.reviewed_at is not None and at < run.reviewed_at - timedelta(days=1):
        raise BillingError(_l("The agreement cannot be earlier than the review."), field="at")
    run.state = "agreed"
    run.agreed_by_name = by_name[:200]
    run.agreed_at = at
    run.agreed_how = how
    run.agreement_note = (note or "").strip()
    run.agreement_recorded_by_id = getattr(user, "id", None)
    run.agreement_recorded_at = now
    db.session.flush()


# ---------------------------------------------------------------------------------------- export

EXPORT_HEADER = [
    "结算单 Run", "客户代码 Customer code", "客户 Customer", "月份 Month", "行 Line", "类别 Kind", "说明 Description",
    "合同 Contract", "油罐 Tank", "产品 Product", "数量 Quantity", "数量单位 Quantity unit", "费率 Rate",
    "费率单位 Rate unit", "除数 Divisor", "金额 Amount", "币种 Currency", "更正 Corrects", "更正原因 Reason",
    "来源 Sources",
]


def _source_text(line: BillingLine) -> str:
    parts = []
    for s in line.sources:
        if s.order is not None:
            parts.append(s.order.number)
        elif s.service_id is not None:
            parts.append(f"SVC-{s.service_id}")
        elif s.day_to is not None:
            parts.append(f"{s.day.isoformat()}..{s.day_to.isoformat()}")
        elif s.day is not None:
            parts.append(s.day.isoformat())
    return ", ".join(parts)


def plain(value) -> Decimal:
    """A Decimal without trailing zeros and without an exponent (160000.000000 -> 160000)."""
    value = Decimal(value).normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def export_rows(run: BillingRun) -> list[list]:
    """The lines sheet of the export, one row per line in the run's order."""
    customer = run.customer
    name = f"{customer.name_zh} / {customer.name_en}" if customer.name_zh else customer.name_en
    rows = []
    for line in run.lines:
        rows.append([
            run.number, customer.code, name, run.month_label, line.position, line.kind, line.description,
            line.contract.number if line.contract else "", line.tank.code if line.tank else "",
            line.product.code if line.product else "", plain(line.quantity),
            line.quantity_unit, Decimal(line.rate), line.rate_unit, line.divisor, Decimal(line.amount), run.currency,
            line.corrects.reference if line.corrects else "", line.reason, _source_text(line),
        ])
    return rows


def export_sheets(run: BillingRun, version: int, user, now: datetime) -> list:
    summary = [
        ["结算单 Run", run.number], ["客户代码 Customer code", run.customer.code], ["月份 Month", run.month_label],
        ["币种 Currency", run.currency], ["合计 Total", run.total], ["行数 Lines", len(run.lines)],
        ["版本 Version", version],
        ["复核 Reviewed by", run.reviewed_by.display_name if run.reviewed_by else ""], ["复核时间 Reviewed at", run.reviewed_at],
        ["客户确认人 Agreed by (customer)", run.agreed_by_name], ["确认时间 Agreed at", run.agreed_at],
        ["确认方式 Agreed how", run.agreed_how],
        ["导出人 Exported by", getattr(user, "display_name", "") or ""], ["导出时间 Exported at", now],
    ]
    return [("计费明细 Lines", EXPORT_HEADER, export_rows(run)), ("汇总 Summary", ["项目 Item", "值 Value"], summary)]


def export_store() -> ContentStore:
    return ContentStore(str(current_app.config["ARCHIVE_DIR"]) + "/billing")


def read_export(export: BillingExport) -> bytes:
    with export_store().open(export.sha256) as fh:
        return fh.read()


def export_run(run: BillingRun, user, *, now: datetime | None = None) -> BillingExport:
    """Export the agreed run to finance: the XLSX is kept (sha256) and filed in the archive, and the run
    is locked. Exporting an exported run again makes a new version of the same lines."""
    from ....xlsx import workbook_bytes

    now = now or utcnow()
    if run.state not in ("agreed", "exported"):
        raise BillingError(_l("A run is exported once the customer has agreed to it."))
    if not run.lines:
        raise BillingError(_l("This run has no lines to export."))
    version = len(run.exports) + 1
    data = workbook_bytes(export_sheets(run, version, user, now))
    sha = export_store().put(data)
    filename = f"{run.number}-v{version}.xlsx"
    record = file_record(
        kind="billing", title=f"Billing records {run.number} / 计费记录", files=[(filename, data)], user=user,
        customer_id=run.customer_id, event_date=run.month + timedelta(days=days_in(run.month) - 1),
        source_key=f"ops-billing-run:{run.id}",
        description=f"Version {version}: {len(run.lines)} lines, total {run.total} {run.currency}",
    )
    export = BillingExport(run_id=run.id, version=version, filename=filename, sha256=sha, size=len(data),
                           total=run.total, line_count=len(run.lines), exported_at=now,
                           exported_by_id=getattr(user, "id", None), archive_record_id=getattr(record, "id", None))
    run.exports.append(export)
    run.state = "exported"
    db.session.flush()
    return export


# ------------------------------------------------------------------------------------ corrections

def correction_month(customer_id: int, after: date) -> date:
    """The first month after ``after`` that is not locked: where a correction goes."""
    month = next_month(month_of(after))
    while period_locked(customer_id, month):
        month = next_month(month)
    return month


def add_correction(line: BillingLine, user, *, amount: Decimal, reason: str, quantity: Decimal | None = None) -> BillingLine:
    """A credit (negative) or debit (positive) line against a line of an exported run, entered in the
    customer's next open month's run (a draft is made when there is none)."""
    original = line.run
    if original.state != "exported":
        raise BillingError(_l("Only a line of an exported run is corrected: prepare the draft again instead."))
    if line.is_correction:
        raise BillingError(_l("Correct the original line, not a correction."))
    reason = (reason or "").strip()
    if not reason:
        raise BillingError(_l("Give the reason."), field="reason")
    if amount is None or amount == 0:
        raise BillingError(_l("A correction has an amount (negative: credit, positive: debit)."), field="amount")
    amount = Decimal(amount)
    if amount != money(amount) or abs(amount) >= MAX_AMOUNT:
        raise BillingError(_l("Give the amount with at most two decimals."), field="amount")
    month = correction_month(original.customer_id, original.month)
    target = run_for(original.customer_id, month)
    if target is None:
        target = _new_run(original.customer, month, original.currency)
    if target.state != "draft":
        raise BillingError(_l("The run of %(month)s has been %(state)s: reopen it to add a correction.",
                              month=target.month_label, state=target.state_label))
    if target.lines and target.currency != original.currency:
        raise BillingError(_l("The run of %(month)s is in another currency.", month=target.month_label))
    position = max((other.position for other in target.lines), default=0) + 1
    correction = BillingLine(
        position=position, kind=line.kind, description=f"更正 Correction {line.reference}"[:300],
        contract_id=line.contract_id, rate_item_id=line.rate_item_id, tank_id=line.tank_id, product_id=line.product_id,
        quantity=quantity or ZERO, quantity_unit=line.quantity_unit, rate=ZERO, rate_unit=line.rate_unit, divisor=1,
        amount=amount, corrects_id=line.id, reason=reason, created_by_id=getattr(user, "id", None))
    target.lines.append(correction)
    correction.corrects = line
    db.session.flush()
    return correction


def corrections_of(line: BillingLine) -> list[BillingLine]:
    return list(db.session.scalars(select(BillingLine).where(BillingLine.corrects_id == line.id).order_by(BillingLine.id)))


# -------------------------------------------------------------------------------------- services

def record_service(*, customer: Customer, day: date, kind: str, description: str, quantity: Decimal, unit: str,
                   order_number: str = "", event_id: int | None = None, tank: Tank | None = None, user=None,
                   today: date | None = None) -> BillingService:
    """Record a chargeable service for the run of its month (refused once that month is locked or its
    run is past draft)."""
    if kind not in SERVICE_KINDS:
        raise BillingError(_l("Choose the service."), field="kind")
    if unit not in SERVICE_UNITS:
        raise BillingError(_l("Choose the unit."), field="unit")
    if day is None or day > (today or local_today()):
        raise BillingError(_l("This day is in the future."), field="day")
    if quantity is None or quantity <= 0:
        raise BillingError(_l("The quantity must be positive."), field="quantity")
    description = (description or "").strip()
    if not description:
        raise BillingError(_l("Describe the service."), field="description")
    month = month_of(day)
    if period_locked(customer.id, month):
        raise BillingError(_l("The billing of %(month)s is locked: record the service as a correction in a later "
                              "month.", month=f"{month:%Y-%m}"), field="day")
    run = run_for(customer.id, month)
    if run is not None and run.state != "draft":
        raise BillingError(_l("The run of %(month)s has been %(state)s: reopen it first.", month=run.month_label,
                              state=run.state_label), field="day")
    order = None
    number = (order_number or "").strip()
    if number:
        order = db.session.scalar(select(Order).where(Order.number == number))
        if order is None or customer.id not in (order.customer_id, order.counterparty_id):
            raise BillingError(_l("No order %(number)s of this customer.", number=number), field="order_number")
    event = None
    if event_id:
        event = db.session.get(OrderEvent, event_id)
        if event is None or order is None or event.order_id != order.id:
            raise BillingError(_l("The abnormal event is not one of this order's."), field="order_number")
    service = BillingService(customer_id=customer.id, day=day, kind=kind, description=description[:300],
                             quantity=quantity, unit=unit, order_id=order.id if order else None,
                             event_id=event.id if event else None, tank_id=tank.id if tank else None, created_by=user)
    db.session.add(service)
    db.session.flush()
    return service


def delete_service(service: BillingService) -> None:
    """Remove a service recorded by mistake, while its month's run is still a draft."""
    run = run_for(service.customer_id, service.day)
    if period_locked(service.customer_id, service.day) or (run is not None and run.state != "draft"):
        raise BillingError(_l("The run of this month is no longer a draft: the service stays."))
    used = db.session.scalar(select(BillingSource.id).where(BillingSource.service_id == service.id).limit(1))
    if used is not None and run is not None:
        for line in [line for line in run.lines if any(s.service_id == service.id for s in line.sources)]:
            run.lines.remove(line)
    db.session.flush()
    db.session.delete(service)
    db.session.flush()
