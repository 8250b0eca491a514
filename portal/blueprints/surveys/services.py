"""Survey logic: questionnaires and versions, campaigns and personal links, answers, results, follow-up.

Services flush, never commit. Tokens are 256-bit random (``secrets.token_urlsafe(32)``), kept only as their
SHA-256; a link answers only for its own campaign, until the campaign closes, and turns read-only once
submitted.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ...extensions import db
from ...models import User
from ...outbox import path_for, queue_message, switched_off
from ...services import NoFilerRegistered, ServiceError, file_record, register_customer_summary
from ...i18n import fmt_datetime
from ...timeutil import local_today, to_local, tz, utcnow
from ..complaints.models import ACTION_TYPES, OPEN_ACTION_STATUSES, CapaAction, Complaint
from ..customers.models import Customer, CustomerContact
from . import analysis
from .models import (
    CATEGORIES,
    CATEGORIES_BI,
    QUESTION_KINDS,
    Questionnaire,
    QuestionnaireVersion,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyRateCounter,
    SurveyResponse,
    SurveySection,
)

# --- questionnaires ------------------------------------------------------------------------------


def create_questionnaire(*, code: str, title_zh: str, title_en: str, user) -> Questionnaire:
    code = code.strip().upper()
    if db.session.scalar(db.select(Questionnaire).filter_by(code=code)):
        raise ServiceError(_l("The code %(code)s is already used.", code=code), field="code")
    q = Questionnaire(code=code, title_zh=title_zh.strip(), title_en=title_en.strip(), created_by_id=getattr(user, "id", None))
    db.session.add(q)
    db.session.add(QuestionnaireVersion(questionnaire=q, number=1))
    db.session.flush()
    return q


def _editable(version: QuestionnaireVersion) -> None:
    if version.frozen:
        raise ServiceError(_l("This version is frozen (a campaign uses it): start a new version to change questions."))


def add_section(version: QuestionnaireVersion, *, title_zh: str, title_en: str) -> SurveySection:
    _editable(version)
    section = SurveySection(version=version, title_zh=title_zh.strip(), title_en=title_en.strip(),
                            position=len(version.sections) + 1)
    db.session.add(section)
    db.session.flush()
    return section


def add_question(version: QuestionnaireVersion, *, section_id: int, key: str, kind: str, text_zh: str, text_en: str,
                 mandatory: bool = False, allow_na: bool = False, category: str = "", options: str = "") -> SurveyQuestion:
    _editable(version)
    section = next((s for s in version.sections if s.id == section_id), None)
    if section is None:
        raise ServiceError(_l("Choose a section of this version."), field="section_id")
    if kind not in QUESTION_KINDS:
        raise ServiceError(_l("Unknown question type."), field="kind")
    key = key.strip().lower()
    if any(q.key == key for q in version.questions):
        raise ServiceError(_l("The key %(key)s is already used in this version.", key=key), field="key")
    if kind == "rating" and category not in CATEGORIES:
        raise ServiceError(_l("A rating question needs its service category."), field="category")
    if kind in ("single", "multiple") and len([line for line in options.splitlines() if line.strip()]) < 2:
        raise ServiceError(_l("Give at least two choices, one a line."), field="options")
    question = SurveyQuestion(version=version, section=section, key=key, kind=kind, text_zh=text_zh.strip(),
                              text_en=text_en.strip(), mandatory=mandatory, allow_na=allow_na and kind == "rating",
                              category=category if kind == "rating" else (category or ""),
                              options=options.strip() if kind in ("single", "multiple") else "",
                              position=len(version.questions) + 1)
    db.session.add(question)
    db.session.flush()
    return question


def remove_question(question: SurveyQuestion) -> None:
    _editable(question.version)
    if question in question.section.questions:
        question.section.questions.remove(question)
    question.version.questions.remove(question)  # delete-orphan
    db.session.flush()


def freeze(version: QuestionnaireVersion, now: datetime | None = None) -> None:
    if not version.questions:
        raise ServiceError(_l("Add questions before using this version."))
    if version.frozen_at is None:
        version.frozen_at = now or utcnow()
        db.session.flush()


def new_version(questionnaire: Questionnaire) -> QuestionnaireVersion:
    """A new draft version, a copy of the latest (question keys kept, so results stay comparable)."""
    latest = questionnaire.versions[-1]
    if not latest.frozen:
        raise ServiceError(_l("Version %(n)s is still a draft: edit it instead.", n=latest.number))
    version = QuestionnaireVersion(questionnaire=questionnaire, number=latest.number + 1, intro_zh=latest.intro_zh,
                                   intro_en=latest.intro_en)
    db.session.add(version)
    for s in latest.sections:
        section = SurveySection(version=version, position=s.position, title_zh=s.title_zh, title_en=s.title_en)
        db.session.add(section)
        for q in s.questions:
            db.session.add(SurveyQuestion(version=version, section=section, position=q.position, key=q.key, kind=q.kind,
                                          text_zh=q.text_zh, text_en=q.text_en, mandatory=q.mandatory,
                                          allow_na=q.allow_na, category=q.category, options=q.options))
    db.session.flush()
    return version


def frozen_versions() -> list[QuestionnaireVersion]:
    return list(db.session.scalars(db.select(QuestionnaireVersion)
                                   .options(joinedload(QuestionnaireVersion.questionnaire),
                                            selectinload(QuestionnaireVersion.questions))
                                   .order_by(QuestionnaireVersion.questionnaire_id, QuestionnaireVersion.number)))


# --- campaigns and links -------------------------------------------------------------------------

DEFAULT_INVITATION_ZH = ("尊敬的{name}：\n\n感谢您一直以来对本码头的支持。为持续改进服务，请您花约5分钟填写{year}年度客户满意度调查：\n"
                         "{link}\n\n本链接为您个人专用，有效期至{closes}。\n\n客服部")
DEFAULT_INVITATION_EN = ("Dear {name},\n\nThank you for working with our terminal. Please take about five minutes for our "
                         "{year} customer satisfaction survey:\n{link}\n\nThe link is personal and open until {closes}.\n\n"
                         "Customer Service Department")


def create_campaign(*, title: str, kind: str, year: int | None, version: QuestionnaireVersion, opens_on: date,
                    closes_on: date, reminder_on: date | None = None, invitation_zh: str = "", invitation_en: str = "",
                    user) -> SurveyCampaign:
    if closes_on < opens_on:
        raise ServiceError(_l("The campaign closes before it opens."), field="closes_on")
    if reminder_on and not opens_on <= reminder_on <= closes_on:
        raise ServiceError(_l("The reminder falls outside the campaign."), field="reminder_on")
    freeze(version)
    campaign = SurveyCampaign(title=title.strip(), kind=kind, year=year if kind == "yearly" else year, version=version,
                              opens_on=opens_on, closes_on=closes_on, reminder_on=reminder_on,
                              invitation_zh=invitation_zh.strip() or DEFAULT_INVITATION_ZH,
                              invitation_en=invitation_en.strip() or DEFAULT_INVITATION_EN,
                              created_by_id=getattr(user, "id", None))
    db.session.add(campaign)
    db.session.flush()
    return campaign


def closes_at(campaign: SurveyCampaign) -> datetime:
    """The end of the closing day in the portal's time zone, in UTC."""
    return datetime.combine(campaign.closes_on + timedelta(days=1), time(0), tzinfo=tz()).astimezone(timezone.utc)


