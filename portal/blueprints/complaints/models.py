"""Customer service records: inquiries, complaints (ISO 10002) with investigation and CAPA."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint, exists, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import CreatedByMixin, Department, RestrictedMixin, TimestampMixin, User, UTCDateTime
from ...timeutil import tz, utcnow
from ..customers.models import Customer

if TYPE_CHECKING:  # the surveys module's answer, named in a relationship by its class name
    from ..surveys.models import SurveyAnswer

CS_ROLES = ("admin", "cs_manager", "csr")

CHANNELS = {
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "visit": _l("Visit"),
    "other": _l("Other"),
}
LANGUAGES = {"zh": _l("Chinese"), "en": _l("English")}

CATEGORIES = {
    "quantity": _l("Quantity"),
    "quality": _l("Quality"),
    "delay": _l("Delay"),
    "documentation": _l("Documentation"),
    "damage": _l("Damage"),
    "safety": _l("Safety"),
    "service": _l("Service"),
    "billing": _l("Billing"),
}
SEVERITIES = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High"), "critical": _l("Critical")}
CAUSE_CATEGORIES = {
    "people": _l("People"),
    "procedure": _l("Procedure / method"),
    "equipment": _l("Equipment"),
    "material": _l("Material / product"),
    "measurement": _l("Measurement"),
    "environment": _l("Environment"),
    "communication": _l("Communication"),
    "external": _l("External party"),
}
ACTION_TYPES = {"immediate": _l("Immediate"), "corrective": _l("Corrective"), "preventive": _l("Preventive")}
ACTION_STATUSES = {"open": _l("Open"), "in_progress": _l("In progress"), "done": _l("Done"), "cancelled": _l("Cancelled")}
# "done" is the owner's word; "verified" is someone else's (ISO 10002 / 8D D6: verification by another person).
ACTION_STATES = {**ACTION_STATUSES, "done": _l("Done, awaiting verification"), "verified": _l("Verified")}
OPEN_ACTION_STATUSES = ("open", "in_progress")
UNFINISHED_ACTION_STATUSES = ("open", "in_progress", "done")


def due_status(due_at: datetime | None, done_at: datetime | None, now: datetime) -> str:
    """on_time / due_today / overdue while open; answered / answered_late once done."""
    if due_at is None:
        return "on_time"
    if done_at is not None:
        return "answered" if done_at <= due_at else "answered_late"
    if now > due_at:
        return "overdue"
    if now.astimezone(tz()).date() == due_at.astimezone(tz()).date():
        return "due_today"
    return "on_time"


DUE_STATUS_LABELS = {
    "on_time": _l("on time"),
    "due_today": _l("due today"),
    "overdue": _l("overdue"),
    "answered": _l("answered on time"),
    "answered_late": _l("answered late"),
}
DUE_STATUS_TONES = {"on_time": "ok", "due_today": "warn", "overdue": "bad", "answered": "ok", "answered_late": "muted"}

# Answered on time? "open" while unanswered and not yet due: it is not late yet.
ON_TIME_LABELS = {"yes": _l("yes"), "no": _l("no"), "open": _l("open")}


def on_time(due_at: datetime | None, done_at: datetime | None, now: datetime) -> str:
    """yes (done by the due time) / no (done late, or still open past it) / open (still open, not yet due)."""
    if done_at is not None:
        return "yes" if due_at is None or done_at <= due_at else "no"
    if due_at is not None and now > due_at:
        return "no"
    return "open"


def on_time_pct(rows, now: datetime) -> Decimal | None:
    """Share answered on time among the inquiries decided so far (answered, or open past their due time)."""
    decided = [r.on_time(now) for r in rows]
    decided = [v for v in decided if v != "open"]
    if not decided:
        return None
    return (Decimal(100 * decided.count("yes")) / len(decided)).quantize(Decimal("0.1"))


def _label(mapping, code) -> str:
    return str(mapping.get(code, code or ""))


def _is_cs(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.has_role(*CS_ROLES))


class Inquiry(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "cs_inquiry"
    __audit_fields__ = {"reply_to": _l("Sent to")}  # the address the acknowledgement and the answer are e-mailed to

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(10), default="email", nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    question: Mapped[str] = mapped_column(Text, default="", nullable=False)
    language: Mapped[str] = mapped_column(String(5), default="zh", nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    assigned_to_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    answer: Mapped[str] = mapped_column(Text, default="", nullable=False)
    answered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    complex: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    escalated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    escalation_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    escalated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    escalation_resolved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    complaint_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cs_complaint.id"), nullable=True)
    # Where the acknowledgement and the answer are e-mailed (empty: the inquiry is answered another way).
    reply_to: Mapped[str] = mapped_column(String(300), default="", server_default="", nullable=False)

    customer: Mapped[Customer] = relationship()
    assigned_to: Mapped[Optional[User]] = relationship(foreign_keys=[assigned_to_id])
    escalated_by: Mapped[Optional[User]] = relationship(foreign_keys=[escalated_by_id])
    complaint: Mapped[Optional["Complaint"]] = relationship(foreign_keys=[complaint_id])

    @property
    def ref(self) -> str:
        return f"INQ-{self.id:05d}"

    def status(self, now: datetime | None = None) -> str:
        return due_status(self.due_at, self.answered_at, now or utcnow())

    def on_time(self, now: datetime | None = None) -> str:
        """yes / no / open (see ``on_time``); ``on_time_label`` gives the words."""
        return on_time(self.due_at, self.answered_at, now or utcnow())

    @staticmethod
    def on_time_label(code: str) -> str:
        return _label(ON_TIME_LABELS, code)

    @staticmethod
    def state_label(code: str) -> str:
        """The translated words of a due status (on time, due today, overdue, answered on time, answered late)."""
        return _label(DUE_STATUS_LABELS, code)

    @staticmethod
    def channel_label(code: str) -> str:
        return _label(CHANNELS, code)

    @property
    def is_open(self) -> bool:
        return self.answered_at is None

    @property
    def is_escalated(self) -> bool:
        return self.escalated_at is not None and self.escalation_resolved_at is None

    def can_view(self, user) -> bool:
        return bool(user and getattr(user, "is_authenticated", False))

    def can_edit(self, user) -> bool:
        return _is_cs(user)


# --- complaints -------------------------------------------------------------------------------

STATES = {
    "received": _l("Received"),
    "acknowledged": _l("Acknowledged"),
    "investigating": _l("Investigating"),
    "actions_in_progress": _l("Actions in progress"),
    "awaiting_effectiveness": _l("Awaiting effectiveness check"),
    "closed": _l("Closed"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}
FINAL_STATES = ("closed", "rejected", "withdrawn")
STATE_TONES = {
    "received": "warn", "acknowledged": "info", "investigating": "info", "actions_in_progress": "info",
    "awaiting_effectiveness": "info", "closed": "ok", "rejected": "muted", "withdrawn": "muted",
}


class Complaint(RestrictedMixin, TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "cs_complaint"
    __audit_fields__ = {"source": _l("Raised from")}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    reference: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    severity: Mapped[str] = mapped_column(String(10), default="medium", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    customer_request: Mapped[str] = mapped_column(Text, default="", nullable=False)
    language: Mapped[str] = mapped_column(String(5), default="zh", nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    state: Mapped[str] = mapped_column(String(30), default="received", nullable=False, index=True)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True, index=True)
    end_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    effectiveness: Mapped[str] = mapped_column(Text, default="", nullable=False)
    evaluated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    evaluated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    lesson_summary: Mapped[str] = mapped_column(Text, default="", nullable=False)
    lesson_prevention: Mapped[str] = mapped_column(Text, default="", nullable=False)
    closed_without_report_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Where the complaint was raised from, as "<kind>:<id>" (e.g. "survey_answer:12"); empty when recorded directly.
    source: Mapped[str] = mapped_column(String(60), default="", nullable=False)

    customer: Mapped[Customer] = relationship()
    owner: Mapped[Optional[User]] = relationship(foreign_keys=[owner_id])
    evaluated_by: Mapped[Optional[User]] = relationship(foreign_keys=[evaluated_by_id])
    investigation: Mapped[Optional["Investigation"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", uselist=False
    )
    actions: Mapped[list["CapaAction"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="CapaAction.id"
    )
    transitions: Mapped[list["ComplaintTransition"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintTransition.id"
    )
    attachments: Mapped[list["ComplaintAttachment"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintAttachment.id"
    )
    reports: Mapped[list["ComplaintReport"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintReport.id"
    )
    lessons: Mapped[list["LessonShare"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="LessonShare.id"
    )

    @property
    def ref(self) -> str:
        return f"CMP-{self.id:05d}"

    @staticmethod
    def state_label(code: str) -> str:
        """The translated name of a complaint state (``Complaint.state_label("awaiting_effectiveness")``)."""
        return _label(STATES, code)

    @staticmethod
    def category_label(code: str) -> str:
        return _label(CATEGORIES, code)

    @staticmethod
    def severity_label(code: str) -> str:
        return _label(SEVERITIES, code)

    @property
    def unfinished_actions(self) -> list["CapaAction"]:
        """Actions not yet verified by someone other than their owner (cancelled ones excepted)."""
        return [a for a in self.actions if a.status in UNFINISHED_ACTION_STATUSES]

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @classmethod
    def visible_to(cls, user):
        """select() of the complaints ``user`` may see: restricted ones only for managers and the people named
        on them (creator, owner, action owners). Other modules list complaints through this."""
        stmt = db.select(cls)
        if user is None or not getattr(user, "is_authenticated", False):
            return stmt.filter(db.false())
        if user.is_manager:
            return stmt
        named_in_action = exists().where(CapaAction.complaint_id == cls.id, CapaAction.owner_id == user.id)
        return stmt.filter(or_(
            cls.restricted.is_(False),
            cls.created_by_id == user.id,
            cls.owner_id == user.id,
            named_in_action,
        ))

    @property
    def open_actions(self) -> list["CapaAction"]:
        return [a for a in self.actions if a.status in OPEN_ACTION_STATUSES]

    def ack_status(self, now: datetime | None = None) -> str:
        return due_status(self.ack_due_at, self.acknowledged_at, now or utcnow())

    def named_user_ids(self) -> set[int]:
        ids = {i for i in (self.created_by_id, self.owner_id) if i}
        ids |= {a.owner_id for a in self.actions if a.owner_id}
        return ids

    def can_edit(self, user) -> bool:
        return _is_cs(user) and self.can_view(user)

    @property
    def days_to_close(self) -> int | None:
        if self.closed_at is None or self.state != "closed":
            return None
        return (self.closed_at - self.received_at).days


class ComplaintTransition(db.Model):
    __tablename__ = "cs_complaint_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("cs_complaint.id", ondelete="CASCADE"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(30), nullable=False)
    from_state: Mapped[str] = mapped_column(String(30), nullable=False)
    to_state: Mapped[str] = mapped_column(String(30), nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    complaint: Mapped[Complaint] = relationship(back_populates="transitions")
    user: Mapped[Optional[User]] = relationship()


class Investigation(TimestampMixin, db.Model):
    __tablename__ = "cs_investigation"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("cs_complaint.id", ondelete="CASCADE"), unique=True, nullable=False)
    containment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    why_1: Mapped[str] = mapped_column(Text, default="", nullable=False)
    why_2: Mapped[str] = mapped_column(Text, default="", nullable=False)
    why_3: Mapped[str] = mapped_column(Text, default="", nullable=False)
    why_4: Mapped[str] = mapped_column(Text, default="", nullable=False)
    why_5: Mapped[str] = mapped_column(Text, default="", nullable=False)
    root_cause: Mapped[str] = mapped_column(Text, default="", nullable=False)
    cause_category: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    contributing_factors: Mapped[str] = mapped_column(Text, default="", nullable=False)
    investigated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    complaint: Mapped[Complaint] = relationship(back_populates="investigation")
    investigated_by: Mapped[Optional[User]] = relationship()

    @property
    def whys(self) -> list[str]:
        return [w for w in (self.why_1, self.why_2, self.why_3, self.why_4, self.why_5) if w]

    def can_view(self, user) -> bool:
        return self.complaint.can_view(user)


class CapaAction(TimestampMixin, CreatedByMixin, db.Model):
    """A corrective, preventive or immediate action: owner, due date, done by its owner, verified by someone else.

    The one action record of the portal. Its source is exactly one of: a complaint (the CAPA of the complaint's
    investigation) or a survey answer (a low score, a detractor or a free-text complaint followed up without
    opening a complaint)."""

    __tablename__ = "cs_capa_action"
    __table_args__ = (
        CheckConstraint("(complaint_id IS NULL) <> (survey_answer_id IS NULL)", name="one_source"),
    )
    __audit_fields__ = {"survey_answer_id": _l("Survey answer")}

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cs_complaint.id", ondelete="CASCADE"), nullable=True,
                                                        index=True)
    survey_answer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sv_answer.id", ondelete="CASCADE"), nullable=True,
                                                            index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"), nullable=True)
    due_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="open", nullable=False)
    completion_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    completed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    completed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    verified_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    verified_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    verification_note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    complaint: Mapped[Optional[Complaint]] = relationship(back_populates="actions")
    survey_answer: Mapped[Optional["SurveyAnswer"]] = relationship("SurveyAnswer", back_populates="capa_actions")
    owner: Mapped[Optional[User]] = relationship(foreign_keys=[owner_id])
    completed_by: Mapped[Optional[User]] = relationship(foreign_keys=[completed_by_id])
    verified_by: Mapped[Optional[User]] = relationship(foreign_keys=[verified_by_id])
    department: Mapped[Optional[Department]] = relationship()

    @staticmethod
    def state_label(code: str) -> str:
        """The translated name of an action status (open, in progress, done awaiting verification, verified...)."""
        return _label(ACTION_STATES, code)

    @staticmethod
    def kind_label(code: str) -> str:
        return _label(ACTION_TYPES, code)

    @property
    def ref(self) -> str:
        """CMP-00012/34 for a complaint's action, CAPA-00034 for one raised from a survey answer."""
        if self.complaint is not None:
            return f"{self.complaint.ref}/{self.id}"
        return f"CAPA-{self.id:05d}"

    @property
    def source_kind(self) -> str:
        return "complaint" if self.complaint_id is not None or self.complaint is not None else "survey_answer"

    @property
    def customer(self) -> Customer | None:
        if self.complaint is not None:
            return self.complaint.customer
        if self.survey_answer is not None:
            return self.survey_answer.response.customer
        return None

    @property
    def source_link(self) -> tuple[str, dict, str]:
        """(endpoint, arguments, anchor) of the record the action belongs to: the complaint's actions, or the
        survey answer it was raised from. Lists link there."""
        if self.complaint_id is not None:
            return "complaints.detail", {"complaint_id": self.complaint_id}, "actions"
        return "surveys.answer_detail", {"answer_id": self.survey_answer_id}, "actions"

    @property
    def page_link(self) -> tuple[str, dict]:
        """(endpoint, arguments) of the action's own page (progress and verification)."""
        if self.complaint_id is not None:
            return "complaints.update_action", {"complaint_id": self.complaint_id, "action_id": self.id}
        return "complaints.action", {"action_id": self.id}

    @property
    def is_locked(self) -> bool:
        """A finished complaint freezes its actions; an action raised from a survey answer has no such parent."""
        return self.complaint is not None and self.complaint.is_final

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES

    @property
    def awaiting_verification(self) -> bool:
        return self.status == "done"

    def _source_visible(self, user) -> bool:
        if self.complaint is not None:
            return self.complaint.can_view(user)
        # a survey answer is open to every signed-in user (surveys.models.SurveyAnswer.can_view)
        return self.survey_answer is not None and self.survey_answer.can_view(user)

    def may_verify(self, user) -> bool:
        """CS staff other than the action's owner and other than who marked it done."""
        if user is None or not _is_cs(user) or not self._source_visible(user):
            return False
        return user.id not in {self.owner_id, self.completed_by_id}

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_date is not None and self.due_date < today

    def can_view(self, user) -> bool:
        return self._source_visible(user)

    @classmethod
    def visible_to(cls, user):
        """``can_view`` in SQL, a condition for a select of actions: an action raised from a survey answer
        is open to every signed-in user, a complaint's action to whoever may see the complaint
        (Complaint.visible_to). Tested against ``can_view`` action by action."""
        if user is None or not getattr(user, "is_authenticated", False):
            return db.false()
        if user.is_manager:
            return db.true()
        return or_(cls.complaint_id.is_(None),
                   cls.complaint_id.in_(Complaint.visible_to(user).with_only_columns(Complaint.id)))

    @classmethod
    def due_for(cls, user, until: date) -> tuple:
        """Conditions for the user's open actions due by ``until`` (overdue ones included) that the user may see:
        the dashboard's "My CAPA actions due" panel and its due list."""
        return (cls.owner_id == user.id, cls.status.in_(OPEN_ACTION_STATUSES), cls.due_date <= until,
                cls.visible_to(user))

    def can_edit(self, user) -> bool:
        if not self._source_visible(user):
            return False
        return _is_cs(user) or (user is not None and user.id == self.owner_id)


