"""Archive records in the search index: title, extracted text, series, customer; restricted via acl.
Destroyed records leave the index (the kind's query only selects records that still have content)."""
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...search.registry import register_child, register_kind
from .models import DESTROYED, ArchiveRecord, RecordFile


def _document(r: ArchiveRecord) -> dict:
    series = r.series
    customer = r.customer
    return {
        "title": f"{r.reference} {r.title}",
        "body": f"{r.description}\n{r.extracted_text}",
        "refs": f"{r.reference} {series.code} " + " ".join(f.filename for f in r.files),
        "tags": [series.code, series.title_en, series.title_zh, r.kind],
        "customer": customer.code if customer is not None else "",
        "date": r.record_date,
    }


register_kind(
    "record",
    ArchiveRecord,
    document=_document,
    url=lambda r: url_for("archive.record", record_id=r.id),
    label=_l("Archive record"),
    query=lambda: select(ArchiveRecord).where(ArchiveRecord.status != DESTROYED),
)
register_child(RecordFile, parents=lambda f: [f.record])
