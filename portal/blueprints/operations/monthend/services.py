"""Month-end three-way reconciliation and the month lock. Services flush, never commit.

Per tank x customer x product at the end of a month: the physical quantity from the tank's month-end dip
(a tank shared by customers is split by their book share), the book stock (the terminal system's (PEPI)
imported figures, or the portal's own stock book), and the customs stock (an imported customs file, or the
bonded stock of the stock book), in m³ at 20 °C and t; variance = physical − book, and its percentage of
the book. The customs stock is checked on its own too: physical vs customs and book vs customs, of the
key's bonded part (the physical and book quantities times the key's bonded share of the stock book; the whole
quantity for a key that is all bonded), variance and its percentage of the customs figure, whenever the book or
the customs figures are imported (when both come from the stock book, the customs comparisons only repeat
physical vs book and are shown without a check of their own). Each of the three comparisons beyond the
product's tolerance opens an investigation (of that comparison) that blocks the
sign-off until it is resolved (approved by a manager) or accepted with a reason. The manager's sign-off locks the month:
``month_locked(day)`` is registered with the operations month lock (``operations/periods.py``), which the
stock book's posting and the recording of dips call, and with billing's period lock.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ....delegation import refuse_own
from ....extensions import db
from ....services import ServiceError
from ....timeutil import from_local, utcnow
from ...customers.models import Customer
from ..imports import ImportFailed, LineError, read_rows
from ..measure.models import Dip
from ..models import Product, Tank
from ..periods import register_month_lock
from ..stock.models import StockAdjustment, StockMovement
from .models import CLOSED_INVESTIGATION, VarianceInvestigation, MonthCorrection, MonthEnd, MonthFigure

ZERO = Decimal("0")
M3 = Decimal("0.001")
KG = Decimal("1")
PCT = Decimal("0.001")
DEFAULT_TOLERANCE = Decimal("0.300")
IMPORT_COLUMNS = ("tank_code", "customer_code", "product_code", "kg", "m3")


class MonthEndError(ServiceError):
    pass


# ------------------------------------------------------------------------------------------ months

def _pairs(stmt) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(stmt)]


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def last_day(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def month_end_at(month: date) -> datetime:
    """The last instant of the month in the portal's time zone, as aware UTC."""
    return from_local(datetime.combine(last_day(month), time(23, 59, 59, 999999)))


def parse_month(text) -> date | None:
    try:
        year, mon = str(text or "").split("-")[:2]
        return date(int(year), int(mon), 1)
    except (TypeError, ValueError):
        return None


def period_for(month: date) -> MonthEnd | None:
    return db.session.scalar(select(MonthEnd).where(MonthEnd.month == month_of(month)))


def get_or_create_period(month: date) -> MonthEnd:
    period = period_for(month)
    if period is None:
        period = MonthEnd(month=month_of(month), state="open")
        db.session.add(period)
        db.session.flush()
    return period


def month_locked(month: date) -> bool:
    """Whether the terminal's month of ``month`` (any day of it) is locked by the manager's sign-off."""
    return bool(db.session.scalar(select(func.count(MonthEnd.id)).where(
        MonthEnd.month == month_of(month), MonthEnd.state == "signed_off")))


def _lock_message(day: date) -> str | None:
    if month_locked(day):
        return str(_l("%(month)s is signed off and locked: enter the correction as an adjustment of an open month.",
                      month=month_of(day).strftime("%Y-%m")))
    return None


register_month_lock(_lock_message)


def _billing_lock(customer_id: int, month: date) -> bool:
    return month_locked(month)


def register_billing_lock() -> None:
    from ..billing.services import register_period_lock

    register_period_lock(_billing_lock)


def check_open(month: date) -> None:
    message = _lock_message(month)
    if message:
        raise MonthEndError(message)


# ---------------------------------------------------------------------------------- reconciliation

