"""Operations register: products, tanks and their leases, contracts and rates, customer orders with their
versions, verifications and abnormal events.

The stock book (movements, balances, morning checks, daily reports) lives in the `stock` sub-package.
Quantities and money are Decimal (`Numeric` columns); times are stored in UTC.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import (Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, and_, event,
                        func)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ...timeutil import to_local, utcnow
from ..customers.models import Customer

EDIT_ROLES = ("admin", "cs_manager", "csr")


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


def _may_edit(user) -> bool:
    return _signed_in(user) and user.has_role(*EDIT_ROLES)



def code_and_names(code: str, name_en: str, name_zh: str) -> str:
    """How a product or a berth is named in a drop-down list: its code, then its Chinese and English names."""
    return f"{code} {name_zh} / {name_en}" if name_zh else f"{code} {name_en}"

class _Viewable:
    """Operations records are seen by everyone signed in and edited by CSRs and managers."""

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _may_edit(user)


# ----------------------------------------------------------------------------------------- products

PRODUCT_CLASSES = {
    "crude": _l("Crude oil"),
    "gasoline": _l("Gasoline / naphtha"),
    "jet": _l("Jet fuel / kerosene"),
    "diesel": _l("Diesel / gas oil"),
    "fuel_oil": _l("Fuel oil"),
    "lubricant": _l("Lubricant"),
    "chemical": _l("Chemical"),
    "vegetable_oil": _l("Vegetable oil"),
}


class Product(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "ops_product"
    __audit_label__ = _l("Product")
    __audit_fields__ = {
        "product_class": _l("Product class"), "vcf_group": _l("Volume-correction group"), "un_number": _l("UN number"),
        "hazard_class": _l("Hazard class"), "density_min": _l("Density at 20 °C, from (kg/m³)"),
        "density_max": _l("Density at 20 °C, to (kg/m³)"), "compatibility_group": _l("Compatibility group"),
        "stock_tolerance_pct": _l("Stock check tolerance (%)"), "retired": _l("Retired"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    product_class: Mapped[str] = mapped_column(String(20), nullable=False)
    vcf_group: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    un_number: Mapped[str] = mapped_column(String(10), default="", nullable=False)
    hazard_class: Mapped[str] = mapped_column(String(10), default="", nullable=False)
    density_min: Mapped[Optional[Decimal]] = mapped_column(Numeric(8, 4), nullable=True)
    density_max: Mapped[Optional[Decimal]] = mapped_column(Numeric(8, 4), nullable=True)
    compatibility_group: Mapped[str] = mapped_column(String(30), default="", nullable=False)
    stock_tolerance_pct: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal("0.300"), nullable=False)
    retired: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    def audit_title(self) -> str:
        return f"{self.code} {self.name_zh} / {self.name_en}" if self.name_zh else f"{self.code} {self.name_en}"

    @property
    def density_typical(self) -> Optional[Decimal]:
        """Midpoint of the density range at 20 °C (kg/m³), or None when the range is not known."""
        if self.density_min is None or self.density_max is None:
            return self.density_min if self.density_min is not None else self.density_max
        return ((Decimal(self.density_min) + Decimal(self.density_max)) / 2).quantize(Decimal("0.0001"))

    def display_name(self, chinese: bool = False) -> str:
        if chinese and self.name_zh:
            return self.name_zh
        return self.name_en or self.name_zh

    @property
    def choice_label(self) -> str:
        return code_and_names(self.code, self.name_en, self.name_zh)

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


# -------------------------------------------------------------------------------------------- tanks

TANK_STATUSES = {
    "in_service": _l("in service"),
    "cleaning": _l("cleaning"),
    "maintenance": _l("maintenance"),
    "out_of_service": _l("out of service"),
}


class Tank(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "ops_tank"
    __audit_label__ = _l("Tank")
    __audit_fields__ = {
        "area": _l("Area"), "nominal_m3": _l("Nominal capacity (m³)"), "safe_fill_m3": _l("Safe fill (m³)"),
        "heated": _l("Heated"), "bonded": _l("Bonded (customs supervised)"), "product_id": _l("Current product"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    area: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    nominal_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    safe_fill_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    heated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    bonded: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_product.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="in_service", nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    product: Mapped[Optional[Product]] = relationship()
    leases: Mapped[list["TankLease"]] = relationship(
        back_populates="tank", cascade="all, delete-orphan", order_by="TankLease.starts_on")

    def audit_title(self) -> str:
        return self.code

    @property
    def status_label(self) -> str:
        return str(TANK_STATUSES.get(self.status, self.status))

    def leases_on(self, day: date) -> list["TankLease"]:
        return [lease for lease in self.leases if lease.covers(day)]

    @property
    def choice_label(self) -> str:
        product = f" · {self.product.code}" if self.product else ""
        return f"{self.code} ({self.area}{product})"

    def __str__(self) -> str:
        return self.code


class TankLease(_Viewable, TimestampMixin, db.Model):
    """A customer leases a tank for a period (a tank can be shared: several leases at once)."""

    __tablename__ = "ops_tank_lease"
    __audit_label__ = _l("Tank lease")
    __audit_fields__ = {"tank_id": _l("Tank"), "contract_id": _l("Contract"), "starts_on": _l("From"),
                        "ends_on": _l("To")}

    id: Mapped[int] = mapped_column(primary_key=True)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    contract_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_contract.id"), nullable=True, index=True)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[Optional[date]] = mapped_column(Date, nullable=True)

    tank: Mapped[Tank] = relationship(back_populates="leases")
    customer: Mapped[Customer] = relationship()
    contract: Mapped[Optional["Contract"]] = relationship(back_populates="leases")

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


# ---------------------------------------------------------------------------------------- contracts

RATE_KINDS = {
    "storage": _l("Storage"),
    "throughput": _l("Throughput"),
    "heating": _l("Heating"),
    "blending": _l("Blending"),
    "tank_cleaning": _l("Tank cleaning"),
    "extra": _l("Extra service"),
}
RATE_UNITS = {
    "m3_month": _l("per m³ per month"),
    "t_month": _l("per t per month"),
    "t": _l("per t"),
    "m3": _l("per m³"),
    "t_day": _l("per t per day"),
    "job": _l("per job"),
}
CURRENCIES = ("CNY", "USD")


class Contract(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "ops_contract"
    __audit_label__ = _l("Contract")
    __audit_fields__ = {"number": _l("Contract number"), "starts_on": _l("From"), "ends_on": _l("To"),
                        "currency": _l("Currency")}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY", nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    customer: Mapped[Customer] = relationship()
    rate_items: Mapped[list["RateItem"]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="RateItem.id")
    leases: Mapped[list[TankLease]] = relationship(back_populates="contract", order_by="TankLease.starts_on")

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def __str__(self) -> str:
        return self.number


class RateItem(_Viewable, TimestampMixin, db.Model):
    __tablename__ = "ops_rate_item"
    __audit_label__ = _l("Rate item")
    __audit_fields__ = {"contract_id": _l("Contract"), "kind": _l("Rate item"), "rate": _l("Rate"), "unit": _l("Unit")}

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("ops_contract.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    rate: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)

    contract: Mapped[Contract] = relationship(back_populates="rate_items")

    @property
    def kind_label(self) -> str:
        return str(RATE_KINDS.get(self.kind, self.kind))

    @property
    def unit_label(self) -> str:
        return str(RATE_UNITS.get(self.unit, self.unit))


# ------------------------------------------------------------------------------------------- orders

ORDER_KINDS = {
    "ship_discharge": _l("Ship discharge (receipt)"),
    "ship_loading": _l("Ship loading"),
    "truck_loading": _l("Truck loading"),
    "pipeline_receipt": _l("Pipeline receipt"),
    "pipeline_delivery": _l("Pipeline delivery"),
    "tank_transfer": _l("Tank-to-tank transfer"),
    "ownership_transfer": _l("Transfer of ownership (in tank)"),
}
ORDER_DIRECTION = {
    "ship_discharge": "in",
    "pipeline_receipt": "in",
    "ship_loading": "out",
    "truck_loading": "out",
    "pipeline_delivery": "out",
    "tank_transfer": "transfer",
    "ownership_transfer": "ownership",
}
SHIP_KINDS = frozenset({"ship_discharge", "ship_loading"})
ORDER_STATES = {
    "received": _l("received"),
    "verified": _l("verified"),
    "handed_over": _l("handed over"),
    "in_execution": _l("in execution"),
    "completed": _l("completed"),
    "cancelled": _l("cancelled"),
    "rejected": _l("rejected"),
}
OPEN_STATES = ("received", "verified", "handed_over", "in_execution")
# Orders that hold stock or ullage for themselves until they are completed.
COMMITTED_STATES = ("verified", "handed_over", "in_execution")
# Orders operations hold: handed over and not yet completed.
WITH_OPERATIONS = ("handed_over", "in_execution")
UNITS = {"t": _l("t"), "m3": _l("m³ at 20 °C"), "bbl": _l("bbl")}
CUSTOMS_STATUSES = {"bonded": _l("bonded"), "duty_paid": _l("duty-paid")}


def _order_sort_at(context):
    """Core inserts (bulk loads) without the sort time: the planned start, else the time received."""
    params = context.get_current_parameters()
    return params.get("planned_start") or params.get("received_at") or utcnow()


class Order(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "ops_order"
    # The orders list filters on these and sorts on `sort_at`: one index per filter with the sort time.
    __table_args__ = (
        Index("ix_ops_order_customer_sort", "customer_id", "sort_at"),
        Index("ix_ops_order_counterparty_sort", "counterparty_id", "sort_at"),
        Index("ix_ops_order_product_sort", "product_id", "sort_at"),
        Index("ix_ops_order_tank_sort", "tank_id", "sort_at"),
        Index("ix_ops_order_state_sort", "state", "sort_at"),
        Index("ix_ops_order_kind_sort", "kind", "sort_at"),
        # Open orders of some kinds (a vessel call's ship orders): a few hundred of tens of thousands.
        Index("ix_ops_order_state_kind", "state", "kind"),
    )
    __audit_label__ = _l("Order")
    __audit_exclude__ = {"sort_at"}  # derived from the planned start or the time received
    __audit_fields__ = {
        "number": _l("Order"), "kind": _l("Kind of order"), "product_id": _l("Product"), "tank_id": _l("Tank"),
        "to_tank_id": _l("Receiving tank (transfers)"), "counterparty_id": _l("Receiving customer (transfer of ownership)"),
        "quantity": _l("Quantity"), "unit": _l("Unit"), "customs_status": _l("Customs status"),
        "customs_released": _l("Customs release received"), "planned_start": _l("Planned start"),
        "planned_end": _l("Planned end"), "vessel_name": _l("Vessel"), "truck_plates": _l("Truck plates"),
        "instruction_ref": _l("Customer's instruction reference"), "instruction_record_id": _l("Customer's instruction (file)"),
        "remarks": _l("Remarks"), "version": _l("Version"), "acknowledged_version": _l("Version held by operations"),
        "acknowledged_at": _l("Acknowledged by operations at"), "acknowledged_by_id": _l("Acknowledged by"),
        "handed_over_at": _l("Handed over"), "handed_over_by_id": _l("Handed over by"), "closed_reason": _l("Reason"),
        "actual_kg": _l("Actual quantity (kg)"), "actual_m3": _l("Actual quantity (m³ at 20 °C)"),
        "density_20": _l("Density at 20 °C (kg/m³)"), "owner_id": _l("Responsible CSR"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    # The CSR in charge of the order: the customer's responsible CSR unless chosen; moves with a portfolio handover.
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False, index=True)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False, index=True)
    to_tank_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_tank.id"), nullable=True, index=True)
    counterparty_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id"), nullable=True, index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 3), nullable=False)
    unit: Mapped[str] = mapped_column(String(4), default="t", nullable=False)
    customs_status: Mapped[str] = mapped_column(String(10), default="duty_paid", nullable=False)
    customs_released: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    state: Mapped[str] = mapped_column(String(20), default="received", nullable=False, index=True)
    planned_start: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True, index=True)
    planned_end: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    vessel_name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    truck_plates: Mapped[str] = mapped_column(String(400), default="", nullable=False)
    instruction_ref: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    instruction_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True)
    remarks: Mapped[str] = mapped_column(Text, default="", nullable=False)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    # Which version operations have acknowledged (None: not yet seen).
    acknowledged_version: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    verified_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    verified_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    handed_over_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    handed_over_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    closed_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Completion: actual quantity in kg and m³ at 20 °C, the density at 20 °C (kg/m³).
    actual_kg: Mapped[Optional[Decimal]] = mapped_column(Numeric(16, 3), nullable=True)
    actual_m3: Mapped[Optional[Decimal]] = mapped_column(Numeric(16, 3), nullable=True)
    density_20: Mapped[Optional[Decimal]] = mapped_column(Numeric(8, 4), nullable=True)
    completed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True, index=True)
    # The list's order and date filter: the planned start, else the time received (kept by `_keep_sort_at`).
    sort_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=_order_sort_at, index=True)

    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id])
    counterparty: Mapped[Optional[Customer]] = relationship(foreign_keys=[counterparty_id])
    product: Mapped[Product] = relationship()
    tank: Mapped[Tank] = relationship(foreign_keys=[tank_id])
    to_tank: Mapped[Optional[Tank]] = relationship(foreign_keys=[to_tank_id])
    owner: Mapped[Optional[User]] = relationship(foreign_keys=[owner_id])
    verified_by: Mapped[Optional[User]] = relationship(foreign_keys=[verified_by_id])
    handed_over_by: Mapped[Optional[User]] = relationship(foreign_keys=[handed_over_by_id])
    acknowledged_by: Mapped[Optional[User]] = relationship(foreign_keys=[acknowledged_by_id])
    versions: Mapped[list["OrderVersion"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderVersion.version")
    verifications: Mapped[list["Verification"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Verification.id")
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.occurred_at")

    def audit_title(self) -> str:
        return f"{self.number} {self.kind_label} ({self.customer.code if self.customer else ''})"

    @property
    def direction(self) -> str:
        return ORDER_DIRECTION[self.kind]

    @property
    def kind_label(self) -> str:
        return str(ORDER_KINDS.get(self.kind, self.kind))

    @property
    def state_label(self) -> str:
        return str(ORDER_STATES.get(self.state, self.state))

    @property
    def unit_label(self) -> str:
        return str(UNITS.get(self.unit, self.unit))

    @property
    def customs_label(self) -> str:
        return str(CUSTOMS_STATUSES.get(self.customs_status, self.customs_status))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @hybrid_property
    def ops_behind(self) -> bool:
        """Operations hold an older version than the current one (on an order, or in SQL: Order.ops_behind)."""
        return self.state in WITH_OPERATIONS and (self.acknowledged_version or 0) < self.version

    @ops_behind.inplace.expression
    @classmethod
    def _ops_behind_sql(cls):
        return and_(cls.state.in_(WITH_OPERATIONS), func.coalesce(cls.acknowledged_version, 0) < cls.version)

    @property
    def last_verification(self) -> Optional["Verification"]:
        return self.verifications[-1] if self.verifications else None

    @property
    def plan_date(self) -> date:
        """The local day the order is planned for (the start of its window, else the day received)."""
        return to_local(self.planned_start or self.received_at).date()

    def __str__(self) -> str:
        return self.number


@event.listens_for(Order, "before_insert")
@event.listens_for(Order, "before_update")
def _keep_sort_at(_mapper, _connection, order: Order) -> None:
    order.sort_at = order.planned_start or order.received_at or utcnow()


class OrderVersion(_Viewable, db.Model):
    """One version of an order: what changed against the previous one (an amendment after hand-over)."""

    __tablename__ = "ops_order_version"
    __audit_label__ = _l("Order version")
    __audit_fields__ = {"order_id": _l("Order"), "version": _l("Version"), "by_id": _l("By"),
                        "reason": _l("Reason for the amendment"), "changes": _l("What changed")}
    __table_args__ = (UniqueConstraint("order_id", "version", name="uq_ops_order_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("ops_order.id", ondelete="CASCADE"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    changes: Mapped[str] = mapped_column(Text, default="{}", nullable=False)  # {field: [old, new]} as text

    order: Mapped[Order] = relationship(back_populates="versions")
    by: Mapped[Optional[User]] = relationship()

    @property
    def change_map(self) -> dict:
        return json.loads(self.changes or "{}")


class Verification(_Viewable, db.Model):
    """A run of the verification rules on one version of an order, kept with every rule's result."""

    __tablename__ = "ops_verification"
    __audit_label__ = _l("Order verification")
    __audit_fields__ = {"order_id": _l("Order"), "version": _l("Version"), "by_id": _l("By"), "passed": _l("Passed"),
                        "warning_reason": _l("Reason to pass the warnings")}

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("ops_order.id", ondelete="CASCADE"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    passed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    warning_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)

    order: Mapped[Order] = relationship(back_populates="verifications")
    by: Mapped[Optional[User]] = relationship()
    results: Mapped[list["VerificationResult"]] = relationship(
        back_populates="verification", cascade="all, delete-orphan", order_by="VerificationResult.id")


