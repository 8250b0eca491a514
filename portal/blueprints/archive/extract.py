"""Text of archived files for search, bounded in every dimension an upload controls.

Every extractor is bounded by what it unpacks (ZIP members' sizes and compression ratio are checked
before anything is opened), by pages or rows, by characters and by time (a deadline checked between
pages, rows and paragraphs). A file over a bound is never rejected: it is filed and kept, and its
text is either refused (a decompression bomb) or truncated, which the record says.

Extraction runs after the record is committed, never inside the request that filed it: see
``start_after_commit`` (a thread in the web process) and ``run_pending`` (also run by
``flask archive extract`` and by the record page's status poll, so work a restarted worker left
behind is finished).
"""
from __future__ import annotations

import codecs
import email
import email.policy
import html
import io
import logging
import re
import threading
import time
import zipfile
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ...uploads import plain

log = logging.getLogger(__name__)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT = ("text/plain", "text/csv")
EML = "message/rfc822"

# Outcomes, from best to worst: a record shows the worst of its files.
NONE = "none"            # the type has no text (images, old binary Office formats)
DONE = "done"
TRUNCATED = "truncated"  # a bound was reached: the first part of the text is kept
FAILED = "failed"        # the file could not be read
REFUSED = "refused"      # unpacking it would exceed the bounds: no text at all
_RANK = {NONE: 0, DONE: 1, TRUNCATED: 2, FAILED: 3, REFUSED: 4}

# Record states while the work is under way (outcomes above once it is done).
PENDING = "pending"
RUNNING = "running"


