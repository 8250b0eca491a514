"""Creating and editing pages through the forms."""
from __future__ import annotations

from portal.blueprints.knowledge import services
from portal.blueprints.knowledge.models import DRAFT, PUBLISHED
from portal.extensions import db


def test_create_and_edit_a_regulation(client, login, users):
    login(users["csr"])
    response = client.post("/knowledge/new", data={
        "kind": "regulation", "title": "港口危险货物安全管理规定", "slug": "port-dg-rules", "body": "第一条 …",
        "doc_number": "交通运输部令2017年第27号", "authority": "交通运输部", "jurisdiction": "national",
        "reg_status": "in_force", "issued_on": "2017-09-04"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = services.page_by_slug("port-dg-rules")
    assert page.doc_number == "交通运输部令2017年第27号" and page.current_revision.status == PUBLISHED
    response = client.post("/knowledge/p/port-dg-rules/edit", data={
        "kind": "regulation", "title": "港口危险货物安全管理规定", "body": "第一条 修订后。", "reg_status": "amended",
        "doc_number": page.doc_number, "jurisdiction": "national", "note": "2023 amendment"})
    assert response.status_code == 302
    db.session.expire_all()
    page = services.page_by_slug("port-dg-rules")
    assert page.reg_status == "amended" and page.current_revision.number == 2
    assert "This regulation has been amended." in client.get("/knowledge/p/port-dg-rules").get_data(as_text=True)


def test_editing_an_approved_procedure_makes_a_draft(client, login, procedure, users, approve_draft):
    from datetime import date

    approve_draft(procedure, users["csr"], users["manager"], date(2026, 11, 27))
    login(users["csr"])
    response = client.post("/knowledge/p/verify-order/edit", data={
        "kind": "procedure", "title": procedure.title, "body": "## Steps\n\nNew step.\n", "owner_department": "CSD",
        "review_months": "12", "note": "new step"})
    assert response.status_code == 302
    db.session.expire_all()
    page = services.page_by_slug("verify-order")
    assert page.latest_revision.status == DRAFT and page.current_revision.number == 1
    html = client.get("/knowledge/p/verify-order").get_data(as_text=True)
    assert "Submit for review" in html and "Compare with the approved version" in html
    client.post("/knowledge/p/verify-order/submit")
    db.session.expire_all()
    assert services.page_by_slug("verify-order").status == "in_review"


def test_slug_must_be_unique_and_superseded_by_must_be_a_regulation(client, login, procedure, users):
    login(users["csr"])
    response = client.post("/knowledge/new", data={"kind": "guide", "title": "Other", "slug": "verify-order"})
    assert response.status_code == 200 and "already used" in response.get_data(as_text=True)
    response = client.post("/knowledge/new", data={"kind": "regulation", "title": "Old rule", "reg_status": "repealed",
                                                   "superseded_by": "verify-order"})
    assert response.status_code == 200 and "No regulation with this slug." in response.get_data(as_text=True)
