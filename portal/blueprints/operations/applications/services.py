"""Government applications: due times from the call's times, the states of a declaration, filing its documents.

Services flush, never commit. The due time of an application is the call's anchor time (ETA, ETB, ETC or
ETD, ``vessels.services.call_times``) plus the type's lead time in hours, counted as elapsed hours in UTC
(a lead time of -24 h is 24 hours before, also across a change to or from daylight saving time); it is shown
in the portal's time zone. A call listener (``register_call_listener``) creates the call's declarations when
the call is created or first changed, and moves their due times, with the change kept, whenever the call's
times move.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....services import ServiceError, file_record
from ....i18n import fmt_datetime
from ....timeutil import to_local, utcnow
from ....uploads import UploadRejected, check_upload
from ..vessels.models import Vessel, VesselCall
from ..vessels.services import call_times, register_call_listener
from .models import (
    ACTIONS,
    ANCHOR_FALLBACK,
    ANCHORS,
    AUTHORITIES,
    CLOSED_CALL_STATUSES,
    DUE_SOON_HOURS,
    MAX_LEAD_HOURS,
    OPEN_STATES,
    STATES,
    TO_FILE_STATES,
    TRANSITIONS,
    Application,
    ApplicationDueChange,
    ApplicationType,
)

# The series of the file plan the documents go to: the operations records of the call (CS-01, with the orders).
ARCHIVE_KIND = "order"

# The declarations most ports on the Chinese coast require per tanker call (seeded; managers edit them).
COMMON_TYPES = (
    dict(code="MSA-DG-ARR", name_en="Dangerous goods and arrival declaration",
         name_zh="船舶载运危险货物及进港申报", authority="msa", anchor="eta", lead_hours=-24, sort_order=10,
         documents="Dangerous goods declaration form\nCargo manifest\nSafety data sheets (SDS) of the cargo\n"
                   "Certificate of fitness for dangerous chemicals in bulk\nCrew list",
         description="To the maritime safety administration (海事局) at least 24 hours before arrival."),
    dict(code="PORT-OPS", name_en="Port operation application", name_zh="港口作业申请",
         authority="port_authority", anchor="etb", lead_hours=-12, sort_order=20,
         documents="Port operation application form\nBerth confirmation of the terminal\n"
                   "Cargo details (product, quantity, tanks)\nShip/shore safety checklist",
         description="To the port authority before berthing: dangerous-goods handling at the terminal's berth."),
    dict(code="MSA-DEP", name_en="Departure declaration", name_zh="船舶出港申报",
         authority="msa", anchor="etd", lead_hours=-4, sort_order=30,
         documents="Departure declaration form\nOutbound cargo manifest\nPort dues receipt",
         description="To the maritime safety administration after operations, before the ship sails."),
)


class ApplicationError(ServiceError):
    """A government application cannot change as asked."""


# ------------------------------------------------------------------------------------------------ types

def seed_types(user=None) -> list[ApplicationType]:
    """Add the common declarations that are missing (by code); returns those added. Flushes only."""
    existing = set(db.session.scalars(db.select(ApplicationType.code)))
    added = []
    for values in COMMON_TYPES:
        if values["code"] in existing:
            continue
        row = ApplicationType(created_by_id=getattr(user, "id", None), **values)
        db.session.add(row)
        added.append(row)
    db.session.flush()
    return added


TYPE_FIELDS = ("code", "name_en", "name_zh", "authority", "anchor", "lead_hours", "documents", "description",
               "active", "sort_order")


def save_type(values: dict, row: ApplicationType | None, user) -> ApplicationType:
    """Create or change an application type; open applications of open calls get their new due time."""
    values = {k: values[k] for k in TYPE_FIELDS if k in values}
    code = (values.get("code") or "").strip().upper()
    if not code:
        raise ApplicationError(_l("Give the type a code."), field="code")
    values["code"] = code
    if values.get("authority") not in AUTHORITIES:
        raise ApplicationError(_l("Choose the authority."), field="authority")
    if values.get("anchor") not in ANCHORS:
        raise ApplicationError(_l("Choose the call time the due time is counted from."), field="anchor")
    lead = values.get("lead_hours")
    if lead is None or not -MAX_LEAD_HOURS <= int(lead) <= MAX_LEAD_HOURS:
        raise ApplicationError(_l("The lead time is between -%(max)s and %(max)s hours.", max=MAX_LEAD_HOURS),
                               field="lead_hours")
    values["documents"] = "\n".join(line.strip() for line in (values.get("documents") or "").splitlines() if line.strip())
    clash = db.session.scalar(db.select(ApplicationType.id).filter(ApplicationType.code == code,
                                                                   ApplicationType.id != (row.id if row else -1)))
    if clash is not None:
        raise ApplicationError(_l("The code %(code)s is already used by another type.", code=code), field="code")
    timing_changed = row is not None and (row.anchor != values["anchor"] or row.lead_hours != int(lead))
    if row is None:
        row = ApplicationType(created_by_id=getattr(user, "id", None))
        db.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    if timing_changed:
        reason = f"{row.code}: {row.lead_text}"
        for app in db.session.scalars(_open_of_open_calls().filter(Application.type_id == row.id)):
            _move(app, reason=reason, user=user)
    return row


def active_types() -> list[ApplicationType]:
    return list(db.session.scalars(db.select(ApplicationType).filter(ApplicationType.active.is_(True))
                                   .order_by(ApplicationType.sort_order, ApplicationType.code)))


# ---------------------------------------------------------------------------------------------- due times

def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def anchor_time(call: VesselCall, anchor: str) -> tuple[datetime | None, str]:
    """(time, which call time it is) for an anchor: the anchor itself, else the nearest known time."""
    times = call_times(call)
    for key in (anchor, *ANCHOR_FALLBACK.get(anchor, ())):
        value = _aware(times.get(key))
        if value is not None:
            return value, key
    return None, ""


def compute_due(call: VesselCall, app_type: ApplicationType) -> tuple[datetime | None, str]:
    """(due time in UTC, the call time it is counted from) of a declaration of this type for this call."""
    base, basis = anchor_time(call, app_type.anchor)
    if base is None:
        return None, ""
    return base + timedelta(hours=app_type.lead_hours or 0), basis


def _call_is_closed(call: VesselCall) -> bool:
    return (call.status or "") in CLOSED_CALL_STATUSES


def ensure_applications(call: VesselCall, user=None) -> list[Application]:
    """Create the call's declaration of every active type it does not have yet (none for a cancelled or
    departed call); returns those created."""
    if _call_is_closed(call):
        return []
    have = set(db.session.scalars(db.select(Application.type_id).filter(Application.call_id == call.id)))
    created = []
    for app_type in active_types():
        if app_type.id in have:
            continue
        due, basis = compute_due(call, app_type)
        app = Application(call_id=call.id, type_id=app_type.id, state="draft", due_at=due, due_basis=basis,
                          created_by_id=getattr(user, "id", None))
        app.call = call
        app.type = app_type
        db.session.add(app)
        created.append(app)
    if created:
        db.session.flush()
    return created


def _revision_changes(revision) -> dict:
    changes = getattr(revision, "changes", None) or {}
    if isinstance(changes, str):
        try:
            changes = json.loads(changes)
        except ValueError:
            return {}
    return changes if isinstance(changes, dict) else {}


def _shown(value) -> str:
    """A time from a revision as the department reads it: local 'YYYY-MM-DD HH:MM'; other values as they are."""
    if value in (None, ""):
        return "—"
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if parsed.tzinfo is None:
            return value  # already a local wall-clock text
        return fmt_datetime(parsed)
    return str(value)


def revision_reason(revision, fields=("eta", "etb", "etc", "etd")) -> str:
    """What moved in a call revision, e.g. 'ETA 2026-03-02 08:00 → 2026-03-03 02:00' (times in TIMEZONE)."""
    changes = _revision_changes(revision)
    parts = []
    for key in fields:
        if key in changes:
            pair = changes[key]
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            parts.append(f"{key.upper()} {_shown(old)} → {_shown(new)}")
    return "; ".join(parts)


def _move(app: Application, *, revision=None, reason: str = "", user=None, at: datetime | None = None
          ) -> ApplicationDueChange | None:
    """Recompute one application's due time; record the change when it moved."""
    due, basis = compute_due(app.call, app.type)
    if due == _aware(app.due_at) and basis == app.due_basis:
        return None
    change = ApplicationDueChange(
        application=app, at=at or getattr(revision, "at", None) or utcnow(), revision_id=getattr(revision, "id", None),
        user_id=getattr(revision, "user_id", None) or getattr(user, "id", None), old_due_at=app.due_at, new_due_at=due,
        basis=basis, reason=reason[:2000])
    db.session.add(change)
    app.due_at = due
    app.due_basis = basis
    return change


