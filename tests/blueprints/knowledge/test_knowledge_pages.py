"""Pages, revisions, approval flow, diff and revert, review dates, citations."""
from __future__ import annotations

from datetime import date

import pytest

from portal.blueprints.knowledge import services
from portal.blueprints.knowledge.models import APPROVED, DRAFT, IN_REVIEW, SUPERSEDED, Page
from portal.extensions import db

TODAY = date(2026, 11, 27)


def test_procedure_starts_as_draft_visible_only_to_editors(client, login, procedure, users):
    assert procedure.status == DRAFT and procedure.current_revision is None
    login(users["staff"])
    assert client.get("/knowledge/p/verify-order").status_code == 403
    assert "Verifying a customer order" not in client.get("/knowledge/").get_data(as_text=True)


def test_csr_cannot_approve(client, login, procedure, users):
    services.submit_for_review(procedure, users["csr"])
    db.session.commit()
    with pytest.raises(services.KnowledgeError):
        services.approve(procedure, users["csr"], today=TODAY)
    login(users["csr"])
    assert client.post("/knowledge/p/verify-order/approve").status_code == 403
    assert db.session.get(Page, procedure.id).status == IN_REVIEW


def test_manager_approval_publishes_and_supersedes(client, login, procedure, users, approve_draft):
    first = approve_draft(procedure, users["csr"], users["manager"], TODAY)
    assert first.status == APPROVED and procedure.version == "1.0"
    assert procedure.next_review_date == date(2027, 11, 27)

    services.add_revision(procedure, title=procedure.title, body="## Steps\n\nCheck tank, ullage and customs status.\n",
                          user=users["csr"], note="customs status")
    db.session.commit()
    # readers still see the approved text while the draft waits
    login(users["staff"])
    html = client.get("/knowledge/p/verify-order").get_data(as_text=True)
    assert "Check the tank and the ullage." in html and "customs status" not in html

    services.submit_for_review(procedure, users["csr"])
    client.post("/auth/logout")
    login(users["manager"])
    response = client.post("/knowledge/p/verify-order/approve", data={"change": "major"})
    assert response.status_code == 302
    db.session.expire_all()
    page = db.session.get(Page, procedure.id)
    assert page.current_revision.number == 2 and page.version == "2.0"
    assert db.session.get(type(first), first.id).status == SUPERSEDED
    html = client.get("/knowledge/p/verify-order").get_data(as_text=True)
    assert "customs status" in html


def test_send_back_returns_draft_with_comment(client, login, procedure, users):
    services.submit_for_review(procedure, users["csr"])
    db.session.commit()
    login(users["manager"])
    client.post("/knowledge/p/verify-order/send-back", data={"comment": "Add the ullage check."})
    db.session.expire_all()
    rev = db.session.get(Page, procedure.id).latest_revision
    assert rev.status == DRAFT and rev.review_comment == "Add the ullage check."
    assert "Add the ullage check." in client.get("/knowledge/p/verify-order").get_data(as_text=True)


def test_diff_and_revert(client, login, users):
    page = services.create_page(kind="guide", title="FAQ", body="line one\nline two\n", user=users["csr"])
    services.add_revision(page, title="FAQ", body="line one\nline 2\nline three\n", user=users["csr"], note="edit")
    db.session.commit()
    rows = services.diff_rows("line one\nline two\n", "line one\nline 2\nline three\n")
    assert [r.tag for r in rows if r] == ["equal", "replace", "insert"]
    login(users["csr"])
    side = client.get(f"/knowledge/p/{page.slug}/diff?a=1&b=2&mode=side").get_data(as_text=True)
    assert "line two" in side and "line 2" in side and "replace" in side
    inline = client.get(f"/knowledge/p/{page.slug}/diff?a=1&b=2").get_data(as_text=True)
    assert "-line two" in inline and "+line three" in inline

    assert client.post(f"/knowledge/p/{page.slug}/rev/1/revert").status_code == 302
    db.session.expire_all()
    page = db.session.get(Page, page.id)
    assert [r.number for r in page.revisions] == [1, 2, 3]
    assert page.current_revision.number == 3 and page.current_revision.body == "line one\nline two\n"
    assert "Reverted to revision 1" in page.current_revision.note


def test_wiki_links_render_and_missing_links_marked(client, login, users):
    services.create_page(kind="guide", title="Glossary", slug="glossary", body="Ullage 空高", user=users["csr"])
    services.create_page(kind="guide", title="Start", slug="start", body="See [[glossary]] and [[nowhere]].", user=users["csr"])
    db.session.commit()
    login(users["staff"])
    html = client.get("/knowledge/p/start").get_data(as_text=True)
    assert 'href="/knowledge/p/glossary"' in html and 'class="missing-link"' in html


def test_markdown_is_sanitised(client, login, users):
    services.create_page(kind="guide", title="Bad", slug="bad", body="<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |", user=users["csr"])
    db.session.commit()
    login(users["staff"])
    html = client.get("/knowledge/p/bad").get_data(as_text=True)
    assert "alert(1)" not in html and "<table>" in html


def test_review_dates_overdue_banner_and_list(client, login, procedure, users, approve_draft):
    approve_draft(procedure, users["csr"], users["manager"], date(2025, 1, 10))
    assert procedure.next_review_date == date(2026, 1, 10)
    assert procedure in services.due_for_review(date(2026, 1, 1))
    assert procedure not in services.due_for_review(date(2025, 6, 1))
    login(users["csr"])
    html = client.get("/knowledge/p/verify-order").get_data(as_text=True)
    assert "was due for review on" in html  # real clock: 2026-11 > 2026-01
    assert "Verifying a customer order" in client.get("/knowledge/review").get_data(as_text=True)


def test_amended_regulation_lists_citing_procedures_and_opens_review(client, login, users, approve_draft):
    reg = services.create_page(kind="regulation", title="危险化学品安全管理条例", slug="hazchem", body="第一条", user=users["csr"],
                               doc_number="国务院令第344号")
    proc = services.create_page(kind="procedure", title="Hazardous cargo acceptance", slug="hazcargo",
                                body="Follow [[hazchem]].", user=users["csr"])
    approve_draft(proc, users["csr"], users["manager"], TODAY)
    assert [c.target.slug for c in proc.citations] == ["hazchem"]
    reg.reg_status = "amended"
    db.session.commit()
    login(users["csr"])
    html = client.get("/knowledge/p/hazchem").get_data(as_text=True)
    assert "This regulation has been amended." in html and "Hazardous cargo acceptance" in html and "Open review" in html
    client.post(f"/knowledge/p/hazchem/open-review/{proc.id}")
    db.session.expire_all()
    proc = db.session.get(Page, proc.id)
    assert "危险化学品安全管理条例" in proc.review_reason
    assert proc in services.due_for_review(date.today())


def test_page_form_errors_rerender(client, login, users):
    login(users["csr"])
    response = client.post("/knowledge/new", data={"kind": "guide", "title": ""})
    assert response.status_code == 200 and "Please correct the marked fields." in response.get_data(as_text=True)


def test_staff_cannot_edit(client, login, users):
    services.create_page(kind="guide", title="FAQ", slug="faq", body="x", user=users["csr"])
    db.session.commit()
    login(users["staff"])
    assert client.get("/knowledge/p/faq/edit").status_code == 403
    assert client.get("/knowledge/p/faq").status_code == 200
