"""The berth plan: which calls sit on which berth in a window, where their bars go on the timeline, and
the conflicts (two calls overlapping on one berth, a vessel longer or deeper than the berth allows, a
product the berth's lines do not serve).

Positions are computed here and drawn by the template as inline SVG (no script, no style attributes).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Optional

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....i18n import fmt_datetime
from ....timeutil import from_local, utcnow
from ..models import Product
from .models import MAX_STAY, Berth, CallParcel, VesselCall, berth_product

# The drawing's coordinates (SVG user units; the SVG scales to the page's width).
WIDTH = 1200
LABEL_W = 150
HEADER_H = 34
ROW_H = 46
BAR_H = 28
MAX_DAYS = 366
DEFAULT_DAYS = 7

STATUS_FILL = {
    "announced": "#9ec5e8", "arrived": "#6fa8dc", "berthed": "#3d85c6", "operating": "#0b5394",
    "completed": "#6aa84f", "departed": "#b7b7b7", "cancelled": "#eeeeee",
}


@dataclass(frozen=True)
class Conflict:
    kind: str  # overlap | loa | draught | product
    other: str = ""  # the other call's number (overlap) or the product's code (product)

    def message(self, call=None, berth=None) -> str:
        if self.kind == "overlap":
            return _("Overlaps call %(other)s on the same berth.", other=self.other)
        if self.kind == "loa":
            return _("Vessel longer than the berth allows.")
        if self.kind == "draught":
            return _("Vessel draught deeper than the berth allows.")
        return _("The berth does not serve %(product)s.", product=self.other)

    def as_list(self) -> list:
        return [self.kind, self.other]


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Two windows overlap when each starts before the other ends (touching windows do not)."""
    return a_start < b_end and b_start < a_end


def limit_conflicts(call: VesselCall, berth: Optional[Berth], served: Optional[set[int]] = None) -> list[Conflict]:
    """The berth's limits the call breaks; ``served`` is the ids of the products the berth serves (read from
    ``berth.products`` when not given)."""
    if berth is None:
        return []
    out = []
    vessel = call.vessel
    if vessel is not None and vessel.loa_m is not None and vessel.loa_m > berth.max_loa_m:
        out.append(Conflict("loa"))
    if vessel is not None and vessel.draught_m is not None and vessel.draught_m > berth.max_draught_m:
        out.append(Conflict("draught"))
    if served is None:
        served = {p.id for p in berth.products}
    seen = set()
    for parcel in call.parcels:
        if parcel.product_id not in served and parcel.product_id not in seen:
            seen.add(parcel.product_id)
            out.append(Conflict("product", parcel.product.code if parcel.product else str(parcel.product_id)))
    return out


def served_products(berth_ids: Iterable[int]) -> dict[int, set[int]]:
    """The ids of the products each berth serves, from the berths' product list alone (no product row loaded)."""
    ids = set(berth_ids)
    out: dict[int, set[int]] = {berth_id: set() for berth_id in ids}
    if ids:
        for berth_id, product_id in db.session.execute(
                select(berth_product.c.berth_id, berth_product.c.product_id).where(berth_product.c.berth_id.in_(ids))):
            out[berth_id].add(product_id)
    return out


def find_conflicts(calls: Iterable[VesselCall], served: Optional[dict[int, set[int]]] = None) -> dict[int, list[Conflict]]:
    """Every call's conflicts: overlaps with another call on its berth (cancelled calls do not count) and
    the berth's limits (``served``: the products each berth serves, as ``served_products`` gives them; read from
    the berths when not given). Keyed by call id; calls without conflicts are left out."""
    out: dict[int, list[Conflict]] = {}
    by_berth: dict[int, list[VesselCall]] = {}
    for call in calls:
        if call.status == "cancelled" or call.berth_id is None:
            continue
        by_berth.setdefault(call.berth_id, []).append(call)
        found = limit_conflicts(call, call.berth, None if served is None else served.get(call.berth_id, set()))
        if found:
            out.setdefault(call.id, []).extend(found)
    for group in by_berth.values():
        group.sort(key=lambda c: (c.plan_start, c.id))
        active: list[VesselCall] = []
        for call in group:
            active = [a for a in active if a.plan_end > call.plan_start]
            for other in active:
                if overlaps(other.plan_start, other.plan_end, call.plan_start, call.plan_end):
                    out.setdefault(call.id, []).append(Conflict("overlap", other.number))
                    out.setdefault(other.id, []).append(Conflict("overlap", call.number))
            active.append(call)
    return out


