"""The stock book: postings and their movements (the ledger), daily balances, adjustments, morning
checks and the daily stock reports sent to customers.

- A **posting** is one business event in the book (a completed order, an approved adjustment, an
  opening balance, a reversal); its **movements** are the legs per customer x tank x product x customs
  status, signed (in positive, out negative), in kg and m³ at 20 °C. Movements are never changed or
  deleted (the ORM refuses, and database triggers too): a correction is a reversing posting.
- **Daily balances** (`ops_stock_daily`) hold, per key and local day with movements, the day's sums
  per kind and the closing stock; `ops_stock_balance` holds the latest stock per key. Both are derived
  from the ledger in the same transaction and can be rebuilt from it (`flask operations stock rebuild`).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ....extensions import db
from ....models import TimestampMixin, User, UTCDateTime
from ....timeutil import utcnow
from ...customers.models import Customer
from ..models import Order, Product, Tank

EDIT_ROLES = ("admin", "cs_manager", "csr")
APPROVE_ROLES = ("admin", "cs_manager")

QTY = Numeric(18, 3)

MOVEMENT_KINDS = {
    "receipt": _l("Receipt"),
    "delivery": _l("Delivery"),
    "transfer_in": _l("Transfer in"),
    "transfer_out": _l("Transfer out"),
    "ownership_in": _l("Ownership transfer in"),
    "ownership_out": _l("Ownership transfer out"),
    "customs_in": _l("Customs release (duty-paid in)"),
    "customs_out": _l("Customs release (bonded out)"),
    "adjustment": _l("Adjustment"),
}
# The daily report's columns, and the bilingual labels its PDF prints. A customs release moves a customer's
# stock from its bonded key to its duty-paid key on the same tank and product: columns of their own, so a
# customer's report never shows a release as a change of owner.
KIND_COLUMNS = ("receipt", "delivery", "transfer_in", "transfer_out", "ownership_in", "ownership_out",
                "customs_in", "customs_out", "adjustment")
POSTING_KINDS = {
    "order": _l("Order"),
    "adjustment": _l("Adjustment"),
    "opening": _l("Opening balance"),
    "reversal": _l("Reversal"),
}
ADJUSTMENT_STATES = {"pending": _l("awaiting approval"), "approved": _l("approved (posted)"), "rejected": _l("rejected")}
DIRECTIONS = {"gain": _l("gain"), "loss": _l("loss")}
CHECK_STATES = {"draft": _l("draft"), "signed": _l("signed")}


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


class _Viewable:
    """Stock records are seen by everyone signed in and changed by CSRs and managers."""

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _signed_in(user) and user.has_role(*EDIT_ROLES)


class StockPosting(_Viewable, db.Model):
    """One business event in the book; its movements carry the quantities."""

    __tablename__ = "ops_stock_posting"
    __audit_label__ = _l("Stock posting")
    __audit_fields__ = {
        "order_id": _l("Order"), "adjustment_id": _l("Adjustment"), "reverses_id": _l("Reverses"),
        "occurred_at": _l("Happened at"), "day": _l("Day"), "posted_at": _l("Posted at"), "posted_by_id": _l("Posted by"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_order.id"), nullable=True, index=True)
    adjustment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_stock_adjustment.id"), nullable=True, index=True)
    # A reversal names the posting it cancels; a posting is reversed at most once.
    reverses_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_stock_posting.id"), nullable=True, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)  # local day of occurred_at
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    posted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    order: Mapped[Optional[Order]] = relationship()
    adjustment: Mapped[Optional["StockAdjustment"]] = relationship(foreign_keys=[adjustment_id])
    reverses: Mapped[Optional["StockPosting"]] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by")
    reversed_by: Mapped[Optional["StockPosting"]] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False, viewonly=True)
    posted_by: Mapped[Optional[User]] = relationship()
    movements: Mapped[list["StockMovement"]] = relationship(back_populates="posting", order_by="StockMovement.id")

    @property
    def kind_label(self) -> str:
        return str(POSTING_KINDS.get(self.kind, self.kind))

    @property
    def is_reversed(self) -> bool:
        return self.reversed_by is not None

    def audit_title(self) -> str:
        source = self.order.number if self.order is not None else (f"ADJ-{self.adjustment_id}" if self.adjustment_id else "")
        return " ".join(p for p in (f"#{self.id}", str(self.kind_label), source, self.day.isoformat()) if p)


class StockMovement(_Viewable, db.Model):
    """One leg of a posting: a signed quantity of one customer's product in one tank. Never changed."""

    __tablename__ = "ops_stock_movement"
    __audit_label__ = _l("Stock movement")
    __audit_fields__ = {
        "posting_id": _l("Posting"), "tank_id": _l("Tank"), "product_id": _l("Product"),
        "customs_status": _l("Customs status"), "occurred_at": _l("Happened at"), "day": _l("Day"),
        "qty_kg": _l("Quantity (kg)"), "qty_m3": _l("Quantity (m³ at 20 °C)"),
    }
    __table_args__ = (
        Index("ix_ops_stock_movement_key_day", "customer_id", "tank_id", "product_id", "customs_status", "day"),
        Index("ix_ops_stock_movement_customer_day", "customer_id", "day"),
        Index("ix_ops_stock_movement_tank_day", "tank_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("ops_stock_posting.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False, index=True)
    customs_status: Mapped[str] = mapped_column(String(10), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    qty_kg: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    qty_m3: Mapped[Decimal] = mapped_column(QTY, nullable=False)

    posting: Mapped[StockPosting] = relationship(back_populates="movements")
    customer: Mapped[Customer] = relationship()
    tank: Mapped[Tank] = relationship()
    product: Mapped[Product] = relationship()

    @property
    def kind_label(self) -> str:
        return str(MOVEMENT_KINDS.get(self.kind, self.kind))

    def audit_title(self) -> str:
        return f"#{self.id} {self.kind} {self.day.isoformat()}"


class MovementImmutable(RuntimeError):
    """A movement of the stock book was about to be changed or deleted."""


@event.listens_for(Session, "before_flush")
def _movements_are_immutable(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, StockMovement) and (obj in session.deleted or session.is_modified(obj)):
            raise MovementImmutable("stock movements are never changed or deleted: post a reversal")


IMMUTABLE_SQL = {
    "sqlite": [
        "CREATE TRIGGER ops_stock_movement_no_update BEFORE UPDATE ON ops_stock_movement "
        "BEGIN SELECT RAISE(ABORT, 'stock movements are immutable'); END",
        "CREATE TRIGGER ops_stock_movement_no_delete BEFORE DELETE ON ops_stock_movement "
        "BEGIN SELECT RAISE(ABORT, 'stock movements are immutable'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION ops_stock_movement_immutable() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'stock movements are immutable'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER ops_stock_movement_no_change BEFORE UPDATE OR DELETE ON ops_stock_movement "
        "FOR EACH ROW EXECUTE FUNCTION ops_stock_movement_immutable()",
    ],
}


def install_immutability(connection) -> None:
    for statement in IMMUTABLE_SQL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


@event.listens_for(StockMovement.__table__, "after_create")
def _after_create(target, connection, **kw):
    install_immutability(connection)


class _Sums:
    """Signed sums per movement kind, kg and m³ (out kinds are negative)."""

    receipt_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    receipt_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    delivery_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    delivery_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    transfer_in_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    transfer_in_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    transfer_out_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    transfer_out_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    ownership_in_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    ownership_in_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    ownership_out_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    ownership_out_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    customs_in_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    customs_in_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    customs_out_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    customs_out_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    adjustment_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    adjustment_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)


class StockDaily(_Sums, db.Model):
    """Per key and local day with movements: the day's signed sums per kind and the closing stock.

    Derived from the ledger (kept in the same transaction); the latest row on or before a day gives the
    closing stock of that day without reading the ledger.
    """

    __tablename__ = "ops_stock_daily"
    __audit__ = False
    __table_args__ = (
        UniqueConstraint("customer_id", "tank_id", "product_id", "customs_status", "day", name="uq_ops_stock_daily_key_day"),
        Index("ix_ops_stock_daily_customer_day", "customer_id", "day"),
        Index("ix_ops_stock_daily_tank_day", "tank_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False)
    customs_status: Mapped[str] = mapped_column(String(10), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    closing_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    closing_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)


class StockBalance(db.Model):
    """The latest book stock per customer x tank x product x customs status (every key ever posted)."""

    __tablename__ = "ops_stock_balance"
    __audit__ = False
    __table_args__ = (
        UniqueConstraint("customer_id", "tank_id", "product_id", "customs_status", name="uq_ops_stock_balance_key"),
        Index("ix_ops_stock_balance_tank", "tank_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False)
    customs_status: Mapped[str] = mapped_column(String(10), nullable=False)
    kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    first_day: Mapped[date] = mapped_column(Date, nullable=False)
    last_day: Mapped[date] = mapped_column(Date, nullable=False)

    customer: Mapped[Customer] = relationship()
    tank: Mapped[Tank] = relationship()
    product: Mapped[Product] = relationship()


class StockAdjustment(_Viewable, TimestampMixin, db.Model):
    """A gain or loss with its reason; posted only when a manager (not the requester) approves it."""

    __tablename__ = "ops_stock_adjustment"
    __audit_label__ = _l("Stock adjustment")
    __audit_fields__ = {
        "tank_id": _l("Tank"), "product_id": _l("Product"), "customs_status": _l("Customs status"),
        "direction": _l("Gain or loss"), "quantity": _l("Quantity"), "unit": _l("Unit"),
        "density_20": _l("Density at 20 °C (kg/m³)"), "qty_kg": _l("Quantity (kg)"),
        "qty_m3": _l("Quantity (m³ at 20 °C)"), "occurred_at": _l("Found at"), "requested_by_id": _l("Requested by"),
        "decided_at": _l("Decided at"), "decision_note": _l("Decision note"), "decided_by_id": _l("Decided by"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False)
    customs_status: Mapped[str] = mapped_column(String(10), nullable=False)
    direction: Mapped[str] = mapped_column(String(4), nullable=False)  # gain | loss
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 3), nullable=False)
    unit: Mapped[str] = mapped_column(String(4), nullable=False)
    density_20: Mapped[Decimal] = mapped_column(Numeric(8, 4), nullable=False)
    qty_kg: Mapped[Decimal] = mapped_column(QTY, nullable=False)  # positive
    qty_m3: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(10), default="pending", nullable=False, index=True)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    customer: Mapped[Customer] = relationship()
    tank: Mapped[Tank] = relationship()
    product: Mapped[Product] = relationship()
    requested_by: Mapped[Optional[User]] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[Optional[User]] = relationship(foreign_keys=[decided_by_id])

    @property
    def reference(self) -> str:
        return f"ADJ-{self.id:05d}"

    @property
    def state_label(self) -> str:
        return str(ADJUSTMENT_STATES.get(self.state, self.state))

    @property
    def direction_label(self) -> str:
        return str(DIRECTIONS.get(self.direction, self.direction))

    @property
    def signed_kg(self) -> Decimal:
        return self.qty_kg if self.direction == "gain" else -self.qty_kg

    @property
    def signed_m3(self) -> Decimal:
        return self.qty_m3 if self.direction == "gain" else -self.qty_m3


class StockCheck(_Viewable, TimestampMixin, db.Model):
    """The morning check of one day's closing stock: physical against book per tank. Locked once signed."""

    __tablename__ = "ops_stock_check"
    __audit_label__ = _l("Morning stock check")
    __audit_fields__ = {
        "day": _l("Day"), "source": _l("Source"), "checked_by_id": _l("Checked by"), "signed_by_id": _l("Signed by"),
        "signed_at": _l("Signed at"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    state: Mapped[str] = mapped_column(String(10), default="draft", nullable=False)
    source: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    checked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    signed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    signed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    checked_by: Mapped[Optional[User]] = relationship(foreign_keys=[checked_by_id])
    signed_by: Mapped[Optional[User]] = relationship(foreign_keys=[signed_by_id])
    lines: Mapped[list["StockCheckLine"]] = relationship(
        back_populates="check", cascade="all, delete-orphan", order_by="StockCheckLine.id")

    @property
    def signed(self) -> bool:
        return self.state == "signed"

    @property
    def state_label(self) -> str:
        return str(CHECK_STATES.get(self.state, self.state))

    def can_edit(self, user) -> bool:
        return super().can_edit(user) and not self.signed

    def audit_title(self) -> str:
        return self.day.isoformat()


class StockCheckLine(_Viewable, db.Model):
    """One tank in a morning check: physical and book stock, the difference and its remark."""

    __tablename__ = "ops_stock_check_line"
    __audit_label__ = _l("Morning check line")
    __audit_fields__ = {
        "check_id": _l("Morning stock check"), "tank_id": _l("Tank"), "product_id": _l("Product"),
        "physical_m3": _l("Physical m³ at 20 °C"), "density_20": _l("Density at 20 °C (kg/m³)"),
        "physical_kg": _l("Physical kg"), "book_kg": _l("Book kg"), "book_m3": _l("Book m³"),
        "diff_m3": _l("Difference m³"), "diff_kg": _l("Difference kg"), "diff_pct": _l("Difference in per cent"),
        "tolerance_pct": _l("Tolerance in per cent"), "flagged": _l("Over tolerance"), "remark": _l("Remark"),
        "entered_by_id": _l("Entered by"), "entered_at": _l("Entered at"),
    }
    __table_args__ = (UniqueConstraint("check_id", "tank_id", name="uq_ops_stock_check_line_tank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("ops_stock_check.id", ondelete="CASCADE"), nullable=False, index=True)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False)
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_product.id"), nullable=True)
    physical_m3: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    density_20: Mapped[Optional[Decimal]] = mapped_column(Numeric(8, 4), nullable=True)
    physical_kg: Mapped[Optional[Decimal]] = mapped_column(QTY, nullable=True)
    book_kg: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    book_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    diff_m3: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), nullable=False)
    diff_kg: Mapped[Optional[Decimal]] = mapped_column(QTY, nullable=True)
    diff_pct: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 3), nullable=True)
    tolerance_pct: Mapped[Decimal] = mapped_column(Numeric(6, 3), nullable=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    remark: Mapped[str] = mapped_column(Text, default="", nullable=False)
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    check: Mapped[StockCheck] = relationship(back_populates="lines")
    tank: Mapped[Tank] = relationship()
    product: Mapped[Optional[Product]] = relationship()
    entered_by: Mapped[Optional[User]] = relationship()

    def audit_title(self) -> str:
        return f"{self.check.day.isoformat() if self.check else ''} {self.tank.code if self.tank else ''}".strip()


class DailyReport(_Viewable, db.Model):
    """A daily stock report as sent: the exact PDF (sha256, kept in the content store and filed in the
    archive), who it went to and when, and a digest of its figures to tell a changed regeneration."""

    __tablename__ = "ops_daily_report"
    __audit_label__ = _l("Daily stock report")
    __audit_fields__ = {
        "day": _l("Day"), "sent_by_id": _l("Sent by"), "recipients": _l("Recipients"),
        "figures_digest": _l("Figures digest"), "due_at": _l("Due at"), "sent_at": _l("Sent at"),
        "version": _l("Version"), "filename": _l("File name"), "size": _l("Size"), "archive_record_id": _l("Archived record"),
    }
    __table_args__ = (UniqueConstraint("customer_id", "day", "version", name="uq_ops_daily_report_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    recipients: Mapped[str] = mapped_column(Text, default="", nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    figures_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    archive_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True)

    customer: Mapped[Customer] = relationship()
    sent_by: Mapped[Optional[User]] = relationship()

    @property
    def recipient_list(self) -> list[str]:
        return [r for r in self.recipients.splitlines() if r.strip()]

    def audit_title(self) -> str:
        code = self.customer.code if self.customer else ""
        return f"{code} {self.day.isoformat()} v{self.version}".strip()


__all__ = [
    "APPROVE_ROLES", "EDIT_ROLES", "KIND_COLUMNS", "MOVEMENT_KINDS", "POSTING_KINDS", "ADJUSTMENT_STATES",
    "DailyReport", "StockAdjustment", "StockBalance", "StockCheck", "StockCheckLine", "StockDaily",
    "StockMovement", "StockPosting",
]
