"""The one upload policy: what a file really is, judged from its bytes, and whether the portal takes it.

``check_upload(filename, data) -> (safe_name, mimetype)`` is the call for every upload (complaint
attachments, archive filing, knowledge files): the name is made safe (``storage.sanitise_filename``),
the size is within ``MAX_UPLOAD_MB``, the type is on the allow-list judged from the content (never the
name), programs are refused whatever their name, and a known extension must match the content. Any
refusal raises ``UploadRejected`` (a ``ServiceError``) with a message for the user.

Text extraction is not here: the archive package extracts (bounded) from the ``Detected`` type.
"""
from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

import filetype
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from .services import ServiceError
from .storage import sanitise_filename

DEFAULT_MAX_UPLOAD_MB = 25


def plain(message) -> str:
    """A lazy message as text, translated in a request, untranslated outside one (CLI, jobs)."""
    try:
        return str(message)
    except RuntimeError:
        args, kwargs = getattr(message, "_args", ()), getattr(message, "_kwargs", {})
        if args:
            return str(args[0]) % kwargs if kwargs else str(args[0])
        return repr(message)


class UploadRejected(ServiceError):
    """A file the portal does not accept; str(exc) is a message for the user."""

    def __str__(self) -> str:
        return plain(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Detected:
    mime: str
    label: str  # short type name shown to users


PDF = Detected("application/pdf", "PDF")
DOCX = Detected("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX")
XLSX = Detected("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX")
DOC = Detected("application/msword", "DOC")
XLS = Detected("application/vnd.ms-excel", "XLS")
MSG = Detected("application/vnd.ms-outlook", "MSG")
PNG = Detected("image/png", "PNG")
JPEG = Detected("image/jpeg", "JPEG")
TIFF = Detected("image/tiff", "TIFF")
TXT = Detected("text/plain", "TXT")
CSV = Detected("text/csv", "CSV")
EML = Detected("message/rfc822", "EML")

ALLOWED = (PDF, DOCX, XLSX, DOC, XLS, MSG, PNG, JPEG, TIFF, TXT, CSV, EML)
ALLOWED_LABELS = ", ".join(d.label for d in ALLOWED)

# A known extension names the types its content may have; a mismatch is refused (a "report.pdf"
# that is really text is not what the person meant to upload). Unknown extensions are judged by content.
_TEXT = (TXT, CSV, EML)
EXTENSION_TYPES: dict[str, tuple[Detected, ...]] = {
    ".pdf": (PDF,), ".docx": (DOCX,), ".xlsx": (XLSX,), ".doc": (DOC,), ".xls": (XLS,), ".msg": (MSG,),
    ".png": (PNG,), ".jpg": (JPEG,), ".jpeg": (JPEG,), ".tif": (TIFF,), ".tiff": (TIFF,),
    ".txt": _TEXT, ".csv": _TEXT, ".tsv": _TEXT, ".eml": _TEXT,
}

_EXECUTABLE_MAGIC = (
    b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\x00asm",
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = {"image/png": PNG, "image/jpeg": JPEG, "image/tiff": TIFF}
_EML_HEADERS = ("from:", "to:", "subject:", "date:", "message-id:", "received:", "mime-version:", "return-path:")


def _ext(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


def max_upload_mb() -> int:
    if has_app_context():
        return int(current_app.config.get("MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB))
    return DEFAULT_MAX_UPLOAD_MB


def inspect_upload(filename: str, data: bytes) -> tuple[str, Detected]:
    """(safe file name, detected type), or UploadRejected: the whole policy but the returned mimetype."""
    name = sanitise_filename(filename or "file")
    limit_mb = max_upload_mb()
    if len(data) > limit_mb * 1024 * 1024:
        raise UploadRejected(_l("%(name)s is larger than %(mb)s MB.", name=name, mb=limit_mb))
    detected = detect(name, data)
    expected = EXTENSION_TYPES.get(_ext(name))
    if expected is not None and detected not in expected:
        raise UploadRejected(_l(
            "The content of %(name)s does not match its type: it is a %(type)s file.",
            name=name, type=detected.label,
        ))
    return name, detected


def check_upload(filename: str, data: bytes) -> tuple[str, str]:
    """(safe file name, mimetype) of an acceptable upload; UploadRejected (a ServiceError) otherwise."""
    name, detected = inspect_upload(filename, data)
    return name, detected.mime


def detect(name: str, data: bytes) -> Detected:
    """The type of ``data`` from its bytes; UploadRejected when it is not on the allow-list."""
    if not data:
        raise UploadRejected(_l("The file %(name)s is empty.", name=name))
    head = data[:16]
    if any(head.startswith(m) for m in _EXECUTABLE_MAGIC):
        raise UploadRejected(_l(
            "%(name)s is a program (executable or script), not a document, whatever its name says. "
            "Programs are not accepted.",
            name=name,
        ))
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _office_zip(name, data)
    if head.startswith(_OLE_MAGIC):
        ext = _ext(name)
        if ext == ".msg":
            return MSG
        return XLS if ext in {".xls", ".xlt"} else DOC
    kind = filetype.guess(data[:8192])
    if kind is not None:
        if kind.mime in _IMAGES:
            return _IMAGES[kind.mime]
        raise UploadRejected(_l(
            "%(name)s is a %(type)s file, which is not accepted. Allowed: %(allowed)s.",
            name=name, type=kind.extension.upper(), allowed=ALLOWED_LABELS,
        ))
    text = as_text(data)
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
        "%(name)s is a ZIP archive, which is not accepted. Allowed: %(allowed)s.",
        name=name, allowed=ALLOWED_LABELS,
    ))


def as_text(data: bytes) -> str | None:
    """``data`` decoded as UTF-8 or GB18030 text, or None when it is not text."""
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
