"""The complaint state machine: every illegal move refused, roles enforced, closure rules, stamps and audit."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from portal.audit import AuditEntry
from portal.blueprints.complaints import services
from portal.blueprints.complaints.models import STATES, ComplaintTransition
from portal.blueprints.complaints.services import ACTIONS, TRANSITIONS, TransitionError
from portal.extensions import db

SH = ZoneInfo("Asia/Shanghai")
PATH = {
    "received": None, "acknowledged": "acknowledged", "investigating": "investigating",
    "actions_in_progress": "actions_in_progress", "awaiting_effectiveness": "awaiting_effectiveness", "closed": "closed",
}


def _complaint_in(state, new_complaint, walk, people):
    complaint = new_complaint()
    if state in PATH:
        walk(complaint, state)
    else:  # rejected / withdrawn
        services.transition(complaint, "reject" if state == "rejected" else "withdraw", people["manager"], note="reason")
        db.session.commit()
    assert complaint.state == state
    return complaint


@pytest.mark.parametrize("state", list(STATES))
def test_every_illegal_transition_is_refused(app, new_complaint, walk, people, state):
    complaint = _complaint_in(state, new_complaint, walk, people)
    illegal = [a for a in ACTIONS if (state, a) not in TRANSITIONS]
    assert illegal, "every state has moves it may not make"
    for action in illegal + ["delete", "reopen"]:
        with pytest.raises(TransitionError):
            services.transition(complaint, action, people["manager"], note="try")
        assert complaint.state == state


def test_final_states_have_no_way_out(app):
    for state in ("closed", "rejected", "withdrawn"):
        assert not [k for k in TRANSITIONS if k[0] == state]


def test_roles_are_enforced(app, new_complaint, people):
    complaint = new_complaint()
    with pytest.raises(TransitionError):
        services.transition(complaint, "acknowledge", people["staff"])
    with pytest.raises(TransitionError):  # rejecting is for the CS manager
        services.transition(complaint, "reject", people["csr"], note="not our fault")
    with pytest.raises(TransitionError):  # a reason is required
        services.transition(complaint, "reject", people["manager"], note=" ")
    services.transition(complaint, "reject", people["manager"], note="Product was off-spec on arrival")
    assert complaint.state == "rejected" and complaint.end_reason == "Product was off-spec on arrival"


def test_transitions_are_stamped_and_audited(app, new_complaint, people):
    complaint = new_complaint()
    when = datetime(2025, 6, 3, 14, 0, tzinfo=UTC)
    services.transition(complaint, "acknowledge", people["csr"], note="Called Mr Li", now=when)
    db.session.commit()
    row = db.session.scalar(db.select(ComplaintTransition).filter_by(action="acknowledge"))
    assert (row.from_state, row.to_state, row.user_id, row.at, row.note) == ("received", "acknowledged", people["csr"].id, when, "Called Mr Li")
    assert complaint.acknowledged_at == when
    audit = db.session.scalars(db.select(AuditEntry).filter_by(entity="cs_complaint_transition")).all()
    assert any(json.loads(a.changes).get("to_state") == [None, "acknowledged"] for a in audit)


def test_acknowledgement_due_in_one_working_day_across_a_holiday(app, new_complaint):
    complaint = new_complaint(received_at=datetime(2025, 9, 30, 15, 0, tzinfo=SH).astimezone(UTC))
    assert complaint.ack_due_at.astimezone(SH) == datetime(2025, 10, 9, 15, 0, tzinfo=SH)
    assert complaint.ack_status(datetime(2025, 10, 9, 15, 30, tzinfo=SH)) == "overdue"


def test_actions_need_a_root_cause_first(app, new_complaint, walk, people):
    complaint = new_complaint()
    walk(complaint, "investigating")
    with pytest.raises(TransitionError, match="root cause"):
        services.transition(complaint, "start_actions", people["csr"])


def test_closure_rules(app, new_complaint, walk, people):
    csr, manager = people["csr"], people["manager"]
    complaint = new_complaint()
    walk(complaint, "awaiting_effectiveness")
    extra = services.add_action(complaint, csr, kind="preventive", description="Add meter to calibration plan",
                                owner_id=people["csr2"].id, due_date=date(2025, 8, 1))
    db.session.commit()
    with pytest.raises(TransitionError, match="open"):
        services.transition(complaint, "close", manager)
    services.update_action(extra, people["csr2"], status="done", completion_note="In the plan")
    with pytest.raises(TransitionError, match="awaiting verification"):  # done is not verified
        services.transition(complaint, "close", manager)
    services.verify_action(extra, manager, accept=True, note="Seen in the calibration plan")
    with pytest.raises(TransitionError, match="effectiveness"):
        services.transition(complaint, "close", manager)
    with pytest.raises(services.ServiceError):
        services.evaluate(complaint, csr, text="Looks fine to me")
    assert complaint.effectiveness == ""
    services.evaluate(complaint, manager, text="Three months without short delivery")
    with pytest.raises(TransitionError):  # closing is the CS manager's
        services.transition(complaint, "close", csr)
    with pytest.raises(TransitionError, match="report has not been sent"):
        services.transition(complaint, "close", manager)
    services.transition(complaint, "close", manager, note="Customer asked for a phone call only")
    db.session.commit()
    assert complaint.state == "closed" and complaint.closed_at is not None
    assert complaint.closed_without_report_reason == "Customer asked for a phone call only"


def test_closed_complaint_cannot_be_changed(app, new_complaint, walk, people):
    complaint = new_complaint()
    walk(complaint, "closed")
    with pytest.raises(services.ServiceError):
        services.add_action(complaint, people["csr"], kind="corrective", description="late", due_date=date(2025, 9, 1))
    with pytest.raises(services.ServiceError):
        services.save_investigation(complaint, people["csr"], root_cause="changed")


def test_close_refused_in_the_browser_flow(client, login, new_complaint, walk, people):
    complaint = new_complaint()
    walk(complaint, "awaiting_effectiveness")
    services.add_action(complaint, people["csr"], kind="corrective", description="Retrain the loading crew",
                        owner_id=people["csr"].id, due_date=date(2025, 7, 1))
    db.session.commit()
    login(people["manager"])
    response = client.post(f"/complaints/{complaint.id}/transition/close", follow_redirects=True)
    assert "cannot be closed while 1 action(s) are open" in response.get_data(as_text=True)
    db.session.refresh(complaint)
    assert complaint.state == "awaiting_effectiveness"
    assert client.post(f"/complaints/{complaint.id}/transition/explode").status_code == 302
    db.session.refresh(complaint)
    assert complaint.state == "awaiting_effectiveness"


def test_record_complaint_through_the_form(client, login, customer, people):
    login(people["csr"])
    response = client.post("/complaints/new", data={"customer_id": customer.id, "title": "", "description": ""})
    assert response.status_code == 200 and "Please correct the marked fields." in response.get_data(as_text=True)
    response = client.post("/complaints/new", data={
        "customer_id": customer.id, "title": "Delay at berth 2", "category": "delay", "severity": "high",
        "received_at": "2025-06-03T10:00", "language": "en", "description": "Vessel waited 14 hours for berthing.",
        "owner_id": people["csr"].id,
    })
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Delay at berth 2" in page and "Acknowledge to customer" in page


def test_overdue_capa_action_on_the_owner_dashboard(client, login, new_complaint, walk, people):
    complaint = new_complaint()
    walk(complaint, "actions_in_progress")
    services.add_action(complaint, people["csr"], kind="preventive", description="Update the loading checklist",
                        owner_id=people["csr2"].id, due_date=date(2025, 7, 1))
    db.session.commit()
    assert [a.description for a in services.due_actions(people["csr2"], date(2025, 7, 2))] == ["Update the loading checklist"]
    assert services.due_actions(people["csr2"], date(2025, 6, 20)) == []
    with time_machine.travel(datetime(2025, 7, 3, 9, 0, tzinfo=SH), tick=False):
        login(people["csr2"])
        html = client.get("/").get_data(as_text=True)
    assert "My CAPA actions due" in html and "Update the loading checklist" in html and "overdue since 2025-07-01" in html


def test_the_dashboard_lists_the_first_due_actions_and_links_to_all(client, login, new_complaint, walk, people,
                                                                    dashboard_panel):
    """A CSR back from leave with a dozen actions due sees the soonest eight on the dashboard, the count, and a
    link to the whole list (the due list behind "My CAPA actions due within 7 days")."""
    complaint = new_complaint()
    walk(complaint, "actions_in_progress")
    for n in range(12):
        services.add_action(complaint, people["csr"], kind="preventive", description=f"Check hose {n:02d}",
                            owner_id=people["csr2"].id, due_date=date(2025, 6, 20) + timedelta(days=n))
    db.session.commit()
    assert len(services.due_actions(people["csr2"], date(2025, 7, 2))) == 12
    with time_machine.travel(datetime(2025, 7, 3, 9, 0, tzinfo=SH), tick=False):
        login(people["csr2"])
        panel = dashboard_panel('class="card panel-capa"')
        assert panel.count("Check hose") == 8 and "Check hose 07" in panel and "Check hose 08" not in panel
        assert 'href="/due/my-actions"' in panel and "All 12 of mine" in panel
        assert client.get("/due/my-actions").get_data(as_text=True).count("Check hose") == 12


def test_action_owner_may_complete_own_action(client, login, new_complaint, walk, people, make_user):
    owner = make_user("ops", "staff")
    complaint = new_complaint()
    walk(complaint, "actions_in_progress")
    action = services.add_action(complaint, people["csr"], kind="corrective", description="Fix the gauge",
                                 owner_id=owner.id, due_date=date(2025, 7, 1))
    db.session.commit()
    login(owner)
    url = f"/complaints/{complaint.id}/actions/{action.id}"
    response = client.post(url, data={"status": "done", "completion_note": ""})
    assert response.status_code == 200 and "completion note" in response.get_data(as_text=True)
    assert client.post(url, data={"status": "done", "completion_note": "Gauge replaced"}).status_code == 302
    db.session.refresh(action)
    assert action.status == "done"


def test_edit_complaint_until_it_is_finished(client, login, new_complaint, walk, people):
    complaint = new_complaint()
    login(people["csr"])
    assert client.get(f"/complaints/{complaint.id}/edit").status_code == 200
    r = client.post(f"/complaints/{complaint.id}/edit", data={
        "title": "Short delivery, 8 trucks", "category": "quantity", "severity": "critical", "language": "en",
        "description": "Updated", "owner_id": people["csr"].id, "restricted": "y",
    })
    assert r.status_code == 302
    db.session.refresh(complaint)
    assert (complaint.title, complaint.severity, complaint.restricted) == ("Short delivery, 8 trucks", "critical", True)
    walk(complaint, "closed")
    r = client.post(f"/complaints/{complaint.id}/edit", data={"title": "x", "category": "quantity", "description": "x"})
    assert r.status_code == 302
    db.session.refresh(complaint)
    assert complaint.title == "Short delivery, 8 trucks"
