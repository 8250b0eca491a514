"""Vessel calls and the berth plan: berths (master data), vessels, calls with their cargo parcels,
the revisions of a call's times and berth, the customers told of an ETA change, and the published
versions of the berth plan with the parties each was sent to.

Times are stored in UTC (aware), shown in the portal's time zone. Quantities and limits are Decimal.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ....extensions import db
from ....models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ....timeutil import utcnow
from ...customers.models import Customer, CustomerContact
from ..models import Order, Product, Tank, code_and_names

EDIT_ROLES = ("admin", "cs_manager", "csr")

# A call without an ETB/ETD is drawn on the plan for this long after its start; no bar is longer than
# MAX_STAY (so the plan reads one berth's calls from the index on (berth, start) within a bounded range).
DEFAULT_STAY = timedelta(hours=24)
MAX_STAY = timedelta(days=30)

CALL_STATUSES = {
    "announced": _l("announced"),
    "arrived": _l("arrived"),
    "berthed": _l("berthed"),
    "operating": _l("operating"),
    "completed": _l("completed"),
    "departed": _l("departed"),
    "cancelled": _l("cancelled"),
}
# The allowed moves of a call's status (anything not listed is refused).
CALL_TRANSITIONS = {
    "announced": ("arrived", "cancelled"),
    "arrived": ("berthed", "cancelled"),
    "berthed": ("operating", "cancelled"),
    "operating": ("completed",),
    "completed": ("departed",),
    "departed": (),
    "cancelled": (),
}
OPEN_CALL_STATUSES = ("announced", "arrived", "berthed", "operating", "completed")
# The planned times, in their order; and the actual times as they happen.
PLAN_TIMES = ("eta", "etb", "etc", "etd")
ACTUAL_TIMES = ("nor_at", "all_fast_at", "hoses_on_at", "hoses_off_at", "departed_at")
TIME_LABELS = {
    "eta": _l("ETA (arrival)"),
    "etb": _l("ETB (berthing)"),
    "etc": _l("ETC (completion)"),
    "etd": _l("ETD (departure)"),
    "nor_at": _l("NOR tendered"),
    "all_fast_at": _l("All fast"),
    "hoses_on_at": _l("Hoses on"),
    "hoses_off_at": _l("Hoses off"),
    "departed_at": _l("Departed"),
    "berth_id": _l("Berth"),
}
PARCEL_UNITS = {"t": _l("t"), "m3": _l("m³ at 20 °C"), "bbl": _l("bbl")}
PARTY_KINDS = {
    "customer": _l("Customer"),
    "agent": _l("Ship's agent"),
    "operations": _l("Operations"),
    "port": _l("Port authority"),
}
TOLD_HOW = {"email": _l("by e-mail"), "phone": _l("by phone"), "other": _l("other")}


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


class _Viewable:
    """Vessel calls and the berth plan are seen by everyone signed in and changed by CSRs and managers."""

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _signed_in(user) and user.has_role(*EDIT_ROLES)


# ------------------------------------------------------------------------------------------- berths

berth_product = Table(
    "ops_berth_product",
    db.metadata,
    Column("berth_id", ForeignKey("ops_berth.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("ops_product.id", ondelete="CASCADE"), primary_key=True),
)


class Berth(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "ops_berth"
    __audit_label__ = _l("Berth")
    __audit_fields__ = {
        "max_loa_m": _l("Maximum LOA (m)"), "max_draught_m": _l("Maximum draught (m)"),
        "products": _l("Products served"), "active": _l("Active"), "notes": _l("Notes"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    max_loa_m: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    max_draught_m: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    products: Mapped[list[Product]] = relationship(secondary=berth_product, order_by=Product.code)

    def audit_title(self) -> str:
        return f"{self.code} {self.name_zh} / {self.name_en}" if self.name_zh else f"{self.code} {self.name_en}"

    def display_name(self, chinese: bool = False) -> str:
        if chinese and self.name_zh:
            return self.name_zh
        return self.name_en or self.name_zh

    def serves(self, product_id: int) -> bool:
        return any(p.id == product_id for p in self.products)

    @property
    def choice_label(self) -> str:
        return code_and_names(self.code, self.name_en, self.name_zh)

    def __str__(self) -> str:
        return self.code


# ------------------------------------------------------------------------------------------ vessels

class Vessel(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "ops_vessel"
    __audit_label__ = _l("Vessel")
    __audit_fields__ = {
        "imo": _l("IMO number"), "flag": _l("Flag"), "loa_m": _l("LOA (m)"), "draught_m": _l("Draught (m)"),
        "dwt": _l("DWT (t)"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    # 7 digits; the column is wider so that copies of the data (bench/grow.py's suffixes) still fit.
    imo: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    flag: Mapped[str] = mapped_column(String(60), default="", nullable=False)
    loa_m: Mapped[Optional[Decimal]] = mapped_column(Numeric(6, 2), nullable=True)
    draught_m: Mapped[Optional[Decimal]] = mapped_column(Numeric(6, 2), nullable=True)
    dwt: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)

    def audit_title(self) -> str:
        return f"{self.name} (IMO {self.imo})"

    @property
    def choice_label(self) -> str:
        return f"{self.name} (IMO {self.imo})"

    def __str__(self) -> str:
        return self.name


# -------------------------------------------------------------------------------------------- calls

def _plan_window(call) -> tuple[datetime, datetime]:
    """Where the call sits on the berth plan: from the berthing (actual, else planned, else the ETA) to
    the departure (actual, else planned, else completion), DEFAULT_STAY when no end is known, at most MAX_STAY."""
    start = call.all_fast_at or call.etb or call.eta or utcnow()
    end = call.departed_at or call.etd or call.etc
    if end is None or end <= start:
        end = start + DEFAULT_STAY if end is None else start
    return start, min(end, start + MAX_STAY)


class VesselCall(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "ops_vessel_call"
    # The berth plan reads the calls of a berth in a time window.
    __table_args__ = (
        Index("ix_ops_vessel_call_berth_plan", "berth_id", "plan_start"),
        Index("ix_ops_vessel_call_berth_eta", "berth_id", "eta"),
        Index("ix_ops_vessel_call_plan_end", "plan_end"),
    )
    __audit_label__ = _l("Vessel call")
    __audit_exclude__ = {"plan_start", "plan_end"}  # derived from the times
    __audit_fields__ = {
        "number": _l("Vessel call"), "vessel_id": _l("Vessel"), "agent_contact_id": _l("Ship's agent"),
        "berth_id": _l("Berth"), "last_port": _l("Last port"), "next_port": _l("Next port"),
        "eta": TIME_LABELS["eta"], "etb": TIME_LABELS["etb"], "etc": TIME_LABELS["etc"], "etd": TIME_LABELS["etd"],
        "nor_at": TIME_LABELS["nor_at"], "all_fast_at": TIME_LABELS["all_fast_at"],
        "hoses_on_at": TIME_LABELS["hoses_on_at"], "hoses_off_at": TIME_LABELS["hoses_off_at"],
        "departed_at": TIME_LABELS["departed_at"], "owner_id": _l("Responsible CSR"), "remarks": _l("Remarks"),
        "cancel_reason": _l("Reason"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    vessel_id: Mapped[int] = mapped_column(ForeignKey("ops_vessel.id"), nullable=False, index=True)
    agent_contact_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer_contact.id"), nullable=True, index=True)
    berth_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_berth.id"), nullable=True)
    last_port: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    next_port: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="announced", nullable=False, index=True)
    eta: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    etb: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    etc: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    etd: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    nor_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    all_fast_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    hoses_on_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    hoses_off_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    departed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    remarks: Mapped[str] = mapped_column(Text, default="", nullable=False)
    cancel_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # The bar on the berth plan (kept by `_keep_plan_window` from the times above).
    plan_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    plan_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    vessel: Mapped[Vessel] = relationship()
    agent: Mapped[Optional[CustomerContact]] = relationship()
    berth: Mapped[Optional[Berth]] = relationship()
    owner: Mapped[Optional[User]] = relationship(foreign_keys=[owner_id])
    parcels: Mapped[list["CallParcel"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallParcel.id")
    revisions: Mapped[list["CallRevision"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallRevision.id")
    informed: Mapped[list["CallCustomerInformed"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallCustomerInformed.id")

    def audit_title(self) -> str:
        return f"{self.number} {self.vessel.name if self.vessel else ''}".strip()

    @property
    def status_label(self) -> str:
        return str(CALL_STATUSES.get(self.status, self.status))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CALL_STATUSES

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return CALL_TRANSITIONS.get(self.status, ())

    @property
    def customers(self) -> list[Customer]:
        seen: dict[int, Customer] = {}
        for parcel in self.parcels:
            if parcel.customer is not None:
                seen.setdefault(parcel.customer_id, parcel.customer)
        return sorted(seen.values(), key=lambda c: c.code)

    def __str__(self) -> str:
        return self.number


@event.listens_for(VesselCall, "before_insert")
@event.listens_for(VesselCall, "before_update")
def _keep_plan_window(_mapper, _connection, call: VesselCall) -> None:
    call.plan_start, call.plan_end = _plan_window(call)


class CallParcel(_Viewable, TimestampMixin, db.Model):
    """One customer's cargo on a call; it names the ship order of the operations register when there is one."""

    __tablename__ = "ops_call_parcel"
    __audit_label__ = _l("Cargo parcel")
    __audit_fields__ = {"call_id": _l("Vessel call"), "order_id": _l("Order"), "product_id": _l("Product"),
                        "tank_id": _l("Tank"), "quantity": _l("Quantity"), "unit": _l("Unit")}

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("ops_vessel_call.id", ondelete="CASCADE"), nullable=False, index=True)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_order.id"), nullable=True, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False, index=True)
    tank_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_tank.id"), nullable=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 3), nullable=False)
    unit: Mapped[str] = mapped_column(String(4), default="t", nullable=False)

    call: Mapped[VesselCall] = relationship(back_populates="parcels")
    order: Mapped[Optional[Order]] = relationship()
    customer: Mapped[Customer] = relationship()
    product: Mapped[Product] = relationship()
    tank: Mapped[Optional[Tank]] = relationship()

    @property
    def unit_label(self) -> str:
        return str(PARCEL_UNITS.get(self.unit, self.unit))

    def audit_title(self) -> str:
        return f"{self.call.number if self.call else ''} · {self.product.code if self.product else ''}"


