"""The audit trail: every insert, update and delete of a domain record, written in the same transaction.

A session listener turns the flush into AuditEntry rows with core inserts, so the trail can never
disagree with the data. Audit rows are append-only: the ORM refuses to change them and database
triggers refuse UPDATE and DELETE on the table.
"""
from __future__ import annotations

import contextvars
import json
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from dataclasses import dataclass
from functools import cache
from typing import Callable, Optional

from flask import has_request_context
from sqlalchemy import DDL, Integer, String, Text, event, inspect, insert
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column

from .extensions import db
from .models import UTCDateTime
from .timeutil import utcnow

_actor: contextvars.ContextVar[tuple[Optional[int], str] | None] = contextvars.ContextVar("audit_actor", default=None)


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(80), nullable=False)
    entity: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    entity_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    changes: Mapped[str] = mapped_column(Text, default="{}", nullable=False)

    @property
    def change_map(self) -> dict:
        return json.loads(self.changes or "{}")


class AuditImmutable(RuntimeError):
    pass


@contextmanager
def acting_as(user=None, name: str | None = None):
    """Attribute changes made outside a request (CLI, jobs) to a user or a named actor."""
    token = _actor.set((getattr(user, "id", None), name or getattr(user, "username", None) or "system"))
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> tuple[Optional[int], str]:
    value = _actor.get()
    if value is not None:
        return value
    if has_request_context():
        from flask_login import current_user

        if current_user and getattr(current_user, "is_authenticated", False):
            from .delegation import acting_for

            principal = acting_for(current_user.id)
            if principal:  # a right held for someone else decided this request (the acting manager)
                return current_user.id, f"{current_user.username} (acting for {principal})"
            return current_user.id, current_user.username
        return None, "anonymous"
    return None, "system"


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return str(value)


def _audited_class(cls) -> bool:
    return bool(getattr(cls, "__audit__", True)) and hasattr(cls, "__table__")


def _audited(obj) -> bool:
    return _audited_class(type(obj))


def _identity(obj) -> str:
    ident = inspect(obj).identity or ()
    return ",".join(str(v) for v in ident) if ident else str(getattr(obj, "id", ""))


def _changes(obj, action: str) -> dict:
    state = inspect(obj)
    mapper = state.mapper
    exclude = getattr(type(obj), "__audit_exclude__", set())
    out: dict[str, list] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        hist = state.attrs[key].history
        if action == "insert":
            value = state.attrs[key].value
            if value is not None:
                out[key] = [None, "***" if key in exclude else _jsonable(value)]
        elif action == "delete":
            value = hist.unchanged[0] if hist.unchanged else (hist.deleted[0] if hist.deleted else None)
            if value is not None:
                out[key] = ["***" if key in exclude else _jsonable(value), None]
        elif hist.has_changes():
            if key in {"updated_at"}:
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if key in exclude:
                if key == "password_hash":
                    out[key] = ["***", "***"]
                continue
            if _jsonable(old) != _jsonable(new):
                out[key] = [_jsonable(old), _jsonable(new)]
    for rel in mapper.relationships:
        if rel.secondary is None or action == "delete":
            continue
        hist = state.attrs[rel.key].history
        if hist.has_changes():
            before = [str(getattr(o, "name", o)) for o in list(hist.unchanged) + list(hist.deleted)]
            after = [str(getattr(o, "name", o)) for o in list(hist.unchanged) + list(hist.added)]
            out[rel.key] = [sorted(before), sorted(after)]
    return out


def _keep_old_value(target, value, oldvalue, initiator):
    return value


@event.listens_for(Mapper, "mapper_configured")
def _load_old_values(mapper, class_):
    """Make every column of an audited model load its old value before it is overwritten.

    Without this, changing an attribute that was expired (after a commit, say) loses the old value,
    and the trail would show None where the record had a value.
    """
    if not _audited_class(class_):
        return
    for prop in mapper.column_attrs:
        event.listen(getattr(class_, prop.key), "set", _keep_old_value, active_history=True, retval=True)


