"""Archive domain logic: filing (the one call other modules use), retention, holds, disposal, fixity.

Services flush, never commit; every function that depends on the date takes ``today``/``as_of``.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...storage import ContentStore, sanitise_filename
from ...timeutil import local_today, to_local, utcnow
from . import filetypes
from .filetypes import UploadRejected
from .models import (
    ACTIVE, CALENDAR_YEAR_END, EVENT, FILED, FISCAL_YEAR_END, PERMANENT, RETAIN, UNTIL_EVENT, ArchiveRecord,
    Hold, RecordFile, Series,
)
from .plan import ensure_starter_plan

__all__ = [
    "KIND_SERIES", "UploadRejected", "DuplicateFile", "file_document", "file_upload", "add_version",
    "store", "due_date", "fiscal_year_end", "series_for_kind",
]

# Which series of the file plan receives the documents other modules file.
KIND_SERIES: dict[str, str] = {
    "order": "CS-01",
    "daily_report": "CS-02-01",
    "monthly_report": "CS-02-02",
    "annual_report": "CS-02-03",
    "inquiry": "CS-03-01",
    "complaint_report": "CS-03-02",
    "meeting_minutes": "CS-04",
    "survey": "CS-05",
    "survey_report": "CS-05",
    "regulation": "CS-06",
    "procedure": "CS-06",
    "training_certificate": "CS-07-01",
    "certificate": "CS-07-02",
    "contract": "CS-08",
    "billing": "CS-09-01",
    "statement": "CS-09-02",
    "disposal_certificate": "CS-10-01",
    "correspondence": "CS-11",
    "document": "CS-11",
}

MAX_EXTRACTED_CHARS = 500_000


class DuplicateFile(UploadRejected):
    """The same content is already filed; ``existing`` is the record holding it."""

    def __init__(self, message, existing: ArchiveRecord):
        super().__init__(message)
        self.existing = existing


def store() -> ContentStore:
    return ContentStore(current_app.config["ARCHIVE_DIR"])


def series_for_kind(kind: str) -> Series:
    mapping = {**KIND_SERIES, **(current_app.config.get("ARCHIVE_KIND_SERIES") or {})}
    code = mapping.get(kind)
    if code is None:
        raise ValueError(f"no archive series is mapped for the kind {kind!r}")
    series = db.session.scalar(db.select(Series).filter_by(code=code))
    if series is None:
        ensure_starter_plan()
        series = db.session.scalar(db.select(Series).filter_by(code=code))
    if series is None:
        raise ValueError(f"the series {code} mapped for {kind!r} is not in the file plan")
    return series


def _next_reference(year: int) -> str:
    prefix = f"AR-{year}-"
    last = db.session.scalar(
        db.select(ArchiveRecord.reference).filter(ArchiveRecord.reference.like(prefix + "%"))
        .order_by(ArchiveRecord.reference.desc()).limit(1)
    )
    n = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{n:05d}"


@dataclass
class _Prepared:
    filename: str
    data: bytes
    detected: filetypes.Detected
    sha: str


def _prepare(files: list[tuple[str, bytes]]) -> list[_Prepared]:
    if not files:
        raise UploadRejected(_l("Choose at least one file."))
    from ...storage import sha256_bytes

    out = []
    max_bytes = int(current_app.config.get("MAX_UPLOAD_MB", 25)) * 1024 * 1024
    for raw_name, data in files:
        name = sanitise_filename(raw_name or "file")
        if len(data) > max_bytes:
            raise UploadRejected(_l("%(name)s is larger than the limit of %(mb)s MB.", name=name,
                                    mb=current_app.config.get("MAX_UPLOAD_MB")))
        detected = filetypes.detect(name, data)
        out.append(_Prepared(name, data, detected, sha256_bytes(data)))
    return out


def find_duplicate(sha: str, *, exclude_record_id: int | None = None) -> ArchiveRecord | None:
    stmt = (db.select(ArchiveRecord).join(RecordFile).filter(RecordFile.sha256 == sha, ArchiveRecord.status == ACTIVE,
                                                             RecordFile.purged_at.is_(None)))
    if exclude_record_id:
        stmt = stmt.filter(ArchiveRecord.id != exclude_record_id)
    return db.session.scalars(stmt.limit(1)).first()


def _attach(record: ArchiveRecord, prepared: list[_Prepared], version: int, user) -> None:
    content = store()
    texts, notes, failed = [], [], False
    for item in prepared:
        content.put(item.data)
        ok = True
        try:
            text = filetypes.extract_text(item.detected, item.data)
        except filetypes.ExtractionFailed as exc:
            text, ok, failed = None, False, True
            notes.append(f"{item.filename}: {exc}")
        if text:
            texts.append(text)
        elif ok and text is None:
            notes.append(f"{item.filename}: {item.detected.label} has no text to extract")
        record.files.append(RecordFile(
            version=version, filename=item.filename, sha256=item.sha, size=len(item.data),
            mime=item.detected.mime, extraction_ok=ok, created_by_id=getattr(user, "id", None),
        ))
    record.extracted_text = "\n\n".join(texts)[:MAX_EXTRACTED_CHARS]
    record.extraction_failed = failed
    record.extraction_note = "; ".join(notes)[:300]


def _create(*, series: Series, kind: str, title: str, prepared: list[_Prepared], user, customer_id=None,
            restricted=False, record_date: date | None = None, event_date: date | None = None,
            description: str = "", source_key: str | None = None, filed_at: datetime | None = None) -> ArchiveRecord:
    filed_at = filed_at or utcnow()
    record = ArchiveRecord(
        reference=_next_reference(to_local(filed_at).year), series=series, kind=kind, title=title.strip()[:300],
        description=description or "", customer_id=customer_id or None, restricted=bool(restricted),
        record_date=record_date or to_local(filed_at).date(), event_date=event_date, filed_at=filed_at,
        source_key=source_key, created_by_id=getattr(user, "id", None),
    )
    db.session.add(record)
    _attach(record, prepared, 1, user)
    db.session.flush()
    return record


def file_document(*, kind: str, title: str, files: list[tuple[str, bytes]], user, customer_id: int | None = None,
                  restricted: bool = False, event_date: date | None = None, source_key: str | None = None,
                  record_date: date | None = None, description: str = "") -> ArchiveRecord:
    """File documents from another module into the series mapped for ``kind``. Flushes only.

    With ``source_key`` the call is idempotent: filing again returns the same record, adding a new
    version only when the files differ. Raises UploadRejected for files the archive does not accept.
    """
    prepared = _prepare(files)
    if source_key:
        existing = db.session.scalar(db.select(ArchiveRecord).filter_by(source_key=source_key))
        if existing is not None:
            if sorted(p.sha for p in prepared) != sorted(f.sha256 for f in existing.current_files):
                add_version(existing, files, user)
            if event_date and existing.event_date != event_date:
                existing.event_date = event_date
            db.session.flush()
            return existing
    series = series_for_kind(kind)
    return _create(series=series, kind=kind, title=title, prepared=prepared, user=user, customer_id=customer_id,
                   restricted=restricted, record_date=record_date, event_date=event_date,
                   description=description, source_key=source_key)


def file_upload(*, series: Series, title: str, files: list[tuple[str, bytes]], user, customer_id=None,
                restricted=False, record_date=None, event_date=None, description="",
                allow_duplicates: bool = False) -> ArchiveRecord:
    """File a record from the upload form. Raises DuplicateFile when a file is already archived."""
    prepared = _prepare(files)
    if not allow_duplicates:
        for item in prepared:
            existing = find_duplicate(item.sha)
            if existing is not None:
                raise DuplicateFile(_l("%(name)s is already filed as %(ref)s.", name=item.filename,
                                       ref=existing.reference), existing)
    return _create(series=series, kind="upload", title=title, prepared=prepared, user=user,
                   customer_id=customer_id, restricted=restricted, record_date=record_date,
                   event_date=event_date, description=description)


def add_version(record: ArchiveRecord, files: list[tuple[str, bytes]], user) -> ArchiveRecord:
    """A new file is a new version; earlier versions stay as they were."""
    if record.status != ACTIVE:
        raise ValueError("only an active record can receive a new version")
    prepared = _prepare(files)
    _attach(record, prepared, record.current_version + 1, user)
    db.session.flush()
    return record


METADATA_FIELDS = ("title", "description", "customer_id", "restricted", "record_date", "event_date", "series_id")


def update_metadata(record: ArchiveRecord, **values) -> ArchiveRecord:
    """Change a record's metadata (the audit trail records the change); content cannot change here."""
    if record.status != ACTIVE:
        raise ValueError("a disposed record cannot be changed")
    for key, value in values.items():
        if key not in METADATA_FIELDS:
            raise ValueError(f"{key} is not editable metadata")
        setattr(record, key, value)
    db.session.flush()
    return record


