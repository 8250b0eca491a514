"""Government relations: the authorities the terminal deals with, their visits with follow-up actions,
and the register of certificates, licences and approvals the terminal holds.

Table names keep their historical ``kb_`` prefix (no migration was needed when the package moved)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import CreatedByMixin, Department, TimestampMixin, User, UTCDateTime

EDITOR_ROLES = ("admin", "cs_manager", "csr")


def is_editor(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.has_role(*EDITOR_ROLES))


class Authority(TimestampMixin, db.Model):
    __tablename__ = "kb_authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    department: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    contacts: Mapped[str] = mapped_column(Text, default="", nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    def can_view(self, user) -> bool:
        return bool(user and getattr(user, "is_authenticated", False))

    def can_edit(self, user) -> bool:
        return is_editor(user)


class Visit(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "kb_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("kb_authority.id"), nullable=False, index=True)
    visit_date: Mapped[date] = mapped_column(Date, nullable=False)
    attendees: Mapped[str] = mapped_column(Text, default="", nullable=False)
    topics: Mapped[str] = mapped_column(Text, default="", nullable=False)
    outcomes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    authority: Mapped[Authority] = relationship()
    actions: Mapped[list["FollowUpAction"]] = relationship(
        back_populates="visit", order_by="FollowUpAction.due_date", cascade="all, delete-orphan"
    )

    def can_view(self, user) -> bool:
        return bool(user and getattr(user, "is_authenticated", False))

    def can_edit(self, user) -> bool:
        return is_editor(user)


class FollowUpAction(TimestampMixin, db.Model):
    __tablename__ = "kb_followup_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("kb_visit.id", ondelete="CASCADE"), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    due_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    visit: Mapped[Visit] = relationship(back_populates="actions")
    owner: Mapped[Optional[User]] = relationship()


class Permit(TimestampMixin, CreatedByMixin, db.Model):
    """A certificate, licence or approval held by the terminal."""

    __tablename__ = "kb_permit"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(120), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    authority_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_authority.id"), nullable=True)
    issued_on: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    expires_on: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"), nullable=True)
    archive_ref: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    authority: Mapped[Optional[Authority]] = relationship()
    department: Mapped[Optional[Department]] = relationship()

    def days_left(self, today: date) -> Optional[int]:
        return None if self.expires_on is None else (self.expires_on - today).days

    def warning(self, today: date) -> Optional[str]:
        """'expired', '30' (within 30 days), '90' (within 90 days) or None."""
        left = self.days_left(today)
        if left is None:
            return None
        if left < 0:
            return "expired"
        if left <= 30:
            return "30"
        if left <= 90:
            return "90"
        return None

    def can_view(self, user) -> bool:
        return bool(user and getattr(user, "is_authenticated", False))

    def can_edit(self, user) -> bool:
        return is_editor(user)
