"""Operation review meetings with long-term customers: attendees, minutes, actions carried over, circulation."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ...timeutil import utcnow
from ..customers.models import Customer

CS_ROLES = ("admin", "cs_manager", "csr")
MEETING_STATUSES = {"planned": _l("Planned"), "held": _l("Held"), "circulated": _l("Minutes circulated"),
                    "confirmed": _l("Confirmed by customer")}


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


def _is_cs(user) -> bool:
    return _signed_in(user) and user.has_role(*CS_ROLES)


class ReviewCadence(TimestampMixin, db.Model):
    """How often we meet a customer (our own table keyed by customer_id)."""

    __tablename__ = "cs_review_cadence"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), unique=True, nullable=False)
    interval_months: Mapped[int] = mapped_column(Integer, default=3, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    customer: Mapped[Customer] = relationship()


class ReviewMeeting(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "cs_review_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    meeting_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    location: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    agenda: Mapped[str] = mapped_column(Text, default="", nullable=False)
    minutes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    decisions: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="planned", nullable=False)
    minutes_version: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    confirmed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    confirmed_by: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    confirmed_version: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)

    customer: Mapped[Customer] = relationship()
    attendees: Mapped[list["ReviewAttendee"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="(ReviewAttendee.internal.desc(), ReviewAttendee.id)"
    )
    actions: Mapped[list["ReviewAction"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="ReviewAction.id",
        foreign_keys="ReviewAction.meeting_id",
    )
    circulations: Mapped[list["ReviewCirculation"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="ReviewCirculation.id"
    )

    @property
    def ref(self) -> str:
        return f"ORM-{self.customer.code}-{self.meeting_date.isoformat()}"

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _is_cs(user)


class ReviewAttendee(db.Model):
    __tablename__ = "cs_review_attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("cs_review_meeting.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    company: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    position: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    email: Mapped[str] = mapped_column(String(254), default="", nullable=False)
    internal: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    meeting: Mapped[ReviewMeeting] = relationship(back_populates="attendees")
    user: Mapped[Optional[User]] = relationship()


class ReviewAction(TimestampMixin, db.Model):
    """An action item raised at a review meeting; shown at every later meeting with the customer until closed."""

    __tablename__ = "cs_review_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("cs_review_meeting.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    due_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="open", nullable=False)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    closed_in_meeting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cs_review_meeting.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    meeting: Mapped[ReviewMeeting] = relationship(back_populates="actions", foreign_keys=[meeting_id])
    closed_in_meeting: Mapped[Optional[ReviewMeeting]] = relationship(foreign_keys=[closed_in_meeting_id])
    owner: Mapped[Optional[User]] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def who(self) -> str:
        return self.owner.display_name if self.owner else self.owner_name

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _is_cs(user)


class ReviewCirculation(db.Model):
    """Who got which version of the minutes, and when; the exact PDF sent is kept (content store + sha256)."""

    __tablename__ = "cs_review_circulation"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("cs_review_meeting.id", ondelete="CASCADE"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)

    meeting: Mapped[ReviewMeeting] = relationship(back_populates="circulations")
    sent_by: Mapped[Optional[User]] = relationship()
