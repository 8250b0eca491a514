"""Follow-up of flagged answers: a corrective action raised from an answer is a CAPA action (the complaints
module's record) with the answer as its source; the owner completes it, someone else verifies it, and the
campaign's "closed the loop" rate follows its state."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.blueprints.complaints.models import CapaAction
from portal.blueprints.surveys import services
from portal.blueprints.surveys.models import SurveyAnswer
from portal.extensions import db
from portal.timeutil import local_today


def _submit(client, survey, kit, **answers):
    response = client.post(survey.url, data={**kit.form_data(survey, **answers), "submit": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _raise(client, answer, owner, *, days=14, description="Review the order desk staffing", kind="corrective"):
    return client.post(f"/surveys/answers/{answer.id}/follow-up", data={
        "fu-description": description, "fu-owner_id": owner.id if owner else "0", "fu-kind": kind,
        "fu-due_date": (local_today() + timedelta(days=days)).isoformat() if days is not None else ""})


def _switch(client, login, who):
    """Sign out, then in as another user (signing in while signed in keeps the first user)."""
    client.post("/auth/logout")
    return login(who)


def _answer(**flt) -> SurveyAnswer:
    return db.session.scalar(db.select(SurveyAnswer).filter_by(**flt))


@pytest.mark.parametrize("which", ["low_score", "detractor", "free_text"])
def test_a_capa_action_is_raised_from_a_low_score_a_detractor_or_a_comment(client, login, survey, kit, people, which):
    _submit(client, survey, kit, order_handling="2" if which == "low_score" else "4",
            recommend="3" if which == "detractor" else "9", comments="泊位等待太久" if which == "free_text" else "")
    answer = {"low_score": lambda: _answer(value=2), "detractor": lambda: _answer(value=3),
              "free_text": lambda: _answer(text="泊位等待太久")}[which]()
    login("csr")
    response = _raise(client, answer, people["csr2"])
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/surveys/answers/{answer.id}#actions")
    action = db.session.scalar(db.select(CapaAction))
    assert action.survey_answer_id == answer.id and action.complaint_id is None
    assert (action.owner_id, action.status, action.kind) == (people["csr2"].id, "open", "corrective")
    assert action.due_date == local_today() + timedelta(days=14)
    page = client.get(f"/surveys/answers/{answer.id}").get_data(as_text=True)
    assert "Review the order desk staffing" in page and people["csr2"].display_name in page and f"/complaints/actions/{action.id}" in page


def test_owner_and_due_date_are_required_with_field_errors(client, login, survey, kit, people):
    _submit(client, survey, kit, order_handling="1", recommend="9")
    answer = _answer(value=1)
    login("csr")
    no_owner = _raise(client, answer, None)
    assert no_owner.status_code == 200 and "Name the owner." in no_owner.get_data(as_text=True)
    no_date = _raise(client, answer, people["csr2"], days=None)
    assert no_date.status_code == 200 and 'id="fu-due_date"' in no_date.get_data(as_text=True)
    assert "This field is required." in no_date.get_data(as_text=True)
    unknown = client.post(f"/surveys/answers/{answer.id}/follow-up", data={
        "fu-description": "x", "fu-owner_id": "999999", "fu-kind": "corrective",
        "fu-due_date": local_today().isoformat()})
    assert unknown.status_code == 200
    assert db.session.scalar(db.select(db.func.count(CapaAction.id))) == 0


def test_staff_may_not_raise_an_action(client, login, survey, kit, people):
    _submit(client, survey, kit, order_handling="1", recommend="9")
    answer = _answer(value=1)
    login("staff")
    assert _raise(client, answer, people["csr2"]).status_code == 403
    assert db.session.scalar(db.select(db.func.count(CapaAction.id))) == 0


def test_completing_and_verifying_the_action_closes_the_loop(client, login, survey, kit, people):
    _submit(client, survey, kit, order_handling="2", recommend="9")
    answer = _answer(value=2)
    results = f"/surveys/campaigns/{survey.campaign.id}/results"
    login("csr")
    assert "no follow-up yet" in client.get(results).get_data(as_text=True)
    _raise(client, answer, people["csr2"])
    action = db.session.scalar(db.select(CapaAction))
    html = client.get(results).get_data(as_text=True)
    assert "follow-up under way" in html and "0.0 %" in html and f"CAPA-{action.id:05d} · Open" in html

    # the owner marks it done on the action's page (a completion note is required)
    _switch(client, login, people["csr2"])
    page = client.get(f"/complaints/actions/{action.id}")
    assert page.status_code == 200 and "Survey answer" in page.get_data(as_text=True)
    refused = client.post(f"/complaints/actions/{action.id}", data={"status": "done", "completion_note": ""})
    assert refused.status_code == 200 and db.session.get(CapaAction, action.id).status == "open"
    done = client.post(f"/complaints/actions/{action.id}", data={"status": "done", "completion_note": "Second desk shift"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/surveys/answers/{answer.id}#actions")
    html = client.get(results).get_data(as_text=True)
    assert "done, awaiting verification" in html and "0.0 %" in html

    # the owner may not verify their own action; someone else does
    own = client.post(f"/complaints/actions/{action.id}/verify", data={"ver-decision": "accept", "ver-note": "ok"})
    assert own.status_code == 403 or db.session.get(CapaAction, action.id).status == "done"
    _switch(client, login, people["manager"])
    verified = client.post(f"/complaints/actions/{action.id}/verify", data={"ver-decision": "accept", "ver-note": "Checked"})
    assert verified.status_code == 302
    action = db.session.get(CapaAction, action.id)
    assert action.status == "verified" and action.verified_by_id == people["manager"].id
    html = client.get(results).get_data(as_text=True)
    assert "loop closed" in html and "100.0 %" in html
    assert "1 / 1 (100.0 %)" in client.get(f"/surveys/campaigns/{survey.campaign.id}").get_data(as_text=True)


def test_a_cancelled_action_leaves_the_loop_open_until_another_is_verified(app, survey, kit, client, people, request_ctx):
    _submit(client, survey, kit, order_handling="1", recommend="9")
    answer = _answer(value=1)
    first = services.raise_action(answer, description="Call", owner_id=people["csr"].id, due_date=local_today(),
                                  user=people["manager"])
    db.session.commit()
    assert services.loop_status(answer, []) == "open"
    first.status = "cancelled"
    db.session.commit()
    assert services.loop_status(answer, []) == "none"
    assert services.results(survey.campaign)["closed_loops"] == 0


def test_the_action_is_in_the_owners_due_lists_and_the_capa_views(client, login, survey, kit, people):
    survey.customer.csr_id = people["csr"].id
    db.session.commit()
    _submit(client, survey, kit, order_handling="1", recommend="9")
    answer = _answer(value=1)
    login(people["manager"])
    _raise(client, answer, people["csr"], days=2, description="Phone the terminal manager about order delays")
    action = db.session.scalar(db.select(CapaAction))
    _switch(client, login, "csr")
    dashboard = client.get("/").get_data(as_text=True)
    # the complaints panel "My CAPA actions due" links to the action's own page
    assert f"/complaints/actions/{action.id}" in dashboard and f"CAPA-{action.id:05d}" in dashboard
    # the due list "My CAPA actions due within 7 days" links to the survey answer it was raised from
    due = client.get("/due/my-actions").get_data(as_text=True)
    assert f"/surveys/answers/{answer.id}#actions" in due and f"CAPA-{action.id:05d}" in due
    # "My customers": the customer's open work
    department = client.get("/department/").get_data(as_text=True)
    line = department.split("Survey follow-up: ", 1)[1].split("</li>", 1)[0]
    assert f"/surveys/answers/{answer.id}" in line and "Phone the terminal manager about order delays" in line
    # the manager's "CAPA actions due this week" and the department's workload
    _switch(client, login, people["manager"])
    assert "Phone the terminal manager about order delays" in client.get("/due/capa-this-week").get_data(as_text=True)
    # the action's page is reachable from the answer page; a complaint's action URL does not serve it
    assert client.get(f"/complaints/actions/{action.id}").status_code == 200
    assert client.get(f"/complaints/1/actions/{action.id}").status_code == 404


def test_a_staff_member_who_owns_the_action_may_update_it_but_not_another(client, login, survey, kit, people):
    _submit(client, survey, kit, order_handling="1", recommend="9")
    answer = _answer(value=1)
    login("csr")
    _raise(client, answer, people["staff"])
    action = db.session.scalar(db.select(CapaAction))
    _switch(client, login, people["staff"])
    assert client.get(f"/complaints/actions/{action.id}").status_code == 200
    ok = client.post(f"/complaints/actions/{action.id}", data={"status": "in_progress", "completion_note": ""})
    assert ok.status_code == 302 and db.session.get(CapaAction, action.id).status == "in_progress"
    cancel = client.post(f"/complaints/actions/{action.id}", data={"status": "cancelled", "completion_note": "no"})
    assert cancel.status_code == 200 and db.session.get(CapaAction, action.id).status == "in_progress"
    assert client.post(f"/complaints/actions/{action.id}/verify", data={"ver-decision": "accept"}).status_code == 403


def test_the_workload_counts_it_and_a_handover_moves_it(app, survey, kit, client, people, request_ctx):
    from portal.blueprints.department import services as department
    from portal.timeutil import utcnow

    survey.customer.csr_id = people["csr"].id
    db.session.commit()
    _submit(client, survey, kit, order_handling="1", recommend="9")
    action = services.raise_action(_answer(value=1), description="Phone about order delays", owner_id=people["csr"].id,
                                   due_date=local_today() - timedelta(days=1), user=people["manager"])
    db.session.commit()
    items = department.open_items(people["csr"].id, people["manager"], now=utcnow())
    mine = [i for i in items if i.kind == "capa_action"]
    assert [(i.ref, i.title, i.overdue) for i in mine] == [(f"CAPA-{action.id:05d}", "Phone about order delays", True)]
    department.reassign([survey.customer], people["csr2"].id, user=people["manager"])
    db.session.commit()
    assert db.session.get(CapaAction, action.id).owner_id == people["csr2"].id


def test_other_users_see_the_action_on_the_answer_but_may_not_change_it(client, login, survey, kit, people):
    _submit(client, survey, kit, order_handling="1", recommend="9")
    answer = _answer(value=1)
    login("csr")
    _raise(client, answer, people["csr2"], description="Visit the customer with the operations manager")
    action = db.session.scalar(db.select(CapaAction))
    _switch(client, login, people["officer"])
    page = client.get(f"/surveys/answers/{answer.id}").get_data(as_text=True)
    assert "Visit the customer with the operations manager" in page and f"/complaints/actions/{action.id}" not in page
    assert client.get(f"/complaints/actions/{action.id}").status_code == 403
    assert client.post(f"/complaints/actions/{action.id}", data={"status": "done", "completion_note": "x"}).status_code == 403
    assert db.session.get(CapaAction, action.id).status == "open"


def test_the_service_refuses_an_action_without_owner_due_date_or_type(app, survey, kit, client, people, request_ctx):
    from portal.services import ServiceError

    _submit(client, survey, kit, order_handling="1", recommend="9")
    answer = _answer(value=1)
    good = dict(description="Call", owner_id=people["csr"].id, due_date=local_today(), user=people["csr"])
    for change, field in (({"owner_id": None}, "owner_id"), ({"owner_id": 999999}, "owner_id"),
                          ({"due_date": None}, "due_date"), ({"description": "  "}, "description"),
                          ({"kind": "whatever"}, "kind")):
        with pytest.raises(ServiceError) as refused:
            services.raise_action(answer, **{**good, **change})
        assert refused.value.field == field
    assert db.session.scalar(db.select(db.func.count(CapaAction.id))) == 0