@event.listens_for(Session, "before_flush")
def _guard(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise AuditImmutable("audit entries cannot be changed or deleted")
    # Load the values of records about to be deleted, so the trail can show what was removed.
    for obj in session.deleted:
        if _audited(obj):
            state = inspect(obj)
            for key in set(state.expired_attributes) & set(state.mapper.column_attrs.keys()):
                getattr(obj, key)


@event.listens_for(Session, "after_flush")
def _record(session, flush_context):
    user_id, actor = current_actor()
    now = utcnow()
    rows = []
    # Records deleted by the flush itself (delete-orphan cascades) never pass through session.delete():
    # the unit of work knows them.
    deleted = list(session.deleted)
    seen = {id(o) for o in deleted}
    for state, (isdelete, listonly) in getattr(flush_context, "states", {}).items():
        obj = state.obj()
        if isdelete and not listonly and obj is not None and id(obj) not in seen:
            deleted.append(obj)
            seen.add(id(obj))
    dirty = [o for o in session.dirty if id(o) not in seen]
    for action, objs in (("insert", session.new), ("update", dirty), ("delete", deleted)):
        for obj in objs:
            if not _audited(obj):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=True):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            rows.append({
                "at": now,
                "user_id": user_id,
                "actor": actor[:80],
                "entity": type(obj).__tablename__,
                "entity_id": _identity(obj),
                "action": action,
                "changes": json.dumps(changes, ensure_ascii=False, sort_keys=True),
            })
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


IMMUTABLE_SQL = {
    "sqlite": [
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END",
        "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_entry_immutable() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit entries are immutable'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_immutable()",
    ],
}


def install_immutability(connection) -> None:
    for statement in IMMUTABLE_SQL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


@event.listens_for(AuditEntry.__table__, "after_create")
def _after_create(target, connection, **kw):
    install_immutability(connection)


# --- what a person reads instead of table names ------------------------------------------------------
# The audit log and record histories name a record by its kind and title ("Archived file: Daily stock
# report 2025-03-02"), never by its table and id. The kind label comes from this registry (a domain
# may register its own kinds with register_record_kind, or set `__audit_label__` on its model); the
# title comes from the row while it exists (the `title` function given here, else the model's
# `audit_title()`, else its usual title columns), and from the values the trail kept once it is gone.

@dataclass(frozen=True)
class RecordKind:
    label: object  # a lazy translated string
    title: Callable[[object], str | None] | None = None


_KINDS: dict[str, RecordKind] = {}


def register_record_kind(table: str, label, title: Callable[[object], str | None] | None = None) -> None:
    """Name the records of `table` in the audit log: `label` (lazy translated), optional `title(row)`."""
    _KINDS[table] = RecordKind(label, title)


def _path(row, dotted: str):
    for name in dotted.split("."):
        row = getattr(row, name, None) if row is not None else None
    return row


def _join(*parts) -> str | None:
    text = " ".join(str(p).strip() for p in parts if p not in (None, ""))
    return text or None


def _both(en, zh) -> str | None:
    from .i18n import bilingual

    return bilingual(en, zh) or None


def _short(text, limit: int = 80) -> str | None:
    text = " ".join(str(text or "").split())
    return (text[: limit - 1] + "…" if len(text) > limit else text) or None


# Title columns tried in this order when a kind gives no title function.
_TITLE_PAIRS = (("title", "title_zh"), ("name_en", "name_zh"))
_TITLE_COLUMNS = ("reference", "number", "subject", "name", "filename", "username", "code", "certificate_no")


def _default_title(row) -> str | None:
    custom = getattr(row, "audit_title", None)
    if callable(custom):
        return custom()
    lead = next((getattr(row, c) for c in ("reference", "number", "code") if getattr(row, c, None)), None)
    for en, zh in _TITLE_PAIRS:
        if getattr(row, en, None) or getattr(row, zh, None):
            name = _both(getattr(row, en, None), getattr(row, zh, None))
            return _join(lead, name) if lead and str(lead) not in (name or "") else name
    for column in _TITLE_COLUMNS:
        value = getattr(row, column, None)
        if value:
            return str(value)
    return None


