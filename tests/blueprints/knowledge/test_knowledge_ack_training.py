"""Announcements with acknowledgement per version, training progress and quizzes, certificates PDF."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from portal.blueprints.knowledge import services
from portal.blueprints.knowledge.models import Acknowledgement, TrainingAssignment
from portal.extensions import db

TODAY = date(2026, 11, 27)


@pytest.fixture
def approved(procedure, users, approve_draft):
    approve_draft(procedure, users["csr"], users["manager"], TODAY)
    return procedure


def test_only_managers_announce(client, login, approved, users):
    with pytest.raises(services.KnowledgeError):
        services.announce(approved, users["csr"], roles=["csr"], due_date=TODAY)
    login(users["csr"])
    assert client.get("/knowledge/p/verify-order/announce").status_code == 403


def test_acknowledgement_is_per_version(client, login, approved, users):
    login(users["manager"])
    response = client.post("/knowledge/p/verify-order/announce", data={"roles": ["csr"], "due_date": "2026-12-04"})
    assert response.status_code == 302
    ann = db.session.scalar(db.select(services.Announcement))
    assert {r.user.username for r in ann.recipients} == {"csr", "trainee"}
    client.post("/auth/logout")

    login(users["csr"])
    assert [a.id for a in services.to_read(users["csr"])] == [ann.id]
    dash = client.get("/").get_data(as_text=True)
    assert "To read" in dash and "Verifying a customer order" in dash
    assert "I have read and understood" in client.get("/knowledge/p/verify-order").get_data(as_text=True)
    client.post(f"/knowledge/announcements/{ann.id}/acknowledge")
    assert services.to_read(users["csr"]) == []
    ack = db.session.scalar(db.select(Acknowledgement).filter_by(user_id=users["csr"].id))
    assert ack.revision_id == approved.current_revision_id

    # a new approved version asks the same people again
    services.add_revision(approved, title=approved.title, body="New text.", user=users["csr"])
    services.submit_for_review(approved, users["csr"])
    new = services.approve(approved, users["manager"], today=TODAY, reannounce=True)
    db.session.commit()
    pending = services.to_read(users["csr"])
    assert [a.revision_id for a in pending] == [new.id]
    # the old acknowledgement still stands for the old version
    assert services.acknowledged_at(users["csr"].id, ack.revision_id) is not None


def test_announcer_status_export_and_overdue(client, login, approved, users):
    ann = services.announce(approved, users["manager"], user_ids=[users["csr"].id, users["staff"].id],
                            due_date=date(2026, 11, 20))
    services.acknowledge(users["csr"], ann.revision)
    db.session.commit()
    rows = services.announcement_status(ann, TODAY)
    assert {(r.user.username, r.acknowledged_at is not None, r.overdue) for r in rows} == {
        ("csr", True, False), ("staff", False, True)}
    assert [(a.id, u.username) for a, u in services.overdue_acknowledgements(TODAY)] == [(ann.id, "staff")]

    login(users["manager"])
    page = client.get(f"/knowledge/announcements/{ann.id}").get_data(as_text=True)
    assert "1 of 2 acknowledged" in page
    xlsx = client.get(f"/knowledge/announcements/{ann.id}/export.xlsx")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.data))["Acknowledgements"]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert ["csr", "Csr"] == values[0][:2] and values[0][3] and values[1][4].startswith("overdue")
    assert "Staff" in client.get("/knowledge/announcements/overdue").get_data(as_text=True)
    client.post("/auth/logout")
    login(users["staff"])
    assert client.get(f"/knowledge/announcements/{ann.id}/export.xlsx").status_code == 403


@pytest.fixture
def plan(app, users):
    guide = services.create_page(kind="guide", title="Glossary", title_zh="术语表", slug="glossary", body="Ullage 空高",
                                 user=users["csr"])
    proc = services.create_page(kind="procedure", title="Verifying a customer order", title_zh="客户订单核对",
                                slug="verify", body="Check the customs release.", user=users["csr"])
    services.submit_for_review(proc, users["csr"])
    services.approve(proc, users["manager"], today=TODAY)
    plan = services.create_plan(title="New CSR onboarding", title_zh="新客服代表入职培训", user=users["manager"],
                                pass_mark=50, page_slugs=["glossary", "verify"])
    services.add_question(plan.steps[1], text="Before a bonded delivery you need?",
                          choices=["The customs release", "Nothing"], correct=[0])
    services.add_question(plan.steps[1], text="Check which?", choices=["Tank", "Quantity", "Weather"], correct=[0, 1])
    db.session.commit()
    assert guide.current_revision is not None
    return plan


def test_quiz_scoring(plan):
    q1, q2 = plan.steps[1].questions
    assert q2.multiple and not q1.multiple
    assert services.grade([q1, q2], {q1.id: [0], q2.id: [0, 1]}) == 100
    assert services.grade([q1, q2], {q1.id: [0], q2.id: [0]}) == 50  # partly right multiple choice is wrong
    assert services.grade([q1, q2], {q1.id: [1], q2.id: [0, 1, 2]}) == 0


def test_training_progress_quiz_and_certificate(client, login, plan, users):
    a = services.assign(plan, users["trainee"], due_date=date(2026, 12, 11), user=users["manager"])
    db.session.commit()
    s1, s2 = plan.steps
    login(users["trainee"])
    assert "0 of 2 steps done" in client.get(f"/knowledge/training/assignments/{a.id}").get_data(as_text=True)
    client.post(f"/knowledge/training/assignments/{a.id}/steps/{s1.id}/read")
    client.post(f"/knowledge/training/assignments/{a.id}/steps/{s2.id}/read")
    # read but quiz not passed yet
    assert services.progress_summary(db.session.get(TrainingAssignment, a.id))["done"] == 1
    q1, q2 = s2.questions
    response = client.post(f"/knowledge/training/assignments/{a.id}/steps/{s2.id}/quiz",
                           data={f"q{q1.id}": "1", f"q{q2.id}": ["2"]})
    assert response.status_code == 200 and "below the pass mark" in response.get_data(as_text=True)
    db.session.expire_all()
    a = db.session.get(TrainingAssignment, a.id)
    assert a.completed_at is None and a.progress_for(s2).quiz_score == 0
    client.post(f"/knowledge/training/assignments/{a.id}/steps/{s2.id}/quiz",
                data={f"q{q1.id}": "0", f"q{q2.id}": ["0", "1"]})
    db.session.expire_all()
    a = db.session.get(TrainingAssignment, a.id)
    assert a.completed_at is not None and a.certificate_no
    assert "2 of 2 steps done (100%)" in client.get(f"/knowledge/training/assignments/{a.id}").get_data(as_text=True)

    pdf = client.get(f"/knowledge/training/assignments/{a.id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "新客服代表入职培训" in text and "培训合格证书" in text and "New CSR onboarding" in text
    assert a.certificate_no in text

    # the manager sees the progress; another trainee cannot open it
    client.post("/auth/logout")
    login(users["manager"])
    assert "2 of 2 steps" in client.get(f"/knowledge/training/{plan.id}").get_data(as_text=True)
    client.post("/auth/logout")
    login(users["csr"])
    assert client.get(f"/knowledge/training/assignments/{a.id}").status_code == 403
    assert client.post(f"/knowledge/training/assignments/{a.id}/steps/{s1.id}/read").status_code == 403


def test_new_approved_version_asks_trainees_to_reread(plan, users):
    a = services.assign(plan, users["trainee"], due_date=None, user=users["manager"])
    s1, s2 = plan.steps
    services.mark_read(a, s2)
    proc = s2.page
    services.add_revision(proc, title=proc.title, body="Check the customs release and the ullage.", user=users["csr"])
    services.submit_for_review(proc, users["csr"])
    services.approve(proc, users["manager"], today=TODAY)
    db.session.commit()
    p = a.progress_for(s2)
    assert p.needs_reread and not services.step_done(a, s2)
    assert services.progress_summary(a)["reread"] == [s2]
    services.mark_read(a, s2)
    assert not a.progress_for(s2).needs_reread


def test_manager_builds_plan_through_forms(client, login, plan, users):
    login(users["manager"])
    response = client.post("/knowledge/training/new", data={"title": "Refresher", "pass_mark": "80",
                                                            "pages": [str(plan.steps[0].page_id), "999999"]})
    assert response.status_code == 200 and "Please correct the marked fields." in response.get_data(as_text=True)
    response = client.post(f"/knowledge/training/{plan.id}/questions",
                           data={"q-step_id": str(plan.steps[0].id), "q-text": "Ullage is?", "q-choices": "*Empty space\nWater"})
    assert response.status_code == 302
    assert plan.steps[0].questions[0].correct_set == {0}
    response = client.post(f"/knowledge/training/{plan.id}/assign",
                           data={"a-user_id": str(users["staff"].id), "a-due_date": "2026-12-31"})
    assert response.status_code == 302
    assert any(x.user_id == users["staff"].id for x in plan.assignments)
    client.post("/auth/logout")
    login(users["csr"])
    assert client.post("/knowledge/training/new", data={"title": "x"}).status_code == 403


def test_the_to_read_panel_lists_the_first_pages_and_links_to_all(client, login, users, approve_draft, dashboard_panel):
    """Ten procedures announced at once: the dashboard lists the first eight by due date, the count, and a link
    to the whole list of pages to read."""
    for n in range(10):
        page = services.create_page(kind="procedure", title=f"Procedure {n:02d}", body="Text.", user=users["csr"],
                                    slug=f"procedure-{n:02d}", owner_department="CSD")
        db.session.commit()
        approve_draft(page, users["csr"], users["manager"], TODAY)
        services.announce(page, users["manager"], roles=["csr"], due_date=date(2026, 12, 1 + n))
    db.session.commit()
    login(users["trainee"])
    panel = dashboard_panel('id="kb-to-read"')
    assert panel.count("Procedure ") == 8 and "Procedure 07" in panel and "Procedure 08" not in panel
    assert 'href="/due/to-read"' in panel and "All 10 pages to read" in panel
    assert client.get("/due/to-read").get_data(as_text=True).count("Procedure ") == 10
