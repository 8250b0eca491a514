"""Class tests: each walks the app's URL map, pages and forms (never a hand-kept list), so a new
blueprint is covered from its first route.

- every form field of every form shows markup it was given escaped, and no form answers a 500;
- every ``<int:...>`` URL argument out of range answers 404; no query-string number or date a page
  reads answers a 500, whatever its value;
- every download answers 200 with an RFC 6266/5987 Content-Disposition, whatever the file's name;
- every XLSX export stores text that looks like a formula as text.

The walk signs in as a user holding every role over a copy of the demonstration terminal.
"""
from __future__ import annotations

import io
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

import openpyxl
import pytest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from portal.models import ROLES, User
from portal.storage import sanitise_filename

PASSWORD = "walk-password-12345"
MARKUP = '"><img src=x onerror=alert(1)>'
RAW = "<img src=x onerror=alert(1)>"
FORMULAS = ('=HYPERLINK("http://evil.example/","open")', "=cmd|' /C calc'!A0", "+1", "-1", "@x")
# Quote-bearing: apostrophes and typographic quotes (a double quote is replaced when a name is made safe,
# and a browser sends it as %22; tests/test_core_api.py gives send_download one directly).
FILE_NAMES = ("投诉证据（现场照片）.pdf", "报告 📄 final.pdf", "O'Brien's \u2018final\u2019 report.pdf")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HUGE_IDS = (2**31, 2**63, 99999999999999999999)
BAD_QUERY_VALUES = ("99999999999999999999", str(2**63), "-1", "abc", "9999-12-31", "2026-02-30", "1e400")
# Posting these would end the walk's own session.
NO_POST = {"auth.logout"}
NOT_WALKED = {"static"}
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
TEXT_INPUTS = {"text", "email", "search", "url", "tel", "password", "number", "date", "datetime-local", "time",
               "month", "week", ""}


# ---- reading pages ------------------------------------------------------------------------------

@dataclass
class Form:
    method: str
    action: str
    fields: list[dict] = field(default_factory=list)