@dataclass
class Bar:
    call: VesselCall
    x: float
    width: float
    y: float
    conflicts: list[Conflict]
    fill: str
    clipped_left: bool
    clipped_right: bool

    @property
    def label(self) -> str:
        return self.call.vessel.name if self.call.vessel else self.call.number

    @property
    def show_label(self) -> bool:
        return self.width >= 40

    @property
    def short_label(self) -> str:
        """The vessel's name cut to what fits in the bar (about 6.5 units a character at font size 11)."""
        fits = max(0, int((self.width - 8) / 6.5))
        label = self.label
        return label if len(label) <= fits else label[:max(0, fits - 1)] + "…"

    @property
    def text_x(self) -> float:
        return round(self.x + 4, 1)

    def when(self, name: str) -> str:
        """A time of the call as local text, "—" when it has none."""
        return local_text(getattr(self.call, name))

    @property
    def text_y(self) -> float:
        return round(self.y + BAR_H / 2 + 4, 1)


@dataclass
class BerthRow:
    berth: Berth
    y: float
    bars: list[Bar] = field(default_factory=list)

    @property
    def label_y(self) -> float:
        return round(self.y + ROW_H / 2 + 4, 1)


@dataclass
class Tick:
    x: float
    label: str
    major: bool


@dataclass
class Plan:
    window_from: date
    window_to: date  # inclusive
    start: datetime
    end: datetime
    rows: list[BerthRow]
    ticks: list[Tick]
    today_x: Optional[float]
    width: int = WIDTH
    label_w: int = LABEL_W
    header_h: int = HEADER_H
    row_h: int = ROW_H
    bar_h: int = BAR_H
    unplaced: list[VesselCall] = field(default_factory=list)

    @property
    def height(self) -> int:
        return HEADER_H + ROW_H * max(1, len(self.rows)) + 4

    @property
    def days(self) -> int:
        return (self.window_to - self.window_from).days + 1

    @property
    def bars(self) -> list[Bar]:
        return [bar for row in self.rows for bar in row.bars]

    @property
    def conflicted(self) -> list[Bar]:
        return [bar for bar in self.bars if bar.conflicts]


STATUS_TONES = {"announced": "info", "arrived": "info", "berthed": "info", "operating": "warn", "completed": "ok",
                "departed": "muted", "cancelled": "muted"}


def local_text(value: Optional[datetime]) -> str:
    return fmt_datetime(value) or "—"


def window_bounds(window_from: date, window_to: date) -> tuple[datetime, datetime]:
    """The window's local days as UTC instants: from the first day's midnight to the day after the last."""
    start = from_local(datetime.combine(window_from, time()))
    end = from_local(datetime.combine(window_to + timedelta(days=1), time()))
    return start, end


def calls_in_window(start: datetime, end: datetime, berth_ids: Optional[list[int]] = None) -> list[VesselCall]:
    """Calls with a berth whose bar crosses the window (cancelled ones left out). A bar is at most MAX_STAY long, so
    the calls start between ``start - MAX_STAY`` and ``end``: a range on the index (berth_id, plan_start) per berth."""
    if berth_ids is None:
        berth_ids = list(db.session.scalars(select(Berth.id)))
    if not berth_ids:
        return []
    query = (select(VesselCall)
             .where(VesselCall.berth_id.in_(berth_ids), VesselCall.plan_start < end,
                    VesselCall.plan_start >= start - MAX_STAY, VesselCall.plan_end > start,
                    VesselCall.status != "cancelled")
             .options(selectinload(VesselCall.vessel),
                      selectinload(VesselCall.parcels).joinedload(CallParcel.product, innerjoin=True))
             .order_by(VesselCall.berth_id, VesselCall.plan_start, VesselCall.id))
    return list(db.session.scalars(query))


def unplaced_calls(start: datetime, end: datetime) -> list[VesselCall]:
    """Open calls arriving in the window that have no berth yet."""
    return list(db.session.scalars(
        select(VesselCall).where(VesselCall.berth_id.is_(None), VesselCall.eta < end, VesselCall.eta >= start,
                                 VesselCall.status != "cancelled")
        .options(selectinload(VesselCall.vessel)).order_by(VesselCall.eta)))


