"""Customer satisfaction surveys: versioned questionnaires, campaigns, personal answer links, answers, follow-up."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...audit import register_record_kind
from ...extensions import db
from ...models import CreatedByMixin, TimestampMixin, User, UTCDateTime
from ...timeutil import utcnow
from ..customers.models import Customer, CustomerContact

if TYPE_CHECKING:
    from ..complaints.models import CapaAction

CS_ROLES = ("admin", "cs_manager", "csr")

QUESTION_KINDS = {
    "rating": _l("Rating 1–5"),
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "text": _l("Free text"),
    "nps": _l("Would you recommend us (0–10)"),
}
# The service categories of rating questions (the terminal's services as the customer meets them).
CATEGORIES = {
    "orders": _l("Order handling"),
    "berth": _l("Berth and vessel operations"),
    "trucks": _l("Truck loading"),
    "quality": _l("Quality and quantity"),
    "documents": _l("Documentation and reports"),
    "billing": _l("Billing"),
    "communication": _l("Communication and CSR responsiveness"),
    "hse": _l("HSE"),
}
# Bilingual words used on the customer's answer page and in the PDF, whatever the reader's locale.
CATEGORIES_BI = {
    "orders": ("订单处理", "Order handling"),
    "berth": ("泊位与船舶作业", "Berth and vessel operations"),
    "trucks": ("汽车装车", "Truck loading"),
    "quality": ("质量与数量", "Quality and quantity"),
    "documents": ("单证与报告", "Documentation and reports"),
    "billing": ("账单", "Billing"),
    "communication": ("沟通与客服响应", "Communication and CSR responsiveness"),
    "hse": ("安全、健康与环境", "HSE"),
}
RATING_LABELS = {
    1: ("非常不满意", "Very dissatisfied"),
    2: ("不满意", "Dissatisfied"),
    3: ("一般", "Neutral"),
    4: ("满意", "Satisfied"),
    5: ("非常满意", "Very satisfied"),
}
NA_LABEL = ("不适用", "Not applicable")
CAMPAIGN_KINDS = {"yearly": _l("Yearly"), "adhoc": _l("Ad hoc")}
MODES = {"online": _l("Online (personal link)"), "paper": _l("Paper form"), "interview": _l("Interview")}


def _signed_in(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False))


def _is_cs(user) -> bool:
    return _signed_in(user) and user.has_role(*CS_ROLES)


def label(mapping, code) -> str:
    return str(mapping.get(code, code or ""))


class Questionnaire(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "sv_questionnaire"
    __audit_label__ = _l("Questionnaire")

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    title_en: Mapped[str] = mapped_column(String(200), default="", nullable=False)

    versions: Mapped[list["QuestionnaireVersion"]] = relationship(
        back_populates="questionnaire", cascade="all, delete-orphan", order_by="QuestionnaireVersion.number")

    def __str__(self) -> str:
        return f"{self.code} {self.title_en or self.title_zh}"

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _is_cs(user)


class QuestionnaireVersion(TimestampMixin, db.Model):
    """A version of a questionnaire; frozen once a campaign uses it (its questions no longer change)."""

    __tablename__ = "sv_version"
    __table_args__ = (UniqueConstraint("questionnaire_id", "number"),)
    __audit_label__ = _l("Questionnaire version")
    __audit_fields__ = {
        "questionnaire_id": _l("Survey questionnaire"),
        "intro_zh": _l("Introduction (Chinese)"),
        "intro_en": _l("Introduction (English)"),
        "frozen_at": _l("Frozen since"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("sv_questionnaire.id", ondelete="CASCADE"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    intro_zh: Mapped[str] = mapped_column(Text, default="", nullable=False)
    intro_en: Mapped[str] = mapped_column(Text, default="", nullable=False)
    frozen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")
    sections: Mapped[list["SurveySection"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="(SurveySection.position, SurveySection.id)")
    questions: Mapped[list["SurveyQuestion"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="(SurveyQuestion.position, SurveyQuestion.id)",
        overlaps="section,questions")

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def name(self) -> str:
        return f"{self.questionnaire.code} v{self.number}"

    def __str__(self) -> str:
        return self.name

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _is_cs(user)


class SurveySection(db.Model):
    __tablename__ = "sv_section"
    __audit_label__ = _l("Questionnaire section")
    __audit_fields__ = {
        "version_id": _l("Questionnaire version"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("sv_version.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    title_en: Mapped[str] = mapped_column(String(200), default="", nullable=False)

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="sections")
    questions: Mapped[list["SurveyQuestion"]] = relationship(
        back_populates="section", order_by="(SurveyQuestion.position, SurveyQuestion.id)", overlaps="questions,version")

    def __str__(self) -> str:
        return f"{self.title_zh} / {self.title_en}"


class SurveyQuestion(db.Model):
    """One question. ``key`` is its identity across versions (year on year matches on it)."""

    __tablename__ = "sv_question"
    __table_args__ = (UniqueConstraint("version_id", "key"),)
    __audit_label__ = _l("Survey question")
    __audit_fields__ = {
        "version_id": _l("Questionnaire version"),
        "section_id": _l("Questionnaire section"),
        "key": _l("Question key"),
        "text_zh": _l("Question (Chinese)"),
        "text_en": _l("Question (English)"),
        "mandatory": _l("Required"),
        "allow_na": _l("Offer \"not applicable\""),
        "options": _l("Choices"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("sv_version.id", ondelete="CASCADE"), nullable=False, index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sv_section.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    text_zh: Mapped[str] = mapped_column(Text, default="", nullable=False)
    text_en: Mapped[str] = mapped_column(Text, default="", nullable=False)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    allow_na: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    category: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    # Choices, one a line: "中文 / English".
    options: Mapped[str] = mapped_column(Text, default="", nullable=False)

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="questions", overlaps="questions,section")
    section: Mapped[SurveySection] = relationship(back_populates="questions", overlaps="questions,version")

    @property
    def choices(self) -> list[tuple[str, str]]:
        """[(中文, English)] of a choice question."""
        out = []
        for line in self.options.splitlines():
            if not line.strip():
                continue
            zh, _sep, en = line.partition(" / ")
            out.append((zh.strip(), (en or zh).strip()))
        return out

    def text(self, lang: str) -> str:
        return (self.text_en or self.text_zh) if lang == "en" else (self.text_zh or self.text_en)

    def __str__(self) -> str:
        return f"{self.key}: {self.text_en or self.text_zh}"


class SurveyCampaign(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "sv_campaign"
    __audit_label__ = _l("Survey campaign")
    __audit_fields__ = {
        "year": _l("Year"),
        "version_id": _l("Questionnaire version"),
        "opens_on": _l("Survey opens"),
        "closes_on": _l("Survey closes"),
        "reminder_on": _l("Reminder due on"),
        "invitation_zh": _l("Invitation text (Chinese)"),
        "invitation_en": _l("Invitation text (English)"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), default="yearly", nullable=False)
    year: Mapped[Optional[int]] = mapped_column(Integer, nullable=True, index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("sv_version.id"), nullable=False, index=True)
    opens_on: Mapped[date] = mapped_column(Date, nullable=False)
    closes_on: Mapped[date] = mapped_column(Date, nullable=False)
    reminder_on: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    invitation_zh: Mapped[str] = mapped_column(Text, default="", nullable=False)
    invitation_en: Mapped[str] = mapped_column(Text, default="", nullable=False)
    archive_record_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)

    version: Mapped[QuestionnaireVersion] = relationship()
    invitations: Mapped[list["SurveyInvitation"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="SurveyInvitation.id")

    @property
    def ref(self) -> str:
        return f"SRV-{self.id:04d}"

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _is_cs(user)


class SurveyInvitation(TimestampMixin, db.Model):
    """One invited contact: the personal link's token is kept only as its SHA-256 hash."""

    __tablename__ = "sv_invitation"
    __audit_label__ = _l("Survey invitation")
    __audit_exclude__ = {"token_hash"}
    __audit_fields__ = {
        "campaign_id": _l("Survey campaign"),
        "contact_id": _l("Customer contact"),
        "contact_name": _l("Contact"),
        "link_issued_at": _l("Personal link issued"),
        "reminded_at": _l("Reminder sent"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("sv_campaign.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    contact_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer_contact.id", ondelete="SET NULL"), nullable=True)
    contact_name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    email: Mapped[str] = mapped_column(String(254), default="", nullable=False)
    language: Mapped[str] = mapped_column(String(5), default="zh", nullable=False)
    token_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True, nullable=True)
    link_issued_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    reminded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    campaign: Mapped[SurveyCampaign] = relationship(back_populates="invitations")
    customer: Mapped[Customer] = relationship()
    contact: Mapped[Optional[CustomerContact]] = relationship()
    response: Mapped[Optional["SurveyResponse"]] = relationship(back_populates="invitation", uselist=False,
                                                                cascade="all, delete-orphan")

    @property
    def submitted(self) -> bool:
        return self.response is not None and self.response.submitted_at is not None

    def __str__(self) -> str:
        return f"{self.customer.code if self.customer else ''} {self.contact_name}".strip()

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _is_cs(user)


