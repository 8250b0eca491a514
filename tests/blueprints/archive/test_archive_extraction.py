"""Text extraction is bounded (size unpacked, pages, rows, characters, time) and runs after the commit."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

from portal.blueprints.archive import extract, services
from portal.blueprints.archive.demo import pages_pdf
from portal.blueprints.archive.models import ArchiveRecord
from portal.extensions import db
from portal.timeutil import utcnow

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Stock" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def xlsx_bomb(unpacked_mb: int = 300) -> bytes:
    """A small .xlsx whose one sheet is ``unpacked_mb`` MB of XML, streamed into the ZIP (never held whole)."""
    chunk = b" " * 2**20  # whitespace between rows is valid sheet XML, and packs a thousand to one
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                        b"<row><c><v>1</v></c></row>")
            for _ in range(unpacked_mb):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return buf.getvalue()


def xlsx_rows(n: int) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for i in range(1, n + 1):
        wb.active.append([f"row{i:04d}", i])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _file_via_form(client, name, data, title="Upload"):
    from portal.blueprints.archive.models import Series

    services.series_for_kind("document")  # loads the starter plan
    series = db.session.scalar(db.select(Series).filter_by(code="CS-11"))
    response = client.post("/archive/file", data={
        "files": [(io.BytesIO(data), name)], "series_id": series.id, "title": title,
        "record_date": "2026-03-01", "customer_id": 0,
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    record_id = int(re.search(r"/records/(\d+)", response.headers["Location"]).group(1))
    return db.session.get(ArchiveRecord, record_id)


def test_xlsx_bomb_is_filed_its_text_refused_and_the_file_kept(app, client, login, monkeypatch):
    login("staff")  # any signed-in user may file
    bomb = xlsx_bomb(300)
    assert len(bomb) < 400 * 1024  # a few hundred KB, well under the upload limit: the bomb is the point

    def never(*args, **kwargs):  # the ZIP directory alone must be enough to refuse it
        raise AssertionError("the bomb was opened")

    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    record = _file_via_form(client, "stock.xlsx", bomb, title="Closing stock")
    assert record.extraction_state == "refused" and record.extracted_text == ""
    assert "sheet1.xml" in record.extraction_note and "300 MB" in record.extraction_note
    page = client.get(f"/archive/records/{record.id}").get_data(as_text=True)
    assert "text refused" in page and "decompression bomb" in page
    download = client.get(f"/archive/files/{record.files[0].id}")
    assert download.status_code == 200 and download.data == bomb  # the file is kept as filed
    download.close()


def test_zip_total_unpacked_size_is_bounded_too(app):
    # members that each compress modestly but together unpack beyond the limit
    limits = extract.Limits(max_unpacked=8 * 2**20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("word/document.xml", b"x" * (9 * 2**20))
    result = extract.extract(extract.DOCX, buf.getvalue(), limits)
    assert result.outcome == "refused" and "9 MB" in result.note


def test_big_spreadsheet_is_truncated_with_a_note(app, client, login):
    app.config["ARCHIVE_EXTRACT_MAX_ROWS"] = 50
    login("csr")
    record = _file_via_form(client, "stock.xlsx", xlsx_rows(200), title="Stock list")
    assert record.extraction_state == "truncated"
    assert "row0001" in record.extracted_text and "row0049" in record.extracted_text
    assert "row0200" not in record.extracted_text
    assert "first 50 rows" in record.extraction_note
    page = client.get(f"/archive/records/{record.id}").get_data(as_text=True)
    assert "text truncated" in page and "first 50 rows" in page


def test_pdf_pages_are_bounded(app, officer):
    app.config["ARCHIVE_EXTRACT_MAX_PAGES"] = 10
    pdf = pages_pdf([[f"Ullage report page {i:03d}"] for i in range(1, 41)])
    record = services.file_document(kind="document", title="Long report", files=[("long.pdf", pdf)], user=officer)
    db.session.commit()
    assert record.extraction_state == "truncated"
    assert "page 001" in record.extracted_text and "page 010" in record.extracted_text
    assert "page 011" not in record.extracted_text
    assert "first 10 of 40 pages" in record.extraction_note


def test_text_and_characters_are_bounded(app, officer):
    app.config["ARCHIVE_EXTRACT_MAX_CHARS"] = 1000
    text = ("甲醇 methanol " * 500).encode("utf-8")
    record = services.file_document(kind="document", title="Notes", files=[("notes.txt", text)], user=officer)
    db.session.commit()
    assert record.extraction_state == "truncated" and 900 <= len(record.extracted_text) <= 1000
    assert "1000 characters" in record.extraction_note


def test_time_bound_stops_reading(app, monkeypatch):
    pdf = pages_pdf([[f"page {i}"] for i in range(1, 6)])
    clock = iter(range(0, 1000, 10))  # every look at the clock is ten seconds later
    monkeypatch.setattr(extract.time, "monotonic", lambda: next(clock))
    result = extract.extract(extract.PDF, pdf, extract.Limits(seconds=15))
    assert result.outcome == "truncated" and "15 seconds" in result.note
    assert "page 1" in result.text and "page 5" not in result.text


def test_extraction_after_commit_polls_and_finishes_by_command(app, client, login, runner):
    app.config["ARCHIVE_EXTRACT_MODE"] = "command"  # nothing runs it in this process
    login("csr")
    record = _file_via_form(client, "shipment.txt", b"Zanzibar methanol shipment notice", title="Notice")
    assert record.extraction_state == "pending"
    page = client.get(f"/archive/records/{record.id}").get_data(as_text=True)
    assert "text being extracted" in page
    assert f'hx-get="/archive/records/{record.id}/extraction"' in page  # htmx polls while it runs
    assert '<noscript><meta http-equiv="refresh"' in page  # and without JavaScript the page refreshes
    direct = client.get(f"/archive/records/{record.id}/extraction")
    assert direct.status_code == 302 and direct.headers["Location"].endswith(f"/archive/records/{record.id}")

    result = runner.invoke(args=["archive", "extract"])
    assert result.exit_code == 0 and "1 of 1" in result.output
    db.session.expire_all()
    assert "Zanzibar" in db.session.get(ArchiveRecord, record.id).extracted_text
    fragment = client.get(f"/archive/records/{record.id}/extraction", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "Text extracted" in body and "hx-trigger" not in body  # the poll stops
    hits = runner.invoke(args=["search", "query", "Zanzibar"])
    assert f"record:{record.id}" in hits.output  # indexed when done


def test_record_page_poll_finishes_what_a_stopped_worker_left(app, client, login):
    app.config["ARCHIVE_EXTRACT_MODE"] = "command"
    login("csr")
    record = _file_via_form(client, "note.txt", b"Quokka berth note", title="Berth note")
    # a worker claimed it and stopped (restart): after the stale time anyone may take it again
    db.session.execute(db.update(ArchiveRecord).where(ArchiveRecord.id == record.id).values(
        extraction_state="running", extraction_started_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert record.id in services.pending_extraction_ids()
    app.config["ARCHIVE_EXTRACT_MODE"] = "inline"
    body = client.get(f"/archive/records/{record.id}/extraction",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Text extracted" in body
    db.session.expire_all()
    assert "Quokka" in db.session.get(ArchiveRecord, record.id).extracted_text


def test_a_fresh_claim_is_not_taken_twice(app, officer):
    app.config["ARCHIVE_EXTRACT_MODE"] = "command"
    record = services.file_document(kind="document", title="x", files=[("a.txt", b"alpha beta")], user=officer)
    db.session.commit()
    assert services.claim_extraction(record.id) is True
    db.session.commit()
    assert services.claim_extraction(record.id) is False  # another worker has it
    assert record.id not in services.pending_extraction_ids()


def test_filing_inside_a_savepoint_is_extracted_after_the_outer_commit(app, officer):
    with db.session.begin_nested():  # as a domain files a document without risking its own transaction
        record = services.file_document(kind="document", title="Minutes", files=[("m.txt", b"Wombat minutes")],
                                        user=officer)
    assert record.extraction_state == "pending"  # the savepoint is released, nothing is committed yet
    db.session.commit()
    db.session.expire_all()
    assert "Wombat" in db.session.get(ArchiveRecord, record.id).extracted_text
