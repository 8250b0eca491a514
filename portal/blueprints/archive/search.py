"""Archive records in the search index: title, extracted text, series, customer; restricted via acl.
Destroyed records leave the index (the kind's query only selects records that still have content).

A record filed from another record (source_key "complaint:12:8d-report", "review_meeting:3:minutes")
is seen only by who may see both: its own restriction and its source's. Its acl combines the two, and
every kind names such records as dependents, so that a change of the source (a complaint marked
restricted) re-indexes them in the same transaction.
"""
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import object_session

from ...markdown import to_plain_text
from ...search.context import customer_dependents, record_context
from ...search.registry import (acl_of_key, combine_acl, register_child, register_dependents, register_kind,
                                source_of_key)
from .models import DESTROYED, ArchiveRecord, RecordFile

MARKDOWN_NAMES = (".md", ".markdown")


def _text(r: ArchiveRecord) -> str:
    """The extracted text, as plain text when the record's files are Markdown."""
    text = r.extracted_text or ""
    if text and any(f.filename.lower().endswith(MARKDOWN_NAMES) for f in r.files):
        text = to_plain_text(text)
    return text


def _document(r: ArchiveRecord) -> dict:
    series = r.series
    customer = r.customer
    return {
        "title": f"{r.reference} {r.title}",
        "body": f"{r.description}\n{_text(r)}",
        "refs": f"{r.reference} {series.code} " + " ".join(f.filename for f in r.files),
        "tags": [series.code, series.title_en, series.title_zh, r.kind],
        "customer": customer.code if customer is not None else "",
        "date": r.record_date,
        "context": record_context(customer=customer, words=[series.code, series.title_en, series.title_zh]),
    }


def _acl(r: ArchiveRecord) -> list[str]:
    """Who may open the record: its own restriction, narrowed by its source record's acl."""
    source = source_of_key(r.source_key)
    if source is None:
        return r.acl_terms()
    return combine_acl(r.acl_terms(), acl_of_key(source, object_session(r)))


def _filed_from(row) -> list:
    """Archive records filed from this row of any kind (source_key "<kind>:<id>:...")."""
    from ...search.registry import kind_for_object

    kind = kind_for_object(row)
    session = object_session(row)
    if kind is None or kind.model is ArchiveRecord or session is None or getattr(row, "id", None) is None:
        return []
    prefix = f"{kind.key(row)}:"
    return list(session.scalars(select(ArchiveRecord).where(ArchiveRecord.source_key.startswith(prefix, autoescape=True))))


register_kind(
    "record",
    ArchiveRecord,
    document=_document,
    url=lambda r: url_for("archive.record", record_id=r.id),
    label=_l("Archive record"),
    acl=_acl,
    query=lambda: select(ArchiveRecord).where(ArchiveRecord.status != DESTROYED),
)
register_child(RecordFile, parents=lambda f: [f.record])
register_dependents("*", _filed_from)
register_dependents("customer", customer_dependents(ArchiveRecord, ArchiveRecord.customer_id))