class SurveyResponse(TimestampMixin, db.Model):
    __tablename__ = "sv_response"
    __audit_label__ = _l("Survey response")
    __audit_fields__ = {
        "invitation_id": _l("Survey invitation"),
        "campaign_id": _l("Survey campaign"),
        "mode": _l("How the answer was taken"),
        "entered_by_id": _l("Answer entered by"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("sv_invitation.id", ondelete="CASCADE"), unique=True, nullable=False)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("sv_campaign.id", ondelete="CASCADE"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    mode: Mapped[str] = mapped_column(String(10), default="online", nullable=False)
    language: Mapped[str] = mapped_column(String(5), default="zh", nullable=False)
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True, index=True)
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)

    invitation: Mapped[SurveyInvitation] = relationship(back_populates="response")
    campaign: Mapped[SurveyCampaign] = relationship()
    customer: Mapped[Customer] = relationship()
    entered_by: Mapped[Optional[User]] = relationship()
    answers: Mapped[list["SurveyAnswer"]] = relationship(back_populates="response", cascade="all, delete-orphan",
                                                         order_by="SurveyAnswer.id")

    def __str__(self) -> str:
        return f"{self.campaign.ref if self.campaign else ''} {self.invitation}"

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _is_cs(user)


class SurveyAnswer(db.Model):
    """One answer: ``value`` for ratings (1-5) and NPS (0-10); ``na`` for not applicable; ``choices`` the
    chosen option numbers (comma separated, from 0); ``text`` for free text."""

    __tablename__ = "sv_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)
    __audit_label__ = _l("Survey answer")
    __audit_fields__ = {
        "response_id": _l("Survey response"),
        "question_id": _l("Survey question"),
        "value": _l("Score"),
        "na": _l("Not applicable"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("sv_response.id", ondelete="CASCADE"), nullable=False, index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("sv_question.id"), nullable=False, index=True)
    value: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    na: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    choices: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    text: Mapped[str] = mapped_column(Text, default="", nullable=False)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
    question: Mapped[SurveyQuestion] = relationship()
    # Corrective actions raised from this answer: the complaints module's CAPA actions (one action record).
    capa_actions: Mapped[list["CapaAction"]] = relationship("CapaAction", back_populates="survey_answer",
                                                            cascade="all, delete-orphan", order_by="CapaAction.id")

    @property
    def source_key(self) -> str:
        return f"survey_answer:{self.id}"

    @property
    def flagged(self) -> bool:
        """A rating of 1-2 or a detractor (0-6)."""
        q = self.question
        if self.value is None or self.na:
            return False
        return (q.kind == "rating" and self.value <= 2) or (q.kind == "nps" and self.value <= 6)

    @property
    def chosen(self) -> list[int]:
        return [int(c) for c in self.choices.split(",") if c.strip().isdigit()]

    def __str__(self) -> str:
        return f"{self.response} · {self.question.key if self.question else ''}"

    def can_view(self, user) -> bool:
        return _signed_in(user)

    def can_edit(self, user) -> bool:
        return _is_cs(user)


class SurveyRateCounter(db.Model):
    """Requests to the open answer pages per client address and window (shared by every worker and machine)."""

    __tablename__ = "sv_rate_counter"
    __audit__ = False

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


# The survey follow-ups became CAPA actions (migration capa18_action_source): their audit records still read by name.
register_record_kind("sv_follow_up", _l("Survey follow-up"))