@dataclass
class Variance:
    tank_id: int
    tank_code: str
    customer_id: int
    customer_code: str
    product_id: int
    product_code: str
    dipped: bool
    shared: bool
    physical_m3: Decimal
    physical_t: Decimal
    book_m3: Decimal
    book_t: Decimal
    customs_m3: Decimal | None
    customs_t: Decimal | None
    variance_m3: Decimal
    variance_t: Decimal
    variance_pct: Decimal | None
    tolerance_pct: Decimal
    over_tolerance: bool
    investigation_id: int | None = None
    investigation_state: str | None = None
    # the customs side: of the key's bonded part (bonded_share_pct: the stock book's bonded share, None when all
    # of it is bonded); None where the key has no customs figure and no bonded stock (or no dip, for physical)
    customs_compared: bool = False
    # False when book and customs both come from the portal's stock book: the customs comparisons then only repeat
    # physical vs book (book − customs is nil by construction): shown, but no tolerance check of their own
    customs_own: bool = True
    bonded_share_pct: Decimal | None = None
    pc_variance_m3: Decimal | None = None
    pc_variance_t: Decimal | None = None
    pc_pct: Decimal | None = None
    pc_over: bool = False
    bc_variance_m3: Decimal | None = None
    bc_variance_t: Decimal | None = None
    bc_pct: Decimal | None = None
    bc_over: bool = False
    # comparison -> (investigation id, state), for every comparison that has an investigation
    investigations: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.tank_id, self.customer_id, self.product_id)

    def comparison_figures(self) -> dict[str, tuple[bool, Decimal | None, Decimal | None, Decimal | None]]:
        """comparison -> (over tolerance, variance m³, variance t, variance %), for the comparisons made."""
        out = {"book": (self.over_tolerance, self.variance_m3, self.variance_t, self.variance_pct)}
        if not self.customs_own:
            return out
        if self.pc_variance_m3 is not None:
            out["physical_customs"] = (self.pc_over, self.pc_variance_m3, self.pc_variance_t, self.pc_pct)
        if self.bc_variance_m3 is not None:
            out["book_customs"] = (self.bc_over, self.bc_variance_m3, self.bc_variance_t, self.bc_pct)
        return out

    @property
    def comparisons_over(self) -> list[str]:
        return [name for name, figures in self.comparison_figures().items() if figures[0]]

    @property
    def over_any(self) -> bool:
        return bool(self.comparisons_over)

    @property
    def blocking(self) -> bool:
        return any(self.investigations.get(name, (None, None))[1] not in CLOSED_INVESTIGATION
                   for name in self.comparisons_over)

    def investigation_for(self, comparison: str) -> tuple[int | None, str | None]:
        return self.investigations.get(comparison, (None, None))


def _t(kg: Decimal) -> Decimal:
    return (Decimal(kg) / 1000).quantize(M3)


def pct(variance: Decimal, book: Decimal) -> Decimal | None:
    if book == 0:
        return None
    return (variance * 100 / book).quantize(PCT)


def _book_from_stock(month: date) -> tuple[dict, dict]:
    """{(tank, customer, product): [kg, m3]} of all stock and of bonded stock at the end of the month, from the
    stock book (``stock.services.stock_by_key`` at the month's last instant)."""
    from ..stock.services import stock_by_key

    book: dict = defaultdict(lambda: [ZERO, ZERO])
    bonded: dict = defaultdict(lambda: [ZERO, ZERO])
    for key, kg, m3 in stock_by_key(at=month_end_at(month)):
        k = (key.tank_id, key.customer_id, key.product_id)
        book[k][0] += kg
        book[k][1] += m3
        if key.customs_status == "bonded":
            bonded[k][0] += kg
            bonded[k][1] += m3
    return book, bonded


def _figures(period: MonthEnd | None, source: str) -> dict:
    out: dict = defaultdict(lambda: [ZERO, ZERO])
    if period is None:
        return out
    for f in db.session.scalars(select(MonthFigure).where(MonthFigure.period_id == period.id,
                                                          MonthFigure.source == source)):
        key = (f.tank_id, f.customer_id, f.product_id)
        out[key][0] += f.kg
        out[key][1] += f.m3
    return out


