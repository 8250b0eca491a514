"""Knowledge base: pages (regulations, procedures, guides) with revisions, approval, citations,
announcements with read-and-understood acknowledgements, training plans."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ...timeutil import utcnow

KINDS = ("regulation", "procedure", "guide")
EDITOR_ROLES = ("admin", "cs_manager", "csr")
APPROVER_ROLES = ("admin", "cs_manager")

# Revision states. Procedures go draft -> in_review -> approved (-> superseded); regulations and
# guides are published on save.
DRAFT, IN_REVIEW, APPROVED, SUPERSEDED, PUBLISHED = "draft", "in_review", "approved", "superseded", "published"
REVISION_STATES = (DRAFT, IN_REVIEW, APPROVED, SUPERSEDED, PUBLISHED)

JURISDICTIONS = ("national", "provincial", "port", "foreign")
REG_STATES = ("in_force", "amended", "repealed")

# Notes the portal writes on revisions it makes itself (stored in English, shown translated).
IMPORT_NOTE = "Imported from "
REVERT_NOTE = re.compile(r"Reverted to revision (\d+)")
AUTHOR_LABELS = {"import": _l("import"), "system": _l("system")}


def is_editor(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.has_role(*EDITOR_ROLES))


def is_approver(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.has_role(*APPROVER_ROLES))


class Page(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "kb_page"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    lang: Mapped[str] = mapped_column(String(10), default="en", nullable=False)
    tags: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    current_revision_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("kb_revision.id", use_alter=True, name="fk_kb_page_current_revision"), nullable=True
    )
    # procedures
    owner_department: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    version: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    next_review_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    review_months: Mapped[int] = mapped_column(Integer, default=12, nullable=False)
    review_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # regulations
    authority: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    doc_number: Mapped[str] = mapped_column(String(120), default="", nullable=False, index=True)
    jurisdiction: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    issued_on: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    effective_on: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    reg_status: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    superseded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_page.id"), nullable=True)
    source_url: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    summary: Mapped[str] = mapped_column(Text, default="", nullable=False)

    current_revision: Mapped[Optional["Revision"]] = relationship(foreign_keys=[current_revision_id], post_update=True)
    revisions: Mapped[list["Revision"]] = relationship(
        back_populates="page", foreign_keys="Revision.page_id", order_by="Revision.number",
        cascade="all, delete-orphan",
    )
    superseded_by: Mapped[Optional["Page"]] = relationship(remote_side=[id], foreign_keys=[superseded_by_id])
    citations: Mapped[list["Citation"]] = relationship(
        foreign_keys="Citation.page_id", back_populates="page", cascade="all, delete-orphan"
    )

    @property
    def latest_revision(self) -> Optional["Revision"]:
        return self.revisions[-1] if self.revisions else None

    @property
    def pending_revision(self) -> Optional["Revision"]:
        """A draft or in-review revision newer than the current version (procedures)."""
        latest = self.latest_revision
        if latest is not None and latest.status in (DRAFT, IN_REVIEW):
            return latest
        return None

    @property
    def status(self) -> str:
        """Procedure status: draft / in_review / approved; regulation status; guides: published."""
        if self.kind == "regulation":
            return self.reg_status or "in_force"
        if self.kind == "procedure":
            pending = self.pending_revision
            if pending is not None and pending.status == IN_REVIEW:
                return IN_REVIEW
            if self.current_revision is not None:
                return APPROVED
            return DRAFT
        return PUBLISHED

    @property
    def cited_regulations(self) -> list["Page"]:
        return [c.target for c in self.citations]

    def display_title(self, chinese: bool = False) -> str:
        if chinese and self.title_zh:
            return self.title_zh
        return self.title or self.title_zh

    def is_review_overdue(self, today: date) -> bool:
        return self.kind == "procedure" and self.next_review_date is not None and self.next_review_date < today

    def is_review_due(self, today: date, within_days: int = 30) -> bool:
        return (
            self.kind == "procedure"
            and self.next_review_date is not None
            and self.next_review_date <= today + timedelta(days=within_days)
        )

    def can_view(self, user) -> bool:
        if not (user and getattr(user, "is_authenticated", False)):
            return False
        return self.current_revision_id is not None or is_editor(user)

    def can_edit(self, user) -> bool:
        return is_editor(user)

    def acl_terms(self) -> list[str]:
        if self.current_revision_id is not None:
            return ["all"]
        return [f"role:{r}" for r in EDITOR_ROLES]

    def __str__(self) -> str:
        return self.title


class Revision(db.Model):
    __tablename__ = "kb_revision"
    __table_args__ = (UniqueConstraint("page_id", "number", name="uq_kb_revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("kb_page.id", ondelete="CASCADE"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    note: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=PUBLISHED, nullable=False)
    version: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    author_name: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    review_comment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    content_sha: Mapped[str] = mapped_column(String(64), default="", nullable=False)

    page: Mapped[Page] = relationship(back_populates="revisions", foreign_keys=[page_id])
    author: Mapped[Optional[User]] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[approved_by_id])

    @property
    def author_label(self) -> str:
        if self.author:
            return self.author.display_name
        if self.author_name in ("import", "system"):
            return str(AUTHOR_LABELS[self.author_name])
        return self.author_name or "—"

    @property
    def import_source(self) -> str | None:
        """The file an imported revision came from ("" when not named); None when it was not imported."""
        if self.author_id is not None or self.author_name != "import":
            return None
        return self.note[len(IMPORT_NOTE):].strip() if self.note.startswith(IMPORT_NOTE) else ""

    @property
    def note_label(self) -> str:
        """The change note, with the notes the portal writes itself shown in the reader's language."""
        if self.note == "Created":
            return _("Created")
        if self.note == "Imported":
            return _("Imported")
        if self.note.startswith(IMPORT_NOTE):
            return _("Imported from %(source)s", source=self.note[len(IMPORT_NOTE):].strip())
        m = REVERT_NOTE.fullmatch(self.note)
        if m:
            return _("Reverted to revision %(n)s", n=m.group(1))
        return self.note

    @property
    def is_published(self) -> bool:
        return self.status in (APPROVED, PUBLISHED, SUPERSEDED)

    def can_view(self, user) -> bool:
        if not self.page.can_view(user):
            return False
        return self.is_published or is_editor(user)


