"""What an uploaded file really is, judged from its bytes (never its name), and its text."""
from __future__ import annotations

import email
import email.policy
import io
import os
import zipfile
from dataclasses import dataclass

import filetype
from flask_babel import lazy_gettext as _l


class UploadRejected(ValueError):
    """A file that may not be filed; str(exc) is a message for the user."""

    def __str__(self) -> str:
        return plain(self.args[0]) if self.args else ""


def plain(message) -> str:
    """A lazy message as text, translated in a request, untranslated outside one (CLI, jobs)."""
    try:
        return str(message)
    except RuntimeError:
        args, kwargs = getattr(message, "_args", ()), getattr(message, "_kwargs", {})
        if args:
            return str(args[0]) % kwargs if kwargs else str(args[0])
        return repr(message)


@dataclass(frozen=True)
class Detected:
    mime: str
    label: str  # short type name shown to users


PDF = Detected("application/pdf", "PDF")
DOCX = Detected("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX")
XLSX = Detected("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX")
DOC = Detected("application/msword", "DOC")
XLS = Detected("application/vnd.ms-excel", "XLS")
PNG = Detected("image/png", "PNG")
JPEG = Detected("image/jpeg", "JPEG")
TIFF = Detected("image/tiff", "TIFF")
TXT = Detected("text/plain", "TXT")
CSV = Detected("text/csv", "CSV")
EML = Detected("message/rfc822", "EML")

ALLOWED_LABELS = "PDF, DOCX, XLSX, DOC, XLS, PNG, JPEG, TIFF, TXT, CSV, EML"

_EXECUTABLE_MAGIC = (
    b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\x00asm",
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = {"image/png": PNG, "image/jpeg": JPEG, "image/tiff": TIFF}
_EML_HEADERS = ("from:", "to:", "subject:", "date:", "message-id:", "received:", "mime-version:", "return-path:")


def _ext(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


def detect(name: str, data: bytes) -> Detected:
    """The type of ``data``; UploadRejected when it is not on the allow-list."""
    if not data:
        raise UploadRejected(_l("The file %(name)s is empty.", name=name))
    head = data[:16]
    if any(head.startswith(m) for m in _EXECUTABLE_MAGIC):
        raise UploadRejected(_l(
            "%(name)s is a program (executable or script), not a document, whatever its name says. It was refused.",
            name=name,
        ))
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _office_zip(name, data)
    if head.startswith(_OLE_MAGIC):
        return XLS if _ext(name) in {".xls", ".xlt"} else DOC
    kind = filetype.guess(data[:8192])
    if kind is not None:
        if kind.mime in _IMAGES:
            return _IMAGES[kind.mime]
        raise UploadRejected(_l(
            "%(name)s is a %(type)s file, which the archive does not accept. Allowed: %(allowed)s.",
            name=name, type=kind.extension.upper(), allowed=ALLOWED_LABELS,
        ))
    text = _as_text(data)
    if text is None:
        raise UploadRejected(_l(
            "The type of %(name)s could not be recognised from its content. Allowed: %(allowed)s.",
            name=name, allowed=ALLOWED_LABELS,
        ))
    if _looks_like_email(text):
        return EML
    if _ext(name) in {".csv", ".tsv"}:
        return CSV
    return TXT


def _office_zip(name: str, data: bytes) -> Detected:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadRejected(_l("%(name)s looks like a damaged ZIP or Office file.", name=name)) from None
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
    raise UploadRejected(_l(
        "%(name)s is a ZIP archive, which the archive does not accept. Allowed: %(allowed)s.",
        name=name, allowed=ALLOWED_LABELS,
    ))


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data[:65536]:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:4096]
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t\f")
        if controls <= len(sample) // 100:
            return text
    return None


def _looks_like_email(text: str) -> bool:
    lines = text.lstrip()[:4000].splitlines()
    headers = 0
    for line in lines:
        if not line.strip():
            break
        if line.lower().startswith(_EML_HEADERS):
            headers += 1
    return headers >= 2


# ---- text extraction -------------------------------------------------------------------------

class ExtractionFailed(Exception):
    pass


def extract_text(detected: Detected, data: bytes) -> str | None:
    """Plain text of the file; None when the type has no text (images, old Office formats).

    Raises ExtractionFailed when a file that should have text cannot be read.
    """
    try:
        if detected is PDF:
            return _pdf_text(data)
        if detected is DOCX:
            import docx

            document = docx.Document(io.BytesIO(data))
            parts = [p.text for p in document.paragraphs]
            for table in document.tables:
                for row in table.rows:
                    parts.append(" ".join(cell.text for cell in row.cells))
            return "\n".join(p for p in parts if p)
        if detected is XLSX:
            import openpyxl

            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            parts = []
            for ws in wb.worksheets:
                parts.append(ws.title)
                for row in ws.iter_rows(values_only=True):
                    cells = [str(v) for v in row if v is not None]
                    if cells:
                        parts.append(" ".join(cells))
            wb.close()
            return "\n".join(parts)
        if detected is EML:
            return _email_text(data)
        if detected in (TXT, CSV):
            return _as_text(data) or ""
    except ExtractionFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser error means "could not extract"
        raise ExtractionFailed(f"{type(exc).__name__}: {exc}"[:250]) from exc
    return None


def _pdf_text(data: bytes) -> str:
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join((page.extract_text() or "") for page in reader.pages)
    if not text.strip():
        raise ExtractionFailed("no text layer (scanned image?)")
    return text


def _email_text(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = [f"{k}: {msg[k]}" for k in ("From", "To", "Subject", "Date") if msg[k]]
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        content = body.get_content()
        if body.get_content_type() == "text/html":
            import html
            import re

            content = html.unescape(re.sub(r"<[^>]+>", " ", content))
        parts.append(content)
    return "\n".join(parts)