def month_end_dips(month: date) -> dict[int, Dip]:
    """The latest dip of each tank on the last day of the month (the month-end dip), by tank id."""
    day = last_day(month)
    dips: dict[int, Dip] = {}
    for dip in db.session.scalars(select(Dip).where(Dip.day == day).order_by(Dip.taken_at, Dip.id)):
        dips[dip.tank_id] = dip
    return dips


@dataclass
class _DipFigures:
    product_id: int
    v20_m3: Decimal
    mass_air_kg: Decimal


def _dip_figures(month: date) -> dict[int, _DipFigures]:
    """The month-end dip's figures per tank (the latest dip of the last day), read as columns only."""
    rows = db.session.execute(select(Dip.tank_id, Dip.product_id, Dip.v20_m3, Dip.mass_air_kg)
                              .where(Dip.day == last_day(month)).order_by(Dip.taken_at, Dip.id))
    return {r[0]: _DipFigures(r[1], r[2], r[3]) for r in rows}


def book_figures(month: date, period: MonthEnd | None = None) -> tuple[dict, dict | None]:
    book, customs, _stock_book, _bonded = _all_figures(month, period if period is not None else period_for(month))
    return book, customs


def _all_figures(month: date, period: MonthEnd | None) -> tuple[dict, dict, dict, dict]:
    """The book and customs figures used, and the stock book's own (all statuses and bonded) for the shares."""
    stock_book, bonded = _book_from_stock(month)
    book = _figures(period, "pepi") if period is not None and period.book_source == "import" else stock_book
    if period is not None and period.customs_source == "import":
        customs = _figures(period, "customs")
    else:
        customs = bonded
    return book, customs, stock_book, bonded


def _share(part: Decimal, whole: Decimal) -> Decimal:
    """The bonded share of a key in the stock book: 1 when the book has nothing of it (all is customs' then)."""
    return Decimal(part) / Decimal(whole) if whole else Decimal(1)


def _over(variances: tuple, bases: tuple, tol: Decimal) -> tuple[bool, Decimal | None]:
    """(over tolerance, % of the first base) of a comparison: % in m³ or t beyond the tolerance, or a variance
    where the base is zero."""
    pcts = [pct(v, b) for v, b in zip(variances, bases)]
    over = any(p is not None and abs(p) > tol for p in pcts) or \
        (all(b == 0 for b in bases) and any(v != 0 for v in variances))
    return over, pcts[0]


