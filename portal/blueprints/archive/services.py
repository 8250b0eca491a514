"""Archive domain logic: filing (the one call other modules use), retention, holds, disposal, fixity.

Services flush, never commit; every function that depends on the date takes ``today``/``as_of``.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session, selectinload

from ...audit import history_for
from ...extensions import db
from ...models import RestrictedMixin
from ...outbox import path_for, queue_message, users_with_role
from ...pdf import render_pdf_anywhere
from ...services import ServiceError, disposal_blockers, register_disposal_blocker
from ...storage import ContentStore, sha256_bytes
from ...i18n import fmt_datetime
from ...timeutil import from_local, local_today, to_local, utcnow
from ...uploads import Detected, UploadRejected, inspect_upload, plain
from . import extract
from .models import hidden_by_source, visible_records
from .models import (
    ACTIVE, CALENDAR_YEAR_END, EVENT, FILED, FISCAL_YEAR_END, PERMANENT, RETAIN, UNTIL_EVENT, ArchiveRecord,
    DisposalBatch, DisposalItem, FixityRun, Hold, RecordFile, Series,
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

class DuplicateFile(UploadRejected):
    """The same content is already filed; ``existing`` is the record holding it."""

    def __init__(self, message, existing: ArchiveRecord):
        super().__init__(message)
        self.existing = existing


_STORE_CLASS: list[type] = []  # the demo loader swaps in a store that skips fsync, for speed


def store() -> ContentStore:
    cls = _STORE_CLASS[-1] if _STORE_CLASS else ContentStore
    return cls(current_app.config["ARCHIVE_DIR"])


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
    detected: Detected
    sha: str


def _prepare(files: list[tuple[str, bytes]]) -> list[_Prepared]:
    """Every file through the portal's one upload policy (portal.uploads), then its checksum."""
    if not files:
        raise UploadRejected(_l("Choose at least one file."))
    out = []
    for raw_name, data in files:
        name, detected = inspect_upload(raw_name, data)
        out.append(_Prepared(name, data, detected, sha256_bytes(data)))
    return out


def opener(user):
    """``may_open(record)``: ``ArchiveRecord.can_view`` for many records at once (lists, the schedule, batches,
    holds), without a query per record: the record's own restriction, and the restrictions of the records
    they were filed from read once."""
    hidden = hidden_by_source(user)
    return lambda record: record.id not in hidden and record.can_open_itself(user)


def records_query(user, *, q: str = "", series_id: int = 0, customer_id: int = 0, year: int = 0,
                  status: str = "active"):
    """The records list with its filters, newest first, restricted ones only for who may see them."""
    stmt = visible_records(db.select(ArchiveRecord), user).order_by(ArchiveRecord.record_date.desc(),
                                                                     ArchiveRecord.id.desc())
    stmt = stmt.options(selectinload(ArchiveRecord.customer), selectinload(ArchiveRecord.series))
    if status in ("active", "destroyed", "transferred"):
        stmt = stmt.filter(ArchiveRecord.status == status)
    if series_id:
        series = db.session.get(Series, series_id)
        stmt = stmt.filter(ArchiveRecord.series_id.in_(subtree_ids(series) if series else [series_id]))
    if customer_id:
        stmt = stmt.filter(ArchiveRecord.customer_id == customer_id)
    if year:
        stmt = stmt.filter(ArchiveRecord.record_date.between(date(year, 1, 1), date(year, 12, 31)))
    if q:
        like = f"%{q}%"
        stmt = stmt.filter(db.or_(ArchiveRecord.title.ilike(like), ArchiveRecord.reference.ilike(like)))
    return stmt


def series_records_query(series: Series, user):
    return (visible_records(db.select(ArchiveRecord), user).filter(ArchiveRecord.series_id == series.id)
            .options(selectinload(ArchiveRecord.customer))
            .order_by(ArchiveRecord.record_date.desc(), ArchiveRecord.id.desc()))


def subtree_ids(series: Series) -> list[int]:
    out, stack = [], [series]
    while stack:
        node = stack.pop()
        out.append(node.id)
        stack.extend(node.children)
    return out


def root_series() -> list[Series]:
    return list(db.session.scalars(db.select(Series).filter(Series.parent_id.is_(None)).order_by(Series.code)))


def plan_names() -> list[str]:
    return sorted(set(db.session.scalars(db.select(Series.plan).distinct())))


def plan_is_empty() -> bool:
    return db.session.scalar(db.select(Series.id).limit(1)) is None


def record_history(record: ArchiveRecord) -> list:
    """The audit trail of the record and of its files, in order."""
    entries = history_for("archive_record", record.id)
    for f in record.files:
        entries.extend(history_for("archive_record_file", f.id))
    return sorted(entries, key=lambda e: e.id)


def disposal_items_of(record: ArchiveRecord) -> list:
    return list(db.session.scalars(db.select(DisposalItem).filter_by(record_id=record.id).order_by(DisposalItem.id)))


def file_path(f: RecordFile):
    """Where the content of a file is, or None when it was destroyed or is missing."""
    if f.purged_at is not None:
        return None
    path = store().path_for(f.sha256)
    return path if path.is_file() else None