def opens_at(campaign: SurveyCampaign) -> datetime:
    return datetime.combine(campaign.opens_on, time(0), tzinfo=tz()).astimezone(timezone.utc)


def campaign_status(campaign: SurveyCampaign, now: datetime | None = None) -> str:
    now = now or utcnow()
    if now < opens_at(campaign):
        return "planned"
    if now >= closes_at(campaign):
        return "closed"
    return "open"


CAMPAIGN_STATUSES = {"planned": _l("Planned"), "open": _l("Open"), "closed": _l("Closed")}


def _guess_language(contact: CustomerContact | None, customer: Customer) -> str:
    """Chinese for a contact whose name is written in Chinese, or a customer without an English name."""
    name = contact.name if contact else ""
    if any("\u4e00" <= ch <= "\u9fff" for ch in name):
        return "zh"
    if name:
        return "en" if name.isascii() else "zh"
    return "zh" if customer.name_zh and not customer.name_en else "en"


def invite(campaign: SurveyCampaign, customer_ids: list[int], *, language: str = "",
           now: datetime | None = None) -> list[SurveyInvitation]:
    """Invite every contact of the customers (a customer without contacts gets one invitation for itself)."""
    if campaign_status(campaign, now) == "closed":
        raise ServiceError(_l("The campaign is closed."))
    existing = {(i.customer_id, i.contact_id) for i in campaign.invitations}
    added = []
    for customer in db.session.scalars(db.select(Customer).filter(Customer.id.in_(customer_ids)).order_by(Customer.code)):
        contacts = list(customer.contacts) or [None]
        for contact in contacts:
            key = (customer.id, contact.id if contact else None)
            if key in existing:
                continue
            inv = SurveyInvitation(campaign=campaign, customer=customer, contact=contact,
                                   contact_name=contact.name if contact else customer.display_name(),
                                   email=contact.email if contact else (customer.recipients[:1] or [""])[0],
                                   language=language or _guess_language(contact, customer))
            db.session.add(inv)
            added.append(inv)
            existing.add(key)
    db.session.flush()
    return added


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_link(invitation: SurveyInvitation, now: datetime | None = None) -> str:
    """A new personal token (the old link stops working); returned once, only its hash is kept."""
    if invitation.submitted:
        raise ServiceError(_l("This contact has already answered."))
    token = secrets.token_urlsafe(32)  # 256 bits
    invitation.token_hash = hash_token(token)
    invitation.link_issued_at = now or utcnow()
    db.session.flush()
    return token