def _open_of_open_calls():
    return (db.select(Application).join(Application.call)
            .filter(Application.state.in_(OPEN_STATES), VesselCall.status.not_in(CLOSED_CALL_STATUSES)))


def refresh_due(call: VesselCall, revision=None, user=None) -> list[ApplicationDueChange]:
    """Move the due times of the call's open applications to the call's current times; returns the moves."""
    reason = revision_reason(revision) if revision is not None else ""
    moves = []
    apps = db.session.scalars(db.select(Application).filter(Application.call_id == call.id,
                                                            Application.state.in_(OPEN_STATES))
                              .options(selectinload(Application.type)))
    for app in apps:
        app.call = call
        change = _move(app, revision=revision, reason=reason, user=user)
        if change is not None:
            moves.append(change)
    if moves:
        db.session.flush()
    return moves


def on_call_changed(call: VesselCall, revision) -> None:
    """The call listener: a new or changed call has its declarations, their due times follow its times."""
    ensure_applications(call, getattr(revision, "user", None))
    refresh_due(call, revision)


register_call_listener(on_call_changed)


# ------------------------------------------------------------------------------------------------ states

def _refuse(app: Application, action: str):
    target = STATES[TRANSITIONS[action][1]]
    allowed = app.allowed_actions()
    if allowed:
        return ApplicationError(_l(
            "A %(state)s application cannot be %(target)s; what can be done now: %(allowed)s.", state=app.state_label,
            target=target, allowed=", ".join(str(ACTIONS[a]) for a in allowed)))
    return ApplicationError(_l("A %(state)s application cannot be %(target)s: it is final.", state=app.state_label,
                               target=target))


