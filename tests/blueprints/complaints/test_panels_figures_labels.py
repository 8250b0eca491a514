"""What users see: the dashboard's live complaint work, inquiry on-time figures that do not count an
inquiry late before it is due, states and steps in words (never codes), 8D dates in the portal's time zone."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import time_machine
from pypdf import PdfReader

from portal.blueprints.complaints import services
from portal.blueprints.complaints.models import CapaAction, Complaint, Inquiry
from portal.blueprints.moc.models import MocRequest
from portal.extensions import db
from portal.timeutil import local_today, utcnow


def _visible(response) -> str:
    """The page's text as a reader sees it (tags and attribute values left out)."""
    return re.sub(r"<[^>]*>", " ", response.get_data(as_text=True))


# --- dashboard (item 18) ------------------------------------------------------------------------

def test_csr_dashboard_shows_own_open_complaints_with_acknowledgement_due(client, login, new_complaint, people):
    mine = new_complaint(title="Short delivery at bay 3", received_at=utcnow() - timedelta(hours=1), owner_id=people["csr"].id)
    new_complaint(title="Somebody else's complaint", owner_id=people["csr2"].id, user=people["csr2"])
    login(people["csr"])
    page = _visible(client.get("/"))
    assert "My open complaints" in page and "Short delivery at bay 3" in page
    assert "Somebody else's complaint" not in page
    due = mine.ack_due_at
    from portal.i18n import fmt_datetime

    assert f"Acknowledge by {fmt_datetime(due)}" in page


def test_manager_dashboard_lists_complaints_waiting_for_the_effectiveness_check(client, login, new_complaint, walk, people):
    waiting = new_complaint(title="Berth delay for MT Ocean Pearl")
    walk(waiting, "awaiting_effectiveness")
    login(people["csr2"])
    assert "Effectiveness checks waiting" not in _visible(client.get("/"))
    client.post("/auth/logout")
    login(people["manager"])
    page = _visible(client.get("/"))
    assert "Effectiveness checks waiting" in page and "Berth delay for MT Ocean Pearl" in page


def test_capa_actions_due_in_the_next_seven_days_are_on_the_dashboard(client, login, new_complaint, walk, people):
    complaint = new_complaint()
    walk(complaint, "actions_in_progress")
    today = local_today()
    for text, due in (("Due in five days", today + timedelta(days=5)), ("Due in ten days", today + timedelta(days=10)),
                      ("Overdue since yesterday", today - timedelta(days=1))):
        services.add_action(complaint, people["csr"], kind="preventive", description=text, owner_id=people["csr2"].id,
                            due_date=due)
    db.session.commit()
    login(people["csr2"])
    page = _visible(client.get("/"))
    assert "Due in five days" in page and "Overdue since yesterday" in page
    assert "Due in ten days" not in page


# --- inquiry on time (item 13) ------------------------------------------------------------------