@dataclass(frozen=True)
class Limits:
    max_unpacked: int = 64 * 1024 * 1024   # bytes all ZIP members of one file may unpack to
    max_ratio: int = 100                   # unpacked / packed, for any member larger than ratio_floor
    ratio_floor: int = 1024 * 1024
    max_chars: int = 500_000               # characters of text kept per record
    max_pages: int = 500                   # PDF pages read
    max_rows: int = 100_000                # spreadsheet rows read (all sheets)
    seconds: float = 60.0                  # per file

    @classmethod
    def from_config(cls, config) -> "Limits":
        def get(key, default, kind=int):
            value = config.get(key)
            return kind(value) if value not in (None, "") else default

        base = cls()
        return cls(
            max_unpacked=get("ARCHIVE_EXTRACT_MAX_UNPACKED_MB", base.max_unpacked // 2**20) * 2**20,
            max_ratio=get("ARCHIVE_EXTRACT_MAX_RATIO", base.max_ratio),
            max_chars=get("ARCHIVE_EXTRACT_MAX_CHARS", base.max_chars),
            max_pages=get("ARCHIVE_EXTRACT_MAX_PAGES", base.max_pages),
            max_rows=get("ARCHIVE_EXTRACT_MAX_ROWS", base.max_rows),
            seconds=get("ARCHIVE_EXTRACT_SECONDS", base.seconds, float),
        )


@dataclass
class Extraction:
    """The text of one file and what happened; ``note`` says why it is truncated, refused or failed."""

    text: str = ""
    outcome: str = DONE
    note: str = ""


class _Bounded(Exception):
    """A bound was reached while reading: keep what was read."""

    def __init__(self, note):
        super().__init__(note)
        self.note = note


class _Refused(Exception):
    def __init__(self, note):
        super().__init__(note)
        self.note = note


class _Collector:
    """Collects text parts up to ``max_chars``; raises _Bounded when a bound is reached."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.parts: list[str] = []
        self.chars = 0
        self.deadline = time.monotonic() + limits.seconds

    def add(self, text: str) -> None:
        if not text:
            return
        room = self.limits.max_chars - self.chars
        if len(text) > room:
            self.parts.append(text[:room])
            self.chars = self.limits.max_chars
            raise _Bounded(_l("only the first %(n)s characters were kept", n=self.limits.max_chars))
        self.parts.append(text)
        self.chars += len(text) + 1
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Bounded(_l("reading stopped after %(s)s seconds", s=int(self.limits.seconds)))

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


def extract(mime: str, data: bytes, limits: Limits | None = None) -> Extraction:
    """The text of ``data`` (of the sniffed type ``mime``) within ``limits``. Never raises for content."""
    limits = limits or Limits()
    reader = {PDF: _pdf, DOCX: _docx, XLSX: _xlsx, EML: _email}.get(mime)
    if reader is None and mime in TEXT:
        reader = _text
    if reader is None:
        return Extraction(outcome=NONE)
    out = _Collector(limits)
    try:
        if mime in (DOCX, XLSX):
            check_zip(data, limits)
        reader(data, out, limits)
    except _Refused as exc:
        return Extraction(outcome=REFUSED, note=plain(exc.note))
    except _Bounded as exc:
        return Extraction(out.text, TRUNCATED, plain(exc.note))
    except Exception as exc:  # noqa: BLE001 - any parser error means "could not extract"; the file is kept
        return Extraction(out.text, FAILED, f"{type(exc).__name__}: {exc}"[:200])
    if mime == PDF and not out.text.strip():
        return Extraction("", FAILED, plain(_l("no text layer (scanned image?)")))
    return Extraction(out.text, DONE)


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a ZIP whose members unpack beyond the bounds, from its directory, before opening any.

    The sizes are the ones the ZIP declares; Python's zipfile never returns more than a member's
    declared size (a member that holds more fails its CRC check), so the declared sizes bound what
    openpyxl and python-docx can read.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        total = 0
        for info in zf.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
                raise _Refused(_l(
                    "%(member)s would unpack to %(mb)s MB, %(ratio)s times its packed size (limit %(limit)s): "
                    "a possible decompression bomb", member=info.filename[:80], mb=round(info.file_size / 2**20),
                    ratio=int(ratio), limit=limits.max_ratio))
        if total > limits.max_unpacked:
            raise _Refused(_l("the file would unpack to %(mb)s MB (limit %(limit)s MB)",
                              mb=round(total / 2**20), limit=limits.max_unpacked // 2**20))


def _pdf(data: bytes, out: _Collector, limits: Limits) -> None:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    for number, page in enumerate(reader.pages):
        if number >= limits.max_pages:
            raise _Bounded(_l("only the first %(n)s of %(total)s pages were read", n=limits.max_pages, total=pages))
        out.add(page.extract_text() or "")
        out.check_time()


def _docx(data: bytes, out: _Collector, limits: Limits) -> None:
    import docx

    document = docx.Document(io.BytesIO(data))
    for paragraph in document.paragraphs:
        out.add(paragraph.text)
    for table in document.tables:
        for row in table.rows:
            out.add(" ".join(cell.text for cell in row.cells))


def _xlsx(data: bytes, out: _Collector, limits: Limits) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = 0
    try:
        for ws in wb.worksheets:
            out.add(ws.title)
            ws.reset_dimensions()  # a forged dimension (A1:XFD1048576) must not pad every row
            for row in ws.iter_rows(values_only=True):
                rows += 1
                if rows > limits.max_rows:
                    raise _Bounded(_l("only the first %(n)s rows were read", n=limits.max_rows))
                cells = [str(v) for v in row if v is not None]
                if cells:
                    out.add(" ".join(cells))
                elif rows % 1000 == 0:
                    out.check_time()
    finally:
        wb.close()


def _decode(data: bytes, max_chars: int) -> tuple[str, bool]:
    """Decode at most ``max_chars`` characters' worth of bytes; True when the data was cut."""
    budget = max_chars * 4
    cut = len(data) > budget
    head = data[:budget]
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return codecs.getincrementaldecoder(encoding)().decode(head, final=not cut), cut
        except UnicodeDecodeError:
            continue
    return head.decode("utf-8", "replace"), cut


def _text(data: bytes, out: _Collector, limits: Limits) -> None:
    text, cut = _decode(data, limits.max_chars)
    out.add(text)
    if cut:
        raise _Bounded(_l("only the first %(n)s characters were kept", n=limits.max_chars))


def _email(data: bytes, out: _Collector, limits: Limits) -> None:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    for key in ("From", "To", "Subject", "Date"):
        if msg[key]:
            out.add(f"{key}: {msg[key]}")
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        content = body.get_content()
        if body.get_content_type() == "text/html":
            content = html.unescape(re.sub(r"<[^>]+>", " ", content[: limits.max_chars * 4]))
        out.add(content)


def worst(outcomes) -> str:
    return max(outcomes, key=lambda o: _RANK.get(o, 0), default=NONE)


# ---- running it after the commit -------------------------------------------------------------

def request_extraction(session, record_id: int) -> None:
    """Remember a record to extract once the session commits (the filing service calls this)."""
    session.info.setdefault("archive_extract", set()).add(record_id)


def _after_commit(session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT was released: the outer transaction is still open
        return
    ids = session.info.pop("archive_extract", None)
    if not ids:
        return
    from flask import current_app, has_app_context

    if has_app_context():
        start(current_app._get_current_object(), sorted(ids))


def start(app, ids: list[int]) -> None:
    """Extract these records outside the request, as ``ARCHIVE_EXTRACT_MODE`` says.

    ``thread`` (the default): a thread of this process; a request does not wait for it (a CLI command
    or job does, since its process ends with it). ``inline`` (tests): the thread is always waited for. ``command``: nothing here; ``flask archive extract`` (e.g. a
    timer) does it. Whatever a stopped process left pending is finished by the next of these, by the
    record page, or by the command.
    """
    from flask import has_request_context

    mode = app.config.get("ARCHIVE_EXTRACT_MODE", "thread")
    if mode == "command" or not ids:
        return
    thread = threading.Thread(target=run_pending, args=(app, list(ids)), name="archive-extract", daemon=True)
    thread.start()
    if mode == "inline" or not has_request_context():
        thread.join()  # a CLI command or job waits: its process would end, and the thread with it


def _after_rollback(session) -> None:
    session.info.pop("archive_extract", None)


_installed = False


def install_listeners() -> None:
    global _installed
    if _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _installed = True


def run_pending(app, ids: list[int] | None = None) -> int:
    """Extract the given records (or every pending one) in an app context of its own; returns how many.

    This is an entry point like a CLI command: it owns its transactions and commits once per record,
    after claiming the record with a conditional UPDATE, so several workers (or `flask archive
    extract` beside a running portal) never extract the same record twice.
    """
    from ...audit import acting_as
    from ...extensions import db
    from . import services

    done = 0
    with app.app_context(), acting_as(name="archive extraction"):
        try:
            for record_id in ids if ids is not None else services.pending_extraction_ids():
                if not services.claim_extraction(record_id):
                    db.session.rollback()
                    continue
                db.session.commit()
                try:
                    services.extract_record(record_id, Limits.from_config(app.config))
                    db.session.commit()
                    done += 1
                except Exception as exc:  # noqa: BLE001 - the record and its files stay; it says so
                    db.session.rollback()
                    log.exception("archive: extracting the text of record %s failed", record_id)
                    services.extraction_crashed(record_id, f"{type(exc).__name__}: {exc}")
                    db.session.commit()
        finally:
            db.session.remove()
    return done