def _step(app: Application, action: str) -> None:
    sources, target = TRANSITIONS[action]
    if app.state not in sources:
        raise _refuse(app, action)
    app.state = target


def _moment(at: datetime | None, now: datetime | None = None, *, field: str = "at") -> datetime:
    now = now or utcnow()
    at = _aware(at) or now
    if at > now + timedelta(minutes=1):
        raise ApplicationError(_l("This time is in the future."), field=field)
    return at


def submit(app: Application, user, *, reference_no: str, at: datetime | None = None,
           document: tuple[str, bytes] | None = None) -> Application:
    """Draft -> submitted: when it went to the authority and the authority's reference number."""
    reference_no = (reference_no or "").strip()
    if not reference_no:
        raise ApplicationError(_l("Give the reference number the authority gave the submission."),
                               field="reference_no")
    at = _moment(at)
    _step(app, "submit")
    app.submitted_at, app.submitted_by_id, app.reference_no = at, getattr(user, "id", None), reference_no
    app.submissions = (app.submissions or 0) + 1
    if document is not None:
        file_document(app, "receipt", *document, user=user)
    db.session.flush()
    return app


def resubmit(app: Application, user, *, reference_no: str, at: datetime | None = None,
             document: tuple[str, bytes] | None = None) -> Application:
    """Returned -> resubmitted: the corrected declaration went back (a new reference number, or the same)."""
    reference_no = (reference_no or "").strip() or app.reference_no
    if not reference_no:
        raise ApplicationError(_l("Give the reference number the authority gave the submission."),
                               field="reference_no")
    at = _moment(at)
    if app.returned_at is not None and at < _aware(app.returned_at):
        raise ApplicationError(_l("The resubmission cannot be before the return."), field="at")
    _step(app, "resubmit")
    app.submitted_at, app.submitted_by_id, app.reference_no = at, getattr(user, "id", None), reference_no
    app.submissions = (app.submissions or 0) + 1
    if document is not None:
        file_document(app, "receipt", *document, user=user)
    db.session.flush()
    return app


def approve(app: Application, user, *, approval_no: str, at: datetime | None = None,
            document: tuple[str, bytes] | None = None) -> Application:
    """Submitted or resubmitted -> approved, with the authority's approval number (and its document, filed)."""
    approval_no = (approval_no or "").strip()
    if not approval_no:
        raise ApplicationError(_l("Give the approval number."), field="approval_no")
    at = _moment(at)
    if app.state in TRANSITIONS["approve"][0] and app.submitted_at is not None and at < _aware(app.submitted_at):
        raise ApplicationError(_l("The approval cannot be before the submission."), field="at")
    _step(app, "approve")
    app.approved_at, app.approval_no = at, approval_no
    if document is not None:
        file_document(app, "approval", *document, user=user)
    db.session.flush()
    return app


