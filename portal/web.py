"""Rendering for full pages and htmx fragments, security headers, shared template helpers."""
from __future__ import annotations

from flask import Flask, abort, current_app, g, render_template, request, url_for
from werkzeug.routing import BuildError

from .extensions import htmx

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


def is_fragment_request() -> bool:
    """An htmx request that wants a fragment (boosted navigation wants the whole page)."""
    return bool(htmx) and not htmx.boosted


def render(template: str, fragment: str | None = None, **context) -> str:
    """Render the page, or only its fragment template for htmx requests."""
    if fragment and is_fragment_request():
        return render_template(fragment, **context)
    return render_template(template, **context)


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def safe_url(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def page_args(default_per_page: int = 25) -> tuple[int, int]:
    """Page number and page size from the query string, clamped to sane values."""
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    try:
        per_page = min(200, max(5, int(request.args.get("per_page", default_per_page))))
    except ValueError:
        per_page = default_per_page
    return page, per_page


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (used by pagination and sort links)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


# Per-request values that extensions cache on `g`. `g` belongs to the application context, which a
# request reuses when one is already pushed (tests, scripts): start every request without them, as a
# real server does, so a stale CSRF token, user or locale never leaks from one request into the next.
_REQUEST_CACHES = ("csrf_token", "_login_user", "_flask_babel")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(has_endpoint=has_endpoint, safe_url=safe_url, url_with=url_with)

    @app.before_request
    def _fresh_request_state():
        for key in _REQUEST_CACHES:
            g.pop(key, None)

    @app.before_request
    def _refuse_nul_characters():
        """No one types a NUL character; PostgreSQL refuses it in text. Answer 400, not a 500."""
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"
        ):
            values = [v for vs in request.form.listvalues() for v in vs]
        else:
            values = []
        for value in [v for vs in request.args.listvalues() for v in vs] + values:
            if "\x00" in value:
                abort(400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.vary.add("HX-Request")
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