def find_invitation(campaign_id: int, token: str) -> SurveyInvitation | None:
    """The invitation whose token this is, in this campaign; None for anything else."""
    if not token or len(token) > 100:
        return None
    inv = db.session.scalar(db.select(SurveyInvitation).filter_by(token_hash=hash_token(token)))
    if inv is None or inv.campaign_id != campaign_id:
        return None
    return inv


def link_state(invitation: SurveyInvitation | None, now: datetime | None = None) -> str:
    """unknown / planned / submitted / expired / open."""
    if invitation is None:
        return "unknown"
    if invitation.submitted:
        return "submitted"
    status = campaign_status(invitation.campaign, now)
    return {"planned": "planned", "closed": "expired"}.get(status, "open")


def invitation_text(invitation: SurveyInvitation, link: str) -> str:
    c = invitation.campaign
    template = c.invitation_en if invitation.language == "en" else c.invitation_zh
    values = {"name": invitation.contact_name, "year": c.year or "", "link": link, "closes": c.closes_on.isoformat(),
              "customer": invitation.customer.display_name(invitation.language == "zh")}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return f"{template}\n\n{link}"


def remind(invitation: SurveyInvitation, now: datetime | None = None) -> None:
    invitation.reminded_at = now or utcnow()
    db.session.flush()


def reminder_dates(campaign: SurveyCampaign) -> list[date]:
    """The campaign's reminder dates (one today; a list so a campaign may carry more later)."""
    return [campaign.reminder_on] if campaign.reminder_on else []


def _reminder_date(campaign: SurveyCampaign, today: date) -> date | None:
    """The latest reminder date that has come by ``today`` while the campaign is still open."""
    passed = [d for d in reminder_dates(campaign) if d <= today <= campaign.closes_on]
    return max(passed) if passed else None


def _reminded_for(invitation: SurveyInvitation, due: date) -> bool:
    return invitation.reminded_at is not None and to_local(invitation.reminded_at).date() >= due


def reminders_due(campaign: SurveyCampaign, today: date | None = None, now: datetime | None = None,
                  ) -> list[SurveyInvitation]:
    """Invitations not answered yet once a reminder date has come (and not reminded since that date)."""
    today = today or local_today()
    due = _reminder_date(campaign, today)
    if due is None or campaign_status(campaign, now) != "open":
        return []
    return [i for i in campaign.invitations if not i.submitted and not _reminded_for(i, due)]


def reminder_counts(today: date | None = None, now: datetime | None = None) -> list[tuple[SurveyCampaign, int]]:
    """Each campaign with reminders due and how many (``len(reminders_due(campaign))``), oldest first: only the
    campaigns past a reminder date and not closed are read, and their invitations are counted in SQL."""
    today = today or local_today()
    candidates = db.session.scalars(
        db.select(SurveyCampaign).filter(SurveyCampaign.reminder_on.is_not(None), SurveyCampaign.reminder_on <= today,
                                         SurveyCampaign.closes_on >= today)
        .order_by(SurveyCampaign.opens_on, SurveyCampaign.id)).all()
    since = {}  # campaign id: the start (UTC) of its reminder date; reminded before it means not reminded for it
    for campaign in candidates:
        due = _reminder_date(campaign, today)
        if due is not None and campaign_status(campaign, now) == "open":
            since[campaign.id] = datetime.combine(due, time(0), tzinfo=tz()).astimezone(timezone.utc)
    if not since:
        return []
    answered = exists().where(SurveyResponse.invitation_id == SurveyInvitation.id,
                                 SurveyResponse.submitted_at.is_not(None))
    counts = dict(db.session.execute(
        db.select(SurveyInvitation.campaign_id, db.func.count(SurveyInvitation.id))
        .filter(db.or_(*[db.and_(SurveyInvitation.campaign_id == cid,
                                 db.or_(SurveyInvitation.reminded_at.is_(None), SurveyInvitation.reminded_at < start))
                         for cid, start in since.items()]), ~answered)
        .group_by(SurveyInvitation.campaign_id)).all())
    return [(c, counts[c.id]) for c in candidates if counts.get(c.id)]


# --- e-mail (through the portal's outbox) ----------------------------------------------------------

NOTICE_KIND = "survey"  # the notice kind a contact (or the portal) can switch off: invitations and reminders


def answer_link(campaign_id: int, token: str) -> str:
    """The personal link as the contact opens it: ``BASE_URL`` in front of the answer page's path."""
    from flask import has_request_context, url_for

    base = str(current_app.config.get("BASE_URL") or "").rstrip("/")
    if not base and has_request_context():
        return url_for("surveys.answer", campaign_id=campaign_id, token=token, _external=True)
    return base + path_for("surveys.answer", campaign_id=campaign_id, token=token)