def return_(app: Application, user, *, reason: str, at: datetime | None = None) -> Application:
    """Submitted or resubmitted -> returned by the authority, with its reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_l("Say why the authority returned the application."), field="reason")
    at = _moment(at)
    if app.state in TRANSITIONS["return"][0] and app.submitted_at is not None and at < _aware(app.submitted_at):
        raise ApplicationError(_l("The return cannot be before the submission."), field="at")
    _step(app, "return")
    app.returned_at, app.return_reason = at, reason
    db.session.flush()
    return app


def withdraw(app: Application, user, *, reason: str) -> Application:
    """Not needed for this call (e.g. the cargo is not dangerous goods): withdrawn, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_l("Say why the application is not needed."), field="reason")
    _step(app, "withdraw")
    app.withdrawn_reason = reason
    db.session.flush()
    return app


# --------------------------------------------------------------------------------------------- documents

DOCUMENT_KINDS = {"receipt": _l("Receipt of the submission"), "approval": _l("Approval document")}


def file_document(app: Application, kind: str, filename: str, data: bytes, *, user):
    """File the receipt or approval document in the archive with the call (one record per application and
    kind; filing again adds a version). The upload policy (``check_upload``) decides what is accepted."""
    if kind not in DOCUMENT_KINDS:
        raise ValueError(kind)
    if kind == "approval" and app.state != "approved":
        raise ApplicationError(_l("The approval document is filed once the approval is recorded."), field="document")
    if kind == "receipt" and app.state == "draft":
        raise ApplicationError(_l("A receipt is filed once the application is submitted."), field="document")
    try:
        name, _mime = check_upload(filename, data)
    except UploadRejected as exc:
        raise ApplicationError(exc.message, field="document") from exc
    call = app.call
    vessel = call.vessel.name if getattr(call, "vessel", None) is not None else ""
    number = app.approval_no if kind == "approval" else app.reference_no
    title = (f"{call.number} {vessel} — {app.type.name_en} / {app.type.name_zh}: "
             f"{'approval' if kind == 'approval' else 'receipt'} {number}").strip()
    when = app.approved_at if kind == "approval" else app.submitted_at
    try:
        record = file_record(ARCHIVE_KIND, title[:300], [(name, data)], user,
                             source_key=f"application:{app.id}:{kind}",
                             event_date=to_local(when or utcnow()).date(),
                             description=f"{app.type.authority_label} · {call.number} · {app.type.code}")
    except UploadRejected as exc:  # the archive's own checks (e.g. a file it already holds elsewhere)
        raise ApplicationError(exc.message, field="document") from exc
    if kind == "approval":
        app.approval_record_id = record.id
    else:
        app.receipt_record_id = record.id
    db.session.flush()
    return record


# ------------------------------------------------------------------------------------------------- lists

WINDOWS = {
    "due": _l("Overdue or due in the next 24 h"),
    "overdue": _l("Overdue"),
    "24h": _l("Due in the next 24 h"),
    "7d": _l("Due in the next 7 days"),
    "all": _l("Any due time"),
}
STATE_FILTERS = {"to_file": _l("To file (draft or returned)"), "pending": _l("Waiting for the authority"),
                 "open": _l("All open"), **STATES, "any": _l("Any state")}