class Citation(db.Model):
    """A procedure (or guide) citing a regulation page."""

    __tablename__ = "kb_citation"
    __table_args__ = (UniqueConstraint("page_id", "target_id", name="uq_kb_citation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("kb_page.id", ondelete="CASCADE"), nullable=False, index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("kb_page.id", ondelete="CASCADE"), nullable=False, index=True)

    page: Mapped[Page] = relationship(foreign_keys=[page_id], back_populates="citations")
    target: Mapped[Page] = relationship(foreign_keys=[target_id])


# --- announcements and acknowledgements -----------------------------------------------------------


class Announcement(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "kb_announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("kb_page.id", ondelete="CASCADE"), nullable=False, index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("kb_revision.id"), nullable=False, index=True)
    message: Mapped[str] = mapped_column(Text, default="", nullable=False)
    due_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    target_roles: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    target_departments: Mapped[str] = mapped_column(String(300), default="", nullable=False)

    page: Mapped[Page] = relationship()
    revision: Mapped[Revision] = relationship()
    recipients: Mapped[list["AnnouncementRecipient"]] = relationship(
        back_populates="announcement", cascade="all, delete-orphan"
    )

    def can_view(self, user) -> bool:
        if not (user and getattr(user, "is_authenticated", False)):
            return False
        return is_approver(user) or user.id == self.created_by_id or any(r.user_id == user.id for r in self.recipients)

    def can_edit(self, user) -> bool:
        return is_approver(user)


class AnnouncementRecipient(db.Model):
    __tablename__ = "kb_announcement_recipient"
    __table_args__ = (UniqueConstraint("announcement_id", "user_id", name="uq_kb_announcement_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("kb_announcement.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)

    announcement: Mapped[Announcement] = relationship(back_populates="recipients")
    user: Mapped[User] = relationship()


class Acknowledgement(db.Model):
    """Read and understood: one user, one page version."""

    __tablename__ = "kb_acknowledgement"
    __table_args__ = (UniqueConstraint("user_id", "revision_id", name="uq_kb_acknowledgement"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("kb_revision.id", ondelete="CASCADE"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user: Mapped[User] = relationship()
    revision: Mapped[Revision] = relationship()


# --- training -------------------------------------------------------------------------------------


class TrainingPlan(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "kb_training_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    pass_mark: Mapped[int] = mapped_column(Integer, default=80, nullable=False)  # percent
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    steps: Mapped[list["TrainingStep"]] = relationship(
        back_populates="plan", order_by="TrainingStep.position", cascade="all, delete-orphan"
    )
    assignments: Mapped[list["TrainingAssignment"]] = relationship(back_populates="plan", cascade="all, delete-orphan")

    def can_view(self, user) -> bool:
        return bool(user and getattr(user, "is_authenticated", False))

    def can_edit(self, user) -> bool:
        return is_approver(user)


class TrainingStep(db.Model):
    __tablename__ = "kb_training_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("kb_training_plan.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    page_id: Mapped[int] = mapped_column(ForeignKey("kb_page.id"), nullable=False)

    plan: Mapped[TrainingPlan] = relationship(back_populates="steps")
    page: Mapped[Page] = relationship()
    questions: Mapped[list["QuizQuestion"]] = relationship(
        back_populates="step", order_by="QuizQuestion.position", cascade="all, delete-orphan"
    )


class QuizQuestion(db.Model):
    __tablename__ = "kb_quiz_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("kb_training_step.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    choices: Mapped[str] = mapped_column(Text, nullable=False)  # one choice per line
    correct: Mapped[str] = mapped_column(String(100), nullable=False)  # comma-separated choice indexes (0-based)

    step: Mapped[TrainingStep] = relationship(back_populates="questions")

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    @property
    def correct_set(self) -> set[int]:
        return {int(x) for x in self.correct.split(",") if x.strip().isdigit()}


class TrainingAssignment(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "kb_training_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("kb_training_plan.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False, index=True)
    due_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    completed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    certificate_no: Mapped[str] = mapped_column(String(40), default="", nullable=False)

    plan: Mapped[TrainingPlan] = relationship(back_populates="assignments")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    progress: Mapped[list["StepProgress"]] = relationship(back_populates="assignment", cascade="all, delete-orphan")

    def progress_for(self, step: TrainingStep) -> Optional["StepProgress"]:
        for p in self.progress:
            if p.step_id == step.id:
                return p
        return None

    def can_view(self, user) -> bool:
        return bool(user and getattr(user, "is_authenticated", False) and (user.id == self.user_id or is_approver(user)))

    def can_edit(self, user) -> bool:
        return bool(user and getattr(user, "is_authenticated", False) and user.id == self.user_id)


class StepProgress(db.Model):
    __tablename__ = "kb_step_progress"
    __table_args__ = (UniqueConstraint("assignment_id", "step_id", name="uq_kb_step_progress"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("kb_training_assignment.id", ondelete="CASCADE"), nullable=False, index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("kb_training_step.id", ondelete="CASCADE"), nullable=False)
    read_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    read_revision_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_revision.id"), nullable=True)
    quiz_score: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)  # percent, best attempt
    quiz_passed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    needs_reread: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    assignment: Mapped[TrainingAssignment] = relationship(back_populates="progress")
    step: Mapped[TrainingStep] = relationship()


class GlossaryEntry(TimestampMixin, db.Model):
    """One entry of the department's glossary as a structured list (the search's bilingual synonyms):
    the terms that mean the same, in English and Chinese, and abbreviations; several terms of a
    language separated by semicolons."""

    __tablename__ = "kb_glossary_entry"
    __audit_label__ = _l("Glossary term")

    id: Mapped[int] = mapped_column(primary_key=True)
    english: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    chinese: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    abbreviations: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    note: Mapped[str] = mapped_column(String(500), default="", nullable=False)

    def can_view(self, user) -> bool:
        return bool(user and getattr(user, "is_authenticated", False))

    def can_edit(self, user) -> bool:
        return is_editor(user)

    @staticmethod
    def split(value: str) -> list[str]:
        return [t.strip() for t in re.split(r"[;；]", value or "") if t.strip()]

    @property
    def terms(self) -> list[str]:
        """Every term of the entry: English, Chinese, abbreviations."""
        return self.split(self.english) + self.split(self.chinese) + self.split(self.abbreviations)
