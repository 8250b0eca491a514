"""The filing archive: file plan (series with retention rules), records and their files, legal holds,
disposal batches with their permanent lists, and fixity runs."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from ...extensions import db
from ...models import CreatedByMixin, RestrictedMixin, TimestampMixin, User, UTCDateTime
from ...search.registry import KINDS, row_for_key, source_of_key
from ...timeutil import utcnow

# Retention kinds
PERIOD = "period"
PERMANENT = "permanent"
UNTIL_EVENT = "until_event"
RETENTION_KINDS = (PERIOD, PERMANENT, UNTIL_EVENT)

# Triggers: what the retention period counts from
FILED = "filed"
CALENDAR_YEAR_END = "calendar_year_end"
FISCAL_YEAR_END = "fiscal_year_end"
EVENT = "event"
TRIGGERS = (FILED, CALENDAR_YEAR_END, FISCAL_YEAR_END, EVENT)

# Dispositions
DESTROY = "destroy"
TRANSFER = "transfer"
REVIEW = "review"
RETAIN = "permanent"
DISPOSITIONS = (DESTROY, TRANSFER, REVIEW, RETAIN)

# What the pages, the report and its XLSX call them (an event's own words come from the plan).
TRIGGER_LABELS = {FILED: _l("the filing date"), CALENDAR_YEAR_END: _l("the end of the calendar year"),
                  FISCAL_YEAR_END: _l("the end of the fiscal year")}
DISPOSITION_LABELS = {DESTROY: _l("destroy"), TRANSFER: _l("transfer"), REVIEW: _l("review"),
                      RETAIN: _l("keep permanently")}


def trigger_words(series) -> str:
    """What a series' retention counts from, as a person reads it."""
    return str(TRIGGER_LABELS.get(series.trigger) or series.trigger_label or _l("an event recorded on the record"))


def disposition_words(value: str) -> str:
    return str(DISPOSITION_LABELS.get(value, value))


def retention_words(series) -> str:
    """"10 year(s)", "Permanent", "Until trigger event" in the reader's language."""
    if series.retention_kind == PERMANENT:
        return str(_l("Permanent"))
    if series.retention_kind == UNTIL_EVENT:
        return str(_l("Until trigger event"))
    units = {"months": _l("%(n)s month(s)", n=series.retention_amount), "days": _l("%(n)s day(s)", n=series.retention_amount)}
    return str(units.get(series.retention_unit) or _l("%(n)s year(s)", n=series.retention_amount))

# Record status
ACTIVE = "active"
DESTROYED = "destroyed"
TRANSFERRED = "transferred"