def variances(month: date) -> list[Variance]:
    """Per tank x customer x product at the end of ``month``: physical, book, customs, variance and %."""
    month = month_of(month)
    period = period_for(month)
    book, customs, stock_book, bonded = _all_figures(month, period)
    customs_imported = period is not None and period.customs_source == "import"
    customs_own = customs_imported or (period is not None and period.book_source == "import")
    dips = _dip_figures(month)
    keys = {k for k, v in book.items() if v[0] or v[1]} | {k for k, v in customs.items() if v[0] or v[1]}
    tank_ids = {k[0] for k in keys}
    for tank_id, dip in dips.items():
        if tank_id not in tank_ids:
            keys.add((tank_id, 0, dip.product_id))  # dipped stock nobody owns in the book
    tanks = {t.id: t for t in db.session.scalars(select(Tank).where(Tank.id.in_({k[0] for k in keys})))} if keys else {}
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_({k[2] for k in keys})))} \
        if keys else {}
    customers = dict(_pairs(select(Customer.id, Customer.code).where(
        Customer.id.in_({k[1] for k in keys})))) if keys else {}
    tank_book: dict = defaultdict(lambda: [ZERO, ZERO, 0])
    for k in keys:
        if k[1]:
            tank_book[k[0]][0] += book[k][0] if k in book else ZERO
            tank_book[k[0]][1] += book[k][1] if k in book else ZERO
            tank_book[k[0]][2] += 1
    invs = {}
    if period is not None:
        for i in db.session.execute(select(VarianceInvestigation.tank_id, VarianceInvestigation.customer_id,
                                           VarianceInvestigation.product_id, VarianceInvestigation.comparison,
                                           VarianceInvestigation.id, VarianceInvestigation.state)
                                    .where(VarianceInvestigation.period_id == period.id)):
            invs.setdefault((i[0], i[1], i[2]), {})[i[3]] = (i[4], i[5])
    out: list[Variance] = []
    for key in keys:
        tank_id, customer_id, product_id = key
        b_kg, b_m3 = book[key] if key in book else (ZERO, ZERO)
        dip = dips.get(tank_id)
        tb_kg, tb_m3, sharing = tank_book[tank_id]
        if dip is None or (dip.product_id != product_id and customer_id):
            p_kg, p_m3 = ZERO, ZERO
            dipped = dip is not None
        elif not customer_id:
            p_kg, p_m3 = dip.mass_air_kg, dip.v20_m3
            dipped = True
        elif sharing <= 1 or tb_kg == 0:
            p_kg, p_m3 = dip.mass_air_kg, dip.v20_m3
            dipped = True
        else:
            share = b_kg / tb_kg
            p_kg, p_m3 = (dip.mass_air_kg * share).quantize(KG), (dip.v20_m3 * share).quantize(M3)
            dipped = True
        product = products.get(product_id)
        tol = Decimal(product.stock_tolerance_pct) if product is not None and product.stock_tolerance_pct is not None \
            else DEFAULT_TOLERANCE
        v_m3 = (Decimal(p_m3) - Decimal(b_m3)).quantize(M3)
        v_kg = (Decimal(p_kg) - Decimal(b_kg)).quantize(KG)
        over, pc_m3 = _over((v_m3, v_kg), (Decimal(b_m3), Decimal(b_kg)), tol)
        c = customs.get(key) if customs is not None and key in customs else None
        inv = invs.get(key, {})
        side = {}
        bd = bonded[key] if key in bonded else (ZERO, ZERO)
        has_customs = (c is not None and (customs_imported or c[0] or c[1])) or bool(bd[0] or bd[1])
        if customer_id and has_customs:
            c_kg, c_m3 = (Decimal(c[0]), Decimal(c[1])) if c is not None else (ZERO, ZERO)
            sb = stock_book[key] if key in stock_book else (ZERO, ZERO)
            share_kg, share_m3 = _share(bd[0], sb[0]), _share(bd[1], sb[1])
            side["customs_compared"], side["customs_own"] = True, customs_own
            if share_m3 != 1:
                side["bonded_share_pct"] = (share_m3 * 100).quantize(PCT)
            bc_m3 = (Decimal(b_m3) * share_m3).quantize(M3) - c_m3.quantize(M3)
            bc_kg = (Decimal(b_kg) * share_kg).quantize(KG) - c_kg.quantize(KG)
            side["bc_over"], side["bc_pct"] = _over((bc_m3, bc_kg), (c_m3, c_kg), tol)
            side["bc_over"] = side["bc_over"] and customs_own
            side["bc_variance_m3"], side["bc_variance_t"] = bc_m3, _t(bc_kg)
            if dip is not None and dipped and (dip.product_id == product_id):
                pc_m3v = (Decimal(p_m3).quantize(M3) * share_m3).quantize(M3) - c_m3.quantize(M3)
                pc_kgv = (Decimal(p_kg).quantize(KG) * share_kg).quantize(KG) - c_kg.quantize(KG)
                side["pc_over"], side["pc_pct"] = _over((pc_m3v, pc_kgv), (c_m3, c_kg), tol)
                side["pc_over"] = side["pc_over"] and customs_own
                side["pc_variance_m3"], side["pc_variance_t"] = pc_m3v, _t(pc_kgv)
        out.append(Variance(
            tank_id=tank_id, tank_code=tanks[tank_id].code if tank_id in tanks else "", customer_id=customer_id,
            customer_code=customers.get(customer_id, ""), product_id=product_id,
            product_code=product.code if product is not None else "", dipped=dipped,
            shared=sharing > 1, physical_m3=Decimal(p_m3).quantize(M3), physical_t=_t(p_kg),
            book_m3=Decimal(b_m3).quantize(M3), book_t=_t(b_kg),
            customs_m3=Decimal(c[1]).quantize(M3) if c is not None else ZERO.quantize(M3),
            customs_t=_t(c[0]) if c is not None else ZERO.quantize(M3),
            variance_m3=v_m3, variance_t=_t(v_kg), variance_pct=pc_m3, tolerance_pct=tol, over_tolerance=over,
            investigation_id=inv.get("book", (None, None))[0], investigation_state=inv.get("book", (None, None))[1],
            investigations=inv, **side))
    out.sort(key=lambda v: (v.tank_code, v.customer_code, v.product_code))
    return out


