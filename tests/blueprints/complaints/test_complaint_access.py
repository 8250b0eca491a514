"""Restricted complaints: invisible in list, page, PDF, attachments and search to those not named on them;
evidence attachments checked and served as downloads; the 8D report in Chinese."""
from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from portal.blueprints.complaints import services
from portal.blueprints.complaints.models import ComplaintReport
from portal.extensions import db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def restricted(new_complaint, people):
    return new_complaint(title="Operator Wang rude to driver 王师傅", category="service", restricted=True,
                         description="Driver complains the gate operator shouted at him.", user=people["csr"],
                         owner_id=people["csr"].id)


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_restricted_hidden_from_others_in_list_page_pdf(client, login, restricted, new_complaint, people):
    new_complaint(title="Open complaint everyone sees")
    login(people["csr2"])
    listing = _text(client.get("/complaints/"))
    assert "Open complaint everyone sees" in listing and "Operator Wang" not in listing
    assert client.get(f"/complaints/{restricted.id}").status_code == 403
    assert client.get(f"/complaints/{restricted.id}/report.pdf").status_code == 403
    assert client.get(f"/complaints/{restricted.id}/similar").status_code == 403
    assert services.complaint_figures(people["csr2"])["total"] == 1


def test_restricted_visible_to_named_people_and_managers(client, login, restricted, people):
    for user in (people["csr"], people["manager"]):
        login(user)
        assert "Operator Wang" in _text(client.get("/complaints/"))
        assert client.get(f"/complaints/{restricted.id}").status_code == 200
        client.post("/auth/logout")


def test_action_owner_becomes_named(client, login, restricted, walk, people):
    walk(restricted, "actions_in_progress")
    services.add_action(restricted, people["csr"], kind="corrective", description="Customer-care training",
                        owner_id=people["csr2"].id, due_date=date(2025, 8, 1))
    db.session.commit()
    login(people["csr2"])
    assert client.get(f"/complaints/{restricted.id}").status_code == 200
    assert "Operator Wang" in _text(client.get("/complaints/"))


def test_restricted_not_found_by_search_for_others(app, restricted, people):
    from portal.search import search

    assert search("Operator Wang", user=people["manager"]).total >= 1
    assert search("Operator Wang", user=people["csr"]).total >= 1
    assert search("Operator Wang", user=people["csr2"]).total == 0
    assert search("Operator Wang", user=people["staff"]).total == 0


def test_evidence_upload_download_and_checks(client, login, new_complaint, walk, people, restricted):
    complaint = new_complaint()
    walk(complaint, "investigating")
    login(people["csr"])
    url = f"/complaints/{complaint.id}/attachments"
    bad = client.post(url, data={"att-file": (io.BytesIO(b"MZ\x90\x00"), "tool.exe")}, content_type="multipart/form-data")
    assert bad.status_code == 200 and "not accepted" in _text(bad)
    fake = client.post(url, data={"att-file": (io.BytesIO(b"hello"), "scan.pdf")}, content_type="multipart/form-data")
    assert fake.status_code == 200 and "does not match" in _text(fake)
    with pytest.raises(services.ServiceError, match="larger than 2 MB"):
        services.check_upload("big.pdf", b"%PDF" + b"0" * (2 * 1024 * 1024))
    ok = client.post(url, data={"att-file": (io.BytesIO(PDF_BYTES), "../../etc/ullage report.pdf"), "att-description": "Ullage report"},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    db.session.refresh(complaint)
    att = complaint.attachments[0]
    assert "/" not in att.filename and att.filename.endswith(".pdf")
    download = client.get(f"/complaints/{complaint.id}/attachments/{att.id}")
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert download.headers["Content-Disposition"].startswith("attachment")
    # evidence of a restricted complaint is not served to others
    walk(restricted, "investigating")
    services.add_attachment(restricted, people["csr"], filename="cctv.png", data=b"\x89PNG\r\n\x1a\nxxxx")
    db.session.commit()
    client.post("/auth/logout")
    login(people["csr2"])
    rid = restricted.attachments[0].id
    assert client.get(f"/complaints/{restricted.id}/attachments/{rid}").status_code == 403


def test_8d_report_in_chinese_is_kept_as_sent(client, login, new_complaint, walk, people):
    complaint = new_complaint(title="柴油短量投诉", description="客户反映汽车装车柴油短量2.1吨。", language="zh")
    walk(complaint, "closed")
    inv = complaint.investigation
    inv.containment = "暂停使用3号鹤位，改用备用流量计。"
    db.session.commit()
    login(people["csr"])
    preview = client.get(f"/complaints/{complaint.id}/report.pdf")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    response = client.post(f"/complaints/{complaint.id}/report", data={"rep-recipient": "operations@sinochem.example"})
    assert response.status_code == 302
    report = db.session.scalar(db.select(ComplaintReport))
    sent = client.get(f"/complaints/{complaint.id}/reports/{report.id}")
    assert sent.status_code == 200 and sent.headers["Content-Disposition"].startswith("attachment")
    from portal.storage import sha256_bytes

    assert sha256_bytes(sent.data) == report.sha256
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(sent.data)).pages)
    flat = "".join(text.split())
    for phrase in ("根本原因", "纠正措施", "预防措施", "柴油短量", "暂停使用3号鹤位", "RootCause".lower()):
        assert phrase in flat or phrase in flat.lower(), phrase


def test_sent_report_is_filed_in_the_archive_on_closure(app, new_complaint, walk, people):
    from portal.blueprints.archive.models import ArchiveRecord

    complaint = new_complaint()
    walk(complaint, "awaiting_effectiveness")
    report = services.send_report(complaint, people["csr"], recipient="stock@sinochem.example")
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(ArchiveRecord.id))) == 0
    services.evaluate(complaint, people["manager"], text="Effective")
    services.transition(complaint, "close", people["manager"])
    db.session.commit()
    record = db.session.scalar(db.select(ArchiveRecord))
    assert record is not None and record.kind == "complaint_report" and report.archive_record_id == record.id


def test_evidence_joins_the_archive_on_closure(app, new_complaint, walk, people):
    from portal.blueprints.archive.models import ArchiveRecord

    complaint = new_complaint()
    walk(complaint, "investigating")
    services.add_attachment(complaint, people["csr"], filename="ullage-report.pdf", data=PDF_BYTES)
    walk(complaint, "closed")
    titles = [r.title for r in db.session.scalars(db.select(ArchiveRecord))]
    assert any("evidence" in t for t in titles)


def test_open_complaint_blocks_disposal_of_the_customers_records(app, new_complaint, walk, people, customer):
    """Registered with the core: the archive skips records of a customer with an open complaint, naming
    only complaints the reader may open."""
    from types import SimpleNamespace

    from portal.services import disposal_blockers

    blocker = services.open_complaint_blocks_disposal
    assert blocker in disposal_blockers()
    record = SimpleNamespace(customer_id=customer.id)
    assert blocker(record) is None
    open_one = new_complaint()
    secret = new_complaint(title="Restricted one", restricted=True)
    reason = blocker(record)
    assert open_one.ref in reason and secret.ref not in reason and "1 restricted" in reason
    walk(open_one, "closed")
    walk(secret, "closed")
    assert blocker(record) is None
    assert blocker(SimpleNamespace(customer_id=None)) is None
