"""Route helpers: rendering (pages and htmx fragments), security headers, query-string numbers and
dates with bounds, bounded URL converters, service errors to form errors or flashes, and downloads.

- ``service_errors(form, field)``: runs a service call; a ServiceError rolls back and lands on the form.
- ``post_change(form, change, done=, to=, page=)``: a posted state-change form, on service_errors.
- ``send_download(data | path, filename, mimetype=None)``: the only way to answer a file.
- ``arg_int`` / ``arg_date`` / ``page_args``: query-string values; out of range or unparsable is a 404.
- The ``int`` URL converter refuses values above ID_MAX, 2**31-1 (a 404), the ``date`` converter parses
  ``YYYY-MM-DD`` within years 1900-2999.
"""
from __future__ import annotations

import io
import mimetypes
import os
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.routing import BaseConverter, BuildError, IntegerConverter, ValidationError

from .extensions import db, htmx
from .services import ServiceError

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


def compile_templates(app: Flask) -> int:
    """Compile every template of the portal and return how many there are.

    Jinja compiles a template on its first use, about 8 ms each, and a page uses several (the dashboard
    some thirty): a gunicorn worker calls this when it starts (deploy/gunicorn.conf.py), so that the first
    users of a new or recycled worker do not wait for it.
    """
    names = app.jinja_env.list_templates(filter_func=lambda name: name.endswith((".html", ".txt")))
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def safe_url(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


INT_MAX = 2**31 - 1  # default upper bound of query-string numbers (a PostgreSQL integer)
ID_MAX = INT_MAX  # upper bound of ids in URLs: the keys are 32-bit integers (PostgreSQL refuses larger values)
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)  # a day or a year added to it never overflows date
_INT_RE = re.compile(r"[+-]?[0-9]{1,30}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_int(text, *, min: int | None = 0, max: int | None = INT_MAX) -> int | None:  # noqa: A002
    """An integer in ``[min, max]`` written in ASCII digits, or None."""
    text = (text or "").strip()
    if not _INT_RE.fullmatch(text):
        return None
    value = int(text)
    if (min is not None and value < min) or (max is not None and value > max):
        return None
    return value


def parse_date(text, *, min: date = DATE_MIN, max: date = DATE_MAX) -> date | None:  # noqa: A002
    """A ``YYYY-MM-DD`` date in ``[min, max]``, or None."""
    text = (text or "").strip()
    if not _DATE_RE.fullmatch(text):
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if min <= value <= max else None


def arg_int(name: str, default=None, min: int | None = 0, max: int | None = INT_MAX):  # noqa: A002
    """The query-string integer ``name``; ``default`` when absent or empty; 404 when unparsable or out of range."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    value = parse_int(raw, min=min, max=max)
    if value is None:
        abort(404)
    return value


def arg_date(name: str, default=None, min: date = DATE_MIN, max: date = DATE_MAX):  # noqa: A002
    """The query-string date ``name`` (YYYY-MM-DD); ``default`` when absent or empty; 404 when invalid."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    value = parse_date(raw, min=min, max=max)
    if value is None:
        abort(404)
    return value


MAX_PAGE = 1_000_000


def page_args(default_per_page: int = 25) -> tuple[int, int]:
    """Page number and page size from the query string: 404 when unparsable; the size is kept within 5..200."""
    page = arg_int("page", 1, min=1, max=MAX_PAGE)
    per_page = arg_int("per_page", default_per_page, min=1, max=INT_MAX)
    return page, min(200, max(5, per_page))


# ---- URL converters ---------------------------------------------------------------------------

class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` with ASCII digits only and at most ID_MAX: a larger id is a 404, never a 500."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = ID_MAX,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=ID_MAX if max is None else max, signed=signed)
        if signed:
            self.regex = r"-?[0-9]+"

    def to_python(self, value: str):
        if len(value) > 25:
            raise ValidationError()
        return super().to_python(value)


class DateConverter(BaseConverter):
    """``<date:...>``: YYYY-MM-DD within years 1900-2999."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> date:
        parsed = parse_date(value)
        if parsed is None:
            raise ValidationError()
        return parsed

    def to_url(self, value) -> str:
        return value.isoformat() if isinstance(value, date) else str(value)


def install_converters(app: Flask) -> None:
    """Bound the URL converters; call before any route is registered."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.url_map.converters["date"] = DateConverter


# ---- service errors ---------------------------------------------------------------------------

@dataclass
class Outcome:
    ok: bool = False
    error: ServiceError | None = None


def message_text(message) -> str:
    """A message (lazy or not) as plain text: never markup, so templates escape it."""
    from .uploads import plain

    return str.__str__(plain(message))


@contextmanager
def service_errors(form=None, field: str | None = None):
    """Run a service call; on ServiceError roll back and show the message.

    The message goes on ``form[exc.field or field]`` when the form has that field, else it is flashed
    as an error. ``outcome.ok`` is True when no ServiceError was raised (then commit and redirect).
    """
    outcome = Outcome()
    try:
        yield outcome
    except ServiceError as exc:
        db.session.rollback()
        outcome.error = exc
        name = exc.field or field
        message = exc.args[0] if exc.args else str(exc)
        if form is not None and name and name in form:
            target = form[name]
            target.errors = [*target.errors, message]
        else:
            flash(message_text(message), "error")
    else:
        outcome.ok = True


def post_change(form, change, *, done, to, field: str | None = None, page=None):
    """Answer a posted state-change form: validate ``form``, run ``change()`` (the service call) under
    :func:`service_errors`, commit, flash ``done`` and redirect to ``to``. The route loads and authorises
    the record first, and names what to do (a page with a form answers its GET with ``page()`` too)::

        call = load_or_404(VesselCall, call_id, action="edit")
        form = StatusForm()
        return post_change(form, lambda: services.set_status(call, form.status.data, user=current_user),
                           done=_("Saved."), to=url_for(...), page=lambda: _detail(call, 422, status_form=form))

    - ``form``: the posted form, or None for a button that posts nothing to check.
    - ``done``: the success message, or a function of what ``change()`` returned giving the message or a
      ``(message, category)`` pair; ``to``: the URL, or (with ``page``) a function of that result.
    - ``field``: the field a refusal that names none of its own goes on (see ``service_errors``).
    - ``page()``: the page showing the form again with its errors, answered when the form does not
      validate or the service refuses. Without it (a button on another page) a refusal is flashed, a
      form that does not validate (an expired token) says so, and the answer is the redirect to ``to``.
    """
    if form is not None and not form.validate_on_submit():
        if page is not None:
            return page()
        flash(gettext("The form has expired or was not sent from this site. Please try again."), "error")
        return redirect(to)
    with service_errors(form if page is not None else None, field) as outcome:
        result = change()
        db.session.commit()
    if not outcome.ok:
        return page() if page is not None else redirect(to)
    message = done(result) if callable(done) else done
    message, category = message if isinstance(message, tuple) else (message, "success")
    flash(message, category)
    return redirect(to(result) if callable(to) else to)


# ---- downloads --------------------------------------------------------------------------------

_INLINE_SAFE = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/tiff"}
_HEADER_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\;]')


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''...`` (RFC 6266 / RFC 5987) for any name."""
    name = "".join(ch for ch in unicodedata.normalize("NFC", filename or "") if unicodedata.category(ch)[0] != "C")
    name = name.strip() or "download"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = _HEADER_UNSAFE.sub("_", ascii_name).strip()
    stem, ext = os.path.splitext(ascii_name)
    if not any(ch.isalnum() for ch in stem):
        ascii_name = "download" + (ext if ext.isascii() else "")
    value = f'{"inline" if inline else "attachment"}; filename="{ascii_name}"'
    if ascii_name != name:
        value += "; filename*=UTF-8''" + quote(name, safe="!#$&+-.^_`|~")
    return value


def send_download(data, filename: str, mimetype: str | None = None, *, inline: bool = False):
    """Answer a file: ``data`` is bytes or a path. An attachment (``inline`` only for PDFs and images),
    RFC 5987 names (Chinese, emoji, quotes), ``nosniff``, never cached.
    """
    mimetype = mimetype or mimetypes.guess_type(filename or "")[0] or "application/octet-stream"
    if isinstance(data, (bytes, bytearray, memoryview)):
        response = send_file(io.BytesIO(bytes(data)), mimetype=mimetype, conditional=False, etag=False)
    else:
        response = send_file(os.fspath(data), mimetype=mimetype, conditional=True)
    inline = inline and mimetype in _INLINE_SAFE
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def local_path(target: str | None) -> str | None:
    """A path on this site rebuilt from ``target`` (a path, or a URL of this host), or None.

    Redirect only to what this returns: the path is built from parsed parts, never the raw value, so
    ``http://host\\@evil.example/``, ``//evil.example`` or control characters never leave the site.
    """
    from urllib.parse import urlsplit

    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return None
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


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


def text_filter(value) -> str:
    """Jinja filter ``text``: any message (lazy string, Markup from a flash) as plain text to escape.

    flask-babel's lazy strings have an ``__html__`` that does not escape, and the session stores a
    flashed lazy string as Markup: messages carrying user input are shown through this filter.
    """
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str.__str__(value)
    return message_text(value)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(has_endpoint=has_endpoint, safe_url=safe_url, url_with=url_with)
    app.jinja_env.filters["text"] = text_filter

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
