"""CAPA actions are verified by someone other than their owner (ISO 10002 / 8D); the effectiveness check
waits for every action; closing without the report to the customer needs a recorded reason."""
from __future__ import annotations

from datetime import date

import pytest

from portal.blueprints.complaints import services
from portal.extensions import db


@pytest.fixture
def in_actions(new_complaint, walk, people):
    """A complaint in "actions in progress" with one open action owned by csr2."""
    complaint = new_complaint()
    walk(complaint, "investigating")
    services.save_investigation(complaint, people["csr"], root_cause="Meter not calibrated", cause_category="equipment")
    services.transition(complaint, "start_actions", people["csr"])
    action = services.add_action(complaint, people["csr"], kind="corrective", description="Recalibrate the bay 3 meter",
                                 owner_id=people["csr2"].id, due_date=date(2025, 7, 1))
    db.session.commit()
    return complaint, action


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_effectiveness_check_cannot_be_requested_with_actions_open(client, login, in_actions, people):
    complaint, action = in_actions
    login(people["csr"])
    response = client.post(f"/complaints/{complaint.id}/transition/request_check", follow_redirects=True)
    assert "1 action(s) are still open or awaiting verification" in _page(response)
    db.session.refresh(complaint)
    assert complaint.state == "actions_in_progress"


def test_owner_marks_done_but_cannot_verify_own_action(client, login, in_actions, people):
    complaint, action = in_actions
    url = f"/complaints/{complaint.id}/actions/{action.id}"
    login(people["csr2"])  # the action's owner
    assert client.post(url, data={"status": "done", "completion_note": "Meter calibrated"}).status_code == 302
    db.session.refresh(action)
    assert action.status == "done" and action.completed_by_id == people["csr2"].id
    page = _page(client.get(url))
    assert "Done, awaiting verification" in page and "Record verification" not in page
    response = client.post(f"{url}/verify", data={"ver-decision": "accept", "ver-note": "I checked it myself"})
    assert response.status_code == 200 and "someone other than its owner" in _page(response)
    db.session.refresh(action)
    assert action.status == "done" and action.verified_by_id is None
    # done is not enough for the effectiveness check
    client.post(f"/complaints/{complaint.id}/transition/request_check")
    db.session.refresh(complaint)
    assert complaint.state == "actions_in_progress"


def test_someone_else_marking_done_cannot_verify_either(app, in_actions, people):
    complaint, action = in_actions
    services.update_action(action, people["csr"], status="done", completion_note="Calibrated on the owner's behalf")
    for who in ("csr", "csr2"):
        with pytest.raises(services.ServiceError, match="someone other than its owner"):
            services.verify_action(action, people[who], accept=True)
    services.verify_action(action, people["manager"], accept=True, note="Certificate seen")
    assert action.status == "verified" and action.verified_by_id == people["manager"].id


def test_verification_by_another_user_then_effectiveness_check(client, login, in_actions, people):
    complaint, action = in_actions
    services.update_action(action, people["csr2"], status="done", completion_note="Meter calibrated")
    db.session.commit()
    login(people["csr"])
    detail = _page(client.get(f"/complaints/{complaint.id}"))
    assert "Verify" in detail
    url = f"/complaints/{complaint.id}/actions/{action.id}/verify"
    response = client.post(url, data={"ver-decision": "reject", "ver-note": ""})
    assert response.status_code == 200 and "Say what is missing" in _page(response)
    client.post(url, data={"ver-decision": "reject", "ver-note": "No calibration certificate attached"})
    db.session.refresh(action)
    assert action.status == "in_progress" and action.verification_note == "No calibration certificate attached"
    services.update_action(action, people["csr2"], status="done", completion_note="Certificate attached")
    db.session.commit()
    response = client.post(url, data={"ver-decision": "accept", "ver-note": "Certificate CAL-2025-118 seen"})
    assert response.status_code == 302
    db.session.refresh(action)
    assert action.status == "verified" and action.verified_by_id == people["csr"].id and action.verified_at is not None
    # a verified action is no longer the owner's to change
    with pytest.raises(services.ServiceError, match="verified"):
        services.update_action(action, people["csr2"], status="in_progress")
    client.post(f"/complaints/{complaint.id}/transition/request_check")
    db.session.refresh(complaint)
    assert complaint.state == "awaiting_effectiveness"


def test_owner_cannot_cancel_own_action(app, in_actions, people):
    complaint, action = in_actions
    with pytest.raises(services.ServiceError, match="other than its owner"):
        services.update_action(action, people["csr2"], status="cancelled", completion_note="Not needed")
    services.update_action(action, people["manager"], status="cancelled", completion_note="Duplicate of the preventive action")
    assert action.status == "cancelled" and complaint.unfinished_actions == []


def test_closing_needs_the_report_sent_or_a_reason(client, login, new_complaint, walk, people):
    complaint = new_complaint()
    walk(complaint, "awaiting_effectiveness")
    services.evaluate(complaint, people["manager"], text="No short delivery in three months")
    db.session.commit()
    login(people["manager"])
    page = _page(client.get(f"/complaints/{complaint.id}"))
    assert "closing without it needs the reason in the note" in page
    response = client.post(f"/complaints/{complaint.id}/transition/close", follow_redirects=True)
    assert "The report has not been sent to the customer" in _page(response)
    db.session.refresh(complaint)
    assert complaint.state == "awaiting_effectiveness"
    response = client.post(f"/complaints/{complaint.id}/transition/close",
                           data={"tr-note": "Customer asked for the findings by phone only"}, follow_redirects=True)
    db.session.refresh(complaint)
    assert complaint.state == "closed"
    assert complaint.closed_without_report_reason == "Customer asked for the findings by phone only"
    page = _page(response)
    assert "Closed without the report to the customer" in page and "by phone only" in page


def test_closing_after_the_report_was_sent_needs_no_reason(app, new_complaint, walk, people):
    complaint = new_complaint()
    walk(complaint, "awaiting_effectiveness")
    services.evaluate(complaint, people["manager"], text="Effective")
    services.send_report(complaint, people["csr"], recipient="stock@sinochem.example")
    services.transition(complaint, "close", people["manager"])
    assert complaint.state == "closed" and complaint.closed_without_report_reason == ""
