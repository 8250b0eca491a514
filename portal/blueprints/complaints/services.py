"""Customer service logic: the working-day clock, the complaint state machine, CAPA, reports.

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
from sqlalchemy import event, or_
from sqlalchemy.orm import Session, selectinload

from ...delegation import refuse_own
from ...extensions import db
from ...pdf import render_pdf_anywhere
from ...search import similar, similar_text
from ...services import ServiceError, file_record, register_disposal_blocker
from ...models import Department
from ...outbox import Attachment, path_for, queue_message, split_addresses, users_with_role, with_contacts
from ...storage import ContentStore
from ...i18n import fmt_datetime
from ...timeutil import to_local, utcnow
from ...uploads import check_upload, plain
from ...workdays import add_workdays, working_hours_between
from ..department.models import responsible_csr
from .models import (
    ACTION_STATUSES,
    FINAL_STATES,
    CapaAction,
    Complaint,
    ComplaintAttachment,
    ComplaintReport,
    ComplaintTransition,
    Inquiry,
    Investigation,
    LessonShare,
    on_time_pct,
)




# --- inquiries ---------------------------------------------------------------------------------

def _default_owner(customer_id: int | None) -> int | None:
    """New work of a customer goes to its responsible CSR (the department's portfolio) unless someone is named."""
    csr = responsible_csr(customer_id) if customer_id else None
    return csr.id if csr is not None and csr.active else None


def answer_due(received_at: datetime) -> datetime:
    """Answers are due one working day after receipt (Chinese working-day calendar)."""
    return add_workdays(received_at, 1)


def create_inquiry(*, customer_id: int, channel: str, subject: str, question: str, received_at: datetime,
                   language: str, user, assigned_to_id: int | None = None, reply_to: str = "") -> Inquiry:
    inquiry = Inquiry(
        customer_id=customer_id, channel=channel, subject=subject.strip(), question=question or "",
        received_at=received_at, due_at=answer_due(received_at), language=language,
        assigned_to_id=assigned_to_id or _default_owner(customer_id) or (user.id if user and user.has_role("csr") else None),
        created_by_id=getattr(user, "id", None), reply_to=(reply_to or "").strip(),
    )
    db.session.add(inquiry)
    db.session.flush()
    _mail_customer(inquiry, "inquiry_ack", user)
    return inquiry


def _mail_customer(inquiry: Inquiry, template: str, user) -> None:
    """The acknowledgement or the answer to the address given on the inquiry (none given: no e-mail)."""
    if inquiry.reply_to:
        queue_message(with_contacts(split_addresses(inquiry.reply_to), inquiry.customer.contacts), template,
                      {"inquiry": inquiry}, kind="inquiry", record=inquiry, language=inquiry.language, user=user)


def list_inquiries(*, status: str = "", customer_id: int | None = None, mine_for=None, q: str = "",
                   now: datetime | None = None):
    now = now or utcnow()
    stmt = (db.select(Inquiry).order_by(Inquiry.received_at.desc())
            .options(selectinload(Inquiry.customer), selectinload(Inquiry.assigned_to)))
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
    _mail_customer(inquiry, "inquiry_answer", user)


def escalate_inquiry(inquiry: Inquiry, *, note: str, user, now: datetime | None = None) -> None:
    if inquiry.answered_at is not None:
        raise ServiceError(_l("An answered inquiry cannot be escalated."))
    inquiry.complex = True
    inquiry.escalated_at = now or utcnow()
    inquiry.escalated_by_id = user.id
    inquiry.escalation_note = note
    inquiry.escalation_resolved_at = None
    db.session.flush()
    queue_message(users_with_role("cs_manager"), "escalation",
                  {"inquiry": inquiry, "note": note, "by": user.display_name,
                   "path": path_for("complaints.inquiry_detail", inquiry_id=inquiry.id)},
                  kind="escalation", record=inquiry, user=user)


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


def inquiry_figures(rows: list[Inquiry] | None = None, *, now: datetime | None = None) -> list[dict]:
    """Per month (of receipt, local time): count, answered, still open and not yet due, answered on time %
    (of those decided: answered, or open past their due time; an open one not yet due is not late yet),
    median answer time in working hours."""
    now = now or utcnow()
    if rows is None:
        rows = list(db.session.scalars(db.select(Inquiry).order_by(Inquiry.received_at)))
    months: dict[str, list[Inquiry]] = defaultdict(list)
    for row in rows:
        months[to_local(row.received_at).strftime("%Y-%m")].append(row)
    out = []
    for month in sorted(months, reverse=True):
        items = months[month]
        answered = [i for i in items if i.answered_at is not None]
        hours = [working_hours_between(i.received_at, i.answered_at) for i in answered]
        out.append({
            "month": month,
            "count": len(items),
            "answered": len(answered),
            "open": sum(1 for i in items if i.on_time(now) == "open"),
            "on_time_pct": on_time_pct(items, now),
            "median_hours": Decimal(statistics.median(hours)).quantize(Decimal("0.01")) if hours else None,
        })
    return out


# --- complaints: visibility ----------------------------------------------------------------------

def visible_complaints(user):
    """select() of the complaints the user may see (restricted ones only for managers and named people)."""
    return Complaint.visible_to(user)


def list_complaints(user, *, state: str = "", category: str = "", customer_id: int | None = None, q: str = ""):
    stmt = (visible_complaints(user).order_by(Complaint.received_at.desc())
            .options(selectinload(Complaint.customer), selectinload(Complaint.owner)))
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
                     owner_id: int | None = None, source: str = "") -> Complaint:
    received_at = received_at or utcnow()
    complaint = Complaint(
        customer_id=customer_id, title=title.strip(), category=category, severity=severity,
        description=description, reference=reference or "", customer_request=customer_request or "",
        received_at=received_at, ack_due_at=add_workdays(received_at, 1), language=language,
        restricted=restricted, owner_id=owner_id or _default_owner(customer_id) or getattr(user, "id", None), state="received",
        created_by_id=getattr(user, "id", None), source=source or "",
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


def action_label(action: str) -> str:
    """The words of a workflow step (the button's label), for messages."""
    for (_state, name), t in TRANSITIONS.items():
        if name == action:
            return str(t.label)
    return action


class TransitionError(ServiceError):
    pass


def _has_role(user, roles) -> bool:
    return bool(user is not None and user.has_role("admin", *roles))


def available_transitions(complaint: Complaint, user) -> list[tuple[str, Transition]]:
    return [(action, t) for (state, action), t in TRANSITIONS.items()
            if state == complaint.state and _has_role(user, t.roles)]


def _guard(complaint: Complaint, action: str, note: str = "") -> None:
    if action == "start_actions":
        inv = complaint.investigation
        if inv is None or not inv.root_cause.strip():
            raise TransitionError(_l("Record the root cause of the investigation before starting actions."))
    elif action == "request_check":
        if not complaint.actions:
            raise TransitionError(_l("Add at least one corrective or preventive action first."))
        if complaint.unfinished_actions:
            raise TransitionError(_l("The effectiveness check can be requested once every action is done and verified: "
                                     "%(n)s action(s) are still open or awaiting verification.",
                                     n=len(complaint.unfinished_actions)))
    elif action == "close":
        if complaint.unfinished_actions:
            raise TransitionError(_l("The complaint cannot be closed while %(n)s action(s) are open or awaiting verification.",
                                     n=len(complaint.unfinished_actions)))
        if not complaint.effectiveness.strip() or complaint.evaluated_by is None \
                or not complaint.evaluated_by.has_role("cs_manager", "admin"):
            raise TransitionError(_l("The complaint cannot be closed without an effectiveness evaluation by a CS manager."))
        if not complaint.reports and not note.strip():
            raise TransitionError(_l("The report has not been sent to the customer: send it first, or give the reason "
                                     "to close without it in the note."), field="note")


def transition(complaint: Complaint, action: str, user, *, note: str = "", now: datetime | None = None) -> ComplaintTransition:
    """Move the complaint by ``action``; refuse moves not in the table, by other roles, or against the rules."""
    now = now or utcnow()
    t = TRANSITIONS.get((complaint.state, action))
    if t is None:
        raise TransitionError(_l("“%(action)s” is not possible while the complaint is “%(state)s”.",
                                 action=action_label(action), state=Complaint.state_label(complaint.state)))
    if not _has_role(user, t.roles) or not complaint.can_view(user):
        raise TransitionError(_l("You may not do this."))
    if t.roles == MANAGER:  # two-person rule under delegation: not on one's own case
        refuse_own(user, complaint.owner_id, *(r.user_id for r in complaint.transitions if r.action == "request_check"))
    if t.needs_note and not note.strip():
        raise TransitionError(_l("Give a reason."))
    _guard(complaint, action, note)
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
        elif not complaint.reports:
            complaint.closed_without_report_reason = note.strip()
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


def _refuse_locked(action: CapaAction) -> None:
    if action.is_locked:
        raise ServiceError(_l("This complaint is finished and can no longer be changed."))


def _touch_source(action: CapaAction) -> None:
    """A complaint shows as changed when one of its actions moves (a survey answer has no such date)."""
    if action.complaint is not None:
        action.complaint.updated_at = utcnow()


def update_action(action: CapaAction, user, *, status: str, completion_note: str = "", now: datetime | None = None) -> None:
    """The owner's progress: open, in progress, done (then someone else verifies it). Cancelling is not the owner's call.
    The same for a complaint's action and for one raised from a survey answer."""
    _refuse_locked(action)
    if action.status == "verified":
        raise ServiceError(_l("This action has been verified and can no longer be changed."))
    if status not in ACTION_STATUSES:
        raise ServiceError(_l("Choose a status."), field="status")
    if status == "cancelled" and action.status != "cancelled" and not action.may_verify(user):
        raise ServiceError(_l("An action is cancelled by CS staff other than its owner."), field="status")
    if status in ("done", "cancelled") and not completion_note.strip():
        raise ServiceError(_l("Describe what was done (completion note)."))
    if status != action.status:
        action.completed_by_id = user.id if status in ("done", "cancelled") else None
    action.status = status
    action.completion_note = completion_note.strip()
    action.completed_at = (now or utcnow()) if status in ("done", "cancelled") else None
    action.verified_by_id = None
    action.verified_at = None
    _touch_source(action)
    db.session.flush()


def verify_action(action: CapaAction, user, *, accept: bool, note: str = "", now: datetime | None = None) -> None:
    """Someone other than the owner (and other than who marked it done) verifies a done action, or sends it back."""
    _refuse_locked(action)
    if action.status != "done":
        raise ServiceError(_l("Only an action marked done can be verified."))
    if not action.may_verify(user):
        raise ServiceError(_l("An action is verified by someone other than its owner and whoever marked it done."))
    if not accept and not note.strip():
        raise ServiceError(_l("Say what is missing before sending the action back."), field="note")
    action.verification_note = note.strip()
    if accept:
        action.status = "verified"
        action.verified_by_id = user.id
        action.verified_at = now or utcnow()
    else:
        action.status = "in_progress"
        action.completed_at = None
        action.completed_by_id = None
    _touch_source(action)
    db.session.flush()


def evaluate(complaint: Complaint, user, *, text: str, now: datetime | None = None) -> None:
    if not user.has_role("cs_manager", "admin"):
        raise ServiceError(_l("Only a CS manager may write the effectiveness evaluation."))
    refuse_own(user, complaint.owner_id)
    if complaint.state not in ("actions_in_progress", "awaiting_effectiveness"):
        raise ServiceError(_l("The effectiveness is evaluated once actions are under way."))
    complaint.effectiveness = text.strip()
    complaint.evaluated_by_id = user.id
    complaint.evaluated_by = user
    complaint.evaluated_at = now or utcnow()
    db.session.flush()


def due_actions_query(user, today: date, days: int = 7):
    """select() of the user's open actions overdue or due within ``days`` days that the user may see, soonest
    first (the dashboard's "My CAPA actions due" list)."""
    return (db.select(CapaAction).options(selectinload(CapaAction.complaint))
            .filter(*CapaAction.due_for(user, today + timedelta(days=days)))
            .order_by(CapaAction.due_date, CapaAction.id))


def due_actions(user, today: date, days: int = 7) -> list[CapaAction]:
    """The user's open actions overdue or due within ``days`` days, soonest first."""
    return list(db.session.scalars(due_actions_query(user, today, days)))


def own_open_complaints(user):
    """select() of the open complaints the user owns, those still to acknowledge first (by acknowledgement due
    time)."""
    return (visible_complaints(user).filter(Complaint.owner_id == user.id, Complaint.state.not_in(FINAL_STATES))
            .order_by(Complaint.acknowledged_at.is_not(None), Complaint.ack_due_at, Complaint.id))


def awaiting_effectiveness(user):
    """select() of the complaints waiting for a CS manager's effectiveness check, oldest request first."""
    return (visible_complaints(user).filter(Complaint.state == "awaiting_effectiveness")
            .order_by(Complaint.updated_at, Complaint.id)
            .options(selectinload(Complaint.customer), selectinload(Complaint.owner)))


# --- attachments -------------------------------------------------------------------------------

def attachment_store() -> ContentStore:
    return ContentStore(str(current_app.config["ARCHIVE_DIR"]) + "/attachments")




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
PDF_ACTION_STATUSES = {"open": "未完成 / open", "in_progress": "进行中 / in progress",
                       "done": "已完成，待验证 / done, awaiting verification", "verified": "已验证 / verified",
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
        "generated_at": fmt_datetime(now or utcnow()),
        "categories": PDF_CATEGORIES,
        "action_statuses": PDF_ACTION_STATUSES,
    }




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
    # E-mailed when the recipient names addresses (a name alone records a report handed over otherwise).
    queue_message(with_contacts(split_addresses(recipient), complaint.customer.contacts), "complaint_8d",
                  {"complaint": complaint, "report": report}, kind="complaint_report", record=complaint,
                  language=complaint.language, user=user,
                  attachments=[Attachment.archived(report.filename, sha, store="attachments",
                                                   mimetype="application/pdf")])
    if complaint.state == "closed":
        file_report(report, user)
    return report


def file_report(report: ComplaintReport, user) -> None:
    """File the sent report in the archive through the core filing contract (``file_record``)."""
    if report.archive_record_id:
        return
    complaint = report.complaint
    try:
        with db.session.begin_nested():
            record = file_record(
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
    """The evidence attachments join the archive when the complaint closes (core filing contract)."""
    if not complaint.attachments:
        return
    try:
        with db.session.begin_nested():
            file_record(
                kind="complaint_report", title=f"{complaint.ref} evidence – {complaint.title}",
                files=[(a.filename, read_stored(a.sha256)) for a in complaint.attachments], user=user,
                customer_id=complaint.customer_id, restricted=complaint.restricted,
                event_date=to_local(complaint.closed_at or utcnow()).date(), source_key=f"complaint:{complaint.id}:evidence",
            )
    except Exception:
        current_app.logger.exception("filing the evidence of %s in the archive failed", complaint.ref)


_OPEN_BY_CUSTOMER = "complaints.open_by_customer"


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _forget_open_complaints(session, *_args) -> None:
    session.info.pop(_OPEN_BY_CUSTOMER, None)


def _open_complaints_by_customer() -> dict[int, list[tuple[int, bool]]]:
    """{customer id: [(complaint id, restricted)]} of open complaints, read once while nothing is written (a
    schedule asks for every due record); forgotten at the next flush and at the end of the transaction."""
    cached = db.session.info.get(_OPEN_BY_CUSTOMER)
    if cached is not None:
        return cached[0]
    out: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for cid, customer_id, restricted in db.session.execute(
            db.select(Complaint.id, Complaint.customer_id, Complaint.restricted)
            .filter(Complaint.state.not_in(FINAL_STATES)).order_by(Complaint.id)):
        out[customer_id].append((cid, restricted))
    db.session.info[_OPEN_BY_CUSTOMER] = (out, {})
    return out


def _open_complaint_reason(customer_id: int) -> str | None:
    """The blocker's message for a customer, worded once per customer (cached beside the open complaints)."""
    rows = _open_complaints_by_customer().get(customer_id)
    if not rows:
        return None
    said = db.session.info[_OPEN_BY_CUSTOMER][1]
    text = said.get(customer_id)
    if text is None:
        refs = [f"CMP-{cid:05d}" for cid, restricted in rows if not restricted][:3]
        hidden = sum(1 for _cid, restricted in rows if restricted)
        if hidden:
            refs.append(plain(_l("%(n)s restricted", n=hidden)))
        text = said[customer_id] = plain(_l("Open complaint of this customer: %(refs)s", refs=", ".join(refs)))
    return text


@register_disposal_blocker
def open_complaint_blocks_disposal(record) -> str | None:
    """Archived records of a customer with an open complaint may be evidence: their disposal waits.

    References of restricted complaints are not given (the reader of the schedule may not open them).
    """
    customer_id = getattr(record, "customer_id", None)
    if not customer_id:
        return None
    return _open_complaint_reason(customer_id)


# For the archive's counts in SQL: the blocker gives a reason exactly for the records of these customers.
open_complaint_blocks_disposal.blocked_customers = lambda: (
    db.select(Complaint.customer_id).filter(Complaint.state.not_in(FINAL_STATES), Complaint.customer_id.is_not(None)))


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

SIMILAR_KINDS = ["complaint"]  # the new-complaint panel lists past complaints (same kind), not inquiries


def similar_for(complaint: Complaint, user, limit: int = 5) -> list:
    try:
        return list(similar(complaint, user=user, limit=limit))  # complaints (the same kind)
    except Exception:  # the index may be missing or rebuilding: the page still works
        current_app.logger.exception("similar complaints lookup failed")
        return []


def similar_to_text(text: str, user, limit: int = 5) -> list:
    if len((text or "").strip()) < 4:
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
    new_users = {s.user_id for s in out if s.user_id}
    new_deps = {s.department_id for s in out if s.department_id}
    if new_users or new_deps:
        from ...models import User

        people = db.session.scalars(db.select(User).filter(
            User.active.is_(True), or_(User.id.in_(new_users or [0]), User.department_id.in_(new_deps or [0]))))
        queue_message([p for p in people if p.id != user.id], "lesson_shared",
                      {"complaint": complaint, "share": complaint_share_text(complaint),
                       "path": path_for("complaints.lessons")}, kind="lesson_shared", record=complaint, user=user)
    return out


def complaint_share_text(complaint: Complaint):
    """What a lesson e-mail quotes: the case summary and what was changed."""
    from types import SimpleNamespace

    return SimpleNamespace(summary=complaint.lesson_summary, prevention=complaint.lesson_prevention)


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
    rows = list(db.session.scalars(visible_complaints(user).order_by(Complaint.received_at)
                                   .options(selectinload(Complaint.customer))))
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

# Moved beside their models' services; re-exported here until the routes import them from there.
from ..admin.services import staff_choices  # noqa: E402,F401
from ..customers.services import customer_choices  # noqa: E402,F401


def department_choices(*, blank: bool = True):
    rows = db.session.scalars(db.select(Department).order_by(Department.code))
    return ([(0, "—")] if blank else []) + [(d.id, d.label) for d in rows]  # named in the user's language