def list_applications(*, now: datetime | None = None, window: str = "due", state: str = "to_file",
                      authority: str = "", type_id: int | None = None, q: str = "", call_id: int | None = None):
    """The applications matching the filters, soonest due first (those without a due time last)."""
    now = now or utcnow()
    stmt = (db.select(Application).join(Application.call).join(Application.type)
            .options(selectinload(Application.call).selectinload(VesselCall.vessel), selectinload(Application.type),
                     selectinload(Application.due_changes)))
    if call_id is None:
        stmt = stmt.filter(VesselCall.status.not_in(CLOSED_CALL_STATUSES))
    else:
        stmt = stmt.filter(Application.call_id == call_id)
    if state == "to_file":
        stmt = stmt.filter(Application.state.in_(TO_FILE_STATES))
    elif state == "pending":
        stmt = stmt.filter(Application.state.in_(("submitted", "resubmitted")))
    elif state == "open":
        stmt = stmt.filter(Application.state.in_(OPEN_STATES))
    elif state in STATES:
        stmt = stmt.filter(Application.state == state)
    if window == "due":
        stmt = stmt.filter(Application.due_at <= now + timedelta(hours=DUE_SOON_HOURS))
    elif window == "overdue":
        stmt = stmt.filter(Application.due_at <= now)
    elif window == "24h":
        stmt = stmt.filter(Application.due_at > now, Application.due_at <= now + timedelta(hours=DUE_SOON_HOURS))
    elif window == "7d":
        stmt = stmt.filter(Application.due_at <= now + timedelta(days=7))
    if authority in AUTHORITIES:
        stmt = stmt.filter(ApplicationType.authority == authority)
    if type_id:
        stmt = stmt.filter(Application.type_id == type_id)
    q = (q or "").strip()[:100]
    if q:
        like = f"%{q}%"
        stmt = stmt.filter(or_(VesselCall.number.ilike(like), Application.reference_no.ilike(like),
                               Application.approval_no.ilike(like),
                               VesselCall.vessel_id.in_(db.select(Vessel.id).filter(
                                   or_(Vessel.name.ilike(like), Vessel.imo.ilike(like))))))
    return stmt.order_by(Application.due_at.is_(None), Application.due_at, Application.id)


def due_now(now: datetime | None = None) -> list[Application]:
    """Applications still to file whose due time is past or within the next 24 hours (the dashboard's list)."""
    return list(db.session.scalars(list_applications(now=now, window="due", state="to_file")))


def due_now_summary(now: datetime | None = None) -> tuple[int, datetime | None]:
    """How many applications ``due_now`` lists and the soonest due time among them, counted in SQL."""
    listed = list_applications(now=now, window="due", state="to_file").order_by(None).subquery()
    count, first = db.session.execute(db.select(func.count(), func.min(listed.c.due_at))).one()
    return count, first


def for_call(call: VesselCall) -> list[Application]:
    return list(db.session.scalars(
        db.select(Application).filter(Application.call_id == call.id).join(Application.type)
        .options(selectinload(Application.type), selectinload(Application.due_changes))
        .order_by(ApplicationType.sort_order, ApplicationType.code)))


def missing_types(call: VesselCall) -> list[ApplicationType]:
    have = set(db.session.scalars(db.select(Application.type_id).filter(Application.call_id == call.id)))
    return [t for t in active_types() if t.id not in have]


# ------------------------------------------------------------------------------------- deadline notices

def deadline_key(app: Application) -> str:
    """One notice per application and due time: a moved due time is told again."""
    due = _aware(app.due_at)
    return f"application-deadline:{app.id}:{due.strftime('%Y%m%dT%H%MZ') if due else 'none'}"


def recipients_for(app: Application) -> list:
    from ....outbox import users_with_role

    owner = getattr(app.call, "owner", None)
    if owner is not None and getattr(owner, "active", True):
        return [owner]
    return users_with_role("csr", "cs_manager")


def send_deadline_notices(now: datetime | None = None) -> tuple[int, int]:
    """Queue an e-mail for each application to file that is due within 24 hours or overdue, once per
    application and due time. Returns (applications, messages queued). Flushes only."""
    from ....outbox import path_for, queue_message

    now = now or utcnow()
    apps, queued = 0, 0
    for app in due_now(now):
        messages = queue_message(
            recipients_for(app), "application_deadline",
            {"application": app, "call": app.call, "type": app.type, "due_local": to_local(app.due_at),
             "overdue": app.is_overdue(now),
             "url": path_for("operations.applications.detail", application_id=app.id)},
            kind="application_deadline", record=app, dedupe_key=deadline_key(app))
        apps += 1
        queued += len(messages)
    return apps, queued


def ensure_for_open_calls(now: datetime | None = None) -> int:
    """Calls still to come that have no declaration at all get theirs (a call recorded without a revision)."""
    now = now or utcnow()
    has_any = db.select(Application.id).filter(Application.call_id == VesselCall.id).exists()
    calls = db.session.scalars(db.select(VesselCall).filter(VesselCall.status.not_in(CLOSED_CALL_STATUSES),
                                                            VesselCall.eta >= now - timedelta(days=2), ~has_any))
    return sum(len(ensure_applications(call)) for call in calls)
