"""Month-end reconciliation: the month, the imported book and customs figures, investigations, corrections."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ....extensions import db
from ....models import TimestampMixin, User, UTCDateTime
from ...customers.models import Customer
from ..models import Product, Tank, _Viewable

PERIOD_STATES = {"open": _l("Open"), "prepared": _l("Prepared"), "signed_off": _l("Signed off")}
SOURCES = {"stock_book": _l("The portal's stock book"), "import": _l("Imported file")}
FIGURE_SOURCES = {"pepi": _l("Terminal system (PEPI) book stock"), "customs": _l("Customs stock")}
INVESTIGATION_STATES = {
    "open": _l("Open"), "proposed": _l("Resolution proposed"), "resolved": _l("Resolved"),
    "accepted": _l("Accepted with a reason"),
}
CLOSED_INVESTIGATION = ("resolved", "accepted")
# What an investigation compares: the three-way reconciliation's three comparisons, each with its own tolerance check.
COMPARISONS = {
    "book": _l("Physical vs book"), "physical_customs": _l("Physical vs customs"), "book_customs": _l("Book vs customs"),
}
# the same in both languages, for the bilingual PDF and XLSX whatever the reader's language
COMPARISON_WORDS = {"book": "实测/账面 Physical vs book", "physical_customs": "实测/海关 Physical vs customs",
                    "book_customs": "账面/海关 Book vs customs"}


class MonthEnd(_Viewable, TimestampMixin, db.Model):
    """One month of the terminal: its reconciliation, who prepared it and the manager's sign-off (the lock)."""

    __tablename__ = "ops_monthend_period"
    __audit_label__ = _l("Month-end reconciliation")
    __audit_fields__ = {
        "month": _l("Month"), "state": _l("State"), "book_source": _l("Book stock from"),
        "customs_source": _l("Customs stock from"), "book_filename": _l("Imported book stock file"),
        "customs_filename": _l("Imported customs stock file"), "prepared_by_id": _l("Reconciliation prepared by"),
        "prepared_at": _l("Reconciliation prepared at"), "signed_off_by_id": _l("Month signed off by"),
        "signed_off_at": _l("Month signed off at"),
        "sign_off_note": _l("Sign-off note"), "archive_record_id": _l("Filed report"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    state: Mapped[str] = mapped_column(String(12), default="open", nullable=False)
    book_source: Mapped[str] = mapped_column(String(12), default="stock_book", nullable=False)
    customs_source: Mapped[str] = mapped_column(String(12), default="stock_book", nullable=False)
    book_filename: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    customs_filename: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    prepared_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    prepared_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    signed_off_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    signed_off_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    sign_off_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    archive_record_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)

    prepared_by: Mapped[Optional[User]] = relationship(foreign_keys=[prepared_by_id])
    signed_off_by: Mapped[Optional[User]] = relationship(foreign_keys=[signed_off_by_id])

    @property
    def locked(self) -> bool:
        return self.state == "signed_off"

    @property
    def state_label(self) -> str:
        return str(PERIOD_STATES.get(self.state, self.state))


class MonthFigure(db.Model):
    """One imported month-end figure: the terminal system's book stock or the customs stock of a key."""

    __tablename__ = "ops_monthend_figure"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("ops_monthend_period.id", ondelete="CASCADE"),
                                           nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False)
    kg: Mapped[Decimal] = mapped_column(Numeric(16, 0), nullable=False)
    m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)


class VarianceInvestigation(_Viewable, TimestampMixin, db.Model):
    """A variance over tolerance of a tank x customer x product: owner, cause, resolution, the manager's approval."""

    __tablename__ = "ops_monthend_investigation"
    __table_args__ = (UniqueConstraint("period_id", "tank_id", "customer_id", "product_id", "comparison",
                                       name="uq_ops_monthend_investigation_comparison"),)
    __audit_label__ = _l("Variance investigation")
    __audit_fields__ = {
        "period_id": _l("Month"), "tank_id": _l("Tank"), "customer_id": _l("Customer"), "product_id": _l("Product"),
        "comparison": _l("Comparison"), "variance_m3": _l("Variance (m³ at 20 °C)"), "variance_kg": _l("Variance (kg)"),
        "variance_pct": _l("Variance (%)"), "state": _l("State"), "owner_id": _l("Owner"), "cause": _l("Cause of the variance"),
        "resolution": _l("Resolution of the variance"), "proposed_by_id": _l("Proposed by"), "accepted_reason": _l("Reason for accepting"),
        "approved_by_id": _l("Approved by"), "approved_at": _l("Approved at"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("ops_monthend_period.id", ondelete="CASCADE"),
                                           nullable=False, index=True)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False)
    comparison: Mapped[str] = mapped_column(String(16), default="book", server_default="book", nullable=False)
    variance_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    variance_kg: Mapped[Decimal] = mapped_column(Numeric(16, 0), nullable=False)
    variance_pct: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 3), nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="open", nullable=False)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    cause: Mapped[str] = mapped_column(Text, default="", nullable=False)
    resolution: Mapped[str] = mapped_column(Text, default="", nullable=False)
    proposed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    accepted_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    period: Mapped[MonthEnd] = relationship()
    tank: Mapped[Tank] = relationship()
    customer: Mapped[Customer] = relationship()
    product: Mapped[Product] = relationship()
    owner: Mapped[Optional[User]] = relationship(foreign_keys=[owner_id])
    approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[approved_by_id])

    @property
    def closed(self) -> bool:
        return self.state in CLOSED_INVESTIGATION

    @property
    def state_label(self) -> str:
        return str(INVESTIGATION_STATES.get(self.state, self.state))

    @property
    def comparison_label(self) -> str:
        return str(COMPARISONS.get(self.comparison, self.comparison))


class MonthCorrection(_Viewable, TimestampMixin, db.Model):
    """A correction of a signed-off month: a stock adjustment of the next open month, linked to the month."""

    __tablename__ = "ops_monthend_correction"
    __audit_label__ = _l("Month-end correction")
    __audit_fields__ = {"period_id": _l("Corrected month"), "adjustment_id": _l("Stock adjustment"),
                        "note": _l("Note"), "created_by_id": _l("Entered by")}

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("ops_monthend_period.id", ondelete="CASCADE"),
                                           nullable=False, index=True)
    adjustment_id: Mapped[int] = mapped_column(ForeignKey("ops_stock_adjustment.id"), nullable=False, unique=True)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    period: Mapped[MonthEnd] = relationship()