def _of(parent: str, *more: str):
    """Title of a child record: its parent's title, then its own columns."""
    return lambda row: _join(_default_title(_path(row, parent)) if _path(row, parent) is not None else None,
                             *(_path(row, m) for m in more))


def _kinds() -> None:
    from flask_babel import lazy_gettext as _l

    for table, label, title in (
        ("user", _l("User"), None),
        ("role", _l("Role"), None),
        ("department", _l("Department"), lambda d: _join(d.code, _both(d.name_en, d.name_zh))),
        ("customer", _l("Customer"), lambda c: _join(c.code, c.name_zh, "/" if c.name_zh else None, c.name_en)),
        ("customer_contact", _l("Customer contact"), lambda c: _join(c.name, f"({c.customer.code})" if c.customer else None)),
        ("archive_record", _l("Archived record"), None),
        ("archive_record_file", _l("Archived file"), lambda f: _path(f, "record.title") or f.filename),
        ("archive_series", _l("Records series"), None),
        ("archive_hold", _l("Legal hold"), lambda h: _short(h.reason)),
        ("archive_disposal_batch", _l("Disposal batch"), None),
        ("archive_disposal_item", _l("Destruction list entry"), None),
        ("archive_fixity_run", _l("Fixity check"), lambda r: str(r.started_at)[:16] if r.started_at else None),
        ("cs_complaint", _l("Complaint"), None),
        ("cs_complaint_attachment", _l("Complaint attachment"), _of("complaint", "filename")),
        ("cs_complaint_report", _l("Report to the customer"), _of("complaint")),
        ("cs_complaint_transition", _l("Complaint status change"), _of("complaint")),
        ("cs_investigation", _l("Investigation"), _of("complaint")),
        ("cs_capa_action", _l("CAPA action"), lambda a: _short(a.description)),
        ("cs_lesson_share", _l("Lesson shared"), _of("complaint")),
        ("cs_inquiry", _l("Inquiry"), None),
        ("cs_moc_request", _l("Management of change"), None),
        ("cs_moc_item", _l("MOC item"), lambda i: _short(i.description)),
        ("cs_review_meeting", _l("Operation review meeting"), lambda m: _join(_path(m, "customer.code"), m.meeting_date)),
        ("cs_review_action", _l("Review meeting action"), lambda a: _short(a.description)),
        ("cs_review_attendee", _l("Review meeting attendee"), None),
        ("cs_review_cadence", _l("Review meeting cadence"), lambda c: _path(c, "customer.code")),
        ("cs_review_circulation", _l("Minutes circulation"), lambda c: _join(_path(c, "meeting.customer.code"), _path(c, "meeting.meeting_date"))),
        ("kb_page", _l("Page"), None),
        ("kb_revision", _l("Page revision"), None),
        ("kb_announcement", _l("Announcement"), _of("page")),
        ("kb_announcement_recipient", _l("Announcement recipient"), lambda r: _path(r, "user.display_name")),
        ("kb_acknowledgement", _l("Read-and-understood acknowledgement"), lambda a: _join(_path(a, "user.display_name"), _default_title(a.revision) if a.revision else None)),
        ("kb_citation", _l("Citation"), _of("page")),
        ("kb_authority", _l("Authority"), None),
        ("kb_permit", _l("Permit or certificate"), None),
        ("kb_visit", _l("Government visit"), lambda v: _join(_default_title(v.authority) if v.authority else None, v.visit_date)),
        ("kb_followup_action", _l("Follow-up action"), lambda a: _short(a.description)),
        ("kb_training_plan", _l("Training plan"), None),
        ("kb_training_step", _l("Training step"), _of("page")),
        ("kb_training_assignment", _l("Training assignment"), lambda a: _join(_default_title(a.plan) if a.plan else None, _path(a, "user.display_name"))),
        ("kb_step_progress", _l("Training step progress"), _of("step.page")),
        ("kb_quiz_question", _l("Quiz question"), lambda q: _short(q.text)),
    ):
        _KINDS.setdefault(table, RecordKind(label, title))