class ComplaintAttachment(db.Model):
    __tablename__ = "cs_complaint_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("cs_complaint.id", ondelete="CASCADE"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    description: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")
    uploaded_by: Mapped[Optional[User]] = relationship()

    def can_view(self, user) -> bool:
        return self.complaint.can_view(user)


class ComplaintReport(db.Model):
    """A version of the 8D report sent to the customer: the exact bytes are kept (content store + sha256)."""

    __tablename__ = "cs_complaint_report"
    __table_args__ = (UniqueConstraint("complaint_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("cs_complaint.id", ondelete="CASCADE"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    recipient: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    archive_record_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)

    complaint: Mapped[Complaint] = relationship(back_populates="reports")
    sent_by: Mapped[Optional[User]] = relationship()

    @property
    def filename(self) -> str:
        return f"{self.complaint.ref}-8D-v{self.version}.pdf"

    def can_view(self, user) -> bool:
        return self.complaint.can_view(user)


class LessonShare(db.Model):
    """A closed case distributed to a person or a department, acknowledged by the recipient."""

    __tablename__ = "cs_lesson_share"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("cs_complaint.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True, index=True)
    department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"), nullable=True, index=True)
    shared_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    complaint: Mapped[Complaint] = relationship(back_populates="lessons")
    user: Mapped[Optional[User]] = relationship(foreign_keys=[user_id])
    department: Mapped[Optional[Department]] = relationship()
    shared_by: Mapped[Optional[User]] = relationship(foreign_keys=[shared_by_id])
    acknowledged_by: Mapped[Optional[User]] = relationship(foreign_keys=[acknowledged_by_id])

    def can_view(self, user) -> bool:
        return self.complaint.can_view(user)

    def is_for(self, user) -> bool:
        if user is None:
            return False
        if self.user_id is not None:
            return self.user_id == user.id
        return self.department_id is not None and self.department_id == user.department_id

    @property
    def recipient_name(self) -> str:
        if self.user is not None:
            return self.user.display_name
        return self.department.name_en if self.department else ""


_MOVED_TO_MOC = ("MocRequest", "MocItem", "MOC_STATES", "MOC_PERIODS", "MOC_ITEM_KINDS")


def __getattr__(name: str):
    """The MOC models moved to ``portal/blueprints/moc/models.py``: still importable from here (lazily, no
    import cycle) for code not yet moved; import them from ``moc.models``."""
    if name in _MOVED_TO_MOC:
        from ..moc import models as moc_models

        return getattr(moc_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