def record_counts(user) -> tuple[dict[int, int], dict[int, int]]:
    """Active records per series: those the user may open, and the restricted ones they may not."""
    stmt = (db.select(ArchiveRecord.series_id, db.func.count(ArchiveRecord.id))
            .filter(ArchiveRecord.status == ACTIVE).group_by(ArchiveRecord.series_id))
    visible = dict(db.session.execute(visible_records(stmt, user)).all())
    everything = dict(db.session.execute(stmt).all())
    hidden = {sid: n - visible.get(sid, 0) for sid, n in everything.items() if n > visible.get(sid, 0)}
    return visible, hidden


def find_duplicate(sha: str, *, exclude_record_id: int | None = None) -> ArchiveRecord | None:
    stmt = (db.select(ArchiveRecord).join(RecordFile).filter(RecordFile.sha256 == sha, ArchiveRecord.status == ACTIVE,
                                                             RecordFile.purged_at.is_(None)))
    if exclude_record_id:
        stmt = stmt.filter(ArchiveRecord.id != exclude_record_id)
    return db.session.scalars(stmt.limit(1)).first()


def _attach(record: ArchiveRecord, prepared: list[_Prepared], version: int, user) -> None:
    """Store the files and add them as a version; their text is extracted after the commit."""
    content = store()
    for item in prepared:
        content.put(item.data)
        record.files.append(RecordFile(
            version=version, filename=item.filename, sha256=item.sha, size=len(item.data),
            mime=item.detected.mime, extraction_ok=True, created_by_id=getattr(user, "id", None),
        ))
    record.extraction_state = extract.PENDING
    record.extraction_started_at = None


def _queue_extraction(record: ArchiveRecord) -> None:
    db.session.flush()
    extract.request_extraction(db.session, record.id)


# ---- text extraction (after the commit: see extract.py) -------------------------------------

EXTRACTION_STALE = timedelta(minutes=10)  # a claim older than this was left by a stopped worker


def pending_extraction_ids() -> list[int]:
    """Records waiting for their text, and those a stopped worker left half done."""
    stale = utcnow() - EXTRACTION_STALE
    return list(db.session.scalars(
        db.select(ArchiveRecord.id).filter(db.or_(
            ArchiveRecord.extraction_state == extract.PENDING,
            db.and_(ArchiveRecord.extraction_state == extract.RUNNING, ArchiveRecord.extraction_started_at < stale),
        )).order_by(ArchiveRecord.id)
    ))


