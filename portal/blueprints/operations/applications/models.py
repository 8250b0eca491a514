"""Government applications of a vessel call: the declarations the port's authorities require per call.

- An **application type** (master data, kept by the department's managers) names a declaration, the
  authority it goes to, the call time it is anchored on (ETA, ETB, ETC or ETD), its lead time in hours
  (negative: before that time) and the documents it needs.
- An **application** is one declaration of one call. Its due time is the anchor time of the call plus the
  lead time, stored in UTC; when the call's times move, the due time moves and each move is kept
  (``ApplicationDueChange``: the previous and the new due time, when, by whom and from which call revision).
- States: draft -> submitted (time, reference number) -> approved (approval number) or returned (reason)
  -> resubmitted -> approved (or returned again). An application no longer needed is withdrawn (reason).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ....extensions import db
from ....i18n import bilingual
from ....models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ....timeutil import utcnow
from ..vessels.models import CallRevision, VesselCall

EDIT_ROLES = ("admin", "cs_manager", "csr")
MANAGER_ROLES = ("admin", "cs_manager")

AUTHORITIES = {
    "msa": _l("Maritime safety administration (MSA)"),
    "port_authority": _l("Port authority"),
    "customs": _l("Customs"),
    "border": _l("Border inspection"),
    "quarantine": _l("Health and quarantine inspection"),
    "other": _l("Other authority"),
}
ANCHORS = {
    "eta": _l("ETA (arrival)"),
    "etb": _l("ETB (berthing)"),
    "etc": _l("ETC (completion)"),
    "etd": _l("ETD (departure)"),
}
# When the anchor time of a call is not known yet, the due time is computed from the nearest time that is.
ANCHOR_FALLBACK = {"eta": (), "etb": ("eta",), "etc": ("etd", "etb", "eta"), "etd": ("etc", "etb", "eta")}
MAX_LEAD_HOURS = 24 * 30

STATES = {
    "draft": _l("draft"),
    "submitted": _l("submitted"),
    "returned": _l("returned"),
    "resubmitted": _l("resubmitted"),
    "approved": _l("approved"),
    "withdrawn": _l("withdrawn"),
}
# Still to be sent to the authority: these are the applications that fall due.
TO_FILE_STATES = ("draft", "returned")
# Waiting for the authority's answer.
PENDING_STATES = ("submitted", "resubmitted")
OPEN_STATES = TO_FILE_STATES + PENDING_STATES
# Calls whose declarations are no longer followed.
CLOSED_CALL_STATUSES = ("departed", "cancelled")
# The transitions: action -> (states it starts from, state it leads to).
TRANSITIONS = {
    "submit": (("draft",), "submitted"),
    "approve": (("submitted", "resubmitted"), "approved"),
    "return": (("submitted", "resubmitted"), "returned"),
    "resubmit": (("returned",), "resubmitted"),
    "withdraw": (("draft", "submitted", "returned", "resubmitted"), "withdrawn"),
}
ACTIONS = {
    "submit": _l("submit"),
    "approve": _l("record the approval"),
    "return": _l("record the return"),
    "resubmit": _l("resubmit"),
    "withdraw": _l("withdraw"),
}
DUE_SOON_HOURS = 24


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


class ApplicationType(TimestampMixin, CreatedByMixin, db.Model):
    """A kind of declaration the port requires per call (master data, configurable by managers)."""

    __tablename__ = "ops_application_type"
    __audit_label__ = _l("Application type")
    __audit_fields__ = {
        "code": _l("Code"), "name_en": _l("Name (English)"), "name_zh": _l("Name (Chinese)"),
        "authority": _l("Authority"), "anchor": _l("Due relative to"), "lead_hours": _l("Lead time (hours)"),
        "documents": _l("Documents needed"), "description": _l("Description"), "active": _l("Active"),
        "sort_order": _l("Sort order"), "created_by_id": _l("Created by"), "created_at": _l("Created"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name_en: Mapped[str] = mapped_column(String(160), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(160), default="", nullable=False)
    authority: Mapped[str] = mapped_column(String(20), nullable=False)
    anchor: Mapped[str] = mapped_column(String(3), nullable=False)
    # Hours from the anchor time to the due time: negative = before it (-24: a day before the ETA).
    lead_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    documents: Mapped[str] = mapped_column(Text, default="", nullable=False)  # one document per line
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _signed_in(user) and user.has_role(*MANAGER_ROLES)

    @property
    def name(self) -> str:
        """The name in the reader's language (the other one when it has none)."""
        return bilingual(self.name_en, self.name_zh)

    @property
    def authority_label(self) -> str:
        return str(AUTHORITIES.get(self.authority, self.authority))

    @property
    def anchor_label(self) -> str:
        return str(ANCHORS.get(self.anchor, self.anchor))

    @property
    def document_list(self) -> list[str]:
        return [line.strip() for line in (self.documents or "").splitlines() if line.strip()]

    @property
    def lead_text(self) -> str:
        """'24 h before ETA (arrival)', '2 h after ETC (completion)', 'at ETB (berthing)'."""
        hours = self.lead_hours or 0
        if hours < 0:
            return str(_l("%(hours)s h before %(anchor)s", hours=-hours, anchor=self.anchor_label))
        if hours > 0:
            return str(_l("%(hours)s h after %(anchor)s", hours=hours, anchor=self.anchor_label))
        return str(_l("at %(anchor)s", anchor=self.anchor_label))

    def audit_title(self) -> str:
        return f"{self.code} {self.name_en}"

    def __str__(self) -> str:
        return self.code


