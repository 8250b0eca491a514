from datetime import date

import pytest

from portal.blueprints.archive import services
from portal.blueprints.archive.models import ArchiveRecord, Series
from portal.extensions import db



def test_file_document_lands_in_mapped_series_with_text(app, officer, pdf_bytes):
    record = services.file_document(kind="complaint_report", title="Complaint C-2026-001 report",
                                    files=[("report.pdf", pdf_bytes("Root cause tank overflow"))], user=officer)
    db.session.commit()
    assert record.series.code == "CS-03-02"
    assert record.reference.startswith("AR-")
    assert "overflow" in record.extracted_text
    assert services.store().exists(record.files[0].sha256)
    assert db.session.scalar(db.select(db.func.count(Series.id))) > 10


def test_file_document_with_source_key_is_idempotent(app, officer):
    a = services.file_document(kind="meeting_minutes", title="Minutes", files=[("m.txt", b"minutes v1")],
                               user=officer, source_key="meeting:1")
    b = services.file_document(kind="meeting_minutes", title="Minutes", files=[("m.txt", b"minutes v1")],
                               user=officer, source_key="meeting:1")
    assert a.id == b.id and a.current_version == 1
    c = services.file_document(kind="meeting_minutes", title="Minutes", files=[("m.txt", b"minutes v2")],
                               user=officer, source_key="meeting:1")
    db.session.commit()
    assert c.id == a.id and c.current_version == 2
    assert len(c.files) == 2  # the first version is kept


def test_unknown_kind_is_an_error(app, officer):
    with pytest.raises(ValueError):
        services.file_document(kind="nonsense", title="x", files=[("a.txt", b"x")], user=officer)


def test_disguised_executable_is_refused(app, officer):
    with pytest.raises(services.UploadRejected) as exc:
        services.file_document(kind="document", title="x", files=[("invoice.pdf", b"MZ\x90\x00" + b"\0" * 100)],
                               user=officer)
    assert "program" in str(exc.value)
    assert db.session.scalar(db.select(db.func.count(ArchiveRecord.id))) == 0


def test_unreadable_pdf_is_filed_and_says_so(app, officer):
    record = services.file_document(kind="document", title="Broken scan", files=[("scan.pdf", b"%PDF-1.4\ngarbage")],
                                    user=officer, record_date=date(2024, 5, 1))
    db.session.commit()
    assert record.extraction_failed
    assert "scan.pdf" in record.extraction_note
