"""Customer service logic: the working-day clock, the complaint state machine, CAPA, reports, MOC.

Services flush, never commit. Every function that depends on the time takes ``now`` (aware UTC) so
tests can set the clock.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_

from ...extensions import db
from ...models import Department, User
from ...storage import ContentStore, sanitise_filename, sha256_bytes
from ...timeutil import to_local, utcnow
from ...workdays import add_workdays, working_hours_between
from ..customers.models import Customer
from .models import (
    CATEGORIES,
    FINAL_STATES,
    OPEN_ACTION_STATUSES,
    STATES,
    CapaAction,
    Complaint,
    ComplaintAttachment,
    ComplaintReport,
    ComplaintTransition,
    Inquiry,
    Investigation,
    LessonShare,
    MocItem,
    MocRequest,
)


from ...services import ServiceError  # noqa: E402,F401  (the core class; kept importable from here)


# --- inquiries ---------------------------------------------------------------------------------

def answer_due(received_at: datetime) -> datetime:
    """Answers are due one working day after receipt (Chinese working-day calendar)."""
    return add_workdays(received_at, 1)


def create_inquiry(*, customer_id: int, channel: str, subject: str, question: str, received_at: datetime,
                   language: str, user, assigned_to_id: int | None = None) -> Inquiry:
    inquiry = Inquiry(
        customer_id=customer_id, channel=channel, subject=subject.strip(), question=question or "",
        received_at=received_at, due_at=answer_due(received_at), language=language,
        assigned_to_id=assigned_to_id or (user.id if user and user.has_role("csr") else None),
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(inquiry)
    db.session.flush()
    return inquiry


def list_inquiries(*, status: str = "", customer_id: int | None = None, mine_for=None, q: str = "",
                   now: datetime | None = None):
    now = now or utcnow()
    stmt = db.select(Inquiry).order_by(Inquiry.received_at.desc())
    if customer_id:
        stmt = stmt.filter(Inquiry.customer_id == customer_id)
    if mine_for is not None:
        stmt = stmt.filter(Inquiry.assigned_to_id == mine_for.id)
    if q:
        like = f"%{q}%"
        stmt = stmt.filter(or_(Inquiry.subject.ilike(like), Inquiry.question.ilike(like)))
    if status == "open":
        stmt = stmt.filter(Inquiry.answered_at.is_(None))
    elif status == "overdue":
        stmt = stmt.filter(Inquiry.answered_at.is_(None), Inquiry.due_at < now)
    elif status == "escalated":
        stmt = stmt.filter(Inquiry.escalated_at.is_not(None), Inquiry.escalation_resolved_at.is_(None))
    elif status == "answered":
        stmt = stmt.filter(Inquiry.answered_at.is_not(None))
    return stmt


def assign_inquiry(inquiry: Inquiry, user_id: int | None) -> None:
    inquiry.assigned_to_id = user_id or None
    db.session.flush()


def answer_inquiry(inquiry: Inquiry, *, answer: str, answered_at: datetime, user) -> None:
    if answered_at < inquiry.received_at:
        raise ServiceError(_l("The answer cannot be sent before the inquiry was received."))
    inquiry.answer = answer
    inquiry.answered_at = answered_at
    if inquiry.assigned_to_id is None:
        inquiry.assigned_to_id = user.id
    if inquiry.is_escalated:
        inquiry.escalation_resolved_at = answered_at
    db.session.flush()


def escalate_inquiry(inquiry: Inquiry, *, note: str, user, now: datetime | None = None) -> None:
    if inquiry.answered_at is not None:
        raise ServiceError(_l("An answered inquiry cannot be escalated."))
    inquiry.complex = True
    inquiry.escalated_at = now or utcnow()
    inquiry.escalated_by_id = user.id
    inquiry.escalation_note = note
    inquiry.escalation_resolved_at = None
    db.session.flush()


def inquiry_to_complaint(inquiry: Inquiry, *, user, category: str = "service", now: datetime | None = None) -> Complaint:
    if inquiry.complaint_id:
        raise ServiceError(_l("This inquiry has already been turned into a complaint."))
    complaint = create_complaint(
        customer_id=inquiry.customer_id, title=inquiry.subject, description=inquiry.question,
        category=category, severity="medium", received_at=inquiry.received_at, language=inquiry.language,
        user=user, owner_id=inquiry.assigned_to_id or user.id,
    )
    inquiry.complaint_id = complaint.id
    db.session.flush()
    return complaint


def inquiry_figures(rows: list[Inquiry] | None = None) -> list[dict]:
    """Per month (of receipt, local time): count, answered on time %, median answer time in working hours."""
    if rows is None:
        rows = list(db.session.scalars(db.select(Inquiry).order_by(Inquiry.received_at)))
    months: dict[str, list[Inquiry]] = defaultdict(list)
    for row in rows:
        months[to_local(row.received_at).strftime("%Y-%m")].append(row)
    out = []
    for month in sorted(months, reverse=True):
        items = months[month]
        answered = [i for i in items if i.answered_at is not None]
        on_time = [i for i in answered if i.answered_at <= i.due_at]
        hours = [working_hours_between(i.received_at, i.answered_at) for i in answered]
        out.append({
            "month": month,
            "count": len(items),
            "answered": len(answered),
            "on_time_pct": (Decimal(100 * len(on_time)) / len(items)).quantize(Decimal("0.1")) if items else None,
            "median_hours": Decimal(statistics.median(hours)).quantize(Decimal("0.01")) if hours else None,
        })
    return out


# --- complaints: visibility ----------------------------------------------------------------------

def visible_complaints(user):
    """select() of the complaints the user may see (restricted ones only for managers and named people)."""
    stmt = db.select(Complaint)
    if user is None or not getattr(user, "is_authenticated", False):
        return stmt.filter(db.false())
    if user.is_manager:
        return stmt
    named_in_action = exists().where(CapaAction.complaint_id == Complaint.id, CapaAction.owner_id == user.id)
    return stmt.filter(or_(
        Complaint.restricted.is_(False),
        Complaint.created_by_id == user.id,
        Complaint.owner_id == user.id,
        named_in_action,
    ))


def list_complaints(user, *, state: str = "", category: str = "", customer_id: int | None = None, q: str = ""):
    stmt = visible_complaints(user).order_by(Complaint.received_at.desc())
    if state == "open":
        stmt = stmt.filter(Complaint.state.not_in(FINAL_STATES))
    elif state:
        stmt = stmt.filter(Complaint.state == state)
    if category:
        stmt = stmt.filter(Complaint.category == category)
    if customer_id:
        stmt = stmt.filter(Complaint.customer_id == customer_id)
    if q:
        like = f"%{q}%"
        stmt = stmt.filter(or_(Complaint.title.ilike(like), Complaint.description.ilike(like), Complaint.reference.ilike(like)))
    return stmt


# --- complaints: creation and the state machine -------------------------------------------------

def create_complaint(*, customer_id: int, title: str, category: str, description: str, user,
                     severity: str = "medium", reference: str = "", customer_request: str = "",
                     received_at: datetime | None = None, language: str = "zh", restricted: bool = False,
                     owner_id: int | None = None) -> Complaint:
    received_at = received_at or utcnow()
    complaint = Complaint(
        customer_id=customer_id, title=title.strip(), category=category, severity=severity,
        description=description, reference=reference or "", customer_request=customer_request or "",
        received_at=received_at, ack_due_at=add_workdays(received_at, 1), language=language,
        restricted=restricted, owner_id=owner_id or getattr(user, "id", None), state="received",
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(complaint)
    db.session.flush()
    db.session.add(ComplaintTransition(complaint=complaint, action="record", from_state="", to_state="received",
                                       user_id=getattr(user, "id", None), at=received_at, note=""))
    db.session.flush()
    return complaint


@dataclass(frozen=True)
class Transition:
    target: str
    roles: tuple[str, ...]
    label: object
    needs_note: bool = False
    tone: str = ""


CS = ("csr", "cs_manager")
MANAGER = ("cs_manager",)

# (state, action) -> Transition: the only moves a complaint can make. Admin always passes the role check.
TRANSITIONS: dict[tuple[str, str], Transition] = {
    ("received", "acknowledge"): Transition("acknowledged", CS, _l("Acknowledge to customer"), tone="primary"),
    ("received", "reject"): Transition("rejected", MANAGER, _l("Reject"), needs_note=True, tone="danger"),
    ("received", "withdraw"): Transition("withdrawn", CS, _l("Withdrawn by customer"), needs_note=True),
    ("acknowledged", "investigate"): Transition("investigating", CS, _l("Start investigation"), tone="primary"),
    ("acknowledged", "reject"): Transition("rejected", MANAGER, _l("Reject"), needs_note=True, tone="danger"),
    ("acknowledged", "withdraw"): Transition("withdrawn", CS, _l("Withdrawn by customer"), needs_note=True),
    ("investigating", "start_actions"): Transition("actions_in_progress", CS, _l("Start actions"), tone="primary"),
    ("investigating", "reject"): Transition("rejected", MANAGER, _l("Reject"), needs_note=True, tone="danger"),
    ("investigating", "withdraw"): Transition("withdrawn", CS, _l("Withdrawn by customer"), needs_note=True),
    ("actions_in_progress", "request_check"): Transition("awaiting_effectiveness", CS, _l("Request effectiveness check"), tone="primary"),
    ("actions_in_progress", "withdraw"): Transition("withdrawn", CS, _l("Withdrawn by customer"), needs_note=True),
    ("awaiting_effectiveness", "close"): Transition("closed", MANAGER, _l("Close complaint"), tone="primary"),
    ("awaiting_effectiveness", "reopen_actions"): Transition("actions_in_progress", CS, _l("Back to actions")),
    ("awaiting_effectiveness", "withdraw"): Transition("withdrawn", CS, _l("Withdrawn by customer"), needs_note=True),
}
ACTIONS = sorted({action for _state, action in TRANSITIONS})


class TransitionError(ServiceError):
    pass


def _has_role(user, roles) -> bool:
    return bool(user is not None and user.has_role("admin", *roles))


def available_transitions(complaint: Complaint, user) -> list[tuple[str, Transition]]:
    return [(action, t) for (state, action), t in TRANSITIONS.items()
            if state == complaint.state and _has_role(user, t.roles)]


def _guard(complaint: Complaint, action: str) -> None:
    if action == "start_actions":
        inv = complaint.investigation
        if inv is None or not inv.root_cause.strip():
            raise TransitionError(_l("Record the root cause of the investigation before starting actions."))
    elif action == "request_check":
        if not complaint.actions:
            raise TransitionError(_l("Add at least one corrective or preventive action first."))
    elif action == "close":
        if complaint.open_actions:
            raise TransitionError(_l("The complaint cannot be closed while %(n)s action(s) are open.",
                                     n=len(complaint.open_actions)))
        if not complaint.effectiveness.strip() or complaint.evaluated_by is None \
                or not complaint.evaluated_by.has_role("cs_manager", "admin"):
            raise TransitionError(_l("The complaint cannot be closed without an effectiveness evaluation by a CS manager."))


def transition(complaint: Complaint, action: str, user, *, note: str = "", now: datetime | None = None) -> ComplaintTransition:
    """Move the complaint by ``action``; refuse moves not in the table, by other roles, or against the rules."""
    now = now or utcnow()
    t = TRANSITIONS.get((complaint.state, action))
    if t is None:
        raise TransitionError(_l("“%(action)s” is not possible while the complaint is “%(state)s”.",
                                 action=action, state=STATES.get(complaint.state, complaint.state)))
    if not _has_role(user, t.roles) or not complaint.can_view(user):
        raise TransitionError(_l("You may not do this."))
    if t.needs_note and not note.strip():
        raise TransitionError(_l("Give a reason."))
    _guard(complaint, action)
    row = ComplaintTransition(complaint=complaint, action=action, from_state=complaint.state, to_state=t.target,
                              user_id=user.id, at=now, note=note.strip())
    db.session.add(row)
    complaint.state = t.target
    if action == "acknowledge":
        complaint.acknowledged_at = now
    if t.target in FINAL_STATES:
        complaint.closed_at = now
        if t.target != "closed":
            complaint.end_reason = note.strip()
    db.session.flush()
    if t.target == "closed":
        if complaint.reports:
            file_report(complaint.reports[-1], user)
        file_evidence(complaint, user)
    return row


def save_investigation(complaint: Complaint, user, **fields) -> Investigation:
    if complaint.is_final:
        raise ServiceError(_l("This complaint is finished and can no longer be changed."))
    inv = complaint.investigation
    if inv is None:
        inv = Investigation(complaint=complaint)
        db.session.add(inv)
    for key, value in fields.items():
        if hasattr(Investigation, key):
            setattr(inv, key, value or "")
    inv.investigated_by_id = user.id
    complaint.updated_at = utcnow()
    db.session.flush()
    return inv


def add_action(complaint: Complaint, user, *, kind: str, description: str, owner_id: int | None = None,
               department_id: int | None = None, due_date: date | None = None) -> CapaAction:
    if complaint.is_final:
        raise ServiceError(_l("This complaint is finished and can no longer be changed."))
    action = CapaAction(complaint=complaint, kind=kind, description=description, owner_id=owner_id or None,
                        department_id=department_id or None, due_date=due_date, status="open",
                        created_by_id=user.id)
    db.session.add(action)
    complaint.updated_at = utcnow()
    db.session.flush()
    return action


def update_action(action: CapaAction, user, *, status: str, completion_note: str = "", now: datetime | None = None) -> None:
    if action.complaint.is_final:
        raise ServiceError(_l("This complaint is finished and can no longer be changed."))
    if status in ("done", "cancelled") and not completion_note.strip():
        raise ServiceError(_l("Describe what was done (completion note)."))
    action.status = status
    action.completion_note = completion_note.strip()
    action.completed_at = (now or utcnow()) if status in ("done", "cancelled") else None
    action.complaint.updated_at = utcnow()
    db.session.flush()


def evaluate(complaint: Complaint, user, *, text: str, now: datetime | None = None) -> None:
    if not user.has_role("cs_manager", "admin"):
        raise ServiceError(_l("Only a CS manager may write the effectiveness evaluation."))
    if complaint.state not in ("actions_in_progress", "awaiting_effectiveness"):
        raise ServiceError(_l("The effectiveness is evaluated once actions are under way."))
    complaint.effectiveness = text.strip()
    complaint.evaluated_by_id = user.id
    complaint.evaluated_by = user
    complaint.evaluated_at = now or utcnow()
    db.session.flush()


def overdue_actions(user, today: date) -> list[CapaAction]:
    rows = db.session.scalars(
        db.select(CapaAction).filter(CapaAction.owner_id == user.id, CapaAction.status.in_(OPEN_ACTION_STATUSES),
                                     CapaAction.due_date < today).order_by(CapaAction.due_date)
    )
    return [a for a in rows if a.complaint.can_view(user)]


# --- attachments -------------------------------------------------------------------------------

def attachment_store() -> ContentStore:
    return ContentStore(str(current_app.config["ARCHIVE_DIR"]) + "/attachments")


from ...uploads import check_upload  # noqa: E402,F401  (the one upload policy, in the core)


def add_attachment(complaint: Complaint, user, *, filename: str, data: bytes, description: str = "") -> ComplaintAttachment:
    name, content_type = check_upload(filename, data)
    sha = attachment_store().put(data)
    att = ComplaintAttachment(complaint=complaint, filename=name, content_type=content_type, size=len(data), sha256=sha,
                              description=description or "", uploaded_by_id=user.id)
    db.session.add(att)
    db.session.flush()
    return att


def read_stored(sha: str) -> bytes:
    with attachment_store().open(sha) as fh:
        return fh.read()


# --- the 8D report -----------------------------------------------------------------------------

PDF_STATES = {
    "received": "已收到 / Received", "acknowledged": "已确认 / Acknowledged", "investigating": "调查中 / Investigating",
    "actions_in_progress": "措施实施中 / Actions in progress", "awaiting_effectiveness": "待效果验证 / Awaiting effectiveness check",
    "closed": "已关闭 / Closed", "rejected": "已驳回 / Rejected", "withdrawn": "已撤回 / Withdrawn",
}
PDF_CATEGORIES = {
    "quantity": "数量 / Quantity", "quality": "质量 / Quality", "delay": "延误 / Delay", "documentation": "单证 / Documentation",
    "damage": "损坏 / Damage", "safety": "安全 / Safety", "service": "服务 / Service", "billing": "计费 / Billing",
}
PDF_ACTION_STATUSES = {"open": "未完成 / open", "in_progress": "进行中 / in progress", "done": "已完成 / done",
                       "cancelled": "已取消 / cancelled"}


def report_context(complaint: Complaint, *, now: datetime | None = None) -> dict:
    actions = {k: [a for a in complaint.actions if a.kind == k and a.status != "cancelled"]
               for k in ("immediate", "corrective", "preventive")}
    team = [complaint.owner] + [a.owner for a in complaint.actions] + [complaint.evaluated_by]
    names = list(dict.fromkeys(u.display_name for u in team if u is not None))
    return {
        "complaint": complaint,
        "team": names,
        "state_label": PDF_STATES.get(complaint.state, complaint.state),
        "inv": complaint.investigation,
        "actions": actions,
        "generated_at": to_local(now or utcnow()).strftime("%Y-%m-%d %H:%M"),
        "categories": PDF_CATEGORIES,
        "action_statuses": PDF_ACTION_STATUSES,
    }


from ...pdf import render_pdf_anywhere  # noqa: E402,F401  (moved to the core)


def render_report(complaint: Complaint, *, now: datetime | None = None) -> bytes:
    return render_pdf_anywhere("pdf/complaint_8d.html", **report_context(complaint, now=now))


def send_report(complaint: Complaint, user, *, recipient: str = "", now: datetime | None = None) -> ComplaintReport:
    """Generate the report, keep its exact bytes (content store + sha256) as the version sent."""
    now = now or utcnow()
    data = render_report(complaint, now=now)
    sha = attachment_store().put(data)
    version = len(complaint.reports) + 1
    report = ComplaintReport(complaint=complaint, version=version, sha256=sha, size=len(data),
                             recipient=recipient or "", sent_at=now, sent_by_id=user.id)
    db.session.add(report)
    db.session.flush()
    if complaint.state == "closed":
        file_report(report, user)
    return report


def _file_document():
    try:
        from ..archive.services import file_document  # built in parallel; optional until it lands
    except ImportError:
        return None
    return file_document


def file_report(report: ComplaintReport, user) -> None:
    """File the sent report in the archive (when the archive module exists)."""
    file_document = _file_document()
    if file_document is None or report.archive_record_id:
        return
    complaint = report.complaint
    try:
        with db.session.begin_nested():
            record = file_document(
                kind="complaint_report", title=f"{complaint.ref} 8D report – {complaint.title}",
                files=[(report.filename, read_stored(report.sha256))], user=user, customer_id=complaint.customer_id,
                restricted=complaint.restricted, event_date=to_local(report.sent_at).date(),
                source_key=f"complaint:{complaint.id}:8d-report",
            )
    except Exception:  # filing must not block the closure; the report stays with the complaint
        current_app.logger.exception("filing the 8D report of %s in the archive failed", complaint.ref)
        return
    report.archive_record_id = getattr(record, "id", None)
    db.session.flush()


def file_evidence(complaint: Complaint, user) -> None:
    """The evidence attachments join the archive when the complaint closes (when the archive module exists)."""
    file_document = _file_document()
    if file_document is None or not complaint.attachments:
        return
    try:
        with db.session.begin_nested():
            file_document(
                kind="complaint_report", title=f"{complaint.ref} evidence – {complaint.title}",
                files=[(a.filename, read_stored(a.sha256)) for a in complaint.attachments], user=user,
                customer_id=complaint.customer_id, restricted=complaint.restricted,
                event_date=to_local(complaint.closed_at or utcnow()).date(), source_key=f"complaint:{complaint.id}:evidence",
            )
    except Exception:
        current_app.logger.exception("filing the evidence of %s in the archive failed", complaint.ref)


EDITABLE = ("title", "category", "severity", "reference", "description", "customer_request", "language", "restricted")


def update_complaint(complaint: Complaint, user, **fields) -> None:
    if complaint.is_final:
        raise ServiceError(_l("This complaint is finished and can no longer be changed."))
    for key in EDITABLE:
        if key in fields:
            setattr(complaint, key, fields[key])
    if "owner_id" in fields:
        complaint.owner_id = fields["owner_id"] or complaint.owner_id
    db.session.flush()


# --- similar complaints and recurrence ------------------------------------------------------------

SIMILAR_KINDS = ["complaint", "inquiry"]


def similar_for(complaint: Complaint, user, limit: int = 5) -> list:
    try:
        from ...search import similar
    except ImportError:
        return []
    try:
        return list(similar(complaint, user=user, kinds=SIMILAR_KINDS, limit=limit))
    except Exception:  # the index may be missing or rebuilding: the page still works
        current_app.logger.exception("similar complaints lookup failed")
        return []


def similar_to_text(text: str, user, limit: int = 5) -> list:
    if len((text or "").strip()) < 4:
        return []
    try:
        from ...search import similar_text
    except ImportError:
        return []
    try:
        return list(similar_text(text, user=user, kinds=SIMILAR_KINDS, limit=limit))
    except Exception:
        current_app.logger.exception("similar text lookup failed")
        return []


def recurrences(*, customer_id: int, category: str, at: datetime, exclude_id: int | None = None, user=None) -> list[Complaint]:
    """Closed complaints of the same customer and category closed within the twelve months before ``at``."""
    stmt = (visible_complaints(user) if user is not None else db.select(Complaint)).filter(
        Complaint.customer_id == customer_id, Complaint.category == category, Complaint.state == "closed",
        Complaint.closed_at.is_not(None), Complaint.closed_at >= at - timedelta(days=365), Complaint.closed_at <= at,
    ).order_by(Complaint.closed_at.desc())
    if exclude_id:
        stmt = stmt.filter(Complaint.id != exclude_id)
    return list(db.session.scalars(stmt))


# --- lessons shared --------------------------------------------------------------------------------

def share_lesson(complaint: Complaint, user, *, summary: str, prevention: str, user_ids=(), department_ids=(),
                 now: datetime | None = None) -> list[LessonShare]:
    if complaint.state != "closed":
        raise ServiceError(_l("Lessons are shared once the complaint is closed."))
    if not user_ids and not department_ids:
        raise ServiceError(_l("Choose at least one person or department."))
    complaint.lesson_summary = summary.strip()
    complaint.lesson_prevention = prevention.strip()
    now = now or utcnow()
    have_users = {s.user_id for s in complaint.lessons if s.user_id}
    have_deps = {s.department_id for s in complaint.lessons if s.department_id}
    out = []
    for uid in user_ids:
        if uid not in have_users:
            out.append(LessonShare(complaint=complaint, user_id=uid, shared_by_id=user.id, shared_at=now))
    for did in department_ids:
        if did not in have_deps:
            out.append(LessonShare(complaint=complaint, department_id=did, shared_by_id=user.id, shared_at=now))
    db.session.add_all(out)
    db.session.flush()
    return out


def acknowledge_lesson(share: LessonShare, user, now: datetime | None = None) -> None:
    if not share.is_for(user):
        raise ServiceError(_l("This lesson was not shared with you."))
    if share.acknowledged_at is None:
        share.acknowledged_at = now or utcnow()
        share.acknowledged_by_id = user.id
        db.session.flush()


def lessons_for(user) -> list[LessonShare]:
    cond = LessonShare.user_id == user.id
    if user.department_id:
        cond = or_(cond, LessonShare.department_id == user.department_id)
    rows = db.session.scalars(db.select(LessonShare).filter(cond).order_by(LessonShare.shared_at.desc()))
    return [r for r in rows if r.complaint.can_view(user)]


# --- figures -----------------------------------------------------------------------------------------

def complaint_figures(user) -> dict:
    rows = list(db.session.scalars(visible_complaints(user).order_by(Complaint.received_at)))
    per_month: dict[str, int] = defaultdict(int)
    per_category: dict[str, int] = defaultdict(int)
    per_customer: dict[str, int] = defaultdict(int)
    days = []
    recurring = []
    for c in rows:
        per_month[to_local(c.received_at).strftime("%Y-%m")] += 1
        per_category[c.category] += 1
        per_customer[c.customer.code] += 1
        if c.days_to_close is not None:
            days.append(c.days_to_close)
    for c in rows:
        earlier = [p for p in rows if p.id != c.id and p.customer_id == c.customer_id and p.category == c.category
                   and p.state == "closed" and p.closed_at is not None
                   and c.received_at - timedelta(days=365) <= p.closed_at <= c.received_at]
        if earlier:
            recurring.append((c, earlier[-1]))
    return {
        "total": len(rows),
        "per_month": sorted(per_month.items(), reverse=True),
        "per_category": sorted(per_category.items(), key=lambda kv: -kv[1]),
        "per_customer": sorted(per_customer.items(), key=lambda kv: -kv[1]),
        "mean_days_to_close": (Decimal(sum(days)) / len(days)).quantize(Decimal("0.1")) if days else None,
        "closed": len(days),
        "recurrences": list(reversed(recurring)),
    }


# --- choices --------------------------------------------------------------------------------------

def staff_choices(*, cs_only: bool = False, blank: bool = True):
    users = db.session.scalars(db.select(User).filter(User.active.is_(True)).order_by(User.full_name, User.username))
    out = [(u.id, u.display_name) for u in users if not cs_only or u.has_role("csr", "cs_manager")]
    return ([(0, "—")] if blank else []) + out


def department_choices(*, blank: bool = True):
    rows = db.session.scalars(db.select(Department).order_by(Department.code))
    return ([(0, "—")] if blank else []) + [(d.id, d.name_en) for d in rows]


def customer_choices():
    rows = db.session.scalars(db.select(Customer).filter(Customer.active.is_(True)).order_by(Customer.code))
    return [(c.id, f"{c.code} · {c.name_en}") for c in rows]


# --- management of change ----------------------------------------------------------------------------

MOC_FIELDS = ("title", "description", "technical_basis", "safety_health_impact", "procedure_changes",
              "customer_impact", "period", "valid_until", "meeting_date", "attendees", "agenda", "minutes", "decisions")


def save_moc(moc: MocRequest | None, user, **fields) -> MocRequest:
    if moc is None:
        moc = MocRequest(created_by_id=user.id, state="draft")
        db.session.add(moc)
    elif moc.state in ("implemented", "rejected"):
        raise ServiceError(_l("This change is finished and can no longer be edited."))
    for key in MOC_FIELDS:
        if key in fields:
            setattr(moc, key, fields[key] if fields[key] is not None or key in ("valid_until", "meeting_date") else "")
    if "customer_id" in fields:
        moc.customer_id = fields["customer_id"] or None
    if "complaint_id" in fields:
        moc.complaint_id = fields["complaint_id"] or None
    if moc.period == "temporary" and moc.valid_until is None:
        raise ServiceError(_l("A temporary change needs an end date."))
    db.session.flush()
    return moc


def approve_moc(moc: MocRequest, user, *, approve: bool = True, now: datetime | None = None) -> None:
    if not user.has_role("cs_manager", "admin"):
        raise ServiceError(_l("Only a CS manager may authorise a change."))
    if moc.state != "draft":
        raise ServiceError(_l("Only a draft change can be authorised."))
    for field in ("technical_basis", "safety_health_impact"):
        if approve and not getattr(moc, field).strip():
            raise ServiceError(_l("Record the technical basis and the impact on safety and health before authorising."))
    moc.state = "approved" if approve else "rejected"
    moc.approved_by_id = user.id
    moc.approved_at = now or utcnow()
    db.session.flush()


def add_moc_item(moc: MocRequest, *, kind: str, description: str, owner_id: int | None, due_date: date | None) -> MocItem:
    item = MocItem(moc=moc, kind=kind, description=description, owner_id=owner_id or None, due_date=due_date)
    db.session.add(item)
    db.session.flush()
    return item


def set_moc_item(item: MocItem, done: bool, now: datetime | None = None) -> None:
    item.done = done
    item.done_at = (now or utcnow()) if done else None
    db.session.flush()


def implement_moc(moc: MocRequest, user, now: datetime | None = None) -> None:
    if moc.state != "approved":
        raise ServiceError(_l("Only an authorised change can be implemented."))
    training = [i for i in moc.open_items if i.kind == "training"]
    actions = [i for i in moc.open_items if i.kind == "action"]
    if training or actions:
        raise ServiceError(_l("The change cannot be marked implemented: %(t)s training item(s) and %(a)s action(s) are open.",
                              t=len(training), a=len(actions)))
    moc.state = "implemented"
    moc.implemented_at = now or utcnow()
    db.session.flush()