def totals(rows: list[Variance]) -> dict[str, Decimal]:
    keys = ("physical_m3", "physical_t", "book_m3", "book_t", "customs_m3", "customs_t", "variance_m3", "variance_t")
    return {k: sum((getattr(r, k) or ZERO for r in rows), ZERO) for k in keys}


# --------------------------------------------------------------------------------------- preparing

def prepare(month: date, user) -> MonthEnd:
    """The preparer (a CSR) reconciles the month: an investigation opens for each variance over tolerance."""
    month = month_of(month)
    check_open(month)
    period = get_or_create_period(month)
    rows = variances(month)
    existing = {(i.tank_id, i.customer_id, i.product_id, i.comparison): i for i in db.session.scalars(
        select(VarianceInvestigation).where(VarianceInvestigation.period_id == period.id))}
    for row in rows:
        if not row.customer_id:
            continue
        for comparison, (over, v_m3, v_t, v_pct) in row.comparison_figures().items():
            if not over:
                continue
            inv = existing.get((*row.key, comparison))
            v_kg = (v_t * 1000).quantize(KG)
            if inv is None:
                db.session.add(VarianceInvestigation(period_id=period.id, tank_id=row.tank_id, customer_id=row.customer_id,
                                                     product_id=row.product_id, comparison=comparison,
                                                     variance_m3=v_m3, variance_kg=v_kg, variance_pct=v_pct,
                                                     state="open"))
            elif not inv.closed:
                inv.variance_m3, inv.variance_kg, inv.variance_pct = v_m3, v_kg, v_pct
    period.state = "prepared"
    period.prepared_by_id = getattr(user, "id", None)
    period.prepared_at = utcnow()
    db.session.flush()
    return period


def unowned_stock(month: date) -> list[Variance]:
    """Dipped tanks whose stock nobody owns in the book (shown, never an investigation of a customer)."""
    return [v for v in variances(month) if not v.customer_id]


# ----------------------------------------------------------------------------------------- imports

