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
from typing import Optional

from flask import has_request_context
from sqlalchemy import DDL, Integer, String, Text, event, inspect, insert
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


def history_for(entity: str, entity_id) -> list[AuditEntry]:
    return list(db.session.scalars(
        db.select(AuditEntry).filter_by(entity=entity, entity_id=str(entity_id)).order_by(AuditEntry.id)
    ))


__all__ = ["AuditEntry", "AuditImmutable", "acting_as", "history_for", "install_immutability", "DDL"]