_kinds()


def model_for_table(table: str):
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def kind_label(entity: str) -> str:
    """The translated kind of the records of a table ("Archived file"); unknown tables read as words."""
    kind = _KINDS.get(entity)
    if kind is not None:
        return str(kind.label)
    model = model_for_table(entity)
    label = getattr(model, "__audit_label__", None) if model is not None else None
    return str(label) if label else entity.replace("_", " ").capitalize()


def _row(entity: str, entity_id: str):
    model = model_for_table(entity)
    if model is None or not str(entity_id).isdigit() or len(str(entity_id)) > 18:
        return None
    try:
        return db.session.get(model, int(entity_id))
    except (ValueError, TypeError, InvalidRequestError):  # a composite key or an unusual id type: no title
        return None


def _title_from_trail(entity: str, entity_id: str) -> str | None:
    """The title a deleted record had, from the values the trail kept."""
    entry = db.session.scalar(db.select(AuditEntry).filter_by(entity=entity, entity_id=str(entity_id))
                              .order_by(AuditEntry.id.desc()).limit(1))
    if entry is None:
        return None
    values = {k: (pair[0] if pair[0] is not None else pair[1]) for k, pair in entry.change_map.items()
              if isinstance(pair, list) and len(pair) == 2}
    for en, zh in _TITLE_PAIRS:
        if values.get(en) or values.get(zh):
            return _both(values.get(en), values.get(zh))
    return next((str(values[c]) for c in _TITLE_COLUMNS if values.get(c)), None)


def record_title(entity: str, entity_id, user=None) -> str | None:
    """The record's title for `user` (None when the user may not view the record or it has none)."""
    row = _row(entity, str(entity_id))
    if row is None:
        return _title_from_trail(entity, str(entity_id)) if user is None or getattr(user, "is_manager", False) else None
    check = getattr(row, "can_view", None)
    if user is not None and check is not None and not check(user):
        return None
    kind = _KINDS.get(entity)
    try:
        title = kind.title(row) if kind is not None and kind.title is not None else _default_title(row)
    except AttributeError:  # a model changed under a registered title function: fall back
        title = _default_title(row)
    return _short(title, 120)


def record_label(entity: str, entity_id, user=None) -> str:
    """"Archived file: Daily stock report 2025-03-02", or "Archived file #229" without a title."""
    from flask_babel import gettext as _

    title = record_title(entity, entity_id, user)
    kind = kind_label(entity)
    return _("%(label)s: %(value)s", label=kind, value=title) if title else f"{kind} #{entity_id}"


# --- what a person reads instead of column names and codes ----------------------------------------------
# A change's field is named by its label: a model may give `__audit_fields__ = {"column": _l("Label")}`;
# otherwise the labels below (the columns of complaints, inquiries, customers, archived records and
# users, which share their names across models); otherwise the column name in words ("Closed at").