def import_figures(month: date, source: str, filename: str, data: bytes, user) -> int:
    """Import the month-end book stock of the terminal system (``pepi``) or the customs stock (``customs``).

    Columns: tank_code, customer_code, product_code, kg (mass in air), m3 (m³ at 20 °C). Every row is
    checked first; one bad row and nothing is imported (the errors name their line). A new import of the
    same source replaces the previous one.
    """
    if source not in ("pepi", "customs"):
        raise MonthEndError(_l("Unknown source."), field="source")
    month = month_of(month)
    check_open(month)
    header, rows = read_rows(filename, data)
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise ImportFailed([LineError(1, _l("Missing columns: %(columns)s", columns=", ".join(missing)))])
    tanks = dict(_pairs(select(Tank.code, Tank.id)))
    customers = dict(_pairs(select(Customer.code, Customer.id)))
    products = dict(_pairs(select(Product.code, Product.id)))
    errors: list[LineError] = []
    parsed: dict = {}
    for line, values in rows:
        problems = []
        tank_id = tanks.get(values.get("tank_code", ""))
        customer_id = customers.get(values.get("customer_code", ""))
        product_id = products.get(values.get("product_code", ""))
        if tank_id is None:
            problems.append(_l("unknown tank “%(value)s”", value=values.get("tank_code", "")))
        if customer_id is None:
            problems.append(_l("unknown customer “%(value)s”", value=values.get("customer_code", "")))
        if product_id is None:
            problems.append(_l("unknown product “%(value)s”", value=values.get("product_code", "")))
        numbers = []
        for column, step in (("kg", KG), ("m3", M3)):
            text = values.get(column, "").replace(",", "")
            try:
                value = Decimal(text)
                if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
                    raise ValueError
                numbers.append(value.quantize(step))
            except (ArithmeticError, ValueError):
                problems.append(_l("%(column)s is not a quantity: “%(value)s”", column=column, value=text))
        key = (tank_id, customer_id, product_id)
        if not problems and key in parsed:
            problems.append(_l("the same tank, customer and product as line %(line)s", line=parsed[key][0]))
        if problems:
            errors.append(LineError(line, "; ".join(str(p) for p in problems)))
        else:
            parsed[key] = (line, numbers[0], numbers[1])
    if errors:
        raise ImportFailed(errors)
    if not parsed:
        raise ImportFailed([LineError(1, _l("The file is empty."))])
    period = get_or_create_period(month)
    db.session.execute(MonthFigure.__table__.delete().where(MonthFigure.period_id == period.id,
                                                            MonthFigure.source == source))
    for (tank_id, customer_id, product_id), (_line, kg, m3) in parsed.items():
        db.session.add(MonthFigure(period_id=period.id, source=source, tank_id=tank_id, customer_id=customer_id,
                                   product_id=product_id, kg=kg, m3=m3))
    if source == "pepi":
        period.book_source, period.book_filename = "import", filename
    else:
        period.customs_source, period.customs_filename = "import", filename
    if period.state == "prepared":
        period.state = "open"
    db.session.flush()
    return len(parsed)


def use_stock_book(month: date, source: str) -> MonthEnd:
    """Drop an imported file: the figures come from the portal's stock book again."""
    month = month_of(month)
    check_open(month)
    period = get_or_create_period(month)
    db.session.execute(MonthFigure.__table__.delete().where(MonthFigure.period_id == period.id,
                                                            MonthFigure.source == source))
    if source == "pepi":
        period.book_source, period.book_filename = "stock_book", ""
    else:
        period.customs_source, period.customs_filename = "stock_book", ""
    db.session.flush()
    return period


# ------------------------------------------------------------------------------------ investigations

def _is_manager(user) -> bool:
    return user is not None and user.has_role("cs_manager", "admin")


def _open_investigation(inv: VarianceInvestigation) -> None:
    if inv.period.locked:
        raise MonthEndError(_l("%(month)s is signed off and locked.", month=inv.period.month.strftime("%Y-%m")))


def assign(inv: VarianceInvestigation, owner_id: int | None, user) -> VarianceInvestigation:
    _open_investigation(inv)
    inv.owner_id = owner_id
    db.session.flush()
    return inv


def propose(inv: VarianceInvestigation, *, cause: str, resolution: str, user) -> VarianceInvestigation:
    """The owner records the cause and the resolution; a manager approves it."""
    _open_investigation(inv)
    if inv.closed:
        raise MonthEndError(_l("This investigation is closed."))
    cause, resolution = (cause or "").strip(), (resolution or "").strip()
    if not cause:
        raise MonthEndError(_l("Give the cause of the variance."), field="cause")
    if not resolution:
        raise MonthEndError(_l("Give the resolution."), field="resolution")
    inv.cause, inv.resolution = cause, resolution
    inv.state = "proposed"
    inv.proposed_by_id = user.id
    if inv.owner_id is None:
        inv.owner_id = user.id
    db.session.flush()
    return inv


