"""User administration and audit queries."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from ...audit import AuditEntry, kind_label
from ...extensions import db
from ...delegation import holders
from ...models import Department, Role, User
from ...services import ServiceError
from ...timeutil import tz


class SelfLockout(ServiceError):
    """An administrator may not take away their own administrator role or deactivate themselves."""


def save_user(form, user: User | None, actor: User | None = None) -> User:
    """Create or update a user from the form. Deactivation, a change of roles or a new password end
    the user's sessions (they sign in again with what they may now do)."""
    if user is not None and actor is not None and user.id == actor.id and (
            "admin" not in (form.roles.data or ()) or not form.active.data):
        raise SelfLockout(_l("You cannot remove your own administrator role or deactivate yourself."), field="roles")
    before = None if user is None else (user.active, frozenset(user.role_names))
    if user is None:
        # Complete before it joins the session: looking up roles below may flush it.
        user = User(username=form.username.data)
        user.set_password(form.password.data)
        db.session.add(user)
    user.username = form.username.data
    user.full_name = form.full_name.data or ""
    user.email = form.email.data or ""
    user.department_id = form.department_id.data or None
    user.language = form.language.data or None
    user.active = bool(form.active.data)
    user.set_roles(form.roles.data)
    if form.password.data:
        user.set_password(form.password.data)
        user.failed_logins = 0
        user.locked_until = None
    if before is not None and (form.password.data or before != (user.active, frozenset(user.role_names))):
        user.end_sessions()
    db.session.flush()
    return user


def reset_password(user: User, password: str) -> None:
    """An administrator sets a new password: the account unlocks and every session of the user ends."""
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.end_sessions()
    db.session.flush()


def create_user(username: str, roles, password: str, *, full_name: str = "", email: str = "") -> User:
    user = User(username=username, full_name=full_name, email=email)
    user.set_password(password)
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user


def audit_query(*, user: str = "", entity: str = "", date_from=None, date_to=None):
    stmt = db.select(AuditEntry).order_by(AuditEntry.id.desc())
    if user:
        stmt = stmt.filter(db.or_(AuditEntry.actor == user, AuditEntry.actor.startswith(f"{user} (acting for ", autoescape=True)))
    if entity:
        stmt = stmt.filter(AuditEntry.entity == entity)
    if date_from:
        stmt = stmt.filter(AuditEntry.at >= datetime.combine(date_from, time.min, tzinfo=tz()))
    if date_to:
        stmt = stmt.filter(AuditEntry.at < datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz()))
    return stmt


def audited_entities() -> list[tuple[str, str]]:
    """(table, translated kind) of every kind of record in the trail, by kind."""
    tables = db.session.scalars(db.select(AuditEntry.entity).distinct())
    return sorted(((t, kind_label(t)) for t in tables), key=lambda pair: pair[1].lower())


def save_department(form, department: Department | None) -> Department:
    if department is None:
        department = Department()
        db.session.add(department)
    form.populate_obj(department)
    department.name_zh = (department.name_zh or "").strip()
    db.session.flush()
    return department


def department_choices(*, blank: bool = True) -> list[tuple[int, str]]:
    """(id, "CODE name") pairs for select fields, named in the user's language, by code."""
    rows = db.session.scalars(db.select(Department).order_by(Department.code))
    return ([(0, "—")] if blank else []) + [(d.id, d.label) for d in rows]


def staff_choices(*, cs_only: bool = False, blank: bool = True) -> list[tuple[int, str]]:
    """(id, name) of active users by name, for "owner", "assigned to" and similar select fields in
    every module; `cs_only` keeps CSRs and CS managers."""
    stmt = (db.select(User.id, User.full_name, User.username).filter(User.active.is_(True))
            .order_by(User.full_name, User.username))
    if cs_only:  # as User.has_role: a role of their own, or one held for someone else right now
        names = ("csr", "cs_manager")
        stmt = stmt.filter(db.or_(User.roles.any(Role.name.in_(names)), User.id.in_(holders(names))))
    pairs = [(user_id, full_name or username) for user_id, full_name, username in db.session.execute(stmt)]
    return ([(0, "—")] if blank else []) + pairs