# ---- retention -------------------------------------------------------------------------------

def _fiscal_year_end_setting() -> tuple[int, int]:
    raw = str(current_app.config.get("FISCAL_YEAR_END", "12-31"))
    month, day = (int(x) for x in raw.split("-"))
    return month, day


def fiscal_year_end(d: date, setting: tuple[int, int] | None = None) -> date:
    """The last day of the fiscal year containing ``d`` (China: the calendar year, 12-31)."""
    month, day = setting or _fiscal_year_end_setting()

    def end_in(year: int) -> date:
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))

    end = end_in(d.year)
    return end if d <= end else end_in(d.year + 1)


def add_period(d: date, amount: int, unit: str) -> date:
    if unit == "days":
        return d + timedelta(days=amount)
    months = amount * 12 if unit == "years" else amount
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def trigger_date(record: ArchiveRecord, series: Series | None = None) -> date | None:
    """The date the retention period counts from (None while the trigger event has not happened).

    Year-end triggers count from the first day after the year ends (会计档案管理办法 Art. 14).
    """
    series = series or record.series
    if series.trigger == FILED:
        return to_local(record.filed_at).date()
    if series.trigger == CALENDAR_YEAR_END:
        return date(record.record_date.year + 1, 1, 1)
    if series.trigger == FISCAL_YEAR_END:
        return fiscal_year_end(record.record_date) + timedelta(days=1)
    if series.trigger == EVENT:
        return record.event_date
    return None


def due_date(record: ArchiveRecord, series: Series | None = None) -> date | None:
    """When the record is due for its disposition; None for permanent records and untriggered events."""
    series = series or record.series
    if series.retention_kind == PERMANENT or series.disposition == RETAIN:
        return None
    start = trigger_date(record, series)
    if start is None:
        return None
    if series.retention_kind == UNTIL_EVENT:
        due = start
    else:
        due = add_period(start, series.retention_amount or 0, series.retention_unit)
    if record.extend_until and record.extend_until > due:
        due = record.extend_until
    return due


def today() -> date:
    return local_today()