class Series(TimestampMixin, db.Model):
    """A series of the file plan with its retention rule."""

    __tablename__ = "archive_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_series.id"), nullable=True, index=True)
    title_en: Mapped[str] = mapped_column(String(300), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    retention_kind: Mapped[str] = mapped_column(String(20), default=PERIOD, nullable=False)
    retention_amount: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    retention_unit: Mapped[str] = mapped_column(String(10), default="years", nullable=False)  # years|months|days
    trigger: Mapped[str] = mapped_column(String(30), default=FILED, nullable=False)
    trigger_label: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    disposition: Mapped[str] = mapped_column(String(20), default=DESTROY, nullable=False)
    disposition_text: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    legal_basis: Mapped[str] = mapped_column(Text, default="", nullable=False)
    plan: Mapped[str] = mapped_column(String(80), default="", nullable=False)  # which import it came from
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    parent: Mapped[Optional["Series"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Series"]] = relationship(back_populates="parent", order_by="Series.code")

    @property
    def depth(self) -> int:
        depth, node = 0, self.parent
        while node is not None and depth < 20:
            depth, node = depth + 1, node.parent
        return depth

    def title(self, chinese: bool = False) -> str:
        if chinese and self.title_zh:
            return self.title_zh
        return self.title_en or self.title_zh

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated)

    def can_edit(self, user) -> bool:
        return bool(user and user.is_authenticated and user.has_role("admin", "records_officer"))

    def __str__(self) -> str:
        return f"{self.code} {self.title_en}"


class ArchiveRecord(TimestampMixin, CreatedByMixin, RestrictedMixin, db.Model):
    """A declared record: metadata here, content in immutable content-addressed files."""

    __tablename__ = "archive_record"
    __audit_exclude__ = {"extracted_text", "extraction_started_at"}  # derived from the files, not a change of record

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    series_id: Mapped[int] = mapped_column(ForeignKey("archive_series.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(40), default="", nullable=False, index=True)
    source_key: Mapped[Optional[str]] = mapped_column(String(120), unique=True, nullable=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id"), nullable=True, index=True)
    record_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)  # the document's own date
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    event_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    extend_until: Mapped[Optional[date]] = mapped_column(Date, nullable=True)  # review decision: keep until
    review_outcome: Mapped[str] = mapped_column(String(20), default="", nullable=False)  # "" | "destroy"
    extracted_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    extraction_failed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    extraction_note: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    # pending | running (after the commit, see extract.py) | done | none | truncated | failed | refused
    extraction_state: Mapped[str] = mapped_column(String(20), default="done", server_default="done", nullable=False,
                                                  index=True)
    extraction_started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE, nullable=False, index=True)
    transferred_to: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    disposed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    disposal_batch_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("archive_disposal_batch.id", use_alter=True, name="fk_archive_record_disposal_batch"), nullable=True
    )

    series: Mapped[Series] = relationship()
    customer = relationship("Customer")
    files: Mapped[list["RecordFile"]] = relationship(
        back_populates="record", order_by="(RecordFile.version.desc(), RecordFile.id)", cascade="all"
    )

    @property
    def current_version(self) -> int:
        return max((f.version for f in self.files), default=0)

    @property
    def current_files(self) -> list["RecordFile"]:
        v = self.current_version
        return [f for f in self.files if f.version == v]

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def source_record(self):
        """The record this one was filed from (the complaint of an 8D report), when it still exists."""
        key = source_of_key(self.source_key)
        return row_for_key(key) if key else None

    def can_open_itself(self, user) -> bool:
        """Its own restriction only (managers and the person who filed it); see can_view."""
        return super().can_view(user)

    def can_view(self, user) -> bool:
        """Its own restriction, and the restriction of the record it was filed from: an 8D report of a
        complaint restricted after filing is seen only by who may see the complaint. Lists apply the same
        rule in SQL (``visible_to``, ``visible_records``) and, for many records at once, services.opener."""
        if not self.can_open_itself(user):
            return False
        source = self.source_record()
        check = getattr(source, "can_view", None)
        return check is None or bool(check(user))

    @classmethod
    def visible_to(cls, user):
        """select() of the records ``user`` may open: ``can_view`` in SQL (other modules list records through this)."""
        return visible_records(db.select(cls), user)

    def can_edit(self, user) -> bool:
        return bool(
            self.can_view(user) and self.status == ACTIVE
            and user.has_role("admin", "records_officer", "cs_manager", "csr")
        )

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class RecordFile(TimestampMixin, CreatedByMixin, db.Model):
    """One file of one version of a record. Content lives in the ContentStore under sha256."""

    __tablename__ = "archive_record_file"
    __table_args__ = (UniqueConstraint("record_id", "version", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    mime: Mapped[str] = mapped_column(String(120), nullable=False)
    extraction_ok: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    purged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    record: Mapped[ArchiveRecord] = relationship(back_populates="files")

    def can_view(self, user) -> bool:
        return self.record.can_view(user)


class Hold(TimestampMixin, CreatedByMixin, db.Model):
    """A legal hold on a record, a series (and its sub-series) or everything of a customer."""

    __tablename__ = "archive_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True, index=True)
    series_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_series.id"), nullable=True, index=True)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id"), nullable=True, index=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    released_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    released_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    release_note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    record: Mapped[Optional[ArchiveRecord]] = relationship()
    series: Mapped[Optional[Series]] = relationship()
    customer = relationship("Customer")
    released_by: Mapped[Optional[User]] = relationship(foreign_keys=[released_by_id])

    @property
    def active(self) -> bool:
        return self.released_at is None

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and user.has_role("admin", "records_officer", "cs_manager"))

    can_edit = can_view


class DisposalBatch(TimestampMixin, db.Model):
    """A disposal batch: proposed by the records officer, approved by a manager, then executed. Kept forever."""

    __tablename__ = "archive_disposal_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="proposed", nullable=False, index=True)
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    executed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    executed_by_name: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    executed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    certificate_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("archive_record.id"), nullable=True)

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[Optional[User]] = relationship(foreign_keys=[decided_by_id])
    executed_by: Mapped[Optional[User]] = relationship(foreign_keys=[executed_by_id])
    certificate: Mapped[Optional[ArchiveRecord]] = relationship(foreign_keys=[certificate_record_id])
    items: Mapped[list["DisposalItem"]] = relationship(back_populates="batch", order_by="DisposalItem.id",
                                                       cascade="all")

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and user.has_role("admin", "records_officer", "cs_manager"))

    can_edit = can_view


