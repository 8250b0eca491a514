"""PDF rendering: a Jinja template through WeasyPrint, fetching nothing but the app's static files.

Print templates extend ``pdf/base.html`` and refer to static files by absolute path,
``/static/<path>``, which resolves against ``BASE_URL`` to a URL the fetcher serves.
Every other URL (files, the network, the portal's own pages) is refused. Every PDF uses the one
stylesheet ``static/css/print-pdf.css``, parsed once per process (again when the file changes) with
one font configuration, rather than fetched and parsed for every document.

Documents are rendered with WeasyPrint's own user-agent stylesheet less its rules for pseudo-elements of
*every* element (``::marker`` kept for list items; footnote and note calls and markers, which no print
template uses, dropped): WeasyPrint computes a style for each pseudo-element that has a rule, so those
universal rules cost four or five extra styles per table cell, about a fifth of a large report's time. Should
WeasyPrint stop asking ``_ua_stylesheets``, its full stylesheet applies: the same output, only slower.

``render_pdf_anywhere`` is the call for services: it works in a request and outside one (CLI, demo
loader, jobs), where it pushes a request context for the locale selector and ``url_for``.
"""
from __future__ import annotations

import base64
import mimetypes
import os
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import functools
import re
import threading
from importlib.resources import files
from pathlib import Path

from flask import current_app, has_request_context, render_template
import weasyprint.css
from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from .storage import UnsafePath, safe_path

BASE_URL = "https://portal.invalid/"
_HOST = "portal.invalid"
_STATIC_PREFIX = "/static/"
STYLESHEET = "css/print-pdf.css"
_parsed = threading.local()


class StaticOnlyFetcher(URLFetcher):
    """Serves ``https://portal.invalid/static/<path>`` from ``static_folder`` and image ``data:`` URLs."""

    def __init__(self, static_folder: str | os.PathLike[str] | None) -> None:
        super().__init__()
        self.static_folder = os.fspath(static_folder) if static_folder else None

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Return the static file or image data for ``url``; raise URLFetchingError for anything else."""
        if url[:5].lower() == "data:":
            return self._data_url(url)
        parts = urlsplit(url)
        if (
            parts.scheme.lower() != "https"
            or (parts.hostname or "").lower() != _HOST
            or parts.port is not None
            or parts.username is not None
            or not parts.path.startswith(_STATIC_PREFIX)
        ):
            raise URLFetchingError(f"refused to fetch {url!r}: only static files are served")
        if self.static_folder is None:
            raise URLFetchingError(f"refused to fetch {url!r}: the app has no static folder")
        relative = unquote(parts.path[len(_STATIC_PREFIX):])
        try:
            path = safe_path(self.static_folder, relative)
        except UnsafePath as exc:
            raise URLFetchingError(f"refused to fetch {url!r}: {exc}") from exc
        if not path.is_file():
            raise URLFetchingError(f"no static file for {url!r}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    def _data_url(self, url: str) -> URLFetcherResponse:
        """Decode a ``data:`` URL, accepting images only."""
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise URLFetchingError("malformed data URL")
        params = [p.strip() for p in header.split(";")]
        content_type = (params[0] or "text/plain").lower()
        if not content_type.startswith("image/"):
            raise URLFetchingError(f"refused data URL of type {content_type!r}: images only")
        try:
            if "base64" in (p.lower() for p in params[1:]):
                body = base64.b64decode(unquote(payload), validate=False)
            else:
                body = unquote_to_bytes(payload)
        except ValueError as exc:
            raise URLFetchingError(f"malformed data URL: {exc}") from exc
        return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})


def _print_user_agent_css(text: str) -> str:
    """WeasyPrint's HTML user-agent stylesheet with its universal pseudo-element rules scoped or dropped."""
    text = re.sub(r"^::marker\b", "li::marker", text, flags=re.MULTILINE)
    return re.sub(r"^::(?:footnote|note)-[a-z]+ \{[^}]*\}\n?", "", text, flags=re.MULTILINE)


@functools.cache
def _print_ua() -> CSS:
    """Parsed once per process, at the first PDF (not at import: most requests print nothing)."""
    return CSS(string=_print_user_agent_css((files(weasyprint.css) / "html5_ua.css").read_text("utf-8")),
               counter_style=CounterStyle())


class PrintHTML(HTML):
    """A document rendered with the print user-agent stylesheet (see the module's docstring)."""

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        ua = _print_ua()
        return [ua] if not forms else [ua, *super()._ua_stylesheets(forms)[1:]]


def _stylesheet(fetcher: StaticOnlyFetcher) -> tuple[CSS, FontConfiguration]:
    """The parsed print stylesheet and its font configuration, kept per thread until the file changes."""
    path = Path(fetcher.static_folder or ".") / STYLESHEET
    key = (str(path), path.stat().st_mtime_ns)
    cached = getattr(_parsed, "value", None)
    if cached is None or cached[0] != key:
        fonts = FontConfiguration()
        css = CSS(url=BASE_URL + "static/" + STYLESHEET, url_fetcher=fetcher, font_config=fonts)
        cached = _parsed.value = (key, css, fonts)
    return cached[1], cached[2]


def render_pdf(template_name: str, **context: object) -> bytes:
    """Render ``template_name`` with Flask's Jinja environment and return the PDF bytes."""
    html = render_template(template_name, **context)
    fetcher = StaticOnlyFetcher(current_app.static_folder)
    css, fonts = _stylesheet(fetcher)
    return PrintHTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=fonts)


def render_pdf_anywhere(template_name: str, **context: object) -> bytes:
    """``render_pdf``, also outside a request (CLI, demo loader): templates need a request context."""
    if has_request_context():
        return render_pdf(template_name, **context)
    with current_app.test_request_context():
        return render_pdf(template_name, **context)


def warm_up() -> bytes:
    """Render a small bilingual PDF and return it. A process's first PDFs load the CJK faces (regular and bold)
    and fill WeasyPrint's font caches, several times the cost of a later one: gunicorn workers call this when
    they start (deploy/gunicorn.conf.py), so that no user waits for it."""
    return render_pdf_anywhere("pdf/warm_up.html")

