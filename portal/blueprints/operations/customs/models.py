"""Customs entries of the operations register: declarations lodged with customs for a customer's parcel,
their release and closing, and the documents filed with them in the archive.

An entry is one of four kinds: a bonded entry into a tank (the cargo is received under bond), a duty-paid
release (bonded stock becomes duty-paid: the stock book moves it from the customer's bonded key to its
duty-paid key), a re-export (bonded stock leaves the terminal under bond) or a transfer between bonded
owners (bonded stock changes hands without duty). Status: lodged -> released -> closed.
Quantities are Decimal; kg and m³ at 20 °C as the stock book keeps them.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ....extensions import db
from ....models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ....timeutil import utcnow
from ...customers.models import Customer, CustomerContact
from ..models import Order, Product, Tank

EDIT_ROLES = ("admin", "cs_manager", "csr")

ENTRY_KINDS = {
    "bonded_entry": _l("Bonded entry into tank"),
    "release": _l("Duty-paid release"),
    "re_export": _l("Re-export"),
    "bond_transfer": _l("Transfer between bonded owners"),
}
ENTRY_STATUSES = {"lodged": _l("lodged"), "released": _l("released"), "closed": _l("closed")}
ENTRY_UNITS = {"t": _l("t"), "m3": _l("m³ at 20 °C")}
# Printed in the bilingual PDF and XLSX whatever the reader's language.
KIND_BILINGUAL = {
    "bonded_entry": "保税入库 Bonded entry",
    "release": "完税放行 Duty-paid release",
    "re_export": "复出口 Re-export",
    "bond_transfer": "保税货权转移 Bonded transfer",
}
STATUS_BILINGUAL = {"lodged": "已申报 lodged", "released": "已放行 released", "closed": "已结关 closed"}

QTY = Numeric(18, 3)


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


class _Viewable:
    """Customs records are seen by everyone signed in and changed by CSRs and managers."""

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _signed_in(user) and user.has_role(*EDIT_ROLES)


class CustomsEntry(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "ops_customs_entry"
    __audit_label__ = _l("Customs entry")
    __audit_fields__ = {
        "declaration_no": _l("Declaration number"), "to_customer_id": _l("Receiving bonded owner"),
        "broker_contact_id": _l("Customs broker (contact)"), "broker_name": _l("Customs broker"),
        "order_id": _l("Parcel (order)"), "product_id": _l("Product"), "tank_id": _l("Tank"),
        "quantity": _l("Quantity"), "unit": _l("Unit"), "density_20": _l("Density at 20 °C (kg/m³)"),
        "qty_kg": _l("Quantity (kg)"), "qty_m3": _l("Quantity (m³ at 20 °C)"), "lodged_on": _l("Lodged with customs on"),
        "released_at": _l("Released at"), "released_by_id": _l("Released by"), "closed_on": _l("Customs entry closed on"),
        "closed_by_id": _l("Closed by"), "posting_id": _l("Stock posting"), "remarks": _l("Remarks"),
    }
    __table_args__ = (
        Index("ix_ops_customs_entry_customer_lodged", "customer_id", "lodged_on"),
        Index("ix_ops_customs_entry_key", "customer_id", "tank_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_no: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(10), default="lodged", nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    to_customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id"), nullable=True, index=True)
    broker_contact_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer_contact.id", ondelete="SET NULL"),
                                                             nullable=True)
    broker_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_order.id"), nullable=True, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False, index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 3), nullable=False)
    unit: Mapped[str] = mapped_column(String(4), default="t", nullable=False)
    density_20: Mapped[Optional[Decimal]] = mapped_column(Numeric(8, 4), nullable=True)
    qty_kg: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    qty_m3: Mapped[Decimal] = mapped_column(QTY, nullable=False)
    lodged_on: Mapped[date] = mapped_column(Date, nullable=False)
    released_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    released_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    closed_on: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    # The stock book's posting of a release or a transfer between bonded owners.
    posting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_stock_posting.id"), nullable=True)
    remarks: Mapped[str] = mapped_column(Text, default="", nullable=False)

    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id])
    to_customer: Mapped[Optional[Customer]] = relationship(foreign_keys=[to_customer_id])
    broker_contact: Mapped[Optional[CustomerContact]] = relationship()
    order: Mapped[Optional[Order]] = relationship()
    product: Mapped[Product] = relationship()
    tank: Mapped[Tank] = relationship()
    released_by: Mapped[Optional[User]] = relationship(foreign_keys=[released_by_id])
    closed_by: Mapped[Optional[User]] = relationship(foreign_keys=[closed_by_id])
    documents: Mapped[list["CustomsDocument"]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="CustomsDocument.id")

    @property
    def kind_label(self) -> str:
        return str(ENTRY_KINDS.get(self.kind, self.kind))

    @property
    def status_label(self) -> str:
        return str(ENTRY_STATUSES.get(self.status, self.status))

    @property
    def unit_label(self) -> str:
        return str(ENTRY_UNITS.get(self.unit, self.unit))

    @property
    def broker_label(self) -> str:
        parts = [self.broker_name]
        if self.broker_contact is not None:
            parts.append(self.broker_contact.name)
        return " · ".join(p for p in parts if p)

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    def audit_title(self) -> str:
        return f"{self.declaration_no} {self.kind_label}"

    def __str__(self) -> str:
        return self.declaration_no


class CustomsDocument(_Viewable, db.Model):
    """A document of a customs entry (declaration form, release note, broker's letter) filed in the archive."""

    __tablename__ = "ops_customs_document"
    __audit_label__ = _l("Customs document")
    __audit_fields__ = {
        "entry_id": _l("Customs entry"), "record_id": _l("Archive record"), "uploaded_at": _l("Uploaded at"),
        "uploaded_by_id": _l("Uploaded by"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ops_customs_entry.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    filename: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    entry: Mapped[CustomsEntry] = relationship(back_populates="documents")
    uploaded_by: Mapped[Optional[User]] = relationship()

    def audit_title(self) -> str:
        return f"{self.entry.declaration_no if self.entry else ''} {self.filename}".strip()
