"""Upload safety, downloads, restricted records, pages, CLI."""
import io
from datetime import date

import pytest

from portal.blueprints.archive import services
from portal.blueprints.archive.models import ArchiveRecord, DisposalBatch, RecordFile, Series
from portal.blueprints.archive.plan import ensure_starter_plan
from portal.extensions import db


def _series_id(code="CS-11"):
    ensure_starter_plan()
    db.session.commit()
    return db.session.scalar(db.select(Series.id).filter_by(code=code))


def _upload(client, files, **fields):
    data = {"series_id": str(_series_id()), "title": "Letter", "record_date": "2025-03-01", "customer_id": "0"}
    data.update(fields)
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/archive/file", data=data, content_type="multipart/form-data")


def test_filing_a_pdf_and_downloading_it_as_an_attachment(client, login, pdf_bytes):
    login("records_officer")
    pdf = pdf_bytes("Tank 12 calibration")
    response = _upload(client, [("Calibration report.pdf", pdf)])
    assert response.status_code == 302
    record = db.session.scalar(db.select(ArchiveRecord))
    assert response.headers["Location"].endswith(f"/archive/records/{record.id}")
    page = client.get(f"/archive/records/{record.id}").get_data(as_text=True)
    assert record.reference in page and "Calibration report.pdf" in page
    with client.get(f"/archive/files/{record.files[0].id}") as response:
        assert response.data == pdf
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "application/pdf"


def test_a_disguised_executable_is_refused_with_a_field_error(client, login):
    login("csr")
    response = _upload(client, [("invoice.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200)])
    assert response.status_code == 200
    assert "not a document" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ArchiveRecord.id))) == 0


def test_a_zip_disguised_as_docx_is_refused(client, login):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.exe", b"MZ")
    login("csr")
    response = _upload(client, [("contract.docx", buf.getvalue())])
    assert response.status_code == 200 and "ZIP archive" in response.get_data(as_text=True)


def test_a_path_traversal_name_is_stored_safely(client, login, app):
    login("csr")
    response = _upload(client, [("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")])
    assert response.status_code == 302
    f = db.session.scalar(db.select(RecordFile))
    assert f.filename == "passwd" and f.mime == "text/plain"
    path = services.store().path_for(f.sha256)
    assert str(path).startswith(app.config["ARCHIVE_DIR"])
    with client.get(f"/archive/files/{f.id}") as download:
        assert download.headers["Content-Disposition"] == 'attachment; filename="passwd"'


def test_an_oversized_upload_gets_the_413_page(client, login, app):
    login("csr")
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import stream_encode_multipart

    big = b"a" * (app.config["MAX_UPLOAD_MB"] * 1024 * 1024 + 10)
    # encoded in memory: the test client would otherwise spool the body to a temporary file it never closes
    stream, _length, boundary = stream_encode_multipart(
        {"series_id": str(_series_id()), "title": "Big", "record_date": "2025-03-01",
         "files": FileStorage(io.BytesIO(big), filename="big.txt")}, use_tempfile=False)
    response = client.post("/archive/file", data=stream.getvalue(),
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "larger than the limit" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ArchiveRecord.id))) == 0


def test_a_duplicate_is_offered_as_a_link_to_the_existing_record(client, login):
    login("csr")
    _upload(client, [("a.txt", b"same content")])
    first = db.session.scalar(db.select(ArchiveRecord))
    response = _upload(client, [("copy.txt", b"same content")], title="Copy")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/archive/records/{first.id}" in body and first.reference in body
    assert db.session.scalar(db.select(db.func.count(ArchiveRecord.id))) == 1