def test_open_inquiry_not_yet_due_is_open_not_late(app, customer, people):
    received = datetime(2025, 6, 3, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai: due Wednesday 09:00
    inquiry = services.create_inquiry(customer_id=customer.id, channel="email", subject="Stock report", question="q",
                                      received_at=received, language="en", user=people["csr"])
    due_day = inquiry.due_at
    assert inquiry.on_time(due_day - timedelta(hours=2)) == "open"  # due today, not late yet
    assert inquiry.on_time(due_day + timedelta(minutes=1)) == "no"
    services.answer_inquiry(inquiry, answer="a", answered_at=due_day - timedelta(hours=1), user=people["csr"])
    assert inquiry.on_time(due_day + timedelta(days=3)) == "yes"
    assert Inquiry.on_time_label("open") == "open"
    rows = services.inquiry_figures([inquiry], now=due_day + timedelta(days=3))
    assert rows[0]["on_time_pct"] == 100 and rows[0]["open"] == 0


def test_figures_do_not_count_an_open_inquiry_as_late_before_it_is_due(client, login, customer, people):
    services.create_inquiry(customer_id=customer.id, channel="email", subject="Tank availability", question="q",
                            received_at=utcnow() - timedelta(minutes=30), language="en", user=people["csr"])
    db.session.commit()
    row = services.inquiry_figures()[0]
    assert row["count"] == 1 and row["open"] == 1 and row["on_time_pct"] is None
    login(people["csr"])
    for url in ("/complaints/inquiries/figures", "/complaints/figures"):
        page = _visible(client.get(url))
        assert "Open, not yet due" in page and "0.0 %" not in page, url


# --- states and steps in words (item 15) ----------------------------------------------------------

def test_states_are_words_on_every_complaint_page(client, login, new_complaint, walk, people):
    complaint = new_complaint(title="Meter drift")
    walk(complaint, "awaiting_effectiveness")
    login(people["manager"])
    for url in (f"/complaints/{complaint.id}", "/complaints/", "/complaints/?state=awaiting_effectiveness", "/",
                f"/complaints/{complaint.id}/actions/{complaint.actions[0].id}"):
        page = _visible(client.get(url))
        for code in ("awaiting_effectiveness", "actions_in_progress", "in_progress", "request_check"):
            assert code not in page, (url, code)
    assert "Awaiting effectiveness check" in _visible(client.get(f"/complaints/{complaint.id}"))
    zh = _visible(client.get(f"/complaints/{complaint.id}", headers={"Accept-Language": "zh-CN"}))
    assert "待效果验证" in zh and "awaiting_effectiveness" not in zh


def test_refused_step_is_named_in_words(client, login, new_complaint, people):
    complaint = new_complaint()
    login(people["csr"])
    page = _visible(client.post(f"/complaints/{complaint.id}/transition/request_check", follow_redirects=True))
    assert "“Request effectiveness check” is not possible while the complaint is “Received”" in page
    assert "request_check" not in page


def test_state_label_helpers_for_other_modules(app):
    assert Complaint.state_label("awaiting_effectiveness") == "Awaiting effectiveness check"
    assert CapaAction.state_label("verified") == "Verified"
    assert CapaAction.state_label("done") == "Done, awaiting verification"
    assert MocRequest.state_label("implemented") == "Implemented"
    assert Inquiry.state_label("due_today") == "due today"


# --- 8D report dates (item 12) --------------------------------------------------------------------

def test_8d_report_prints_dates_in_the_portal_time_zone(app, new_complaint, walk, people):
    # 17:30 UTC on 3 June is 01:30 on 4 June in Shanghai; 16:45 UTC on 30 September is 00:45 on 1 October
    complaint = new_complaint(received_at=datetime(2025, 6, 3, 17, 30, tzinfo=UTC))
    walk(complaint, "awaiting_effectiveness")
    services.evaluate(complaint, people["manager"], text="Effective", now=datetime(2025, 9, 30, 16, 45, tzinfo=UTC))
    db.session.commit()
    with time_machine.travel(datetime(2025, 9, 30, 17, 0, tzinfo=UTC), tick=False):
        data = services.render_report(complaint)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "2025-06-04 01:30" in text and "2025-06-03" not in text
    assert "2025-10-01 00:45" in text and "2025-09-30" not in text
    assert "已验证 / verified" in text  # the action's status in words


# --- similar complaints while typing (item 10) -----------------------------------------------------

def test_similar_panel_asks_on_every_change_of_the_text_and_replaces_older_requests(client, login, people, customer):
    login(people["csr"])
    html = client.get("/complaints/new").get_data(as_text=True)
    panel = re.search(r'<div id="similar-panel"[^>]*>', html).group(0)
    assert 'hx-sync="this:replace"' in panel
    assert "input changed delay:400ms from:#description" in panel and "keyup" not in panel
    # opened directly, the fragment endpoint is the page it belongs to
    assert client.get("/complaints/similar?title=x").status_code == 302



def test_the_inquiries_panel_lists_exactly_those_due_today_or_overdue(app, customer, people):
    """The panel reads only the inquiries due before the local midnight ending today, and shows the same ones as
    the inquiries' own status finds (overdue, or due later today), soonest first."""
    from datetime import time

    from portal.blueprints.complaints.panels import my_inquiries
    from portal.timeutil import to_local, tz

    with time_machine.travel(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), tick=False):
        now = utcnow()
        midnight = datetime.combine(to_local(now).date() + timedelta(days=1), time(0), tzinfo=tz())
        for n, due in enumerate((now - timedelta(days=2), now - timedelta(minutes=1), now + timedelta(minutes=1),
                                 midnight - timedelta(seconds=1), midnight, midnight + timedelta(days=3))):
            inquiry = services.create_inquiry(customer_id=customer.id, channel="email", subject=f"Question {n}",
                                              question="?", received_at=now - timedelta(days=3), language="en",
                                              user=people["csr"], assigned_to_id=people["csr"].id)
            inquiry.due_at = due
        db.session.commit()
        every = db.session.scalars(db.select(Inquiry).filter_by(assigned_to_id=people["csr"].id)
                                   .order_by(Inquiry.due_at)).all()
        expected = [(i.id, i.status(now)) for i in every if i.status(now) in ("due_today", "overdue")]
        assert [(i.id, status) for i, status in my_inquiries(people["csr"])["items"]] == expected
        assert [status for _id, status in expected] == ["overdue", "overdue", "due_today", "due_today"]