class CallRevision(_Viewable, db.Model):
    """A change of a call's times or berth: who, when, and each field's old and new value (ISO text / id)."""

    __tablename__ = "ops_call_revision"
    __audit_label__ = _l("Vessel call revision")
    __audit_fields__ = {"call_id": _l("Vessel call"), "at": _l("When"), "user_id": _l("By"),
                        "changes": _l("What changed"), "note": _l("Note")}

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("ops_vessel_call.id", ondelete="CASCADE"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    changes: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)  # {field: [old, new]}
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    call: Mapped[VesselCall] = relationship(back_populates="revisions")
    user: Mapped[Optional[User]] = relationship()

    @property
    def eta_changed(self) -> bool:
        return "eta" in (self.changes or {})

    @property
    def is_announcement(self) -> bool:
        """The first revision of a call: its times and berth as announced (each from none)."""
        return all(old is None for old, _new in (self.changes or {}).values())


class CallCustomerInformed(_Viewable, db.Model):
    """A customer of the call was told of its times up to this revision (by whom, when, how)."""

    __tablename__ = "ops_call_informed"
    __audit_label__ = _l("Customer informed of the call's times")
    __audit_fields__ = {"call_id": _l("Vessel call"), "revision_id": _l("Vessel call revision"), "at": _l("When"),
                        "by_id": _l("By"), "how": _l("Informed how")}

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("ops_vessel_call.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("ops_call_revision.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    how: Mapped[str] = mapped_column(String(20), default="phone", nullable=False)

    call: Mapped[VesselCall] = relationship(back_populates="informed")
    customer: Mapped[Customer] = relationship()
    revision: Mapped[CallRevision] = relationship()
    by: Mapped[Optional[User]] = relationship()

    @property
    def how_label(self) -> str:
        return str(TOLD_HOW.get(self.how, self.how))


# --------------------------------------------------------------------------------- plan versions

class BerthPlanVersion(_Viewable, db.Model):
    """A published berth plan: numbered, its window and its rows frozen as they were when published."""

    __tablename__ = "ops_berth_plan_version"
    __audit_label__ = _l("Berth plan version")
    __audit_fields__ = {"number": _l("Version"), "window_from": _l("From"), "window_to": _l("To"),
                        "published_at": _l("Published at"), "published_by_id": _l("Published by"),
                        "content": _l("Contents"), "note": _l("Note")}

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    window_from: Mapped[date] = mapped_column(Date, nullable=False)
    window_to: Mapped[date] = mapped_column(Date, nullable=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    published_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    content: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    published_by: Mapped[Optional[User]] = relationship()
    notices: Mapped[list["BerthPlanNotice"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="BerthPlanNotice.id")

    def audit_title(self) -> str:
        return f"v{self.number} ({self.window_from.isoformat()} – {self.window_to.isoformat()})"


class BerthPlanNotice(_Viewable, db.Model):
    """One party told of a plan version: which party, when, how (e-mail sent through the outbox, or told)."""

    __tablename__ = "ops_berth_plan_notice"
    __table_args__ = (UniqueConstraint("version_id", "party_key", name="uq_ops_berth_plan_notice_party"),)
    __audit_label__ = _l("Berth plan sent to")
    __audit_fields__ = {"version_id": _l("Berth plan version"), "party_key": _l("Party"), "party_kind": _l("Party"),
                        "party_name": _l("Party"), "contact_id": _l("Contact"), "how": _l("Informed how"),
                        "told_at": _l("When"), "by_id": _l("By"), "recipients": _l("Recipients")}

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("ops_berth_plan_version.id", ondelete="CASCADE"), nullable=False, index=True)
    # customer:<id> | agent:<contact id> | operations | port
    party_key: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    party_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    party_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id"), nullable=True)
    contact_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer_contact.id"), nullable=True)
    how: Mapped[str] = mapped_column(String(20), nullable=False)
    recipients: Mapped[str] = mapped_column(Text, default="", nullable=False)
    told_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    version: Mapped[BerthPlanVersion] = relationship(back_populates="notices")
    by: Mapped[Optional[User]] = relationship()

    @property
    def kind_label(self) -> str:
        return str(PARTY_KINDS.get(self.party_kind, self.party_kind))

    @property
    def how_label(self) -> str:
        return str(TOLD_HOW.get(self.how, self.how))