def approve(inv: VarianceInvestigation, user) -> VarianceInvestigation:
    """A manager approves the proposed resolution (not the one who proposed it)."""
    _open_investigation(inv)
    if not _is_manager(user):
        raise MonthEndError(_l("Only a CS manager approves the resolution of an investigation."))
    if inv.state != "proposed":
        raise MonthEndError(_l("There is no proposed resolution to approve."))
    if inv.proposed_by_id == user.id:
        raise MonthEndError(_l("The resolution is approved by another person than the one who proposed it."))
    refuse_own(user, inv.proposed_by_id)
    inv.state = "resolved"
    inv.approved_by_id, inv.approved_at = user.id, utcnow()
    db.session.flush()
    return inv


def accept(inv: VarianceInvestigation, reason: str, user) -> VarianceInvestigation:
    """A manager accepts the variance as it is, with a reason."""
    _open_investigation(inv)
    if not _is_manager(user):
        raise MonthEndError(_l("Only a CS manager accepts a variance."))
    if inv.closed:
        raise MonthEndError(_l("This investigation is closed."))
    reason = (reason or "").strip()
    if not reason:
        raise MonthEndError(_l("Give the reason for accepting the variance."), field="reason")
    inv.accepted_reason = reason
    inv.state = "accepted"
    inv.approved_by_id, inv.approved_at = user.id, utcnow()
    db.session.flush()
    return inv


def _with_keys(stmt):
    """Investigations with their month, tank, customer and product loaded in one query each."""
    return stmt.options(selectinload(VarianceInvestigation.period), selectinload(VarianceInvestigation.tank),
                        selectinload(VarianceInvestigation.customer), selectinload(VarianceInvestigation.product),
                        selectinload(VarianceInvestigation.owner))


def open_investigations(period: MonthEnd | None = None) -> list[VarianceInvestigation]:
    stmt = _with_keys(select(VarianceInvestigation).where(VarianceInvestigation.state.not_in(CLOSED_INVESTIGATION)))
    if period is not None:
        stmt = stmt.where(VarianceInvestigation.period_id == period.id)
    return list(db.session.scalars(stmt.order_by(VarianceInvestigation.id)))


# ---------------------------------------------------------------------------------------- sign-off

def sign_off_blockers(period: MonthEnd) -> list[str]:
    """Why the month cannot be signed off now (empty: it can)."""
    reasons = []
    if period.state != "prepared":
        reasons.append(str(_l("The reconciliation has not been prepared since the last change: prepare it first.")))
    blocking = [v for v in variances(period.month) if v.blocking and v.customer_id]
    if blocking:
        reasons.append(str(_l("%(count)s variance(s) over tolerance without a resolved or accepted investigation.",
                              count=len(blocking))))
    return reasons


def sign_off(period: MonthEnd, user, *, note: str = "", report_files=None) -> MonthEnd:
    """The CS manager (not the preparer) signs the month off: it is locked from now on; the report is filed."""
    if period.locked:
        raise MonthEndError(_l("%(month)s is already signed off.", month=period.month.strftime("%Y-%m")))
    if not _is_manager(user):
        raise MonthEndError(_l("Only a CS manager signs off a month."))
    if period.prepared_by_id is not None and period.prepared_by_id == user.id:
        raise MonthEndError(_l("The month is signed off by another person than the one who prepared it."))
    refuse_own(user, period.prepared_by_id)
    reasons = sign_off_blockers(period)
    if reasons:
        raise MonthEndError(" ".join(reasons))
    period.state = "signed_off"
    period.signed_off_by_id, period.signed_off_at = user.id, utcnow()
    period.sign_off_note = (note or "").strip()
    db.session.flush()
    if report_files:
        from ....services import file_record

        record = file_record("monthly_report", str(_l("Month-end reconciliation %(month)s", month=period.month.strftime("%Y-%m"))),
                             report_files, user, record_date=last_day(period.month), event_date=last_day(period.month),
                             source_key=f"monthend:{period.month:%Y-%m}")
        period.archive_record_id = getattr(record, "id", None)
        db.session.flush()
    return period