class PageParser(HTMLParser):
    """Links and forms of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form((a.get("method") or "get").lower(), a.get("action") or "")
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            self._form.fields.append({"tag": "input", "type": (a.get("type") or "text").lower(), "name": a["name"],
                                      "value": a.get("value") or "", "checked": "checked" in a})
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"tag": "textarea", "type": "textarea", "name": a["name"], "value": ""}
            self._form.fields.append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = {"tag": "select", "type": "select", "name": a["name"], "options": [], "selected": [],
                            "multiple": "multiple" in a}
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select["options"].append(value)
            if "selected" in a:
                self._select["selected"].append(value)
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            self._form.fields.append({"tag": "button", "type": "submit", "name": a["name"],
                                      "value": a.get("value") or ""})

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def fill(form: Form, text, *, valid: bool = False) -> tuple[dict, dict]:
    """(data, files) for a form: ``text`` (a string or a function of the field's index) in every text
    field; with ``valid`` the non-text inputs get plausible values so that the form can pass."""
    data: dict[str, list[str]] = {}
    files: dict[str, tuple] = {}
    first_button = True
    ticked: set[str] = set()
    for index, f in enumerate(form.fields):
        value = text(index) if callable(text) else text
        name, kind = f["name"], f["type"]
        if name == "csrf_token":
            continue
        if kind == "hidden":
            data.setdefault(name, []).append(f["value"])
        elif kind in ("checkbox", "radio"):
            if f["checked"] or name not in ticked:
                data.setdefault(name, []).append(f["value"] or "y")
                ticked.add(name)
        elif kind == "file":
            files[name] = value
        elif kind == "submit":
            if first_button:
                data.setdefault(name, []).append(f["value"])
                first_button = False
        elif kind == "select":
            options = [o for o in f["options"] if o] or f["options"]
            chosen = f["selected"] or options[:1]
            data[name] = chosen
        elif valid and kind == "email":
            data.setdefault(name, []).append("walker@example.com")
        elif valid and kind == "date":
            data.setdefault(name, []).append(date.today().isoformat())
        elif valid and kind == "datetime-local":
            data.setdefault(name, []).append(f"{date.today().isoformat()}T10:00")
        elif valid and kind == "time":
            data.setdefault(name, []).append("10:00")
        elif valid and kind == "number":
            data.setdefault(name, []).append("1")
        elif valid and kind == "url":
            data.setdefault(name, []).append("https://example.com/")
        elif kind in TEXT_INPUTS or kind == "textarea":
            data.setdefault(name, []).append(value)
    return data, files


# ---- walking the app ----------------------------------------------------------------------------

@dataclass
class Visit:
    url: str
    endpoint: str
    status: int
    headers: dict
    body: bytes

    @property
    def is_html(self) -> bool:
        return self.headers.get("Content-Type", "").startswith("text/html")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Walker:
    """A signed-in client that walks the app: every page without URL arguments and the links they show."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.adapter = app.url_map.bind("localhost")
        self.user = None
        self.sign_in()

    def sign_in(self) -> None:
        user = db.session.scalar(db.select(User).filter_by(username="walker"))
        if user is None:
            user = User(username="walker", full_name="Walker", email="walker@example.com")
            db.session.add(user)
        user.active = True
        user.set_password(PASSWORD)
        user.set_roles(ROLES)
        db.session.commit()
        self.user = user
        response = self.client.post("/auth/login", data={"username": "walker", "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]

    def endpoint(self, url: str, method: str = "GET") -> str | None:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc not in ("", "localhost"):
            return None
        try:
            endpoint, _args = self.adapter.match(parts.path, method=method)
        except HTTPException:
            return None
        return endpoint

    def open(self, url: str, method: str = "GET", **kw):
        response = self.client.open(url, method=method, **kw)
        final = response.request.path if response.request else ""
        if response.status_code == 401 or final.startswith("/auth/login"):
            self.sign_in()  # a form ended the session (password, roles, deactivation): sign in again
        return response

    def visit(self, url: str, method: str = "GET", **kw) -> Visit:
        response = self.open(url, method, **kw)
        endpoint = self.endpoint(url, method) or ""
        visit = Visit(url, endpoint, response.status_code, dict(response.headers), response.get_data())
        response.close()
        return visit

    def start_urls(self) -> list[str]:
        urls = []
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint in NOT_WALKED or "GET" not in rule.methods:
                continue
            if not (rule.arguments - set(rule.defaults or {})):
                with self.app.test_request_context():
                    urls.append(self.app.url_for(rule.endpoint, **(rule.defaults or {})))
        return sorted(set(urls))

    def crawl(self, *, per_endpoint: int = 2, extra: tuple[str, ...] = ()) -> list[Visit]:
        """GET every URL of ``extra`` and every page without URL arguments, then follow links and GET
        forms, a few URLs per endpoint."""
        queue = deque([*extra, *self.start_urls()])
        wanted = set(extra)  # visited whatever the count of their endpoint
        seen: set[str] = set()
        counts: Counter = Counter()
        visits = []
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            endpoint = self.endpoint(url)
            if endpoint is None or endpoint in NOT_WALKED or endpoint in NO_POST:
                continue
            if counts[endpoint] >= per_endpoint and url not in wanted:
                continue
            counts[endpoint] += 1
            visit = self.visit(url)
            visits.append(visit)
            if visit.is_html and visit.status == 200:
                queue.extend(self.links(visit))
        return visits

    def links(self, visit: Visit) -> list[str]:
        page = parse(visit.text)
        out = [self.local(visit.url, href) for href in page.links]
        for form in page.forms:
            if form.method == "get":
                data, _files = fill(form, "")
                query = urlencode([(k, v) for k, vs in data.items() for v in vs if v])
                out.append(self.local(visit.url, form.action or visit.url) + (f"?{query}" if query else ""))
        return [u for u in out if u]

    @staticmethod
    def local(base: str, href: str) -> str | None:
        url = urljoin("http://localhost" + base, href)
        parts = urlsplit(url)
        if parts.netloc != "localhost" or parts.scheme not in ("http", "https"):
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def forms(self, visits: list[Visit]) -> list[tuple[str, Form]]:
        """Every distinct form of the walked pages: (page URL, form)."""
        out, seen = [], set()
        for visit in visits:
            if not visit.is_html or visit.status != 200:
                continue
            for form in parse(visit.text).forms:
                action = self.local(visit.url, form.action or visit.url)
                if action is None:
                    continue
                form.action = action
                endpoint = self.endpoint(action, form.method.upper())
                if endpoint is None or endpoint in NO_POST:
                    continue
                key = (form.method, endpoint, tuple(sorted({f["name"] for f in form.fields})))
                if key not in seen:
                    seen.add(key)
                    out.append((visit.url, form))
        return out

    def submit(self, form: Form, data: dict, files: dict):
        if form.method == "get":
            query = urlencode([(k, v) for k, vs in data.items() for v in vs])
            return self.open(form.action.split("?")[0] + "?" + query, follow_redirects=True)
        payload = {k: vs if len(vs) != 1 else vs[0] for k, vs in data.items()}
        for name, (content, filename) in files.items():
            payload[name] = (io.BytesIO(content), filename)
        return self.open(form.action, "POST", data=payload, follow_redirects=True,
                         content_type="multipart/form-data" if files else None)


@pytest.fixture
def walker(demo_app):
    return Walker(demo_app)


def _describe(failures: list[str]) -> str:
    return f"{len(failures)} failing:\n" + "\n".join(sorted(set(failures)))


# ---- every form field ----------------------------------------------------------------------------

def test_every_form_field_shows_markup_escaped_and_never_fails(walker):
    """Markup typed into any field of any form is shown as text, in field errors, flashes and pages."""
    visits = walker.crawl()
    forms = walker.forms(visits)
    assert len(forms) >= 30, "the walk found too few forms to mean anything"
    failures = []
    for page_url, form in forms:
        endpoint = walker.endpoint(form.action, form.method.upper())
        data, files = fill(form, MARKUP)
        files = {name: (b"plain text, not a document", MARKUP + ".txt") for name in files}
        for attempt in (1, 2):  # twice: the second post meets what the first created (duplicates)
            response = walker.submit(form, data, files)
            body = response.get_data(as_text=True)
            if response.status_code >= 500:
                failures.append(f"{form.method.upper()} {endpoint} (form on {page_url}): {response.status_code}")
            elif RAW in body:
                line = next(line for line in body.splitlines() if RAW in line).strip()[:160]
                failures.append(f"{form.method.upper()} {endpoint} (form on {page_url}): raw markup: {line}")
            redirected = bool(response.history)
            response.close()
            if attempt == 1 and not redirected:
                break
    assert not failures, _describe(failures)


# ---- every integer and date in a URL --------------------------------------------------------------

def _int_rules(app):
    for rule in app.url_map.iter_rules():
        ints = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
        if ints:
            yield rule, ints


def _build(app, rule, values: dict) -> str:
    for name, converter in rule._converters.items():
        if name in values:
            continue
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif hasattr(converter, "items"):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "x1"
    with app.test_request_context():
        return app.url_for(rule.endpoint, **values)


def test_every_integer_url_argument_out_of_range_is_404(app):
    walker = Walker(app)
    rules = list(_int_rules(app))
    assert len(rules) >= 20
    failures = []
    for rule, ints in rules:
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        for huge in HUGE_IDS:
            for names in [ints] + ([[n] for n in ints] if len(ints) > 1 else []):
                url = _build(app, rule, dict.fromkeys(names, huge))
                response = walker.open(url, method)
                if response.status_code != 404:
                    failures.append(f"{method} {rule.rule} {names}={huge}: {response.status_code}")
                response.close()
        url = _build(app, rule, dict.fromkeys(ints, 2**63 - 1))
        response = walker.open(url, method)
        if response.status_code >= 500:
            failures.append(f"{method} {rule.rule} {ints}=2**63-1: {response.status_code}")
        response.close()
    assert not failures, _describe(failures)


class _RecordingArgs(ImmutableMultiDict):
    """Query arguments that remember which names a view asked for."""

    read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002
        self.read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        self.read.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def test_query_string_numbers_and_dates_never_fail(walker, monkeypatch):
    """Every query argument a page reads (page, per_page, year, customer, series, as_of, ...), given
    a huge, negative, malformed or out-of-calendar value, answers a page or a 4xx, never a 500."""
    visits = [v for v in walker.crawl(per_endpoint=1) if v.status == 200]
    monkeypatch.setattr(walker.app.request_class, "parameter_storage_class", _RecordingArgs)
    failures = []
    tried = 0
    for visit in visits:
        _RecordingArgs.read = set()
        walker.open(visit.url).close()
        names = {n for n in _RecordingArgs.read if isinstance(n, str) and n != "csrf_token"}
        base, _, query = visit.url.partition("?")
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)]
        for name in sorted(names):
            for value in BAD_QUERY_VALUES:
                url = base + "?" + urlencode([(k, v) for k, v in kept if k != name] + [(name, value)])
                response = walker.open(url)
                tried += 1
                if response.status_code >= 500:
                    failures.append(f"GET {visit.endpoint} ?{name}={value}: {response.status_code}")
                response.close()
    assert tried >= 50, "the walk tried too few query arguments to mean anything"
    assert not failures, _describe(failures)


# ---- every download ----------------------------------------------------------------------------

_DISPOSITION = re.compile(  # RFC 6266: filename as a token or a quoted string, filename* as RFC 5987
    r"^(attachment|inline)"
    r'(?:; ?filename=(?:(?P<token>[A-Za-z0-9!#$%&\'*+\-.^_`|~]+)|"(?P<quoted>[\x20\x21\x23-\x5b\x5d-\x7e]*)"))?'
    r"(?:; ?filename\*=UTF-8''(?P<ext>[A-Za-z0-9!#$&+\-.^_`|~%]+))?$"
)


def _downloaded_name(header: str) -> str | None:
    """The file name an RFC 6266 browser takes from the header, or None when the header is malformed."""
    match = _DISPOSITION.match(header)
    if match is None:
        return None
    if match["ext"] is not None:
        try:
            return unquote(match["ext"], encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            return None
    return match["token"] or match["quoted"]


def _post_forms(walker, visits, text_for, file_names, *, only_uploads: bool = False) -> list[str]:
    """Submit every POST form (with a file input only, or all) with plausible values, once per file name
    (a small PDF); return the links shown on the pages the submissions led to."""
    links = []
    count = 0
    for _page_url, form in walker.forms(visits):
        has_file = any(f["type"] == "file" for f in form.fields)
        if form.method != "post" or (only_uploads and not has_file):
            continue
        for name in file_names if has_file else file_names[:1]:
            data, files = fill(form, text_for, valid=True)
            count += 1  # distinct content each time: the archive refuses a file it already holds
            files = {field_name: (PDF + f"%{count}\n".encode(), name) for field_name in files}
            response = walker.submit(form, data, files)
            final = response.request.full_path.rstrip("?") if response.request else form.action
            if response.status_code == 200 and response.mimetype == "text/html":
                visit = Visit(final, "", 200, dict(response.headers), response.get_data())
                links.append(final)
                links.extend(walker.links(visit))
            response.close()
    return links


def test_every_download_answers_any_file_name(walker):
    """Files named in Chinese, with an emoji or with quotes download with a valid RFC 5987 header."""
    visits = walker.crawl()
    links = _post_forms(walker, visits, lambda i: f"Download walk {i}", FILE_NAMES, only_uploads=True)
    assert links, "no form takes a file"
    visits = walker.crawl(per_endpoint=3, extra=tuple(links))
    downloads = [v for v in visits if "Content-Disposition" in v.headers]
    failures, names = [], set()
    for v in downloads:
        header = v.headers["Content-Disposition"]
        name = _downloaded_name(header)
        if v.status != 200:
            failures.append(f"GET {v.endpoint} {v.url}: {v.status}")
        elif name is None:
            failures.append(f"GET {v.endpoint} {v.url}: malformed Content-Disposition {header!r}")
        elif v.headers.get("X-Content-Type-Options") != "nosniff":
            failures.append(f"GET {v.endpoint} {v.url}: no nosniff")
        else:
            names.add(name)
    errors = [v for v in visits if v.status >= 500]
    failures += [f"GET {v.endpoint} {v.url}: {v.status}" for v in errors]
    expected = {sanitise_filename(n) for n in FILE_NAMES}
    missing = expected - names
    if missing:
        failures.append(f"uploaded files never downloaded under their names: {sorted(missing)}")
    assert downloads, "the walk found no download"
    assert not failures, _describe(failures)


# ---- every XLSX export -----------------------------------------------------------------------------

def test_every_xlsx_export_stores_formula_text_as_text(walker):
    """Values starting with = + - @ (OWASP's list) reach every export as text cells, unchanged."""
    walker.user.full_name = FORMULAS[1]
    db.session.commit()
    visits = walker.crawl()
    links = _post_forms(walker, visits, lambda i: FORMULAS[i % len(FORMULAS)], ("formula.pdf",))
    visits = walker.crawl(per_endpoint=4, extra=tuple(links))
    exports = [v for v in visits if v.headers.get("Content-Type", "").startswith(XLSX_MIMETYPE) and v.status == 200]
    assert exports, "the walk found no XLSX export"
    failures, values = [], set()
    for v in exports:
        wb = openpyxl.load_workbook(io.BytesIO(v.body))
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        failures.append(f"{v.endpoint}: {ws.title}!{cell.coordinate} is a formula: {cell.value!r}")
                    if isinstance(cell.value, str):
                        values.add(cell.value)
    assert not failures, _describe(failures)
    assert values & set(FORMULAS), "no formula-like value reached any export: the test proves nothing"


# ---- every drop-down ------------------------------------------------------------------------------

def _form_classes():
    import importlib
    import pkgutil

    import portal
    from flask_wtf import FlaskForm

    for info in pkgutil.walk_packages(portal.__path__, "portal."):
        importlib.import_module(info.name)
    seen, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in seen if cls.__module__.startswith("portal.")]


def test_every_drop_down_renders_through_the_quick_widget():
    """Every single-choice drop-down of every form is the portal's SelectField (LongSelect: wtforms' HTML without
    an object per option), so a list that grows with the years costs a page little; found by walking the forms."""
    from wtforms import RadioField, SelectField, SelectMultipleField

    from portal.forms import LongSelect
    from portal.forms import SelectField as PortalSelectField

    checked, failures = 0, []
    for cls in _form_classes():
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            field_class = getattr(unbound, "field_class", None)
            if not (isinstance(field_class, type) and issubclass(field_class, SelectField)) \
                    or issubclass(field_class, (SelectMultipleField, RadioField)):
                continue
            checked += 1
            widget = unbound.kwargs.get("widget", field_class.widget)
            if not issubclass(field_class, PortalSelectField) or not isinstance(widget, LongSelect):
                failures.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert checked >= 50, "the walk found too few drop-downs to mean anything"
    assert not failures, _describe(failures)