def _recipient(invitation: SurveyInvitation):
    """The invited contact as an outbox recipient: its address, name, language and its own notice switches."""
    from types import SimpleNamespace

    contact = invitation.contact
    return SimpleNamespace(email=invitation.email, name=invitation.contact_name,
                           language="en" if invitation.language == "en" else "zh_Hans",
                           notices_off=contact.notices_off if contact is not None else "")


def mailable(invitation: SurveyInvitation) -> bool:
    """Has an address and has not switched survey mail off (else the CSR copies the link)."""
    return ("@" in (invitation.email or "")
            and NOTICE_KIND not in switched_off(invitation.contact.notices_off if invitation.contact else ""))


def _mail_context(invitation: SurveyInvitation, link: str) -> dict:
    c = invitation.campaign
    return {"campaign": c, "invitation": invitation, "link": link, "closes": c.closes_on,
            "customer": invitation.customer.display_name(invitation.language == "zh")}


def invitations_to_send(campaign: SurveyCampaign) -> list[SurveyInvitation]:
    """Invited contacts not yet sent a link (neither e-mailed nor copied), not answered, who can get e-mail."""
    return [i for i in campaign.invitations if i.link_issued_at is None and not i.submitted and mailable(i)]


def send_invitations(campaign: SurveyCampaign, *, user, now: datetime | None = None) -> list[SurveyInvitation]:
    """Issue each pending contact's personal link and queue the campaign's invitation text to them, in their
    language, in the caller's transaction (flushes only). Contacts whose link was issued already (copied) keep it."""
    if campaign_status(campaign, now) == "closed":
        raise ServiceError(_l("The campaign is closed."))
    sent = []
    for inv in invitations_to_send(campaign):
        link = answer_link(campaign.id, issue_link(inv, now))
        text = invitation_text(inv, link)
        queued = queue_message(_recipient(inv), "survey_invitation", {**_mail_context(inv, link), "text": text},
                               kind=NOTICE_KIND, record=inv, user=user, dedupe_key=f"survey-invitation:{inv.id}")
        if queued:
            sent.append(inv)
    return sent


def send_reminders(today: date | None = None, now: datetime | None = None) -> list[SurveyInvitation]:
    """Queue a reminder to each contact of an open campaign whose reminder date has come and who has not answered,
    once per contact and reminder date (a second run finds them reminded). The reminder carries a new personal link
    (only the link's fingerprint is kept, so the earlier one cannot be repeated; the new one replaces it)."""
    now = now or utcnow()
    today = today or to_local(now).date()
    reminded = []
    campaigns = db.session.scalars(db.select(SurveyCampaign).filter(SurveyCampaign.reminder_on.isnot(None),
                                                                    SurveyCampaign.closes_on >= today)
                                   .order_by(SurveyCampaign.id))
    for campaign in campaigns:
        due = _reminder_date(campaign, today)
        if due is None:
            continue
        for inv in reminders_due(campaign, today, now):
            if inv.link_issued_at is None or not mailable(inv):
                continue  # never sent a link (nothing to remind of) or no e-mail: the CSR reminds by hand
            link = answer_link(campaign.id, issue_link(inv, now))
            queued = queue_message(_recipient(inv), "survey_reminder", _mail_context(inv, link), kind=NOTICE_KIND,
                                   record=inv, dedupe_key=f"survey-reminder:{inv.id}:{due.isoformat()}")
            remind(inv, now)
            if queued:
                reminded.append(inv)
    return reminded


# --- rate limiting of the open pages ----------------------------------------------------------------