def _ticks(window_from: date, window_to: date, start: datetime, span: float) -> list[Tick]:
    days = (window_to - window_from).days + 1
    step = 1 if days <= 16 else (7 if days <= 120 else 0)
    out = []
    day = window_from
    while day <= window_to:
        if step == 0:
            show = day.day == 1 or day == window_from
        else:
            show = (day - window_from).days % step == 0
        if show:
            at = from_local(datetime.combine(day, time()))
            x = LABEL_W + (at - start).total_seconds() / span * (WIDTH - LABEL_W)
            fmt = "%m-%d" if step else "%Y-%m"
            out.append(Tick(round(x, 1), day.strftime(fmt), day.weekday() == 0 or step != 1))
        day += timedelta(days=1)
    return out


def build_plan(window_from: date, window_to: date, *, now: Optional[datetime] = None) -> Plan:
    now = now or utcnow()
    start, end = window_bounds(window_from, window_to)
    span = (end - start).total_seconds()
    scale = (WIDTH - LABEL_W) / span
    all_berths = list(db.session.scalars(select(Berth).order_by(Berth.code)))
    calls = calls_in_window(start, end, [b.id for b in all_berths])
    conflicts = find_conflicts(calls, served_products({call.berth_id for call in calls}))
    by_berth: dict[int, list[VesselCall]] = {}
    for call in calls:
        by_berth.setdefault(call.berth_id, []).append(call)
    rows = []
    for berth in all_berths:
        if not berth.active and berth.id not in by_berth:
            continue
        row = BerthRow(berth, HEADER_H + ROW_H * len(rows))
        for call in by_berth.get(berth.id, []):
            a = max(call.plan_start, start)
            b = min(call.plan_end, end)
            x = LABEL_W + (a - start).total_seconds() * scale
            width = max(2.0, (b - a).total_seconds() * scale)
            row.bars.append(Bar(call, round(x, 1), round(width, 1), row.y + (ROW_H - BAR_H) / 2,
                                conflicts.get(call.id, []), STATUS_FILL.get(call.status, "#9ec5e8"),
                                call.plan_start < start, call.plan_end > end))
        rows.append(row)
    today_x = None
    if start <= now < end:
        today_x = round(LABEL_W + (now - start).total_seconds() * scale, 1)
    return Plan(window_from, window_to, start, end, rows, _ticks(window_from, window_to, start, span), today_x,
                unplaced=unplaced_calls(start, end))


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value else None


def freeze(plan: Plan) -> dict:
    """The plan's content as published: plain values only, so the version never changes afterwards."""
    berths = []
    codes: dict[int, list[str]] = {}
    for berth_id, code in db.session.execute(
            select(berth_product.c.berth_id, Product.code).join(Product, Product.id == berth_product.c.product_id)
            .where(berth_product.c.berth_id.in_([row.berth.id for row in plan.rows])).order_by(Product.code)):
        codes.setdefault(berth_id, []).append(code)
    for row in plan.rows:
        b = row.berth
        berths.append({
            "code": b.code, "name_en": b.name_en, "name_zh": b.name_zh, "max_loa_m": str(b.max_loa_m),
            "max_draught_m": str(b.max_draught_m), "products": codes.get(b.id, []),
            "calls": [{
                "id": bar.call.id, "number": bar.call.number, "vessel": bar.label,
                "imo": bar.call.vessel.imo if bar.call.vessel else "", "status": bar.call.status,
                "eta": _iso(bar.call.eta), "etb": _iso(bar.call.etb), "etc": _iso(bar.call.etc),
                "etd": _iso(bar.call.etd), "start": _iso(bar.call.plan_start), "end": _iso(bar.call.plan_end),
                "customers": sorted({p.customer.code for p in bar.call.parcels if p.customer}),
                "products": sorted({p.product.code for p in bar.call.parcels if p.product}),
                "conflicts": [c.as_list() for c in bar.conflicts],
            } for bar in row.bars],
        })
    return {"window_from": plan.window_from.isoformat(), "window_to": plan.window_to.isoformat(), "berths": berths,
            "unplaced": [{"number": c.number, "vessel": c.vessel.name if c.vessel else "", "eta": _iso(c.eta)}
                         for c in plan.unplaced]}


def parse_time(value: Optional[str]) -> Optional[datetime]:
    """A frozen time back as an aware datetime (local for display by the caller)."""
    if not value:
        return None
    return datetime.fromisoformat(value)


def frozen_conflicts(call: dict) -> list[Conflict]:
    return [Conflict(kind, other) for kind, other in call.get("conflicts", [])]


def to_local_text(value: Optional[str]) -> str:
    return fmt_datetime(parse_time(value))
