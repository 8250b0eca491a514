"""Customers: the traders and companies whose product sits in our tanks."""
from __future__ import annotations

from datetime import time
from typing import Optional

from sqlalchemy import Boolean, ForeignKey, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import CreatedByMixin, TimestampMixin, User


class Customer(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    long_term: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    daily_report_time: Mapped[Optional[time]] = mapped_column(Time, nullable=True)
    report_recipients: Mapped[str] = mapped_column(Text, default="", nullable=False)
    csr_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    csr: Mapped[Optional[User]] = relationship(foreign_keys=[csr_id])
    contacts: Mapped[list["CustomerContact"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerContact.name"
    )

    @property
    def recipients(self) -> list[str]:
        return [line.strip() for line in self.report_recipients.splitlines() if line.strip()]

    def display_name(self, chinese: bool = False) -> str:
        if chinese and self.name_zh:
            return self.name_zh
        return self.name_en or self.name_zh

    @property
    def choice_label(self) -> str:
        """Both names, for drop-downs: "SINOCHEM 中化能源贸易有限公司 / Sinochem Energy Trading Co., Ltd."."""
        if self.name_zh and self.name_en:
            return f"{self.code} {self.name_zh} / {self.name_en}"
        return f"{self.code} {self.name_en or self.name_zh}"

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated)

    def can_edit(self, user) -> bool:
        return bool(user and user.is_authenticated and user.has_role("admin", "cs_manager", "csr"))

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class CustomerContact(TimestampMixin, db.Model):
    __tablename__ = "customer_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    email: Mapped[str] = mapped_column(String(254), default="", nullable=False)
    phone: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    # E-mails from the portal: the contact's language (None: the portal's default) and the kinds switched off.
    language: Mapped[Optional[str]] = mapped_column(String(10), nullable=True)
    notices_off: Mapped[str] = mapped_column(String(500), default="", server_default="", nullable=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    def can_view(self, user) -> bool:
        return self.customer.can_view(user)

    def can_edit(self, user) -> bool:
        return self.customer.can_edit(user)