class VerificationResult(_Viewable, db.Model):
    __tablename__ = "ops_verification_result"
    __audit_label__ = _l("Verification rule result")
    __audit_fields__ = {"verification_id": _l("Verification"), "rule": _l("Rule"), "outcome": _l("Outcome"),
                        "params": _l("Figures"), "message": _l("Message")}

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        ForeignKey("ops_verification.id", ondelete="CASCADE"), nullable=False, index=True)
    rule: Mapped[str] = mapped_column(String(40), nullable=False)
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)  # ok | warning | error
    params: Mapped[str] = mapped_column(Text, default="{}", nullable=False)
    message: Mapped[str] = mapped_column(Text, default="", nullable=False)  # as shown when it ran

    verification: Mapped[Verification] = relationship(back_populates="results")

    @property
    def param_map(self) -> dict:
        return json.loads(self.params or "{}")

    @property
    def shown_message(self) -> str:
        """The message in the reader's language (the English text kept when it ran, for older rows)."""
        from flask_babel import gettext

        params = self.param_map
        msgid = params.get("_msgid")
        if not msgid:
            return self.message
        try:
            return gettext(msgid, **params.get("_values", {}))
        except (KeyError, ValueError, TypeError):
            return self.message


# ----------------------------------------------------------------------------------- abnormal events