def hit(key: str, *, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    """Count one request under ``key``; False once more than ``limit`` fell in the current window.

    The counter lives in the database, so it holds across workers and machines."""
    now = now or utcnow()
    row = db.session.get(SurveyRateCounter, key[:100])
    if row is None:
        row = SurveyRateCounter(key=key[:100], window_start=now, count=0)
        db.session.add(row)
    elif now - row.window_start >= window:
        row.window_start, row.count = now, 0
    row.count += 1
    db.session.flush()
    return row.count <= limit


def over_limit(key: str, *, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    row = db.session.get(SurveyRateCounter, key[:100])
    now = now or utcnow()
    return row is not None and now - row.window_start < window and row.count >= limit


# --- answers --------------------------------------------------------------------------------------


def response_for(invitation: SurveyInvitation, *, mode: str = "online", language: str | None = None) -> SurveyResponse:
    if invitation.response is None:
        invitation.response = SurveyResponse(invitation=invitation, campaign_id=invitation.campaign_id,
                                             customer_id=invitation.customer_id, mode=mode,
                                             language=language or invitation.language)
        db.session.add(invitation.response)
        db.session.flush()
    return invitation.response


def save_answers(invitation: SurveyInvitation, values: dict[int, dict], *, submit: bool, mode: str = "online",
                 user=None, language: str | None = None, now: datetime | None = None) -> SurveyResponse:
    """Store the answers (a draft, or the final submission).

    ``values`` maps question id -> {"value": int|None, "na": bool, "choices": [int], "text": str}; ids of
    other versions' questions are ignored. On submit every mandatory question must be answered."""
    now = now or utcnow()
    if invitation.submitted:
        raise ServiceError(_l("These answers were already submitted and can no longer be changed."))
    if mode == "online" and link_state(invitation, now) != "open":
        raise ServiceError(_l("This survey is not open."))
    questions = {q.id: q for q in invitation.campaign.version.questions}
    clean: dict[int, dict] = {}
    for qid, raw in values.items():
        q = questions.get(qid)
        if q is None:
            continue
        clean[qid] = _clean(q, raw)
    if submit:
        missing = [q for q in questions.values() if q.mandatory and not _answered(clean.get(q.id))]
        if missing:
            raise ServiceError(_l("Please answer the questions marked as required."), field=f"q{missing[0].id}")
    response = response_for(invitation, mode=mode, language=language)
    response.mode = mode
    if language:
        response.language = language
    if user is not None and getattr(user, "is_authenticated", False):
        response.entered_by_id = user.id
    existing = {a.question_id: a for a in response.answers}
    for qid, v in clean.items():
        answer = existing.get(qid)
        if not _answered(v):
            if answer is not None:
                response.answers.remove(answer)
            continue
        if answer is None:
            answer = SurveyAnswer(question=questions[qid])
            response.answers.append(answer)
        answer.value, answer.na = v["value"], v["na"]
        answer.choices = ",".join(str(c) for c in v["choices"])
        answer.text = v["text"]
    if submit:
        response.submitted_at = now
    db.session.flush()
    return response


def _clean(q: SurveyQuestion, raw: dict) -> dict:
    value, na, choices, text = raw.get("value"), bool(raw.get("na")), list(raw.get("choices") or []), (raw.get("text") or "")
    out = {"value": None, "na": False, "choices": [], "text": ""}
    if q.kind == "rating":
        if na and q.allow_na:
            out["na"] = True
        elif value is not None:
            if not 1 <= int(value) <= 5:
                raise ServiceError(_l("Choose a rating from 1 to 5."), field=f"q{q.id}")
            out["value"] = int(value)
    elif q.kind == "nps":
        if value is not None:
            if not 0 <= int(value) <= 10:
                raise ServiceError(_l("Choose a score from 0 to 10."), field=f"q{q.id}")
            out["value"] = int(value)
    elif q.kind in ("single", "multiple"):
        n = len(q.choices)
        picked = sorted({int(c) for c in choices if 0 <= int(c) < n})
        out["choices"] = picked[:1] if q.kind == "single" else picked
    else:
        out["text"] = text.strip()[:10000]
    return out


def _answered(v: dict | None) -> bool:
    return bool(v) and (v["value"] is not None or v["na"] or bool(v["choices"]) or bool(v["text"]))


def current_values(response: SurveyResponse | None) -> dict[int, SurveyAnswer]:
    return {a.question_id: a for a in response.answers} if response else {}


# --- results --------------------------------------------------------------------------------------


def _submitted_answers(campaign_ids: list[int]):
    return list(db.session.scalars(
        db.select(SurveyAnswer).join(SurveyAnswer.response).filter(SurveyResponse.campaign_id.in_(campaign_ids),
                                                                   SurveyResponse.submitted_at.is_not(None))
        .options(contains_eager(SurveyAnswer.response), selectinload(SurveyAnswer.question))
        .order_by(SurveyAnswer.id)))


def question_stats(q: SurveyQuestion, answers: list[SurveyAnswer]) -> dict:
    mine = [a for a in answers if a.question_id == q.id]
    stats = {"question": q, "count": len(mine), "na": sum(1 for a in mine if a.na)}
    values = [a.value for a in mine if a.value is not None and not a.na]
    if q.kind == "rating":
        stats.update(distribution=analysis.distribution(values, analysis.RATING_SCALE), mean=analysis.mean(values),
                     answered=len(values))
    elif q.kind == "nps":
        stats.update(distribution=analysis.distribution(values, analysis.NPS_SCALE), mean=analysis.mean(values),
                     nps=analysis.nps(values), groups=analysis.nps_groups(values), answered=len(values))
    elif q.kind in ("single", "multiple"):
        counts = {i: 0 for i in range(len(q.choices))}
        for a in mine:
            for c in a.chosen:
                if c in counts:
                    counts[c] += 1
        stats.update(choice_counts=counts, answered=len(mine))
    else:
        stats.update(texts=[a for a in mine if a.text], answered=len(mine))
    return stats


def category_means(questions: list[SurveyQuestion], answers: list[SurveyAnswer]) -> dict[str, object]:
    by_q = {q.id: q for q in questions if q.kind == "rating" and q.category}
    values: dict[str, list[int]] = {}
    for a in answers:
        q = by_q.get(a.question_id)
        if q is not None and a.value is not None and not a.na:
            values.setdefault(q.category, []).append(a.value)
    return {cat: analysis.mean(values.get(cat, [])) for cat in CATEGORIES if cat in values}


def answer_source(source: str) -> SurveyAnswer | None:
    kind, _sep, ident = (source or "").partition(":")
    if kind != "survey_answer" or not ident.isdigit() or len(ident) > 9:
        return None
    return db.session.get(SurveyAnswer, int(ident))


def complaints_from(answer_ids: list[int]) -> dict[int, list[Complaint]]:
    """Complaints raised from these answers (their ``source`` names the answer)."""
    if not answer_ids:
        return {}
    keys = [f"survey_answer:{i}" for i in answer_ids]
    out: dict[int, list[Complaint]] = {}
    for c in db.session.scalars(db.select(Complaint).filter(Complaint.source.in_(keys)).order_by(Complaint.id)):
        out.setdefault(int(c.source.split(":")[1]), []).append(c)
    return out


def _load_actions(answers: list[SurveyAnswer]) -> None:
    """Load the CAPA actions of these answers in one statement (the loop status reads them)."""
    ids = [a.id for a in answers]
    for start in range(0, len(ids), 500):
        db.session.scalars(db.select(SurveyAnswer).filter(SurveyAnswer.id.in_(ids[start:start + 500]))
                           .options(selectinload(SurveyAnswer.capa_actions))).all()


def loop_status(answer: SurveyAnswer, complaints: list[Complaint]) -> str:
    """The follow-up of an answer, from its CAPA actions and the complaints raised from it (cancelled actions,
    rejected and withdrawn complaints left out): none (nothing yet) / open (an action open or in progress, or a
    complaint being handled) / verifying (every action done, some awaiting verification by someone other than
    the owner) / closed (every action verified and every complaint closed)."""
    items = [{"verified": "closed", "done": "verifying"}.get(a.status, "open")
             for a in answer.capa_actions if a.status != "cancelled"]
    items += ["closed" if c.state == "closed" else "open" for c in complaints if c.state not in ("rejected", "withdrawn")]
    if not items:
        return "none"
    if "open" in items:
        return "open"
    return "verifying" if "verifying" in items else "closed"


LOOP_LABELS = {"none": _l("no follow-up yet"), "open": _l("follow-up under way"),
               "verifying": _l("done, awaiting verification"), "closed": _l("loop closed")}
LOOP_TONES = {"none": "bad", "open": "warn", "verifying": "info", "closed": "ok"}


def results(campaign: SurveyCampaign, user=None) -> dict:
    """Everything the results page, the PDF and the pre-read show."""
    version = campaign.version
    questions = list(version.questions)
    answers = _submitted_answers([campaign.id])
    # response rate by customer
    by_customer: dict[int, dict] = {}
    for inv in campaign.invitations:
        row = by_customer.setdefault(inv.customer_id, {"customer": inv.customer, "invited": 0, "answered": 0})
        row["invited"] += 1
        row["answered"] += 1 if inv.submitted else 0
    for row in by_customer.values():
        row["rate"] = analysis.rate(row["answered"], row["invited"])
    invited = sum(r["invited"] for r in by_customer.values())
    answered = sum(r["answered"] for r in by_customer.values())
    stats = [question_stats(q, answers) for q in questions]
    flagged = [a for a in answers if a.flagged]
    texts = [a for a in answers if a.question.kind == "text" and a.text]
    followed = complaints_from([a.id for a in flagged + texts])
    _load_actions(flagged + texts)
    loops = {a.id: loop_status(a, followed.get(a.id, [])) for a in flagged + texts}
    closed = sum(1 for a in flagged if loops[a.id] == "closed")
    nps_stats = [s for s in stats if s["question"].kind == "nps"]
    return {
        "campaign": campaign, "questions": questions, "stats": stats,
        "customers": sorted(by_customer.values(), key=lambda r: r["customer"].code),
        "invited": invited, "answered": answered, "response_rate": analysis.rate(answered, invited),
        "categories": category_means(questions, answers),
        "nps": nps_stats[0]["nps"] if nps_stats else None,
        "flagged": flagged, "texts": texts, "loops": loops, "complaints": followed,
        "closed_loop_rate": analysis.rate(closed, len(flagged)), "closed_loops": closed,
    }


def customer_results(campaign: SurveyCampaign, customer_id: int) -> dict:
    """One customer's answers beside the average of all: per category and per rating / NPS question."""
    questions = list(campaign.version.questions)
    answers = _submitted_answers([campaign.id])
    mine = [a for a in answers if a.response.customer_id == customer_id]
    all_cat, my_cat = category_means(questions, answers), category_means(questions, mine)
    rows = []
    for q in questions:
        if q.kind not in ("rating", "nps"):
            continue
        rows.append({"question": q, "mine": analysis.mean(a.value for a in mine if a.question_id == q.id and a.value is not None and not a.na),
                     "all": analysis.mean(a.value for a in answers if a.question_id == q.id and a.value is not None and not a.na)})
    return {"categories": [(c, my_cat.get(c), all_cat.get(c)) for c in all_cat], "questions": rows, "answers": mine,
            "texts": [a for a in mine if a.question.kind == "text" and a.text]}


def trend(campaigns: list[SurveyCampaign]) -> dict:
    """Year on year: category means and question means per campaign, questions matched by their key across
    questionnaire versions (a question missing from a version is a gap), plus the NPS."""
    campaigns = sorted(campaigns, key=lambda c: (c.year or c.opens_on.year, c.opens_on, c.id))
    answers = _submitted_answers([c.id for c in campaigns])
    per_campaign: dict[int, list[SurveyAnswer]] = {}
    for a in answers:
        per_campaign.setdefault(a.response.campaign_id, []).append(a)
    categories: dict[str, list] = {}
    question_keys: dict[str, SurveyQuestion] = {}
    for c in campaigns:
        for q in c.version.questions:
            if q.kind in ("rating", "nps"):
                question_keys.setdefault(q.key, q)
    by_key: dict[str, list] = {k: [] for k in question_keys}
    nps_line = []
    for c in campaigns:
        mine = per_campaign.get(c.id, [])
        means = category_means(list(c.version.questions), mine)
        for cat in CATEGORIES:
            categories.setdefault(cat, []).append(means.get(cat))
        keyed = {q.key: q for q in c.version.questions}
        for key in by_key:
            q = keyed.get(key)
            vals = [a.value for a in mine if q is not None and a.question_id == q.id and a.value is not None and not a.na]
            by_key[key].append(analysis.mean(vals) if q is not None else None)
        nps_q = [q for q in c.version.questions if q.kind == "nps"]
        nps_line.append(analysis.nps(a.value for a in mine if nps_q and a.question_id == nps_q[0].id
                                     and a.value is not None) if nps_q else None)
    categories = {k: v for k, v in categories.items() if any(x is not None for x in v)}
    return {"campaigns": campaigns, "categories": categories, "questions": by_key, "question_info": question_keys,
            "nps": nps_line}


def yearly_campaigns(*, questions: bool = False) -> list[SurveyCampaign]:
    """Every campaign, oldest first, with its version and questionnaire, its invitations and their responses
    (and the version's questions when asked) loaded at once."""
    version = selectinload(SurveyCampaign.version)
    options = [version.joinedload(QuestionnaireVersion.questionnaire),
               selectinload(SurveyCampaign.invitations).selectinload(SurveyInvitation.response)]
    if questions:
        options.append(version.selectinload(QuestionnaireVersion.questions))
    return list(db.session.scalars(db.select(SurveyCampaign).options(*options).order_by(SurveyCampaign.opens_on)))


def customer_history(customer_id: int) -> list[dict]:
    """Each campaign the customer was invited to: answered or not, its mean rating and NPS answer."""
    out = []
    invs = db.session.scalars(db.select(SurveyInvitation).filter_by(customer_id=customer_id)
                              .join(SurveyCampaign).order_by(SurveyCampaign.opens_on.desc(), SurveyInvitation.id))
    for inv in invs:
        resp = inv.response
        values = [a.value for a in (resp.answers if resp and resp.submitted_at else [])
                  if a.question.kind == "rating" and a.value is not None and not a.na]
        out.append({"invitation": inv, "campaign": inv.campaign, "submitted": inv.submitted, "mean": analysis.mean(values),
                    "submitted_at": resp.submitted_at if resp else None})
    return out


def latest_customer_results(customer_id: int) -> dict | None:
    """The latest campaign the customer answered, with its category means beside the average (pre-read pack)."""
    campaign = db.session.scalar(
        db.select(SurveyCampaign).join(SurveyResponse, SurveyResponse.campaign_id == SurveyCampaign.id)
        .filter(SurveyResponse.customer_id == customer_id, SurveyResponse.submitted_at.is_not(None))
        .order_by(SurveyCampaign.opens_on.desc()).limit(1))
    if campaign is None:
        return None
    return {"campaign": campaign, **customer_results(campaign, customer_id)}


# --- follow-up ------------------------------------------------------------------------------------


def raise_action(answer: SurveyAnswer, *, description: str, owner_id: int | None, due_date: date | None,
                 user, kind: str = "corrective") -> CapaAction:
    """A corrective action raised from an answer: the complaints module's CAPA action, with the answer as its
    source (no complaint). Its owner marks it done on the action's page; someone else verifies it."""
    if answer.response.submitted_at is None:
        raise ServiceError(_l("Only submitted answers are followed up."))
    if kind not in ACTION_TYPES:
        raise ServiceError(_l("Choose the type of action."), field="kind")
    if not (description or "").strip():
        raise ServiceError(_l("Describe the action."), field="description")
    if not owner_id:
        raise ServiceError(_l("Name the owner."), field="owner_id")
    if due_date is None:
        raise ServiceError(_l("Give a due date."), field="due_date")
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.active:
        raise ServiceError(_l("Name the owner."), field="owner_id")
    action = CapaAction(survey_answer=answer, kind=kind, description=description.strip(), owner_id=owner.id,
                        due_date=due_date, status="open", created_by_id=getattr(user, "id", None))
    db.session.add(action)
    db.session.flush()
    return action


def open_actions_of(user) -> list[CapaAction]:
    """The user's open actions raised from survey answers, soonest due first."""
    return list(db.session.scalars(
        db.select(CapaAction).filter(CapaAction.owner_id == user.id, CapaAction.survey_answer_id.is_not(None),
                                     CapaAction.status.in_(OPEN_ACTION_STATUSES))
        .options(selectinload(CapaAction.survey_answer))
        .order_by(CapaAction.due_date, CapaAction.id)))


def complaint_prefill(answer: SurveyAnswer) -> dict:
    """Query arguments for /complaints/new: the customer, a title, the answer as description, its source."""
    q = answer.question
    inv = answer.response.invitation
    category = {"billing": "billing", "documents": "documentation", "quality": "quality", "hse": "safety",
                "berth": "delay", "trucks": "delay"}.get(q.category, "service")
    detail = answer.text or (f"{answer.value}" if answer.value is not None else "")
    return {
        "customer_id": answer.response.customer_id,
        "title": f"{answer.response.campaign.ref} {q.text_en or q.text_zh}"[:200],
        "description": f"{q.text_zh} / {q.text_en}\n{detail}\n— {inv.contact_name}",
        "category": category,
        "source": answer.source_key,
    }


# --- reports --------------------------------------------------------------------------------------


def raw_rows(campaign: SurveyCampaign) -> tuple[list[str], list[list]]:
    header = ["Customer 客户", "Contact 联系人", "Language 语言", "Mode 方式", "Submitted 提交时间", "Section 部分",
              "Key 编号", "Question 问题", "Category 类别", "Value 分值", "N/A 不适用", "Choices 选项", "Text 文字"]
    rows = []
    for inv in campaign.invitations:
        resp = inv.response
        if resp is None or resp.submitted_at is None:
            continue
        for a in resp.answers:
            q = a.question
            chosen = "; ".join(f"{q.choices[c][0]} / {q.choices[c][1]}" for c in a.chosen if c < len(q.choices))
            rows.append([inv.customer.code, inv.contact_name, resp.language, resp.mode, resp.submitted_at,
                         f"{q.section.title_zh} / {q.section.title_en}", q.key, f"{q.text_zh} / {q.text_en}",
                         " / ".join(CATEGORIES_BI.get(q.category, ("", ""))) if q.category else "",
                         a.value, "yes" if a.na else "", chosen, a.text])
    return header, rows


def report_context(campaign: SurveyCampaign, now: datetime | None = None) -> dict:
    from . import chartsets

    res = results(campaign)
    return {**res, **chartsets.campaign_charts(res, lang="bi"), "categories_bi": CATEGORIES_BI,
            "generated_at": fmt_datetime(now or utcnow()),
            "closes": campaign.closes_on}


def render_report(campaign: SurveyCampaign, now: datetime | None = None) -> bytes:
    from ...pdf import render_pdf_anywhere

    return render_pdf_anywhere("surveys/pdf_results.html", **report_context(campaign, now))


def raw_workbook(campaign: SurveyCampaign) -> bytes:
    from ...xlsx import workbook_bytes

    header, rows = raw_rows(campaign)
    return workbook_bytes([("Answers 答卷", header, rows)])


def file_report(campaign: SurveyCampaign, user, now: datetime | None = None):
    """File the results PDF and the raw answers in the archive's survey series (idempotent per campaign)."""
    pdf = render_report(campaign, now)
    xlsx = raw_workbook(campaign)
    try:
        record = file_record("survey", f"{campaign.ref} {campaign.title}",
                             [(f"{campaign.ref}-results.pdf", pdf), (f"{campaign.ref}-answers.xlsx", xlsx)], user,
                             event_date=campaign.closes_on, source_key=f"survey_campaign:{campaign.id}:results")
    except (NoFilerRegistered, ValueError) as exc:
        current_app.logger.warning("survey results not filed: %s", exc)
        raise ServiceError(_l("The archive is not available; nothing was filed.")) from exc
    campaign.archive_record_id = getattr(record, "id", None)
    db.session.flush()
    return record


def survey_summary(customer_id: int) -> dict | None:
    """The customer's latest survey results beside the average of all, with the chart (both languages):
    the review meeting's pre-read pack shows it through the core ``customer_summary("survey", ...)``."""
    from . import chartsets

    latest = latest_customer_results(customer_id)
    if latest is None:
        return None
    latest["chart"] = chartsets.customer_chart(latest, lang="bi")
    latest["categories_bi"] = CATEGORIES_BI
    nps_answers = [a.value for a in latest["answers"] if a.question.kind == "nps" and a.value is not None]
    latest["nps_answers"] = nps_answers
    return latest


register_customer_summary("survey", survey_summary)