@cache
def _field_labels() -> dict:
    """Built once: lazy strings, translated into the reader's language where a label is shown."""
    from flask_babel import lazy_gettext as _l

    return {
        "title": _l("Title"), "title_en": _l("Title (English)"), "title_zh": _l("Title (Chinese)"),
        "reference": _l("Reference"), "code": _l("Code"), "name": _l("Name"),
        "name_en": _l("Name (English)"), "name_zh": _l("Name (Chinese)"), "description": _l("Description"),
        "state": _l("State"), "status": _l("Status"), "from_state": _l("From state"), "to_state": _l("To state"),
        "customer_id": _l("Customer"), "owner_id": _l("Owner"), "category": _l("Category"),
        "severity": _l("Severity"), "customer_request": _l("Customer request"), "language": _l("Language"),
        "received_at": _l("Received"), "ack_due_at": _l("Acknowledgement due"),
        "acknowledged_at": _l("Acknowledged"), "closed_at": _l("Closed at"), "end_reason": _l("Reason"),
        "effectiveness": _l("Effectiveness"), "evaluated_by_id": _l("Evaluated by"),
        "evaluated_at": _l("Evaluated at"), "lesson_summary": _l("Lesson learned"),
        "lesson_prevention": _l("Prevention"), "closed_without_report_reason": _l("Reason for closing without a report"),
        "restricted": _l("Restricted"), "created_by_id": _l("Created by"), "created_at": _l("Created"),
        "approved_by_id": _l("Approved by"), "approved_at": _l("Approved at"),
        "channel": _l("Channel"), "subject": _l("Subject"), "question": _l("Question"), "due_at": _l("Due"),
        "assigned_to_id": _l("Assigned to"), "answer": _l("Answer"), "answered_at": _l("Answered"),
        "complex": _l("Complex"), "escalated_at": _l("Escalated at"), "escalation_note": _l("Escalation note"),
        "escalated_by_id": _l("Escalated by"), "escalation_resolved_at": _l("Escalation resolved at"),
        "complaint_id": _l("Complaint"), "long_term": _l("Long-term customer"),
        "daily_report_time": _l("Daily report time"), "report_recipients": _l("Report recipients"),
        "csr_id": _l("Customer service representative"), "active": _l("Active"), "notes": _l("Notes"),
        "series_id": _l("Series"), "kind": _l("Kind"), "record_date": _l("Record date"),
        "filed_at": _l("Filed at"), "event_date": _l("Event date"), "extend_until": _l("Kept until"),
        "disposed_at": _l("Disposed at"), "transferred_to": _l("Transferred to"), "filename": _l("File name"),
        "username": _l("Username"), "full_name": _l("Full name"), "email": _l("E-mail"),
        "password_hash": _l("Password"), "department_id": _l("Department"), "roles": _l("Roles"),
        "last_login_at": _l("Last sign-in"), "locked_until": _l("Locked until"),
        "failed_logins": _l("Failed sign-ins"), "due_date": _l("Due date"),
        "completed_at": _l("Completed at"), "verified_by_id": _l("Verified by"), "verified_at": _l("Verified at"),
        # the columns of investigations, meetings, MOC, knowledge and the archive
        "acknowledged_by_id": _l("Acknowledged by"), "action": _l("Action"), "actor": _l("Run by"),
        "agenda": _l("Agenda"), "altered": _l("Altered files"), "announcement_id": _l("Announcement"),
        "archive_record_id": _l("Archived record"), "archive_ref": _l("Archive reference"), "as_of": _l("As of"),
        "assignment_id": _l("Training assignment"), "at": _l("Time"), "attempts": _l("Attempts"),
        "attendees": _l("Attendees"), "author_id": _l("Author"), "author_name": _l("Author name"),
        "authority": _l("Issuing authority"), "authority_id": _l("Authority"), "batch_id": _l("Disposal batch"),
        "body": _l("Text"), "cause_category": _l("Cause category"), "certificate_no": _l("Certificate number"),
        "certificate_record_id": _l("Certificate record"), "checked": _l("Files checked"),
        "checksums": _l("Checksums"), "choices": _l("Choices"), "closed_in_meeting_id": _l("Closed in meeting"),
        "company": _l("Company"), "completed_by_id": _l("Completed by"), "completion_note": _l("Completion note"),
        "confirmed_at": _l("Confirmed at"), "confirmed_by": _l("Confirmed by"),
        "confirmed_version": _l("Confirmed version"), "contacts": _l("Contacts"), "containment": _l("Containment"),
        "content_sha": _l("Content checksum"), "content_type": _l("Content type"),
        "contributing_factors": _l("Contributing factors"), "correct": _l("Correct answers"),
        "current_revision_id": _l("Current revision"), "customer_impact": _l("Customer impact"),
        "decided_at": _l("Decided at"), "decided_by_id": _l("Decided by"), "decision_note": _l("Decision note"),
        "decisions": _l("Decisions"), "department": _l("Department"), "details": _l("Details"),
        "disposal_batch_id": _l("Disposal batch"), "disposition": _l("Disposition"),
        "disposition_text": _l("Disposition text"), "doc_number": _l("Document number"), "done": _l("Done"),
        "done_at": _l("Done at"), "effective_on": _l("Effective on"), "executed_at": _l("Executed at"),
        "executed_by_id": _l("Executed by"), "executed_by_name": _l("Executed by (name)"),
        "expires_on": _l("Expires on"), "extraction_failed": _l("Text extraction failed"),
        "extraction_note": _l("Text extraction note"), "extraction_ok": _l("Text extracted"),
        "extraction_state": _l("Text extraction"), "finished_at": _l("Finished at"),
        "implemented_at": _l("Implemented at"), "internal": _l("Internal"),
        "interval_months": _l("Interval (months)"), "investigated_by_id": _l("Investigated by"),
        "issued_on": _l("Issued on"), "jurisdiction": _l("Jurisdiction"), "lang": _l("Language"),
        "legal_basis": _l("Legal basis"), "location": _l("Location"), "meeting_date": _l("Meeting date"),
        "meeting_id": _l("Meeting"), "message": _l("Message"), "mime": _l("File type"), "minutes": _l("Minutes"),
        "minutes_version": _l("Minutes version"), "missing": _l("Missing files"), "moc_id": _l("MOC"),
        "multiple": _l("Several answers"), "needs_reread": _l("Needs re-reading"),
        "next_review_date": _l("Next review"), "note": _l("Note"), "number": _l("Number"),
        "outcomes": _l("Outcomes"), "owner_department": _l("Owning department"), "owner_name": _l("Owner name"),
        "page_id": _l("Page"), "parent_id": _l("Parent"), "pass_mark": _l("Pass mark"), "period": _l("Period"),
        "period_end": _l("Period end"), "period_start": _l("Period start"), "phone": _l("Phone"),
        "placed_at": _l("Placed at"), "plan": _l("File plan"), "plan_id": _l("Training plan"),
        "position": _l("Position"), "procedure_changes": _l("Procedure changes"), "proposed_at": _l("Proposed at"),
        "proposed_by_id": _l("Proposed by"), "purged_at": _l("Purged at"), "quiz_passed_at": _l("Quiz passed at"),
        "quiz_score": _l("Quiz score"), "read_at": _l("Read at"), "read_revision_id": _l("Revision read"),
        "reason": _l("Reason"), "recipient": _l("Recipient"), "record_id": _l("Record"),
        "reg_status": _l("Regulation status"), "release_note": _l("Release note"),
        "released_at": _l("Released at"), "released_by_id": _l("Released by"),
        "retention_amount": _l("Retention period"), "retention_kind": _l("Retention kind"),
        "retention_unit": _l("Retention unit"), "review_comment": _l("Review comment"),
        "review_decision": _l("Review decision"), "review_months": _l("Review interval (months)"),
        "review_outcome": _l("Review outcome"), "review_reason": _l("Review reason"),
        "review_until": _l("Reviewed until"), "revision_id": _l("Revision"), "root_cause": _l("Root cause"),
        "safety_health_impact": _l("Safety and health impact"), "sent_at": _l("Sent at"),
        "sent_by_id": _l("Sent by"), "series_code": _l("Series code"), "sha256": _l("SHA-256 checksum"),
        "shared_at": _l("Shared at"), "shared_by_id": _l("Shared by"), "size": _l("Size"), "slug": _l("Address"),
        "source_key": _l("Source"), "source_url": _l("Source address"), "started_at": _l("Started at"),
        "step_id": _l("Training step"), "submitted_at": _l("Submitted at"), "summary": _l("Summary"),
        "superseded_by_id": _l("Superseded by"), "tags": _l("Tags"),
        "target_departments": _l("Target departments"), "target_id": _l("Cited page"),
        "target_roles": _l("Target roles"), "technical_basis": _l("Technical basis"), "text": _l("Text"),
        "topics": _l("Topics"), "transfer_to": _l("Transfer to"), "trigger": _l("Retention trigger"),
        "trigger_label": _l("Trigger description"), "uploaded_at": _l("Uploaded at"),
        "uploaded_by_id": _l("Uploaded by"), "user_id": _l("User"), "valid_until": _l("Valid until"),
        "verification_note": _l("Verification note"), "version": _l("Version"), "visit_date": _l("Visit date"),
        "visit_id": _l("Visit"), "why_1": _l("Why 1"), "why_2": _l("Why 2"), "why_3": _l("Why 3"),
        "why_4": _l("Why 4"), "why_5": _l("Why 5"),
        "aliases": _l("Former names and other names"), "english": _l("English term(s)"), "chinese": _l("Chinese term(s)"),
        "abbreviations": _l("Abbreviations"),
    }


