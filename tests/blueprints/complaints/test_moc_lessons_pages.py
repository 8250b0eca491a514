"""Lessons shared, figures, and every page rendering for the roles that use them."""
from __future__ import annotations


import pytest

from portal.blueprints.complaints import services
from portal.extensions import db
from portal.models import Department


def test_lessons_shared_and_acknowledged(client, login, new_complaint, walk, people, make_user):
    dept = Department(code="OPS", name_en="Operations", name_zh="操作部")
    db.session.add(dept)
    db.session.commit()
    operator = make_user("operator", "staff", department_id=dept.id)
    complaint = new_complaint()
    walk(complaint, "actions_in_progress")
    with pytest.raises(services.ServiceError):
        services.share_lesson(complaint, people["csr"], summary="s", prevention="p", user_ids=[people["csr2"].id])
    walk(complaint, "closed")
    login(people["csr"])
    r = client.post(f"/complaints/{complaint.id}/lessons", data={
        "les-summary": "Meter drift caused short deliveries.", "les-prevention": "Meters in the quarterly calibration plan.",
        "les-user_ids": [people["csr2"].id], "les-department_ids": [dept.id],
    })
    assert r.status_code == 302 and len(complaint.lessons) == 2
    client.post("/auth/logout")
    login(operator)
    assert "Lessons to acknowledge" in client.get("/").get_data(as_text=True)
    dept_share = next(s for s in complaint.lessons if s.department_id)
    user_share = next(s for s in complaint.lessons if s.user_id)
    client.post(f"/complaints/lessons/{user_share.id}/acknowledge")
    db.session.refresh(user_share)
    assert user_share.acknowledged_at is None  # not shared with the operator
    client.post(f"/complaints/lessons/{dept_share.id}/acknowledge")
    db.session.refresh(dept_share)
    assert dept_share.acknowledged_by_id == operator.id
    assert "Lessons to acknowledge" not in client.get("/").get_data(as_text=True)


def test_figures(app, new_complaint, walk, people, customer):
    first = new_complaint(title="Short delivery 1", category="quantity")
    walk(first, "closed")
    second = new_complaint(title="Short delivery 2", category="quantity")
    new_complaint(title="Late berth", category="delay")
    f = services.complaint_figures(people["manager"])
    assert f["total"] == 3 and dict(f["per_category"]) == {"quantity": 2, "delay": 1}
    assert f["closed"] == 1 and f["mean_days_to_close"] is not None
    assert [(c.id, p.id) for c, p in f["recurrences"]] == [] or all(p.id == first.id for _, p in f["recurrences"])
    first.closed_at = first.received_at
    db.session.commit()
    f = services.complaint_figures(people["manager"])
    assert [(c.id, p.id) for c, p in f["recurrences"]] == [(second.id, first.id)]


@pytest.mark.parametrize("role", ["cs_manager", "csr", "staff"])
def test_every_page_renders(client, login, new_complaint, walk, people, role):
    complaint = new_complaint()
    walk(complaint, "awaiting_effectiveness")
    closed = new_complaint(title="closed one")
    walk(closed, "closed")
    inquiry = services.create_inquiry(customer_id=complaint.customer_id, channel="phone", subject="q", question="q",
                                      received_at=complaint.received_at, language="zh", user=people["csr"])
    db.session.commit()
    login(role)
    for url in ["/complaints/", "/complaints/?state=open&category=quantity&q=short", "/complaints/inquiries",
                "/complaints/inquiries?status=overdue&mine=1", f"/complaints/inquiries/{inquiry.id}", "/complaints/inquiries/figures",
                f"/complaints/{complaint.id}", f"/complaints/{closed.id}", "/complaints/figures", "/complaints/lessons",
                "/meetings/", "/"]:
        response = client.get(url)
        assert response.status_code == 200, url
    expected = 200 if role != "staff" else 403
    for url in ["/complaints/new", "/complaints/inquiries/new", "/meetings/new"]:
        assert client.get(url).status_code == expected, url
