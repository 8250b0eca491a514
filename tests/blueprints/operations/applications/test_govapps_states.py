"""The states of a government application, its documents filed in the archive with the call, and who may act."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.blueprints.archive.models import ArchiveRecord
from portal.blueprints.operations.applications import services
from portal.blueprints.operations.applications.models import Application
from portal.extensions import db

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _local(dt: datetime) -> str:
    """A UTC time as the form's local wall-clock text (Asia/Shanghai, the test portal's time zone)."""
    return (dt + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def dg(ga):
    """The dangerous-goods declaration of a call arriving in two days."""
    call = ga.make_call(datetime.now(UTC) + timedelta(days=2))
    return next(a for a in services.for_call(call) if a.type.code == "MSA-DG-ARR")


def _state(app_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Application, app_id).state


def test_draft_submitted_returned_resubmitted_approved_through_the_pages(ga, dg, client, login):
    login(ga.csr)
    base = f"/operations/applications/{dg.id}"
    t0 = datetime.now(UTC) - timedelta(hours=5)
    r = client.post(f"{base}/submit", data={"submit-reference_no": "MSA-NB-2026-00417", "submit-at": _local(t0)})
    assert r.status_code == 302 and _state(dg.id) == "submitted"
    r = client.post(f"{base}/return", data={"return-reason": "SDS of the second grade missing",
                                             "return-at": _local(t0 + timedelta(hours=1))})
    assert r.status_code == 302 and _state(dg.id) == "returned"
    page = client.get(base).get_data(as_text=True)
    assert "SDS of the second grade missing" in page and 'id="form-resubmit"' in page
    r = client.post(f"{base}/resubmit", data={"resubmit-reference_no": "MSA-NB-2026-00431",
                                               "resubmit-at": _local(t0 + timedelta(hours=2))})
    assert r.status_code == 302 and _state(dg.id) == "resubmitted"
    r = client.post(f"{base}/approve", data={"approve-approval_no": "NB-DG-2026-1183",
                                              "approve-at": _local(t0 + timedelta(hours=3))})
    assert r.status_code == 302
    app = db.session.get(Application, dg.id)
    assert (app.state, app.reference_no, app.approval_no, app.submissions) == (
        "approved", "MSA-NB-2026-00431", "NB-DG-2026-1183", 2)
    page = client.get(base).get_data(as_text=True)
    assert "NB-DG-2026-1183" in page and 'id="form-approve"' not in page  # final: no more steps offered


def test_an_illegal_transition_is_refused_with_a_clear_message(ga, dg, client, login, request_ctx):
    with pytest.raises(services.ApplicationError) as exc:
        services.approve(dg, ga.csr, approval_no="A-1")
    assert str(exc.value.message) == ("A draft application cannot be approved; what can be done now: submit, "
                                      "withdraw.")
    login(ga.csr)
    r = client.post(f"/operations/applications/{dg.id}/resubmit",
                    data={"resubmit-reference_no": "X-1", "resubmit-at": _local(datetime.now(UTC))})
    assert r.status_code == 200
    assert "A draft application cannot be resubmitted; what can be done now: submit, withdraw." in r.get_data(as_text=True)
    assert _state(dg.id) == "draft"


def test_an_approved_application_is_final(ga, dg, request_ctx):
    services.submit(dg, ga.csr, reference_no="S-1", at=datetime.now(UTC) - timedelta(hours=2))
    services.approve(dg, ga.csr, approval_no="A-1", at=datetime.now(UTC) - timedelta(hours=1))
    for action in (lambda: services.return_(dg, ga.csr, reason="late"),
                   lambda: services.withdraw(dg, ga.csr, reason="not needed")):
        with pytest.raises(services.ApplicationError, match="it is final"):
            action()


def test_the_approval_cannot_be_before_the_submission_nor_in_the_future(ga, dg, client, login):
    login(ga.csr)
    base = f"/operations/applications/{dg.id}"
    sent = datetime.now(UTC) - timedelta(hours=3)
    client.post(f"{base}/submit", data={"submit-reference_no": "S-9", "submit-at": _local(sent)})
    r = client.post(f"{base}/approve", data={"approve-approval_no": "A-9", "approve-at": _local(sent - timedelta(hours=1))})
    assert r.status_code == 200 and "The approval cannot be before the submission." in r.get_data(as_text=True)
    r = client.post(f"{base}/approve", data={"approve-approval_no": "A-9",
                                              "approve-at": _local(datetime.now(UTC) + timedelta(days=1))})
    assert r.status_code == 200 and "This time is in the future." in r.get_data(as_text=True)
    r = client.post(f"{base}/approve", data={"approve-approval_no": "", "approve-at": _local(sent)})
    assert r.status_code == 200 and 'id="approve-approval_no-error"' in r.get_data(as_text=True)
    assert _state(dg.id) == "submitted"


def test_the_approval_document_is_filed_in_the_archive_with_the_call(ga, dg, client, login):
    login(ga.csr)
    base = f"/operations/applications/{dg.id}"
    sent = datetime.now(UTC) - timedelta(hours=3)
    client.post(f"{base}/submit", data={"submit-reference_no": "S-7", "submit-at": _local(sent)})
    r = client.post(f"{base}/approve", data={
        "approve-approval_no": "NB-DG-2026-77", "approve-at": _local(sent + timedelta(hours=1)),
        "approve-document": (io.BytesIO(PDF), "海事局批复.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 302
    app = db.session.get(Application, dg.id)
    record = db.session.get(ArchiveRecord, app.approval_record_id)
    assert record.source_key == f"application:{app.id}:approval"
    assert app.call.number in record.title and "NB-DG-2026-77" in record.title
    assert record.series.code == "CS-01"
    assert [f.filename for f in record.current_files] == ["海事局批复.pdf"]
    page = client.get(base).get_data(as_text=True)
    assert f"/archive/records/{record.id}" in page
    # The call page's section links the application (the partial the call page includes).
    from flask import render_template
    with client.application.test_request_context():
        from flask_login import login_user
        login_user(ga.csr)
        html = render_template("operations/applications/_call_applications.html", call=app.call)
    assert "NB-DG-2026-77" in html and f"/operations/applications/{app.id}" in html


def test_a_refused_file_changes_nothing(ga, dg, client, login):
    login(ga.csr)
    base = f"/operations/applications/{dg.id}"
    r = client.post(f"{base}/submit", data={
        "submit-reference_no": "S-8", "submit-at": _local(datetime.now(UTC) - timedelta(hours=1)),
        "submit-document": (io.BytesIO(b"MZ\x90\x00 not a receipt"), "receipt.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 200
    error = re.search(r'<ul class="errors" id="submit-document-error">(.*?)</ul>', r.get_data(as_text=True), re.S)
    assert error and "Programs are not accepted." in error.group(1)  # on the file's field
    assert _state(dg.id) == "draft"
    assert db.session.scalar(db.select(db.func.count(ArchiveRecord.id))) == 0


def test_who_may_do_what(app, ga, dg, client, login, make_user):
    staff = make_user("ops-staff", "staff")
    login(staff)
    assert client.get(f"/operations/applications/{dg.id}").status_code == 200
    assert client.get("/operations/applications/").status_code == 200
    r = client.post(f"/operations/applications/{dg.id}/submit", data={"submit-reference_no": "S", "submit-at": "2026-01-01T00:00"})
    assert r.status_code == 403 and _state(dg.id) == "draft"
    assert client.post(f"/operations/applications/calls/{dg.call_id}/create").status_code == 403
    csr = app.test_client()
    login(ga.csr, client=csr)
    assert csr.get("/operations/applications/types/new").status_code == 403  # types are the managers'
    assert csr.post("/operations/applications/types/seed").status_code == 403
    manager = app.test_client()
    login(ga.people["manager"], client=manager)
    assert manager.get("/operations/applications/types/new").status_code == 200


def test_bad_input_on_the_type_form_is_refused_on_its_field(ga, client, login):
    login(ga.people["manager"])
    base = {"code": "CUS-ARR", "name_en": "Customs arrival", "name_zh": "海关进境申报", "authority": "customs",
            "anchor": "eta", "lead_hours": "-6", "documents": "Manifest\n\nB/L copies\n", "sort_order": "40",
            "active": "y"}
    for field, value, message in (("lead_hours", "abc", "Not a valid integer value."),
                                  ("lead_hours", "99999", "Number must be between"),
                                  ("anchor", "eta; drop", "Not a valid choice."),
                                  ("code", "MSA-DG-ARR", "already used by another type"),
                                  ("code", "<b>x</b>", "Letters, digits")):
        r = client.post("/operations/applications/types/new", data={**base, field: value})
        assert r.status_code == 200 and message in r.get_data(as_text=True), (field, value)
    r = client.post("/operations/applications/types/new", data=base)
    assert r.status_code == 302
    new = services.active_types()[-1]
    assert (new.code, new.document_list, new.lead_text) == ("CUS-ARR", ["Manifest", "B/L copies"], "6 h before ETA (arrival)")


def test_missing_declarations_are_created_on_request_for_types_added_later(ga, client, login):
    call = ga.make_call(datetime.now(UTC) + timedelta(days=3))
    services.save_type({"code": "BORDER", "name_en": "Border inspection declaration", "name_zh": "边检申报",
                        "authority": "border", "anchor": "eta", "lead_hours": -12, "documents": "", "active": True},
                       None, ga.people["manager"])
    db.session.commit()
    assert [t.code for t in services.missing_types(call)] == ["BORDER"]
    login(ga.csr)
    r = client.post(f"/operations/applications/calls/{call.id}/create")
    assert r.status_code == 302
    assert {a.type.code for a in services.for_call(call)} == {"MSA-DG-ARR", "PORT-OPS", "MSA-DEP", "BORDER"}


def test_a_cancelled_call_gets_no_declarations(ga):
    call = ga.make_call(datetime.now(UTC) + timedelta(days=3), status="cancelled")
    assert services.for_call(call) == []
