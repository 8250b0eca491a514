"""Acting for someone else: the acting manager's delegated rights and the cover during an absence.

The core asks; the department package (``portal/blueprints/department``) answers by registering its
sources when it is loaded, so the core never imports a domain:

- ``register_role_source(fn)``: ``fn(now) -> {user_id: {role: principal_username}}``, the roles users
  hold for someone else right now (the acting manager holds ``cs_manager`` for the manager).
  ``User.has_role`` and ``User.is_manager`` consult ``delegated_roles``: every approval that checks
  the manager's role gives it to the acting manager during the period, and to nobody after it.
  When a check passes only through a delegated role, the request is marked: the audit trail then
  names the actor "<user> (acting for <manager>)" (``acting_for``).
- ``register_cover_source(fn)``: ``fn(user_id, customer_id, now) -> cover user id | None``, who stands
  in for an absent user. ``stand_in(user, customer_id)`` is what notices and due-time escalations
  are addressed to (the outbox and the jobs call it for every user recipient).

Two-person rules still hold under delegation: ``refuse_own(user, *proposer_ids)`` raises when the
user acts on a delegated right and proposed the thing themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import has_app_context, has_request_context, request

from .timeutil import utcnow

_ROLE_SOURCES: list[Callable[[datetime], dict]] = []
_COVER_SOURCES: list[Callable[[int, int | None, datetime], int | None]] = []


def register_role_source(fn: Callable[[datetime], dict]) -> Callable[[datetime], dict]:
    if fn not in _ROLE_SOURCES:
        _ROLE_SOURCES.append(fn)
    return fn


def register_cover_source(fn):
    if fn not in _COVER_SOURCES:
        _COVER_SOURCES.append(fn)
    return fn


def _all_delegations() -> dict[int, dict[str, str]]:
    """{user_id: {role: principal}} in force now; computed once per request (every call outside one)."""
    if not _ROLE_SOURCES or not has_app_context():
        return {}
    cached = request.environ.get("portal.delegations") if has_request_context() else None
    if cached is not None:
        return cached
    from .extensions import db

    out: dict[int, dict[str, str]] = {}
    now = utcnow()
    with db.session.no_autoflush:
        for source in _ROLE_SOURCES:
            for user_id, roles in (source(now) or {}).items():
                out.setdefault(user_id, {}).update(roles)
    if has_request_context():  # per request (an app context may outlive one, e.g. in tests)
        request.environ["portal.delegations"] = out
    return out


def delegated_roles(user) -> dict[str, str]:
    """{role: principal username} the user holds for someone else right now."""
    user_id = getattr(user, "id", None)
    if user_id is None:
        return {}
    return _all_delegations().get(user_id, {})


def holders(names) -> set[int]:
    """The ids of the users who hold one of the roles ``names`` for someone else right now."""
    wanted = set(names)
    return {user_id for user_id, roles in _all_delegations().items() if wanted & set(roles)}


def holds(user, names) -> bool:
    """True when ``user`` holds one of the roles ``names`` through a delegation (and marks the request)."""
    roles = delegated_roles(user)
    hit = [roles[n] for n in names if n in roles]
    if not hit:
        return False
    if has_request_context():
        request.environ.setdefault("portal.acting_for", {}).setdefault(user.id, hit[0])
    return True


def only_delegated(user, *names: str) -> bool:
    """The user holds one of ``names`` by a delegation and not by a role of their own."""
    own = set(getattr(user, "role_names", set()))
    return not (own & set(names)) and "admin" not in own and bool(set(delegated_roles(user)) & set(names))


def acting_for(user_id) -> str | None:
    """The principal the user acted for in this request (a delegated right was used), else None."""
    if user_id is None or not has_request_context():
        return None
    return request.environ.get("portal.acting_for", {}).get(user_id)


def refuse_own(user, *proposer_ids, role: str = "cs_manager") -> None:
    """Two-person rule under delegation: who proposed a thing cannot approve it on a delegated right."""
    from flask_babel import lazy_gettext as _l

    from .services import ServiceError

    if user is not None and only_delegated(user, role) and user.id in {p for p in proposer_ids if p}:
        raise ServiceError(_l("You proposed this yourself: as acting manager you cannot approve it; the manager "
                              "or another manager must."))


def stand_in(user, customer_id: int | None = None, now: datetime | None = None):
    """Who receives what is addressed to ``user`` now: the cover while the user is absent, else the user."""
    if user is None or not _COVER_SOURCES or not has_app_context():
        return user
    from .extensions import db
    from .models import User

    now = now or utcnow()
    for source in _COVER_SOURCES:
        cover_id = source(user.id, customer_id, now)
        if cover_id and cover_id != user.id:
            cover = db.session.get(User, cover_id)
            if cover is not None and cover.active:
                return cover
    return user