def claim_extraction(record_id: int) -> bool:
    """Take a pending (or abandoned) record for extraction; False when another worker has it."""
    now = utcnow()
    result = db.session.execute(
        db.update(ArchiveRecord).where(
            ArchiveRecord.id == record_id,
            db.or_(ArchiveRecord.extraction_state == extract.PENDING,
                   db.and_(ArchiveRecord.extraction_state == extract.RUNNING,
                           ArchiveRecord.extraction_started_at < now - EXTRACTION_STALE)),
        ).values(extraction_state=extract.RUNNING, extraction_started_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def extraction_waiting(record: ArchiveRecord) -> bool:
    return record.extraction_state in (extract.PENDING, extract.RUNNING)


def extraction_to_resume(record: ArchiveRecord) -> bool:
    """Pending with nobody at it (the process that filed it stopped), or claimed by a process that stopped."""
    if record.extraction_state == extract.PENDING:
        return True
    started = record.extraction_started_at
    return record.extraction_state == extract.RUNNING and (started is None or started < utcnow() - EXTRACTION_STALE)


def extract_record(record_id: int, limits: extract.Limits) -> ArchiveRecord | None:
    """Extract the text of the record's current files within ``limits``; the files are kept whatever happens."""
    record = db.session.get(ArchiveRecord, record_id)
    if record is None:
        return None
    if record.status != ACTIVE:
        record.extraction_state = extract.NONE
        db.session.flush()
        return record
    content = store()
    texts, notes, outcomes, room = [], [], [], limits.max_chars
    for f in record.current_files:
        if f.purged_at is not None:
            continue
        with content.open(f.sha256) as handle:
            data = handle.read()
        result = extract.extract(f.mime, data, replace(limits, max_chars=max(room, 1)))
        outcomes.append(result.outcome)
        f.extraction_ok = result.outcome not in (extract.FAILED, extract.REFUSED)
        if result.text:
            texts.append(result.text)
            room -= len(result.text)
        if result.note:
            notes.append(f"{f.filename}: {result.note}")
    outcome = extract.worst(outcomes)
    record.extracted_text = "\n\n".join(texts)[:limits.max_chars]
    record.extraction_state = outcome
    record.extraction_failed = outcome in (extract.FAILED, extract.REFUSED)
    record.extraction_note = "; ".join(notes)[:300]
    db.session.flush()
    return record


def extraction_crashed(record_id: int, note: str) -> None:
    """The extractor itself broke on this record: say so, and do not try again by itself."""
    record = db.session.get(ArchiveRecord, record_id)
    if record is not None:
        record.extraction_state = extract.FAILED
        record.extraction_failed = True
        record.extraction_note = note[:300]
        db.session.flush()


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
    _queue_extraction(record)
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
            if existing is not None and existing.can_view(user):
                raise DuplicateFile(_l("%(name)s is already filed as %(ref)s.", name=item.filename,
                                       ref=existing.reference), existing)
            if existing is not None:
                raise DuplicateFile(_l("This file is already in the archive in a record you may not see."), existing)
    return _create(series=series, kind="upload", title=title, prepared=prepared, user=user,
                   customer_id=customer_id, restricted=restricted, record_date=record_date,
                   event_date=event_date, description=description)


def add_version(record: ArchiveRecord, files: list[tuple[str, bytes]], user) -> ArchiveRecord:
    """A new file is a new version; earlier versions stay as they were."""
    if record.status != ACTIVE:
        raise ValueError("only an active record can receive a new version")
    prepared = _prepare(files)
    _attach(record, prepared, record.current_version + 1, user)
    _queue_extraction(record)
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


# ---- legal holds -----------------------------------------------------------------------------

def _series_chain_ids(series: Series) -> list[int]:
    ids, node = [], series
    while node is not None and len(ids) < 20:
        ids.append(node.id)
        node = node.parent
    return ids


def _hold_options():
    return (selectinload(Hold.record), selectinload(Hold.series), selectinload(Hold.customer),
            selectinload(Hold.created_by), selectinload(Hold.released_by))


def active_holds() -> list[Hold]:
    return list(db.session.scalars(db.select(Hold).filter(Hold.released_at.is_(None)).order_by(Hold.placed_at)
                                   .options(*_hold_options())))


def released_holds(limit: int = 50) -> list[Hold]:
    return list(db.session.scalars(db.select(Hold).filter(Hold.released_at.is_not(None))
                                   .order_by(Hold.released_at.desc()).limit(limit).options(*_hold_options())))


def holds_on_series(series: Series) -> list[Hold]:
    return [h for h in active_holds() if h.series_id == series.id]


class HoldIndex:
    """All active holds, to ask quickly whether a record is held (record, its series or a parent, its customer)."""

    def __init__(self, holds: list[Hold] | None = None):
        holds = active_holds() if holds is None else holds
        self.by_record: dict[int, list[Hold]] = {}
        self.by_series: dict[int, list[Hold]] = {}
        self.by_customer: dict[int, list[Hold]] = {}
        self._chains: dict[int, list[int]] = {}  # series id: it and its parents
        for hold in holds:
            for key, table in ((hold.record_id, self.by_record), (hold.series_id, self.by_series),
                               (hold.customer_id, self.by_customer)):
                if key:
                    table.setdefault(key, []).append(hold)

    def holds_for(self, record: ArchiveRecord) -> list[Hold]:
        out = list(self.by_record.get(record.id, []))
        if self.by_series:
            chain = self._chains.get(record.series_id)
            if chain is None:
                chain = self._chains[record.series_id] = _series_chain_ids(record.series)
            for sid in chain:
                out.extend(self.by_series.get(sid, []))
        if record.customer_id:
            out.extend(self.by_customer.get(record.customer_id, []))
        return out


def holds_for(record: ArchiveRecord) -> list[Hold]:
    """The active holds on the record, its series (or a parent) and its customer; other records' holds are not loaded."""
    near = [Hold.record_id == record.id, Hold.series_id.is_not(None)]
    if record.customer_id:
        near.append(Hold.customer_id == record.customer_id)
    holds = db.session.scalars(db.select(Hold).filter(Hold.released_at.is_(None), db.or_(*near))
                               .order_by(Hold.placed_at).options(*_hold_options()))
    return HoldIndex(list(holds)).holds_for(record)


def place_hold(*, user, reason: str, record: ArchiveRecord | None = None, series: Series | None = None,
               customer_id: int | None = None) -> Hold:
    targets = [t for t in (record, series, customer_id) if t]
    if len(targets) != 1:
        raise ValueError("a hold applies to exactly one record, series or customer")
    if not (reason or "").strip():
        raise ValueError("a hold needs a reason")
    hold = Hold(reason=reason.strip(), record=record, series=series, customer_id=customer_id or None,
                created_by_id=getattr(user, "id", None))
    db.session.add(hold)
    db.session.flush()
    return hold


def release_hold(hold: Hold, *, user, note: str = "") -> Hold:
    if hold.released_at is not None:
        return hold
    hold.released_at = utcnow()
    hold.released_by_id = getattr(user, "id", None)
    hold.release_note = (note or "").strip()
    db.session.flush()
    return hold


# ---- schedule --------------------------------------------------------------------------------

# Other domains give reasons to skip a record (e.g. an open complaint of its customer) through the core
# registry, portal.services.register_disposal_blocker; this name is kept for callers of the archive's own.
register_skip_rule = register_disposal_blocker


@dataclass
class DueItem:
    record: ArchiveRecord
    due: date
    action: str
    reasons: list[str]

    @property
    def skipped(self) -> bool:
        return bool(self.reasons)

    @property
    def overdue_days(self) -> int:
        return 0


def action_for(record: ArchiveRecord) -> str:
    if record.review_outcome == "destroy":
        return "destroy"
    return record.series.disposition


def _pending_batch_record_ids() -> dict[int, str]:
    rows = db.session.execute(
        db.select(DisposalItem.record_id, DisposalBatch.number).join(DisposalBatch)
        .filter(DisposalBatch.status.in_(("proposed", "approved", "executing")), DisposalItem.state == "pending")
    )
    return {rid: number for rid, number in rows}


@dataclass
class HiddenDue:
    """Due records the user may not open (restricted): counted, never named."""

    total: int = 0
    ready: int = 0      # not skipped, destroy or transfer: a proposal may include them without showing them
    skipped: int = 0
    review: int = 0     # due for review: only someone who may open them can appraise them


def split_visible(items: list[DueItem], user) -> tuple[list[DueItem], HiddenDue]:
    """The due items the user may open, and a count of the others (no reference, no title)."""
    shown, hidden, may_open = [], HiddenDue(), opener(user)
    for item in items:
        if may_open(item.record):
            shown.append(item)
            continue
        hidden.total += 1
        if item.skipped:
            hidden.skipped += 1
        elif item.action == "review":
            hidden.review += 1
        else:
            hidden.ready += 1
    return shown, hidden


def _latest_trigger(as_of: date, amount: int, unit: str) -> date | None:
    """The latest trigger date whose due date (the trigger date plus the period) is on or before ``as_of``.

    add_period grows with its start (month ends are clamped, never moved back), so the dates that can be due
    are exactly those up to this one. None when even the first possible date is not due."""
    try:
        if unit == "days":
            return as_of - timedelta(days=amount)
        months = amount * 12 if unit == "years" else amount
        y, m = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
        guess = date(y, m + 1, min(as_of.day, calendar.monthrange(y, m + 1)[1]))
        while guess < date.max and add_period(guess + timedelta(days=1), amount, unit) <= as_of:
            guess += timedelta(days=1)
        while add_period(guess, amount, unit) > as_of:
            guess -= timedelta(days=1)
        return guess
    except (ValueError, OverflowError):
        return None


def _last_fiscal_end(on_or_before: date) -> date | None:
    """The last day of the last fiscal year that ended on or before this date."""
    setting = _fiscal_year_end_setting()
    try:
        end = fiscal_year_end(on_or_before, setting)
        return end if end == on_or_before else fiscal_year_end(date(end.year - 1, 1, 1), setting)
    except (ValueError, OverflowError):
        return None


def due_condition(as_of: date, series: list[Series]):
    """SQL: the records of these series whose disposition is due on or before ``as_of``, exactly as due_date
    reckons it (the trigger date, moved by the retention period, and a review's extension), so that the
    schedule only loads what it lists."""
    groups: dict[tuple, list[int]] = {}
    for s in series:
        if s.retention_kind == PERMANENT or s.disposition == RETAIN:
            continue
        amount = 0 if s.retention_kind == UNTIL_EVENT else (s.retention_amount or 0)
        latest = _latest_trigger(as_of, amount, s.retention_unit)
        if latest is None:
            continue
        if s.trigger == FILED:  # the local date of filing: before the local midnight after `latest`
            bound = ("filed", from_local(datetime.combine(latest + timedelta(days=1), datetime.min.time())))
        elif s.trigger == CALENDAR_YEAR_END:  # counted from 1 January after the record's year
            bound = ("record_before", date(latest.year, 1, 1))
        elif s.trigger == FISCAL_YEAR_END:  # counted from the day after the fiscal year of the record ends
            end = _last_fiscal_end(latest - timedelta(days=1))
            if end is None:
                continue
            bound = ("record_until", end)
        elif s.trigger == EVENT:
            bound = ("event_until", latest)
        else:
            continue
        groups.setdefault(bound, []).append(s.id)
    columns = {"filed": ArchiveRecord.filed_at.__lt__, "record_before": ArchiveRecord.record_date.__lt__,
               "record_until": ArchiveRecord.record_date.__le__, "event_until": ArchiveRecord.event_date.__le__}
    clauses = [db.and_(ArchiveRecord.series_id.in_(ids), columns[how](value)) for (how, value), ids in groups.items()]
    if not clauses:
        return db.false()
    return db.and_(db.or_(*clauses), db.or_(ArchiveRecord.extend_until.is_(None), ArchiveRecord.extend_until <= as_of))


# What the schedule, its pages, the due list, the blockers and a proposal read of a due record (not its text).
_SCHEDULE_COLUMNS = (ArchiveRecord.id, ArchiveRecord.reference, ArchiveRecord.series_id, ArchiveRecord.kind,
                     ArchiveRecord.title, ArchiveRecord.customer_id, ArchiveRecord.record_date, ArchiveRecord.filed_at,
                     ArchiveRecord.event_date, ArchiveRecord.extend_until, ArchiveRecord.review_outcome,
                     ArchiveRecord.status, ArchiveRecord.restricted, ArchiveRecord.created_by_id,
                     ArchiveRecord.source_key)


class DueRecord:
    """A due record as the schedule reads it: its columns as a row (thousands of records are due on a five-year
    installation: ORM objects would cost most of the schedule) and its series. It answers what the schedule's
    pages, the command, the due list, the blockers and ``opener`` ask of an ArchiveRecord; a proposal loads the
    chosen records themselves."""

    __slots__ = tuple(c.key for c in _SCHEDULE_COLUMNS) + ("series",)

    def __init__(self, row, series: Series):
        for name, value in zip(self.__slots__, row):
            setattr(self, name, value)
        self.series = series

    def named_user_ids(self) -> set[int]:
        return RestrictedMixin.named_user_ids(self)

    def can_open_itself(self, user) -> bool:
        """Its own restriction only, as ArchiveRecord.can_open_itself."""
        return RestrictedMixin.can_view(self, user)

    source_record = ArchiveRecord.source_record
    can_view = ArchiveRecord.can_view

    def __getattr__(self, name):
        """Anything else (a blocker asking for the record's customer, say): the record itself, loaded then."""
        if name.startswith("__") or name in DueRecord.__slots__:
            raise AttributeError(name)
        return getattr(db.session.get(ArchiveRecord, self.id), name)

    def __repr__(self) -> str:
        return f"<DueRecord {self.id} {self.reference}>"


class _Reasons:
    """Why a due record is skipped: legal holds, a pending disposal batch and the registered blockers. Each
    message is worded once per hold, batch or blocker answer, whatever the number of records it concerns."""

    def __init__(self):
        # the active holds without their related rows (a reason is all the schedule says of a hold)
        self.holds = HoldIndex(list(db.session.scalars(db.select(Hold).filter(Hold.released_at.is_(None))
                                                       .order_by(Hold.placed_at))))
        self.in_batch = _pending_batch_record_ids()
        self.blockers = disposal_blockers()
        self._words: dict[object, str] = {}

    def _said(self, key, message) -> str:
        text = self._words.get(key)
        if text is None:
            text = self._words[key] = plain(message())
        return text

    def of(self, record) -> list[str]:
        reasons = [self._said(("hold", h.id), lambda h=h: _l("On legal hold: %(reason)s", reason=h.reason))
                   for h in self.holds.holds_for(record)]
        number = self.in_batch.get(record.id)
        if number is not None:
            reasons.append(self._said(("batch", number),
                                      lambda: _l("Already in disposal batch %(number)s", number=number)))
        for blocker in self.blockers:
            why = blocker(record)
            if why:
                reasons.append(why if isinstance(why, str) else plain(why))
        return reasons


def schedule(as_of: date, *, include_skipped: bool = True, series_id: int | None = None) -> list[DueItem]:
    """Active records whose disposition is due on or before ``as_of``, with the reasons any is skipped.

    Only the records that are due are read (due_condition, in SQL), as rows of their columns (``DueRecord``);
    their due dates are then reckoned with due_date as the record page does."""
    plan = {s.id: s for s in db.session.scalars(db.select(Series))}  # each record's series chain found in memory
    stmt = db.select(*_SCHEDULE_COLUMNS).filter(ArchiveRecord.status == ACTIVE,
                                                due_condition(as_of, list(plan.values())))
    if series_id:
        stmt = stmt.filter(ArchiveRecord.series_id == series_id)
    why = _Reasons()
    out = []
    for row in db.session.execute(stmt.order_by(ArchiveRecord.record_date, ArchiveRecord.id)):
        series = plan[row.series_id]
        due = due_date(row, series)
        if due is None or due > as_of:
            continue
        record = DueRecord(row, series)
        reasons = why.of(record)
        if reasons and not include_skipped:
            continue
        out.append(DueItem(record, due, action_for(record), reasons))
    out.sort(key=lambda item: (item.due, item.record.id))
    return out


_TODAY = "archive.schedule_today"


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _forget_schedule(session, *_args) -> None:
    session.info.pop(_TODAY, None)


def schedule_today() -> list[DueItem]:
    """Today's schedule, reckoned once while nothing is written: the dashboard's panel and its due list both
    show it (forgotten at the next flush and at the end of the transaction)."""
    cached = db.session.info.get(_TODAY)
    today_ = today()
    if cached is None or cached[0] != today_:
        cached = (today_, schedule(today_))
        db.session.info[_TODAY] = cached
    return cached[1]


@dataclass(frozen=True)
class DueCounts:
    """What the dashboard shows of a day's schedule: records due and not skipped (restricted ones included), and
    those skipped (a legal hold, a pending batch, a blocker of another domain)."""

    ready: int
    skipped: int


def _bulk_blocked_customers() -> list | None:
    """SQL selecting the customers whose records the registered blockers block, when every blocker can say so at
    once (``fn.blocked_customers()``: a select of customer ids, never NULL, such that ``fn(record)`` gives a reason
    exactly for the records of these customers); None when one cannot (the figures then come from the schedule)."""
    out = []
    for blocker in disposal_blockers():
        bulk = getattr(blocker, "blocked_customers", None)
        if bulk is None:
            return None
        out.append(bulk())
    return out


def _skip_condition(plan: dict[int, Series], blocked_customers: list):
    """SQL, never NULL: a due record is skipped (as ``_Reasons.of`` finds a reason): on legal hold (itself, its
    series or a parent series, its customer), in a pending disposal batch, or of a customer a blocker names."""
    by_record, by_series, by_customer = set(), set(), set()
    for record_id, series_id, customer_id in db.session.execute(
            db.select(Hold.record_id, Hold.series_id, Hold.customer_id).filter(Hold.released_at.is_(None))):
        for key, found in ((record_id, by_record), (series_id, by_series), (customer_id, by_customer)):
            if key:
                found.add(key)
    held_series = set()
    if by_series:
        for sid, series in plan.items():
            chain, node = [], series
            while node is not None and len(chain) < 20:  # as _series_chain_ids walks it
                chain.append(node.id)
                node = plan.get(node.parent_id) if node.parent_id else None
            if by_series.intersection(chain):
                held_series.add(sid)
    pending = (db.select(DisposalItem.record_id).join(DisposalBatch)
               .filter(DisposalBatch.status.in_(("proposed", "approved", "executing")),
                       DisposalItem.state == "pending", DisposalItem.record_id.is_not(None)))
    customer = ArchiveRecord.customer_id
    return db.or_(ArchiveRecord.id.in_(sorted(by_record)), ArchiveRecord.series_id.in_(sorted(held_series)),
                  db.and_(customer.is_not(None),
                          db.or_(customer.in_(sorted(by_customer)), *[customer.in_(q) for q in blocked_customers])),
                  ArchiveRecord.id.in_(pending))


_DUE_SQL = "archive.due_sql"


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _forget_due_sql(session, *_args) -> None:
    session.info.pop(_DUE_SQL, None)


def _due_today() -> dict:
    """Today's due records in SQL, reckoned once while nothing is written (forgotten at the next flush and at the end
    of the transaction): ``sql`` is (today, the plan, SQL for the records due, SQL for those of them skipped), or
    None when a blocker cannot be asked in bulk; ``counts`` is filled by due_counts_today."""
    today_ = today()
    cached = db.session.info.get(_DUE_SQL)
    if cached is None or cached["day"] != today_:
        blocked = _bulk_blocked_customers()
        sql = None
        if blocked is not None:
            plan = {s.id: s for s in db.session.scalars(db.select(Series))}
            due = db.and_(ArchiveRecord.status == ACTIVE, due_condition(today_, list(plan.values())))
            sql = (today_, plan, due, _skip_condition(plan, blocked))
        cached = db.session.info[_DUE_SQL] = {"day": today_, "sql": sql, "counts": None}
    return cached


def due_counts_today() -> DueCounts:
    """Today's schedule counted in SQL (what ``schedule_today`` lists, without reading its records): the archive's
    panel and the dashboard's due list both show it."""
    cached = _due_today()
    if cached["counts"] is None:
        if cached["sql"] is None:
            items = schedule_today()
            ready = sum(1 for item in items if not item.skipped)
            cached["counts"] = DueCounts(ready, len(items) - ready)
        else:
            _today, _plan, due, skip = cached["sql"]
            total, ready = db.session.execute(
                db.select(db.func.count(ArchiveRecord.id),
                          db.func.coalesce(db.func.sum(db.case((skip, 0), else_=1)), 0)).filter(due)).one()
            cached["counts"] = DueCounts(int(ready), int(total) - int(ready))
    return cached["counts"]


class _EarliestTrigger:
    """A stand-in record for due_date: the earliest trigger dates of a group of due records."""

    __slots__ = ("filed_at", "record_date", "event_date", "extend_until")

    def __init__(self, extend_until, filed_at, record_date, event_date):
        self.filed_at, self.record_date, self.event_date, self.extend_until = filed_at, record_date, event_date, extend_until


def first_due_today(user) -> date | None:
    """The earliest due date among today's records due and not skipped that ``user`` may open (``opener``).

    Within a series and a review's extension (none, or one date), the due date grows with the trigger date (the
    filing time, the record's date, the event's date): the earliest of each such group is that of its earliest
    trigger, so one row per group is read, never the records."""
    sql = _due_today()["sql"]
    if sql is None:
        may_open = opener(user)
        return next((item.due for item in schedule_today() if not item.skipped and may_open(item.record)), None)
    today_, plan, due, skip = sql
    stmt = visible_records(
        db.select(ArchiveRecord.series_id, ArchiveRecord.extend_until, db.func.min(ArchiveRecord.filed_at),
                  db.func.min(ArchiveRecord.record_date), db.func.min(ArchiveRecord.event_date))
        .filter(due, db.not_(skip)), user).group_by(ArchiveRecord.series_id, ArchiveRecord.extend_until)
    found = [due_date(_EarliestTrigger(*dates), plan[series_id]) for series_id, *dates in db.session.execute(stmt)]
    found = [d for d in found if d is not None and d <= today_]
    return min(found) if found else None


# ---- disposal batches ------------------------------------------------------------------------

class DisposalError(ServiceError):
    """A disposal step that is not allowed; str(exc) is a message for the user."""

    def __str__(self) -> str:
        return plain(self.args[0]) if self.args else ""


def _next_batch_number(year: int) -> str:
    prefix = f"DB-{year}-"
    last = db.session.scalar(db.select(DisposalBatch.number).filter(DisposalBatch.number.like(prefix + "%"))
                             .order_by(DisposalBatch.number.desc()).limit(1))
    n = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{n:03d}"


def propose_batch(*, user, record_ids: list[int], as_of: date, note: str = "",
                  transfer_to: str = "", include_restricted: bool = False) -> DisposalBatch:
    """The records officer proposes a batch from the due list; records not due or held are refused.

    Restricted records the officer may not open are never named to them: they are chosen together,
    with ``include_restricted`` (every one that is due for destruction or transfer and not skipped).
    Those due for review wait for someone who may open them (an admin, or an officer named on them).
    The approving manager sees them all.
    """
    if not user.has_role("records_officer", "admin"):
        raise DisposalError(_l("Only the records officer proposes disposal batches."))
    items = schedule(as_of)
    may_open = opener(user)
    due = {item.record.id: item for item in items if may_open(item.record)}
    chosen = [due[rid] for rid in dict.fromkeys(record_ids) if rid in due]
    if include_restricted:
        chosen += [item for item in items if not may_open(item.record) and not item.skipped
                   and item.action != "review"]
    if not chosen:
        raise DisposalError(_l("Choose at least one record that is due and not skipped."))
    skipped = [item.record.reference for item in chosen if item.skipped]
    if skipped:
        raise DisposalError(_l("These records cannot be disposed of now: %(refs)s.", refs=", ".join(skipped)))
    batch = DisposalBatch(number=_next_batch_number(as_of.year), as_of=as_of, note=note.strip(),
                          proposed_by_id=user.id, status="proposed")
    db.session.add(batch)
    records = {r.id: r for r in db.session.scalars(  # the chosen records themselves, with their files
        db.select(ArchiveRecord).filter(ArchiveRecord.id.in_([item.record.id for item in chosen]))
        .options(selectinload(ArchiveRecord.files)))}
    for item in chosen:
        record = records[item.record.id]
        batch.items.append(DisposalItem(
            record=record, action=item.action, series_code=record.series.code, reference=record.reference,
            title=record.title, record_date=record.record_date, due_date=item.due,
            checksums="\n".join(f.sha256 for f in record.files),
            transfer_to=(transfer_to or record.series.disposition_text)[:200] if item.action == "transfer" else "",
        ))
    db.session.flush()
    queue_message([m for m in users_with_role("cs_manager") if m.id != user.id], "disposal_approval",
                  {"batch": batch, "by": user.display_name,
                   "path": path_for("archive.batch", batch_id=batch.id)},
                  kind="disposal", record=batch, user=user)
    return batch


def decide_batch(batch, *, user, approve: bool, note: str = "") -> None:
    """A cs_manager approves or rejects; never the person who proposed the batch (admins included)."""
    if batch.status != "proposed":
        raise DisposalError(_l("Only a proposed batch can be approved or rejected."))
    if not user.has_role("cs_manager", "admin"):
        raise DisposalError(_l("Only a customer service manager approves disposal batches."))
    if user.id == batch.proposed_by_id:
        raise DisposalError(_l("You proposed this batch; another manager must approve it."))
    batch.status = "approved" if approve else "rejected"
    batch.decided_by_id = user.id
    batch.decided_at = utcnow()
    batch.decision_note = (note or "").strip()
    db.session.flush()


def record_review_decision(item, *, decision: str, until: date | None = None, note: str = "") -> None:
    if item.action != "review":
        raise DisposalError(_l("Only review items take a decision."))
    if item.state != "pending":
        raise DisposalError(_l("This item is already done."))
    if decision == "extend" and not until:
        raise DisposalError(_l("Give the date until which the record is kept."))
    if decision not in ("extend", "destroy"):
        raise DisposalError(_l("Choose to extend or to destroy in a later batch."))
    item.review_decision = decision
    item.review_until = until if decision == "extend" else None
    item.note = (note or "").strip()
    db.session.flush()


@dataclass
class PlannedStep:
    item: object
    outcome: str  # what is (or would be) done
    skipped: bool = False


def _sha_still_needed(sha: str, exclude_record_id: int) -> bool:
    return db.session.scalar(
        db.select(db.func.count(RecordFile.id)).join(ArchiveRecord)
        .filter(RecordFile.sha256 == sha, RecordFile.purged_at.is_(None), ArchiveRecord.id != exclude_record_id,
                ArchiveRecord.status != "destroyed")
    ) > 0


def _plan_item(item, holds: HoldIndex) -> PlannedStep:
    record = item.record
    if item.state != "pending":
        return PlannedStep(item, item.state, item.state == "skipped")
    held = holds.holds_for(record)
    if held:
        return PlannedStep(item, plain(_l("skip: on legal hold (%(reason)s)", reason=held[0].reason)), True)
    if item.action == "destroy":
        return PlannedStep(item, plain(_l("destroy %(n)s file(s), keep a tombstone",
                                                    n=len([f for f in record.files if f.purged_at is None]))))
    if item.action == "transfer":
        return PlannedStep(item, plain(_l("mark transferred to %(to)s", to=item.transfer_to or "-")))
    if item.action == "review":
        if item.review_decision == "extend":
            return PlannedStep(item, plain(_l("keep until %(date)s", date=item.review_until.isoformat())))
        if item.review_decision == "destroy":
            return PlannedStep(item, plain(_l("list for destruction in a later batch")))
        return PlannedStep(item, plain(_l("review decision missing")), True)
    return PlannedStep(item, item.action, True)


def plan_execution(batch) -> list[PlannedStep]:
    """What executing the batch would do, item by item (the dry run). Changes nothing."""
    holds = HoldIndex()
    return [_plan_item(item, holds) for item in batch.items]


def execute_batch(batch, *, user=None, actor: str = "", checkpoint=None, dry_run: bool = False) -> list[PlannedStep]:
    """Execute an approved batch. Idempotent and resumable: done items are left alone, deleting a file that
    is already gone is not an error. ``checkpoint()`` (e.g. db.session.commit) runs after each item so a
    crash loses at most the item in progress. Held records are skipped, for everyone.
    """
    if batch.status not in ("approved", "executing", "executed"):
        raise DisposalError(_l("The batch must be approved by a manager before it is executed."))
    if user is not None and not user.has_role("records_officer", "admin"):
        raise DisposalError(_l("Only the records officer executes disposal batches."))
    missing = [i.reference for i in batch.items if i.action == "review" and i.state == "pending"
               and not i.review_decision]
    if missing:
        raise DisposalError(_l("Record a review decision first for: %(refs)s.", refs=", ".join(missing)))
    if dry_run:
        return plan_execution(batch)
    if batch.status == "executed":
        return plan_execution(batch)
    batch.status = "executing"
    db.session.flush()
    if checkpoint:
        checkpoint()
    content = store()
    holds = HoldIndex()
    steps = []
    for item in batch.items:
        step = _plan_item(item, holds)
        steps.append(step)
        if item.state != "pending":
            continue
        record = item.record
        now = utcnow()
        if step.skipped:
            item.state = "skipped"
            item.note = (item.note + " " + step.outcome).strip()
        elif item.action == "destroy":
            for f in record.files:
                if f.purged_at is None:
                    if not _sha_still_needed(f.sha256, record.id):
                        content.delete(f.sha256)
                    f.purged_at = now
            record.status = "destroyed"
            record.extracted_text = ""
            record.disposed_at = now
            record.disposal_batch_id = batch.id
            item.state = "done"
        elif item.action == "transfer":
            record.status = "transferred"
            record.transferred_to = item.transfer_to
            record.disposed_at = now
            record.disposal_batch_id = batch.id
            item.state = "done"
        elif item.action == "review":
            if item.review_decision == "extend":
                record.extend_until = item.review_until
                record.review_outcome = ""
            else:
                record.review_outcome = "destroy"
            item.state = "done"
        item.done_at = now
        db.session.flush()
        if checkpoint:
            checkpoint()
    _finish(batch, user=user, actor=actor)
    db.session.flush()
    return steps


def _finish(batch, *, user, actor: str) -> None:
    batch.executed_by_id = getattr(user, "id", None) or batch.executed_by_id
    batch.executed_by_name = (getattr(user, "display_name", None) or actor or batch.executed_by_name or "system")[:80]
    batch.executed_at = batch.executed_at or utcnow()
    if batch.certificate_record_id is None:
        batch.certificate = file_certificate(batch, user=user)
    batch.status = "executed"


def file_certificate(batch, *, user) -> ArchiveRecord:
    """Render the bilingual destruction certificate and file it as a permanent record.

    Its times are printed in the portal's time zone (TIMEZONE), like every page.
    """
    pdf = render_pdf_anywhere("pdf/archive_certificate.html", batch=batch, items=batch.items,
                              generated_at=fmt_datetime(utcnow()))
    return file_document(
        kind="disposal_certificate",
        title=f"Destruction certificate {batch.number} / 销毁证明 {batch.number}",
        files=[(f"{batch.number}-destruction-certificate.pdf", pdf)],
        user=user, source_key=f"disposal-batch:{batch.number}",
        description=f"Disposal batch {batch.number}: {len(batch.items)} record(s).",
        # the list names restricted records: then the certificate is restricted too
        restricted=any(item.record.restricted or getattr(item.record.source_record(), "restricted", False)
                       for item in batch.items),
    )


# ---- fixity ----------------------------------------------------------------------------------

def verify_files(*, actor: str = "") -> FixityRun:
    """Recompute the sha256 of every stored file; record and return the result."""
    run = FixityRun(actor=actor[:80], checked=0, missing=0, altered=0, started_at=utcnow())
    content = store()
    lines = []
    rows = db.session.scalars(db.select(RecordFile).filter(RecordFile.purged_at.is_(None)).order_by(RecordFile.id))
    seen: dict[str, str] = {}
    for f in rows:
        if f.sha256 not in seen:
            path = content.path_for(f.sha256)
            if not path.is_file():
                seen[f.sha256] = "missing"
            else:
                seen[f.sha256] = "ok" if content.verify(f.sha256) else "altered"
        run.checked += 1
        state = seen[f.sha256]
        if state != "ok":
            setattr(run, state, getattr(run, state) + 1)
            lines.append(f"{state}\t{f.sha256}\t{f.record.reference}\t{f.filename}")
    run.details = "\n".join(lines)
    run.finished_at = utcnow()
    db.session.add(run)
    db.session.flush()
    return run


def fixity_runs(limit: int = 20) -> list:
    return list(db.session.scalars(db.select(FixityRun).order_by(FixityRun.id.desc()).limit(limit)))


def load_item_records(batch) -> None:
    """The records of a batch's items in one query (the page asks each whether the reader may open it)."""
    db.session.scalars(db.select(ArchiveRecord).join(DisposalItem, DisposalItem.record_id == ArchiveRecord.id)
                       .filter(DisposalItem.batch_id == batch.id)).all()


def batches_query():
    return db.select(DisposalBatch).order_by(DisposalBatch.id.desc()).options(
        selectinload(DisposalBatch.items), selectinload(DisposalBatch.proposed_by), selectinload(DisposalBatch.decided_by))


def last_fixity_run():
    return db.session.scalar(db.select(FixityRun).order_by(FixityRun.id.desc()).limit(1))
