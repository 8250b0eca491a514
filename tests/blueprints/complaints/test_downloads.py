"""Every complaint download answers a file with an RFC 6266/5987 name: Chinese, emoji and quotes included."""
from __future__ import annotations

from urllib.parse import unquote

import pytest

from portal.blueprints.complaints import services
from portal.extensions import db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _download_name(disposition: str) -> str:
    """The name a browser saves: filename* (RFC 5987) when given, else the quoted ASCII filename."""
    if "filename*=UTF-8''" in disposition:
        return unquote(disposition.split("filename*=UTF-8''", 1)[1].split(";")[0])
    return disposition.split('filename="', 1)[1].rsplit('"', 1)[0]


@pytest.mark.parametrize("name", ["投诉证据（现场照片）.pdf", "tank 🛢️ photo.pdf", "O'Brien \"final\" report.pdf"])
def test_attachment_with_any_name_downloads(client, login, new_complaint, walk, people, name):
    complaint = new_complaint()
    walk(complaint, "investigating")
    att = services.add_attachment(complaint, people["csr"], filename=name, data=PDF_BYTES)
    db.session.commit()
    login(people["csr"])
    response = client.get(f"/complaints/{complaint.id}/attachments/{att.id}")
    assert response.status_code == 200 and response.data == PDF_BYTES
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    disposition.encode("latin-1")  # a header Werkzeug can send
    assert _download_name(disposition) == att.filename
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_chinese_evidence_name_kept_as_uploaded(app, new_complaint, walk, people):
    complaint = new_complaint()
    walk(complaint, "investigating")
    att = services.add_attachment(complaint, people["csr"], filename="投诉证据（现场照片）.pdf", data=PDF_BYTES)
    assert att.filename == "投诉证据（现场照片）.pdf"


def test_attachment_of_another_complaint_is_not_found(client, login, new_complaint, walk, people):
    one, other = new_complaint(), new_complaint(title="Another one")
    walk(one, "investigating")
    att = services.add_attachment(one, people["csr"], filename="a.pdf", data=PDF_BYTES)
    db.session.commit()
    login(people["csr"])
    assert client.get(f"/complaints/{other.id}/attachments/{att.id}").status_code == 404
    assert client.get(f"/complaints/{one.id}/attachments/{2**63}").status_code == 404


def test_8d_report_preview_and_sent_version_download(client, login, new_complaint, walk, people):
    complaint = new_complaint(title="柴油短量 “报告”")
    walk(complaint, "awaiting_effectiveness")
    report = services.send_report(complaint, people["csr"], recipient="stock@sinochem.example")
    db.session.commit()
    login(people["csr"])
    preview = client.get(f"/complaints/{complaint.id}/report.pdf")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    assert preview.headers["Content-Disposition"].startswith("inline;")
    sent = client.get(f"/complaints/{complaint.id}/reports/{report.id}")
    assert sent.status_code == 200 and sent.headers["Content-Disposition"].startswith("attachment;")
    assert report.filename in sent.headers["Content-Disposition"]
