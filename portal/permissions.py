"""Roles and record access: the require() decorator, load-or-404-then-check, login per blueprint."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from .extensions import db

# Endpoints open without sign-in. Everything else needs a signed-in user. The language switch is
# open so that the sign-in page can be shown in Chinese; it only stores the choice in the session.
OPEN_ENDPOINTS = {"auth.login", "main.healthz", "static", "main.set_language"}


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


def load_or_404(model, ident, *, action: str = "view"):
    """Load a record or 404; 403 when the current user may not view (or edit) it."""
    try:
        obj = db.session.get(model, ident)
    except (ValueError, TypeError):
        obj = None
    if obj is None:
        abort(404)
    check = getattr(obj, f"can_{action}", None)
    if check is not None and not check(current_user):
        abort(403)
    return obj


def can_view(obj, user=None) -> bool:
    user = user or current_user
    check = getattr(obj, "can_view", None)
    return True if check is None else bool(check(user))
