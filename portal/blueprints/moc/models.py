"""Management of change (29 CFR 1910.119(l)): change requests, their MOC meeting, action items and training."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ..complaints.models import CS_ROLES, Complaint
from ..customers.models import Customer


MOC_STATES = {
    "draft": _l("Draft"),
    "approved": _l("Approved"),
    "implemented": _l("Implemented"),
    "rejected": _l("Rejected"),
}
MOC_PERIODS = {"permanent": _l("Permanent"), "temporary": _l("Temporary")}


def _is_cs(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.has_role(*CS_ROLES))


class MocRequest(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "cs_moc_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    complaint_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cs_complaint.id"), nullable=True)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id"), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    technical_basis: Mapped[str] = mapped_column(Text, default="", nullable=False)
    safety_health_impact: Mapped[str] = mapped_column(Text, default="", nullable=False)
    procedure_changes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    customer_impact: Mapped[str] = mapped_column(Text, default="", nullable=False)
    period: Mapped[str] = mapped_column(String(10), default="permanent", nullable=False)
    valid_until: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    state: Mapped[str] = mapped_column(String(12), default="draft", nullable=False)
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    implemented_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    # the MOC meeting
    meeting_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    attendees: Mapped[str] = mapped_column(Text, default="", nullable=False)
    agenda: Mapped[str] = mapped_column(Text, default="", nullable=False)
    minutes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    decisions: Mapped[str] = mapped_column(Text, default="", nullable=False)

    complaint: Mapped[Optional[Complaint]] = relationship()
    customer: Mapped[Optional[Customer]] = relationship()
    approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[approved_by_id])
    items: Mapped[list["MocItem"]] = relationship(back_populates="moc", cascade="all, delete-orphan", order_by="MocItem.id")

    @property
    def ref(self) -> str:
        return f"MOC-{self.id:04d}"

    @staticmethod
    def state_label(code: str) -> str:
        """The translated name of an MOC state (draft, approved, implemented, rejected)."""
        return str(MOC_STATES.get(code, code or ""))

    @staticmethod
    def period_label(code: str) -> str:
        return str(MOC_PERIODS.get(code, code or ""))

    @property
    def open_items(self) -> list["MocItem"]:
        return [i for i in self.items if not i.done]

    def can_view(self, user) -> bool:
        if self.complaint is not None and not self.complaint.can_view(user):
            return False
        return bool(user and getattr(user, "is_authenticated", False))

    @classmethod
    def visible_to(cls, user):
        """``can_view`` in SQL, a condition for a select of MOCs: one raised from a complaint only for who may see
        the complaint."""
        if user is None or not getattr(user, "is_authenticated", False):
            return db.false()
        return db.or_(cls.complaint_id.is_(None),
                      cls.complaint_id.in_(Complaint.visible_to(user).with_only_columns(Complaint.id)))

    def can_edit(self, user) -> bool:
        return _is_cs(user) and self.can_view(user)


MOC_ITEM_KINDS = {"action": _l("Action item"), "training": _l("Required training")}


class MocItem(TimestampMixin, db.Model):
    """An action item of the MOC meeting, or training required before start-up."""

    __tablename__ = "cs_moc_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    moc_id: Mapped[int] = mapped_column(ForeignKey("cs_moc_request.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), default="action", nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    due_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    moc: Mapped[MocRequest] = relationship(back_populates="items")
    owner: Mapped[Optional[User]] = relationship()

    @staticmethod
    def kind_label(code: str) -> str:
        return str(MOC_ITEM_KINDS.get(code, code or ""))