class Application(TimestampMixin, CreatedByMixin, db.Model):
    """One declaration of one vessel call to an authority."""

    __tablename__ = "ops_application"
    __table_args__ = (
        UniqueConstraint("call_id", "type_id", name="uq_ops_application_call_type"),
        Index("ix_ops_application_state_due", "state", "due_at"),
    )
    __audit_label__ = _l("Government application")
    __audit_fields__ = {
        "call_id": _l("Vessel call"), "type_id": _l("Application type"), "state": _l("State"),
        "due_at": _l("Due"), "due_basis": _l("Due computed from"), "submitted_at": _l("Submitted at"),
        "submitted_by_id": _l("Submitted by"), "reference_no": _l("Submission reference number"),
        "submissions": _l("Submissions"), "returned_at": _l("Returned at"), "return_reason": _l("Reason for the return"),
        "approved_at": _l("Approved at"), "approval_no": _l("Approval number"),
        "withdrawn_reason": _l("Reason for withdrawing"), "receipt_record_id": _l("Receipt (archived)"),
        "approval_record_id": _l("Approval document (archived)"), "notes": _l("Notes"),
        "created_by_id": _l("Created by"), "created_at": _l("Created"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("ops_vessel_call.id"), nullable=False, index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("ops_application_type.id"), nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(12), default="draft", nullable=False)
    # Anchor time of the call + lead time (UTC); None while the call has none of the times it could use.
    due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    due_basis: Mapped[str] = mapped_column(String(3), default="", nullable=False)  # the call time it came from
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    submitted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    reference_no: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    submissions: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    returned_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    return_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    approval_no: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    receipt_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True)
    approval_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    call: Mapped[VesselCall] = relationship()
    type: Mapped[ApplicationType] = relationship()
    submitted_by: Mapped[Optional[User]] = relationship(foreign_keys=[submitted_by_id])
    due_changes: Mapped[list["ApplicationDueChange"]] = relationship(
        back_populates="application", cascade="all, delete-orphan",
        order_by="(ApplicationDueChange.at, ApplicationDueChange.id)")

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _signed_in(user) and user.has_role(*EDIT_ROLES)

    @property
    def state_label(self) -> str:
        return str(STATES.get(self.state, self.state))

    @property
    def to_file(self) -> bool:
        return self.state in TO_FILE_STATES

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.to_file and self.due_at is not None and self.due_at <= (now or utcnow())

    def is_due_soon(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return (self.to_file and self.due_at is not None
                and now < self.due_at <= now + timedelta(hours=DUE_SOON_HOURS))

    @property
    def last_change(self) -> Optional["ApplicationDueChange"]:
        return self.due_changes[-1] if self.due_changes else None

    @property
    def basis_label(self) -> str:
        return str(ANCHORS.get(self.due_basis, self.due_basis))

    @property
    def basis_is_fallback(self) -> bool:
        return bool(self.due_basis) and self.type is not None and self.due_basis != self.type.anchor

    def allowed_actions(self) -> list[str]:
        return [action for action, (sources, _target) in TRANSITIONS.items() if self.state in sources]

    def audit_title(self) -> str:
        call = self.call.number if self.call is not None else f"#{self.call_id}"
        code = self.type.code if self.type is not None else ""
        return f"{call} {code}"

    def __str__(self) -> str:
        return self.audit_title()


class ApplicationDueChange(db.Model):
    """One move of an application's due time: from the call revision that changed the anchor time."""

    __tablename__ = "ops_application_due_change"
    __audit_label__ = _l("Due time change of an application")
    __audit_fields__ = {
        "application_id": _l("Government application"), "at": _l("Time"), "revision_id": _l("Call revision"),
        "user_id": _l("Changed by"), "old_due_at": _l("Previous due time"), "new_due_at": _l("New due time"),
        "basis": _l("Due computed from"), "reason": _l("Why it moved"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("ops_application.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    revision_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ops_call_revision.id"), nullable=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    old_due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    new_due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    basis: Mapped[str] = mapped_column(String(3), default="", nullable=False)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)

    application: Mapped[Application] = relationship(back_populates="due_changes")
    revision: Mapped[Optional[CallRevision]] = relationship()
    user: Mapped[Optional[User]] = relationship()

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return False

    @property
    def moved_by_hours(self) -> Optional[float]:
        if self.old_due_at is None or self.new_due_at is None:
            return None
        return (self.new_due_at - self.old_due_at).total_seconds() / 3600

    def audit_title(self) -> str:
        return f"application #{self.application_id}"