EVENT_KINDS = {
    "delay": _l("Delay"),
    "quantity_deviation": _l("Quantity deviation"),
    "quality_deviation": _l("Quality deviation"),
    "equipment_failure": _l("Equipment failure"),
    "weather": _l("Weather"),
    "other": _l("Other"),
}
INFORMED_HOW = {
    "phone": _l("by phone"),
    "email": _l("by e-mail"),
    "meeting": _l("in person"),
    "letter": _l("by letter"),
    "chat": _l("by instant message"),
}


class OrderEvent(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    """Something abnormal during an order: what, when, impact, and how the customer was told."""

    __tablename__ = "ops_order_event"
    __audit_label__ = _l("Abnormal event")
    __audit_fields__ = {
        "order_id": _l("Order"), "kind": _l("What happened"), "occurred_at": _l("When"), "impact": _l("Impact"),
        "informed_at": _l("Customer informed at"), "informed_by_id": _l("Informed by"), "informed_how": _l("Informed how"),
        "closed_by_id": _l("Closed by"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("ops_order.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    impact: Mapped[str] = mapped_column(Text, default="", nullable=False)
    informed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    informed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    informed_how: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    order: Mapped[Order] = relationship(back_populates="events")
    informed_by: Mapped[Optional[User]] = relationship(foreign_keys=[informed_by_id])
    closed_by: Mapped[Optional[User]] = relationship(foreign_keys=[closed_by_id])

    @property
    def kind_label(self) -> str:
        return str(EVENT_KINDS.get(self.kind, self.kind))

    @property
    def how_label(self) -> str:
        return str(INFORMED_HOW.get(self.informed_how, self.informed_how))

    @property
    def customer_informed(self) -> bool:
        return bool(self.informed_at and self.informed_by_id and self.informed_how)
