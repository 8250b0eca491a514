"""Billing records for finance: monthly billing runs per customer, their chargeable lines and each line's
sources, the exported (locked) versions, and the chargeable services a CSR records (tank cleaning,
blending, extra services) that the runs price.

Money is Decimal: a line's amount is ``quantity × rate ÷ divisor`` rounded to two decimals once, and a
run's total is the sum of its lines. Quantities are kept exact (``Numeric(24, 6)``).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ....extensions import db
from ....models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ....timeutil import utcnow
from ...customers.models import Customer
from ..models import INFORMED_HOW, RATE_KINDS, Contract, Order, OrderEvent, Product, RateItem, Tank, TankLease

# Who may see and change billing records: customer service (admins always pass `require`).
BILLING_ROLES = ("admin", "cs_manager", "csr")

QTY = Numeric(24, 6)
MONEY = Numeric(16, 2)

RUN_STATES = {
    "draft": _l("draft"),
    "reviewed": _l("reviewed by CSR"),
    "agreed": _l("agreed by the customer"),
    "exported": _l("exported to finance"),
}
# How the customer agreed: the same ways as a customer is informed of an event.
AGREED_HOW = INFORMED_HOW
# Line kinds are the rate item kinds, in the order a run shows them.
LINE_KINDS = RATE_KINDS
QUANTITY_UNITS = {
    "m3_day": _l("m³ × days"),
    "t_day": _l("t × days"),
    "t": _l("t"),
    "m3": _l("m³ at 20 °C"),
    "job": _l("jobs"),
}
SERVICE_KINDS = {k: RATE_KINDS[k] for k in ("tank_cleaning", "blending", "extra")}
SERVICE_UNITS = {"job": _l("per job"), "t": _l("per t"), "m3": _l("per m³")}


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


class _CustomerService:
    """Billing records are seen and changed by customer service and admins only."""

    def can_view(self, user) -> bool:
        return _signed_in(user) and user.has_role(*BILLING_ROLES)

    def can_edit(self, user) -> bool:
        return self.can_view(user)


class BillingRun(_CustomerService, db.Model):
    """One customer's billing for one month: draft → reviewed → agreed → exported (then locked)."""

    __tablename__ = "ops_billing_run"
    __audit_label__ = _l("Billing run")
    __audit_fields__ = {
        "month": _l("Month"), "state": _l("Status"), "currency": _l("Currency"), "prepared_at": _l("Prepared at"),
        "prepared_by_id": _l("Prepared by"), "reviewed_at": _l("Reviewed at"), "reviewed_by_id": _l("Reviewed by"),
        "agreed_at": _l("Agreed by the customer at"), "agreed_by_name": _l("Agreed by (customer)"),
        "agreed_how": _l("Agreed how"), "agreement_note": _l("Agreement note"),
        "agreement_recorded_by_id": _l("Agreement recorded by"), "agreement_recorded_at": _l("Agreement recorded at"),
    }
    __table_args__ = (UniqueConstraint("customer_id", "month", name="uq_ops_billing_run_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    month: Mapped[date] = mapped_column(Date, nullable=False, index=True)  # the first day of the month
    state: Mapped[str] = mapped_column(String(10), default="draft", nullable=False, index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY", nullable=False)
    prepared_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    prepared_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    agreed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    agreed_by_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    agreed_how: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    agreement_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    agreement_recorded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    agreement_recorded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    customer: Mapped[Customer] = relationship()
    prepared_by: Mapped[Optional[User]] = relationship(foreign_keys=[prepared_by_id])
    reviewed_by: Mapped[Optional[User]] = relationship(foreign_keys=[reviewed_by_id])
    agreement_recorded_by: Mapped[Optional[User]] = relationship(foreign_keys=[agreement_recorded_by_id])
    lines: Mapped[list["BillingLine"]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="BillingLine.position",
        foreign_keys="BillingLine.run_id")
    exports: Mapped[list["BillingExport"]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="BillingExport.version")

    @property
    def number(self) -> str:
        code = self.customer.code if self.customer else str(self.customer_id)
        return f"BR-{self.month:%Y%m}-{code}"

    @property
    def month_label(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def state_label(self) -> str:
        return str(RUN_STATES.get(self.state, self.state))

    @property
    def how_label(self) -> str:
        return str(AGREED_HOW.get(self.agreed_how, self.agreed_how))

    @property
    def total(self) -> Decimal:
        """The run's total: the sum of its lines' amounts (each already rounded to two decimals)."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def locked(self) -> bool:
        return self.state == "exported"

    @property
    def last_export(self) -> Optional["BillingExport"]:
        return self.exports[-1] if self.exports else None

    def audit_title(self) -> str:
        return self.number

    def __str__(self) -> str:
        return self.number


class BillingLine(_CustomerService, db.Model):
    """A chargeable line: ``quantity`` (exact) × ``rate`` ÷ ``divisor`` = ``amount`` (two decimals).

    A correction line (``corrects_id`` set) is a credit (negative) or debit (positive) entered in a later
    run against a line of an exported run; it keeps its amount and reason when the run is prepared again.
    """

    __tablename__ = "ops_billing_line"
    __audit_label__ = _l("Billing line")
    __audit_fields__ = {
        "run_id": _l("Billing run"), "position": _l("Line"), "kind": _l("Rate item"), "description": _l("Description"),
        "contract_id": _l("Contract"), "rate_item_id": _l("Rate item"), "tank_id": _l("Tank"), "product_id": _l("Product"),
        "quantity": _l("Quantity"), "quantity_unit": _l("Unit"), "rate": _l("Rate"), "rate_unit": _l("Rate unit"),
        "divisor": _l("Divisor"),
        "amount": _l("Amount"), "corrects_id": _l("Corrects line"), "reason": _l("Reason"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ops_billing_run.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    contract_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_contract.id"), nullable=True)
    rate_item_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_rate_item.id", ondelete="SET NULL"), nullable=True)
    tank_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_tank.id"), nullable=True)
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_product.id"), nullable=True)
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    quantity_unit: Mapped[str] = mapped_column(String(10), default="", nullable=False)
    rate: Mapped[Decimal] = mapped_column(Numeric(14, 4), default=Decimal(0), nullable=False)
    rate_unit: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    divisor: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    corrects_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_billing_line.id"), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    run: Mapped[BillingRun] = relationship(back_populates="lines", foreign_keys=[run_id])
    contract: Mapped[Optional[Contract]] = relationship()
    rate_item: Mapped[Optional[RateItem]] = relationship()
    tank: Mapped[Optional[Tank]] = relationship()
    product: Mapped[Optional[Product]] = relationship()
    corrects: Mapped[Optional["BillingLine"]] = relationship(remote_side=[id], foreign_keys=[corrects_id])
    created_by: Mapped[Optional[User]] = relationship()
    sources: Mapped[list["BillingSource"]] = relationship(
        back_populates="line", cascade="all, delete-orphan", order_by="BillingSource.id")

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None

    @property
    def kind_label(self) -> str:
        return str(LINE_KINDS.get(self.kind, self.kind))

    @property
    def quantity_unit_label(self) -> str:
        return str(QUANTITY_UNITS.get(self.quantity_unit, self.quantity_unit))

    @property
    def reference(self) -> str:
        return f"{self.run.number}/{self.position}" if self.run else str(self.id)

    def audit_title(self) -> str:
        return self.reference


class BillingSource(_CustomerService, db.Model):
    """What a line was computed from: an order, a lease over days, a tank's book stock on a day, a service."""

    __tablename__ = "ops_billing_source"
    __audit__ = False  # derived with its line, which is audited

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("ops_billing_line.id", ondelete="CASCADE"), nullable=False, index=True)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_order.id"), nullable=True, index=True)
    lease_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_tank_lease.id", ondelete="SET NULL"), nullable=True)
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_billing_service.id"), nullable=True, index=True)
    tank_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_tank.id"), nullable=True)
    day: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    day_to: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    note: Mapped[str] = mapped_column(String(300), default="", nullable=False)

    line: Mapped[BillingLine] = relationship(back_populates="sources")
    order: Mapped[Optional[Order]] = relationship()
    lease: Mapped[Optional[TankLease]] = relationship()
    service: Mapped[Optional["BillingService"]] = relationship()
    tank: Mapped[Optional[Tank]] = relationship()


class BillingExport(_CustomerService, db.Model):
    """One exported version of a run: the exact XLSX (sha256) kept and filed in the archive. Never changed."""

    __tablename__ = "ops_billing_export"
    __audit_label__ = _l("Billing export")
    __audit_fields__ = {
        "run_id": _l("Billing run"), "version": _l("Version"), "filename": _l("File name"), "size": _l("Size"),
        "exported_at": _l("Exported at"), "exported_by_id": _l("Exported by"), "total": _l("Total"),
        "line_count": _l("Lines"), "archive_record_id": _l("Archived record"),
    }
    __table_args__ = (UniqueConstraint("run_id", "version", name="uq_ops_billing_export_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ops_billing_run.id", ondelete="CASCADE"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    total: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    line_count: Mapped[int] = mapped_column(Integer, nullable=False)
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    exported_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    archive_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True)

    run: Mapped[BillingRun] = relationship(back_populates="exports")
    exported_by: Mapped[Optional[User]] = relationship()

    def audit_title(self) -> str:
        return f"{self.run.number if self.run else self.run_id} v{self.version}"


class BillingService(_CustomerService, TimestampMixin, CreatedByMixin, db.Model):
    """A chargeable service done for a customer (tank cleaning, blending, an extra service), priced by the
    contract's rate item of the same kind and unit in the run of its month."""

    __tablename__ = "ops_billing_service"
    __audit_label__ = _l("Chargeable service")
    __audit_fields__ = {
        "customer_id": _l("Customer"), "day": _l("Day"), "kind": _l("Service"), "description": _l("Description"),
        "quantity": _l("Quantity"), "unit": _l("Unit"), "order_id": _l("Order"), "event_id": _l("Abnormal event"),
        "tank_id": _l("Tank"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 3), nullable=False)
    unit: Mapped[str] = mapped_column(String(10), default="job", nullable=False)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_order.id"), nullable=True, index=True)
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_order_event.id"), nullable=True)
    tank_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_tank.id"), nullable=True)

    customer: Mapped[Customer] = relationship()
    order: Mapped[Optional[Order]] = relationship()
    event: Mapped[Optional[OrderEvent]] = relationship()
    tank: Mapped[Optional[Tank]] = relationship()

    @property
    def kind_label(self) -> str:
        return str(SERVICE_KINDS.get(self.kind, self.kind))

    @property
    def unit_label(self) -> str:
        return str(SERVICE_UNITS.get(self.unit, self.unit))

    def audit_title(self) -> str:
        return f"{self.kind} {self.day.isoformat()} ({self.customer.code if self.customer else self.customer_id})"
