"""Text of an uploaded file, by its type. The type itself and the upload policy live in portal.uploads."""
from __future__ import annotations

import email
import email.policy
import io

from ...uploads import (  # noqa: F401  (the upload policy moved to the core; names kept importable here)
    ALLOWED_LABELS,
    CSV,
    DOC,
    DOCX,
    EML,
    JPEG,
    PDF,
    PNG,
    TIFF,
    TXT,
    XLS,
    XLSX,
    Detected,
    UploadRejected,
    detect,
    plain,
)
from ...uploads import as_text as _as_text


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
