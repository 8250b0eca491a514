"""Roles and record access: the require() decorator, load-or-404-then-check, login per blueprint."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from .extensions import db

# Endpoints open without sign-in. Everything else needs a signed-in user. The language switch is
# open so that the sign-in page can be shown in Chinese; it only stores the choice in the session.
# A customer contact's survey answer page is reached by its personal token (checked by the view).
OPEN_ENDPOINTS = {"auth.login", "main.healthz", "static", "main.set_language", "surveys.answer"}


def protect(bp: Blueprint) -> Blueprint:
    """Require sign-in for every route of a blueprint (but the open endpoints). Idempotent."""
    if getattr(bp, "login_protected", False):
        return bp
    bp.login_protected = True

    @bp.before_request
    def _login_required():
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        if not current_user.is_authenticated:
            return unauthenticated()
        return None

    return bp


def unauthenticated():
    from flask import make_response, redirect

    from .extensions import htmx

    target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if htmx:
        # Back to the page the user was on, not to the fragment htmx asked for.
        target = url_for("auth.login", next=_current_page() or None)
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _current_page() -> str | None:
    """The local path (with query) of the page an htmx request came from, from HX-Current-URL."""
    from urllib.parse import urlsplit

    current = request.headers.get("HX-Current-URL", "")
    parts = urlsplit(current)
    if not current or parts.netloc != request.host or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def require(*roles: str):
    """Allow the view only to users holding one of the roles (admin always passes)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return unauthenticated()
            if not current_user.has_role("admin", *roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def _get_or_404(model, ident):
    from .web import ID_MAX

    if isinstance(ident, int) and not 0 <= ident <= ID_MAX:
        abort(404)  # no key is that large, and PostgreSQL refuses to compare with it
    try:
        obj = db.session.get(model, ident)
    except (ValueError, TypeError, OverflowError):
        obj = None
    if obj is None:
        abort(404)
    return obj


def _check(obj, action: str, fallback=None) -> None:
    check = getattr(obj, f"can_{action}", None)
    if check is None and fallback is not None:
        check = getattr(fallback, f"can_{action}", None)
    if check is not None and not check(current_user):
        abort(403)


def load_or_404(model, ident, *, action: str = "view"):
    """Load a record or 404; 403 when the current user may not view (or edit) it."""
    obj = _get_or_404(model, ident)
    _check(obj, action)
    return obj


def load_child_or_404(model, ident, *, parent, action: str = "view", via: str | None = None):
    """Load a child record of ``parent`` or 404; 403 when the current user may not view (or edit) it.

    The child belongs to ``parent`` through its foreign key to the parent's table (``via`` names the
    column when the child has several); a child of another parent is a 404, as if it did not exist.
    Without a ``can_<action>`` of its own, the child is checked with the parent's.
    """
    child_attr, parent_attr = _child_fk(model, parent, via)
    obj = _get_or_404(model, ident)
    parent_key = getattr(parent, parent_attr)
    if parent_key is None or getattr(obj, child_attr) != parent_key:
        abort(404)
    _check(obj, action, fallback=parent)
    return obj


def _child_fk(model, parent, via: str | None):
    """(child attribute, parent attribute) of the foreign key from ``model`` to ``parent``'s table."""
    from sqlalchemy import inspect as sa_inspect

    child_mapper = sa_inspect(model)
    parent_mapper = sa_inspect(type(parent))
    parent_tables = set(parent_mapper.tables)
    pairs = []
    for column in child_mapper.columns:
        for fk in column.foreign_keys:
            if fk.column.table in parent_tables:
                child_attr = child_mapper.get_property_by_column(column).key
                parent_attr = parent_mapper.get_property_by_column(fk.column).key
                pairs.append((child_attr, parent_attr, column.name))
    if via is not None:
        pairs = [p for p in pairs if via in (p[0], p[2])]
    if len(pairs) != 1:
        raise TypeError(
            f"{model.__name__} has {len(pairs)} foreign keys to {type(parent).__name__}: name one with via="
        )
    return pairs[0][0], pairs[0][1]


def can_view(obj, user=None) -> bool:
    user = user or current_user
    check = getattr(obj, "can_view", None)
    return True if check is None else bool(check(user))