@cache
def _table_labels() -> dict:
    """Labels for a column whose name means something else in one table than in the rest (lazy strings)."""
    from flask_babel import lazy_gettext as _l

    in_list = {"position": _l("Order in the list")}
    return {"kb_quiz_question": in_list, "kb_training_step": in_list}


def field_label(entity: str, key: str) -> str:
    """The translated label of a changed field ("Closed at" / 关闭时间) for the audit log."""
    model = model_for_table(entity)
    own = getattr(model, "__audit_fields__", None) or {}
    if key in own:
        return str(own[key])
    label = _table_labels().get(entity, {}).get(key) or _field_labels().get(key)
    if label is not None:
        return str(label)
    words = key[:-3] if key.endswith("_id") else key
    return words.replace("_", " ").strip().capitalize() or key


# The state columns named by their owner's state_label (a transition's states are its complaint's).
_STATE_COLUMNS = {"state", "status", "from_state", "to_state"}
_STATE_OWNERS = {"cs_complaint_transition": "cs_complaint"}


def field_value(entity: str, key: str, value) -> str:
    """A changed value as a person reads it: states by name, yes/no, role names; '∅' for nothing."""
    from flask_babel import gettext as _

    if value is None:
        return "∅"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "roles" and isinstance(value, list):
        from .blueprints.admin.forms import ROLE_LABELS

        return ", ".join(str(ROLE_LABELS.get(v, v)) for v in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if key in _STATE_COLUMNS and isinstance(value, str):
        model = model_for_table(_STATE_OWNERS.get(entity, entity))
        label = getattr(model, "state_label", None) if model is not None else None
        if callable(label):
            try:
                return str(label(value) or value)
            except (KeyError, TypeError, ValueError):
                return value
    return str(value)


def actor_label(actor: str) -> str:
    """Who made a change: a user name as it is, the named non-human actors translated."""
    from flask_babel import gettext as _

    user, sep, principal = (actor or "").partition(" (acting for ")
    if sep and principal.endswith(")"):
        return _("%(user)s (acting for %(manager)s)", user=user, manager=principal[:-1])
    named = _actor_names().get(actor)
    return str(named) if named is not None else actor


@cache
def _actor_names() -> dict:
    """The non-human actors (lazy strings): only a name shown is translated."""
    from flask_babel import lazy_gettext as _l

    return {"system": _l("system"), "demo": _l("demo data"), "cli": _l("command line"), "anonymous": _l("anonymous")}


def history_for(entity: str, entity_id) -> list[AuditEntry]:
    return list(db.session.scalars(
        db.select(AuditEntry).filter_by(entity=entity, entity_id=str(entity_id)).order_by(AuditEntry.id)
    ))


__all__ = ["AuditEntry", "AuditImmutable", "acting_as", "actor_label", "field_label", "field_value", "history_for", "install_immutability", "kind_label",
           "model_for_table", "record_label", "record_title", "register_record_kind", "DDL"]