def test_email_docx_and_xlsx_text_is_extracted(app, officer):
    import docx
    import openpyxl

    d = docx.Document()
    d.add_paragraph("Methanol shipment delay letter")
    buf = io.BytesIO()
    d.save(buf)
    wb = openpyxl.Workbook()
    wb.active.append(["Tank", "Closing stock"])
    wb.active.append(["T-101", 1234.567])
    xbuf = io.BytesIO()
    wb.save(xbuf)
    eml = (b"From: ops@vitol.example\r\nTo: csd@terminal.example\r\nSubject: Styrene order 4411\r\n"
           b"Date: Mon, 2 Mar 2026 09:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"Please load 500 t styrene.\r\n")
    r = services.file_document(kind="correspondence", title="Mixed", user=officer,
                               files=[("letter.docx", buf.getvalue()), ("stock.xlsx", xbuf.getvalue()),
                                      ("order.eml", eml)])
    assert {f.mime for f in r.files} == {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "message/rfc822"}
    db.session.commit()  # the text is extracted after the commit
    for text in ("Methanol shipment", "T-101", "Styrene order 4411", "500 t styrene"):
        assert text in r.extracted_text


@pytest.fixture
def restricted_record(app, make_user):
    owner = make_user("owner", "csr")
    record = services.file_document(kind="complaint_report", title="Complaint naming a driver",
                                    files=[("c.txt", b"secret complaint about driver Wang")], user=owner,
                                    restricted=True)
    db.session.commit()
    return record


def test_restricted_records_stay_invisible_to_others(client, login, restricted_record):
    login("staff")
    assert "Complaint naming a driver" not in client.get("/archive/?status=all").get_data(as_text=True)
    assert client.get(f"/archive/records/{restricted_record.id}").status_code == 403
    assert client.get(f"/archive/files/{restricted_record.files[0].id}").status_code == 403
    from portal.search import search
    from portal.models import User

    staff = db.session.scalar(db.select(User).filter_by(username="staff"))
    assert search("driver Wang", user=staff).total == 0
    manager = db.session.scalar(db.select(User).filter_by(username="owner"))
    assert search("driver Wang", user=manager).total == 1


def test_restricted_records_are_visible_to_managers(client, login, restricted_record):
    login("cs_manager")
    assert "Complaint naming a driver" in client.get("/archive/").get_data(as_text=True)
    with client.get(f"/archive/files/{restricted_record.files[0].id}") as response:
        assert response.status_code == 200


def test_metadata_edit_is_audited(client, login):
    login("csr")
    _upload(client, [("a.txt", b"content")])
    record = db.session.scalar(db.select(ArchiveRecord))
    response = client.post(f"/archive/records/{record.id}/edit", data={
        "series_id": str(record.series_id), "title": "Renamed letter", "record_date": "2025-03-01",
        "customer_id": "0"})
    assert response.status_code == 302
    page = client.get(f"/archive/records/{record.id}").get_data(as_text=True)
    assert "Renamed letter" in page and "Letter → Renamed letter" in page


@pytest.mark.parametrize("url", ["/archive/", "/archive/plan", "/archive/schedule", "/archive/holds",
                                 "/archive/batches", "/archive/report", "/archive/fixity", "/archive/file"])
def test_pages_render_for_the_records_officer(client, login, url, officer):
    services.file_document(kind="inquiry", title="Old inquiry", files=[("a.txt", b"x")], user=officer,
                           record_date=date(2019, 1, 1))
    db.session.commit()
    login(officer)
    assert client.get(url).status_code == 200


def test_staff_cannot_see_the_schedule(client, login):
    login("staff")
    assert client.get("/archive/schedule").status_code == 403


def test_report_xlsx_export(client, login, officer):
    import openpyxl

    services.file_document(kind="inquiry", title="Old inquiry", files=[("a.txt", b"x")], user=officer,
                           record_date=date(2019, 1, 1))
    db.session.commit()
    login(officer)
    response = client.get("/archive/report.xlsx?as_of=2026-06-01")
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(wb.active.iter_rows(values_only=True))
    row = next(r for r in rows if r[0] == "CS-03-01")
    assert row[6] == 1 and row[8] == 1  # one record, overdue
    # retention, trigger and disposition in words of both languages, never the plan's codes
    assert all(" / " in row[i] for i in (3, 4, 5)), row
    codes = {"filed", "calendar_year_end", "fiscal_year_end", "event", "destroy", "transfer", "review", "permanent"}
    assert not {cell for r in rows for cell in r[3:6]} & codes


def test_the_batch_workflow_through_the_pages(client, login, officer, make_user, app):
    old = services.file_document(kind="inquiry", title="Old inquiry", files=[("a.txt", b"old")], user=officer,
                                 record_date=date(2019, 1, 1))
    db.session.commit()
    login(officer)
    response = client.post("/archive/batches", data={"as_of": "2026-06-01", "record_id": [str(old.id)]})
    batch = db.session.scalar(db.select(DisposalBatch))
    assert response.status_code == 302 and batch.status == "proposed"
    # the officer cannot approve
    assert client.post(f"/archive/batches/{batch.id}/decide", data={"decision": "approve"}).status_code == 403
    manager_client = app.test_client()
    login("cs_manager", client=manager_client)
    manager_client.post(f"/archive/batches/{batch.id}/decide", data={"decision": "approve"})
    db.session.refresh(batch)
    assert batch.status == "approved"
    page = client.post(f"/archive/batches/{batch.id}/execute", data={"dry_run": "1"}).get_data(as_text=True)
    assert "nothing was changed" in page
    assert db.session.get(ArchiveRecord, old.id).status == "active"
    client.post(f"/archive/batches/{batch.id}/execute", data={})
    db.session.expire_all()
    batch = db.session.get(DisposalBatch, batch.id)
    assert batch.status == "executed"
    with client.get(f"/archive/batches/{batch.id}/certificate", follow_redirects=True) as cert:
        assert cert.data[:5] == b"%PDF-"


def test_cli_verify_and_schedule_and_dispose(runner, officer, manager):
    r = services.file_document(kind="inquiry", title="Old inquiry", files=[("a.txt", b"old")], user=officer,
                               record_date=date(2019, 1, 1))
    db.session.commit()
    result = runner.invoke(args=["archive", "schedule", "--as-of", "2026-06-01"])
    assert result.exit_code == 0 and r.reference in result.output
    result = runner.invoke(args=["archive", "verify"])
    assert result.exit_code == 0, result.output
    batch = services.propose_batch(user=officer, record_ids=[r.id], as_of=date(2026, 6, 1))
    services.decide_batch(batch, user=manager, approve=True)
    db.session.commit()
    result = runner.invoke(args=["archive", "dispose", batch.number, "--dry-run"])
    assert result.exit_code == 0 and "would destroy" in result.output
    assert services.store().exists(r.files[0].sha256)
    result = runner.invoke(args=["archive", "dispose", batch.number])
    assert result.exit_code == 0, result.output
    assert not services.store().exists(r.files[0].sha256)
    services.store().path_for(batch.certificate.files[0].sha256).write_bytes(b"tampered")
    result = runner.invoke(args=["archive", "verify"])
    assert result.exit_code == 1 and "altered" in result.output


def test_the_chinese_file_plan_translates_triggers_and_names_the_disposition_once(client, login, make_user):
    fiscal, permanent, event = _series_id("CS-02-02"), _series_id("CS-02-03"), _series_id("CS-03-02")
    login(make_user("lin", "records_officer", language="zh_Hans"))
    tree = client.get("/archive/plan").get_data(as_text=True)
    assert "end of fiscal year" not in tree and "end of calendar year" not in tree
    assert "会计年度终了" in tree and "自然年度终了" in tree
    assert "case closed" in tree  # an event's own words stay as the plan gives them
    assert "永久 · 永久保存" not in tree and "永久保存" in tree
    page = client.get(f"/archive/series/{fiscal}").get_data(as_text=True)
    assert "end of fiscal year" not in page and "会计年度终了" in page
    page = client.get(f"/archive/series/{permanent}").get_data(as_text=True)
    facts = page[page.index('<dl class="archive-facts">'):page.index("</dl>")]
    assert "永久保存" in facts and "Permanent" not in facts
    page = client.get(f"/archive/series/{event}").get_data(as_text=True)
    assert "case closed" in page