# ------------------------------------------------------------------------------------- corrections

def correction_month(after: date) -> date:
    month = next_month(month_of(after))
    while month_locked(month):
        month = next_month(month)
    return month


def add_correction(period: MonthEnd, *, customer_id: int, tank_id: int, product_id: int, customs_status: str,
                   direction: str, quantity, unit: str, density_20, reason: str, user, now: datetime | None = None
                   ) -> MonthCorrection:
    """A correction of a signed-off month: a stock adjustment dated in the next open month, linked to it."""
    from ..stock.services import request_adjustment

    if not period.locked:
        raise MonthEndError(_l("Only a signed-off month is corrected this way: correct an open month directly."))
    now = now or utcnow()
    month = correction_month(period.month)
    start = from_local(datetime.combine(month, time(0, 0)))
    at = max(start, min(now, month_end_at(month)))
    if at > now:
        raise MonthEndError(_l("The next open month has not started yet."))
    adj = request_adjustment(customer_id=customer_id, tank_id=tank_id, product_id=product_id,
                             customs_status=customs_status, direction=direction, quantity=quantity, unit=unit,
                             density_20=density_20, occurred_at=at,
                             reason=f"{reason} ({_l('correction of %(month)s', month=period.month.strftime('%Y-%m'))})",
                             user=user, now=now)
    corr = MonthCorrection(period_id=period.id, adjustment_id=adj.id, note=(reason or "").strip(),
                           created_by_id=getattr(user, "id", None))
    db.session.add(corr)
    db.session.flush()
    return corr


def corrections(period: MonthEnd) -> list[tuple[MonthCorrection, StockAdjustment]]:
    rows = db.session.execute(select(MonthCorrection, StockAdjustment)
                              .join(StockAdjustment, StockAdjustment.id == MonthCorrection.adjustment_id)
                              .where(MonthCorrection.period_id == period.id).order_by(MonthCorrection.id))
    return [(c, a) for c, a in rows]


def correction_of(adjustment_id: int) -> MonthCorrection | None:
    return db.session.scalar(select(MonthCorrection).where(MonthCorrection.adjustment_id == adjustment_id))


def months_awaiting(limit: int = 12) -> list[MonthEnd]:
    return list(db.session.scalars(select(MonthEnd).where(MonthEnd.state != "signed_off")
                                   .order_by(MonthEnd.month).limit(limit)))


def stock_book_total(month: date) -> tuple[Decimal, Decimal]:
    """The stock book's total (kg, m³) at the end of the month, from the ledger (for cross-checks)."""
    m = StockMovement.__table__.c
    row = db.session.execute(select(func.sum(m.qty_kg), func.sum(m.qty_m3)).where(m.day <= last_day(month))).one()
    return Decimal(row[0] or 0), Decimal(row[1] or 0)



def investigation_rows(period: MonthEnd) -> list[list]:
    from .models import COMPARISON_WORDS, INVESTIGATION_STATES

    out = []
    for inv in db.session.scalars(_with_keys(select(VarianceInvestigation)
                                             .where(VarianceInvestigation.period_id == period.id)
                                             .order_by(VarianceInvestigation.id))):
        out.append([inv.tank.code, inv.customer.code, inv.product.code,
                    COMPARISON_WORDS.get(inv.comparison, inv.comparison),
                    str(INVESTIGATION_STATES.get(inv.state, inv.state)), inv.cause, inv.resolution, inv.accepted_reason])
    return out