class DisposalItem(TimestampMixin, db.Model):
    """One line of a disposal batch; a snapshot of the record so the list survives the record's content."""

    __tablename__ = "archive_disposal_item"
    __table_args__ = (UniqueConstraint("batch_id", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("archive_disposal_batch.id"), nullable=False, index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    state: Mapped[str] = mapped_column(String(20), default="pending", nullable=False)  # pending|done|skipped
    series_code: Mapped[str] = mapped_column(String(40), nullable=False)
    reference: Mapped[str] = mapped_column(String(30), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    record_date: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    checksums: Mapped[str] = mapped_column(Text, default="", nullable=False)  # one sha256 per line
    transfer_to: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    review_decision: Mapped[str] = mapped_column(String(20), default="", nullable=False)  # "" | extend | destroy
    review_until: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)

    batch: Mapped[DisposalBatch] = relationship(back_populates="items")
    record: Mapped[ArchiveRecord] = relationship(foreign_keys=[record_id])

    @property
    def checksum_list(self) -> list[str]:
        return [c for c in self.checksums.split() if c]


class FixityRun(db.Model):
    """The result of one `flask archive verify` run."""

    __tablename__ = "archive_fixity_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    checked: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    missing: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    altered: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    details: Mapped[str] = mapped_column(Text, default="", nullable=False)  # "missing <sha> <file id>" lines
    actor: Mapped[str] = mapped_column(String(80), default="", nullable=False)

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.altered == 0


# --- who may open which records, in SQL -----------------------------------------------------------

def hidden_by_source(user) -> set[int]:
    """Ids of the records this user may not open because of the record they were filed from (an 8D report of a
    complaint restricted after the report was filed): the second half of ``ArchiveRecord.can_view``.

    One query per kind of record that can be restricted, whatever the number of records: the restricted rows
    that records were filed from, each asked its own ``can_view`` (or, for a model with ``visible_to(user)``, its
    SQL form, in the query). Kinds without a restricted flag are open to every signed-in user (every kind the
    portal files from today), as the record page finds them.
    """
    hidden: set[int] = set()
    for name, kind in KINDS.items():
        model = kind.model
        if model is ArchiveRecord or not hasattr(model, "restricted"):
            continue
        key = db.literal(f"{name}:") + db.cast(model.id, db.String)
        filed_from = db.and_(ArchiveRecord.source_key.startswith(f"{name}:", autoescape=True),
                             db.or_(ArchiveRecord.source_key == key, ArchiveRecord.source_key.like(key + ":%")))
        visible_to = getattr(model, "visible_to", None)
        if visible_to is not None:  # the model's own can_view in SQL (Complaint.visible_to): no row is loaded
            hidden.update(db.session.scalars(
                db.select(ArchiveRecord.id).join(model, filed_from)
                .filter(model.restricted.is_(True), model.id.not_in(visible_to(user).with_only_columns(model.id)))))
            continue
        stmt = db.select(model, ArchiveRecord.id).join(ArchiveRecord, filed_from).filter(model.restricted.is_(True))
        if not user.is_manager:  # who is named on a restricted row may be read from its collections
            stmt = stmt.options(*[selectinload(rel) for rel in sa_inspect(model).relationships if rel.uselist])
        by_source: dict[object, list[int]] = {}
        for source, record_id in db.session.execute(stmt):
            by_source.setdefault(source, []).append(record_id)
        for source, ids in by_source.items():
            if not source.can_view(user):
                hidden.update(ids)
    return hidden


def visible_records(stmt, user):
    """The records the user may open (``ArchiveRecord.can_view``) in the query itself: restricted records only
    for managers and the people named on them, and none filed from a record the user may not open."""
    if not user.is_manager:
        stmt = stmt.filter(db.or_(ArchiveRecord.restricted.is_(False), ArchiveRecord.created_by_id == user.id))
    hidden = hidden_by_source(user)
    if hidden:
        stmt = stmt.filter(ArchiveRecord.id.not_in(sorted(hidden)))
    return stmt
