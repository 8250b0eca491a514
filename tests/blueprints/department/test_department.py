"""Portfolios, cover during absence, the acting manager and the workload (issue 20)."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from openpyxl import load_workbook

from portal.audit import AuditEntry
from portal.blueprints.complaints import services as cs
from portal.blueprints.complaints.models import CapaAction, Complaint, Inquiry, Investigation
from portal.blueprints.customers.models import Customer
from portal.blueprints.department import services
from portal.blueprints.department.models import ActingManager, Handover, Notice, PortfolioAssignment, responsible_csr
from portal.extensions import db

# Wednesday 2026-11-04 10:00 in Shanghai: an ordinary working week (no holiday around it).
MONDAY = date(2026, 11, 2)


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock local time (Asia/Shanghai, UTC+8) on ``day``, as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def login(login, client):
    """Sign in as another user (signing the previous one out first)."""

    def switch(user):
        client.post("/auth/logout")
        return login(user)

    return switch


@pytest.fixture
def team(people):
    return {name: people[name] for name in ("csr", "csr2", "manager", "staff")} | {
        "csr3": people._make_user("csr3", "csr")}


def make_customer(code: str, csr=None) -> Customer:
    c = Customer(code=code, name_en=f"{code} Trading", name_zh="", csr_id=csr.id if csr else None)
    db.session.add(c)
    db.session.commit()
    return c


def inquiry(customer, user, *, received: datetime, assigned=None, answered: datetime | None = None) -> Inquiry:
    i = cs.create_inquiry(customer_id=customer.id, channel="email", subject=f"Tank question {customer.code}",
                          question="Which tank?", received_at=received, language="en", user=user,
                          assigned_to_id=assigned.id if assigned else None)
    if answered is not None:
        cs.answer_inquiry(i, answer="T-101", answered_at=answered, user=user)
    db.session.commit()
    return i


def complaint(customer, user, *, owner=None, restricted=False, received=None) -> Complaint:
    c = cs.create_complaint(customer_id=customer.id, title=f"Short delivery {customer.code}", category="quantity",
                            description="2 t short", user=user, owner_id=owner.id if owner else None,
                            restricted=restricted, received_at=received)
    db.session.commit()
    return c


# --- portfolios: defaulting and history ------------------------------------------------------------

def test_new_inquiries_and_complaints_default_to_the_responsible_csr(client, login, team):
    customer = make_customer("VITOLAP", team["csr2"])
    i = inquiry(customer, team["csr"], received=at(MONDAY))
    c = complaint(customer, team["csr"])
    assert i.assigned_to_id == team["csr2"].id
    assert c.owner_id == team["csr2"].id
    # Named explicitly, the named person keeps it.
    assert inquiry(customer, team["csr"], received=at(MONDAY), assigned=team["csr"]).assigned_to_id == team["csr"].id
    # Through the page: the assignee left at "—" goes to the customer's CSR.
    login(team["csr"])
    response = client.post("/complaints/inquiries/new", data={
        "customer_id": customer.id, "channel": "email", "language": "en", "received_at": "2026-11-02T10:00",
        "subject": "Ullage of T-12", "question": "What is the ullage?", "assigned_to_id": 0})
    assert response.status_code == 302
    made = db.session.scalar(db.select(Inquiry).filter_by(subject="Ullage of T-12"))
    assert made.assigned_to_id == team["csr2"].id
    # A customer without a CSR: the CSR who logs it, as before.
    lonely = make_customer("LONELY")
    assert inquiry(lonely, team["csr"], received=at(MONDAY)).assigned_to_id == team["csr"].id


def test_history_keeps_who_was_responsible_when(team):
    with time_machine.travel(at(MONDAY), tick=False):
        customer = make_customer("WILMAR", team["csr"])
    with time_machine.travel(at(MONDAY + timedelta(days=3)), tick=False):
        customer.csr_id = team["csr2"].id  # edited on the customer's form, say
        db.session.commit()
    assert responsible_csr(customer, at(MONDAY + timedelta(days=1))) == team["csr"]
    assert responsible_csr(customer, at(MONDAY + timedelta(days=4))) == team["csr2"]
    assert responsible_csr(customer) == team["csr2"]
    assert responsible_csr(customer, at(MONDAY - timedelta(days=1))) is None
    rows = services.history(customer)
    assert [(r.user.username, r.ends_at is None) for r in rows] == [("csr2", True), ("csr", False)]


# --- reassigning a portfolio ---------------------------------------------------------------------

def test_reassigning_moves_open_work_and_nothing_closed(team, request_ctx):
    csr, csr2, manager = team["csr"], team["csr2"], team["manager"]
    customer = make_customer("SINOCHEM", csr)
    other = make_customer("TRAFIG", csr)
    open_inquiry = inquiry(customer, csr, received=at(MONDAY))
    answered = inquiry(customer, csr, received=at(MONDAY), answered=at(MONDAY, 11))
    other_inquiry = inquiry(other, csr, received=at(MONDAY))
    open_complaint = complaint(customer, csr)
    closed = complaint(customer, csr)
    cs.transition(closed, "withdraw", csr, note="Customer withdrew")
    db.session.add(Investigation(complaint=open_complaint, root_cause="Meter drift"))
    open_complaint.state = "actions_in_progress"
    action = CapaAction(complaint=open_complaint, kind="corrective", description="Calibrate the meter", owner_id=csr.id)
    done = CapaAction(complaint=open_complaint, kind="preventive", description="Quarterly plan", owner_id=csr.id,
                      status="verified")
    db.session.add_all([action, done])
    db.session.commit()

    handover = services.reassign([customer], csr2.id, user=manager, note="Li leaves for the Tianjin terminal")
    db.session.commit()

    assert customer.csr_id == csr2.id and other.csr_id == csr.id
    assert db.session.get(Inquiry, open_inquiry.id).assigned_to_id == csr2.id
    assert db.session.get(Inquiry, answered.id).assigned_to_id == csr.id       # answered: stays
    assert db.session.get(Inquiry, other_inquiry.id).assigned_to_id == csr.id  # another customer: stays
    assert db.session.get(Complaint, open_complaint.id).owner_id == csr2.id
    assert db.session.get(Complaint, closed.id).owner_id == csr.id             # finished: stays
    assert db.session.get(CapaAction, action.id).owner_id == csr2.id
    assert db.session.get(CapaAction, done.id).owner_id == csr.id              # verified: stays
    kinds = sorted((i.kind, i.ref) for i in handover.items)
    assert kinds == sorted([("customer", "SINOCHEM"), ("inquiry", open_inquiry.ref), ("complaint", open_complaint.ref),
                            ("capa_action", f"{open_complaint.ref}/{action.id}")])
    history = db.session.scalar(db.select(PortfolioAssignment).filter_by(customer_id=customer.id, ends_at=None))
    assert history.user_id == csr2.id and history.handover_id == handover.id
    told = {n.user_id for n in db.session.scalars(db.select(Notice).filter_by(kind="handover"))}
    assert told == {csr.id, csr2.id}


def test_portfolio_pages(client, login, team):
    customer = make_customer("HMCHEM", team["csr"])
    inquiry(customer, team["csr"], received=at(MONDAY))
    login(team["manager"])
    response = client.post("/department/portfolios", data={"customer_ids": [customer.id], "to_user_id": team["csr2"].id,
                                                           "note": "rebalancing"})
    assert response.status_code == 302
    handover = db.session.scalar(db.select(Handover))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "HMCHEM" in page and "INQ-" in page
    assert client.get(f"/department/customers/{customer.id}").status_code == 200
    assert handover.to_user_id == team["csr2"].id
    login(team["csr"])
    assert client.post("/department/portfolios", data={"customer_ids": [customer.id], "to_user_id": team["csr"].id}).status_code == 403
    mine = client.get("/department/").get_data(as_text=True)
    assert "No customers in this portfolio." in mine


# --- absence and cover ---------------------------------------------------------------------------

@pytest.fixture
def absence(team):
    """csr2 (customers VITOLAP, WILMAR) away Wednesday to Friday; csr covers VITOLAP and all, csr3 WILMAR."""
    vitol = make_customer("VITOLAP", team["csr2"])
    wilmar = make_customer("WILMAR", team["csr2"])
    with time_machine.travel(at(MONDAY), tick=False):
        a = services.record_absence(team["csr2"], starts_on=MONDAY + timedelta(days=2), ends_on=MONDAY + timedelta(days=4),
                                    reason="leave", cover_id=team["csr"].id, customer_covers={wilmar.id: team["csr3"].id},
                                    handover_note="MT Ocean Pearl ETA moved to Thursday", user=team["csr2"])
        db.session.commit()
    return {"absence": a, "vitol": vitol, "wilmar": wilmar}


def test_cover_starts_and_ends_by_the_clock(client, login, team, absence):
    vitol = absence["vitol"]
    with time_machine.travel(at(MONDAY), tick=False):
        open_one = inquiry(vitol, team["csr2"], received=at(MONDAY))
    csr2 = team["csr2"].id
    with time_machine.travel(at(MONDAY + timedelta(days=1)), tick=False):  # the day before
        login(team["csr"])
        assert "Covering for" not in client.get("/").get_data(as_text=True)
        assert client.get(f"/department/?csr={csr2}").status_code == 403
    with time_machine.travel(at(MONDAY + timedelta(days=2)), tick=False):  # first day
        login(team["csr"])
        page = client.get("/").get_data(as_text=True)
        assert "Covering for Csr2" in page and open_one.ref in page
        assert "MT Ocean Pearl ETA moved to Thursday" in page           # the handover note on the first day
        assert "WILMAR" not in page.split("Covering for")[1]            # WILMAR is csr3's to cover
        assert client.get(f"/department/?csr={csr2}").status_code == 200
    with time_machine.travel(at(MONDAY + timedelta(days=3)), tick=False):  # second day: no note
        login(team["csr"])
        page = client.get("/").get_data(as_text=True)
        assert "Covering for Csr2" in page and "MT Ocean Pearl" not in page
    with time_machine.travel(at(MONDAY + timedelta(days=5)), tick=False):  # back
        login(team["csr"])
        assert "Covering for" not in client.get("/").get_data(as_text=True)
        assert client.get(f"/department/?csr={csr2}").status_code == 403


def test_notices_and_escalations_go_to_the_cover_and_back(team, absence):
    vitol, wilmar = absence["vitol"], absence["wilmar"]
    csr, csr2, csr3 = team["csr"], team["csr2"], team["csr3"]
    with time_machine.travel(at(MONDAY), tick=False):
        late_vitol = inquiry(vitol, csr2, received=at(MONDAY))     # due Tuesday 10:00
        late_wilmar = inquiry(wilmar, csr2, received=at(MONDAY))
    with time_machine.travel(at(MONDAY + timedelta(days=2), 11), tick=False):
        sent = services.escalate_due()
        db.session.commit()
        assert {(n.record_key, n.user_id, n.intended_for_id) for n in sent} == {
            (f"inquiry:{late_vitol.id}", csr.id, csr2.id), (f"inquiry:{late_wilmar.id}", csr3.id, csr2.id)}
        assert services.escalate_due() == []  # once per recipient
        direct = services.notify(csr2, "cover", {"absent": "x", "from": "a", "to": "b"}, customer_id=vitol.id)
        assert direct.user_id == csr.id
    with time_machine.travel(at(MONDAY + timedelta(days=7), 11), tick=False):  # csr2 is back
        later = inquiry(vitol, csr2, received=at(MONDAY + timedelta(days=4)))  # Friday, due Monday 10:00
        sent = services.escalate_due()
        db.session.commit()
        assert (f"inquiry:{later.id}", csr2.id, None) in {(n.record_key, n.user_id, n.intended_for_id) for n in sent}
        assert services.notify(csr2, "cover", {}, customer_id=vitol.id).user_id == csr2.id


def test_cover_sees_records_only_as_restricted_rules_allow(client, login, team, absence):
    vitol = absence["vitol"]
    with time_machine.travel(at(MONDAY), tick=False):
        plain = complaint(vitol, team["csr2"], owner=team["csr2"])
        secret = complaint(vitol, team["csr2"], owner=team["csr2"], restricted=True)
        named = complaint(vitol, team["csr2"], owner=team["csr2"], restricted=True)
        db.session.add(CapaAction(complaint=named, kind="corrective", description="Retrain", owner_id=team["csr"].id))
        db.session.commit()
    with time_machine.travel(at(MONDAY + timedelta(days=3)), tick=False):
        login(team["csr"])
        page = client.get(f"/department/?csr={team['csr2'].id}").get_data(as_text=True)
        assert plain.ref in page and named.ref in page
        assert secret.ref not in page and "1 restricted record(s) you may not open." in page
        assert client.get(f"/complaints/{plain.id}").status_code == 200
        assert client.get(f"/complaints/{secret.id}").status_code == 403
        assert client.get(f"/complaints/{named.id}").status_code == 200
    with time_machine.travel(at(MONDAY + timedelta(days=8)), tick=False):
        login(team["csr"])
        assert client.get(f"/department/?csr={team['csr2'].id}").status_code == 403
        assert client.get(f"/complaints/{secret.id}").status_code == 403


def test_absence_pages_and_rules(client, login, team, request_ctx):
    make_customer("VITOLAP", team["csr2"])
    login(team["csr2"])
    response = client.post("/department/absences", data={
        "user_id": team["csr2"].id, "starts_on": "2026-12-07", "ends_on": "2026-12-04", "reason": "leave",
        "cover_id": team["csr"].id})
    assert "The end cannot be before the start." in response.get_data(as_text=True)
    response = client.post("/department/absences", data={
        "user_id": team["csr2"].id, "starts_on": "2026-12-07", "ends_on": "2026-12-08", "reason": "leave", "cover_id": 0})
    assert "Name a cover for all customers or for each customer." in response.get_data(as_text=True)
    response = client.post("/department/absences", data={
        "user_id": team["csr2"].id, "starts_on": "2026-12-07", "ends_on": "2026-12-08", "reason": "sick",
        "cover_id": team["csr"].id, "handover_note": "Nothing urgent"})
    assert response.status_code == 302
    assert "Nothing urgent" in client.get("/department/absences").get_data(as_text=True)


# --- the acting manager --------------------------------------------------------------------------

def _procedure(author):
    from portal.blueprints.knowledge import services as kb

    page = kb.create_page(kind="procedure", title=f"Month-end dip by {author.username}", body="Dip every tank.",
                          user=author, owner_department="CSD")
    kb.submit_for_review(page, author)
    db.session.commit()
    return page


def test_acting_manager_holds_the_approvals_only_during_the_period(client, login, team):
    manager, csr, csr2 = team["manager"], team["csr"], team["csr2"]
    written_by_csr2 = _procedure(csr2)
    written_by_csr = _procedure(csr)
    login(manager)
    response = client.post("/department/acting", data={"deputy_id": csr.id, "starts_on": "2026-11-04",
                                                      "ends_on": "2026-11-05", "note": "Manager at the Ningbo audit"})
    assert response.status_code == 302
    with time_machine.travel(at(MONDAY + timedelta(days=1)), tick=False):  # the day before: a CSR as ever
        login(csr)
        assert not csr.has_role("cs_manager")
        assert client.post(f"/knowledge/p/{written_by_csr2.slug}/approve", data={"change": "minor"}).status_code == 403
    with time_machine.travel(at(MONDAY + timedelta(days=2)), tick=False):
        login(csr)
        assert csr.has_role("cs_manager") and csr.is_manager
        assert "You hold the approvals of Manager" in client.get("/").get_data(as_text=True)
        response = client.post(f"/knowledge/p/{written_by_csr2.slug}/approve", data={"change": "minor"})
        assert response.status_code == 302
        db.session.expire_all()
        assert written_by_csr2.current_revision.approved_by_id == csr.id
        entry = db.session.scalar(db.select(AuditEntry).filter_by(entity="kb_revision", action="update")
                                  .order_by(AuditEntry.id.desc()).limit(1))
        assert entry.actor == "csr (acting for manager)" and entry.user_id == csr.id
        # Two-person rule: not what they wrote themselves.
        response = client.post(f"/knowledge/p/{written_by_csr.slug}/approve", data={"change": "minor"}, follow_redirects=True)
        assert "you cannot approve it" in response.get_data(as_text=True)
        db.session.expire_all()
        assert written_by_csr.current_revision is None
        # The audit log names the act in the reader's words, and filtering by the user finds it.
        login(manager)
        log = client.get("/admin/audit?user=csr").get_data(as_text=True)
        assert "csr (acting for manager)" in log
    with time_machine.travel(at(MONDAY + timedelta(days=4)), tick=False):  # ended by itself
        login(csr)
        assert not csr.has_role("cs_manager")
        assert client.post(f"/knowledge/p/{written_by_csr.slug}/approve", data={"change": "minor"}).status_code == 403
    # Ordinary acts of the acting manager are their own.
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).filter(
        AuditEntry.actor == "csr (acting for manager)", AuditEntry.entity == "kb_page", AuditEntry.action == "insert")) == 0


def test_acting_manager_cannot_close_their_own_complaint(team):
    from portal.blueprints.department.models import ActingManager

    manager, csr = team["manager"], team["csr"]
    customer = make_customer("SINOCHEM", csr)
    own = complaint(customer, csr)
    other = complaint(customer, csr, owner=team["csr2"])
    for c in (own, other):
        c.state = "actions_in_progress"
    db.session.add(ActingManager(manager_id=manager.id, deputy_id=csr.id, starts_at=at(MONDAY),
                                 ends_at=at(MONDAY + timedelta(days=3))))
    db.session.commit()
    with time_machine.travel(at(MONDAY + timedelta(days=1)), tick=False):
        with pytest.raises(services.ServiceError):
            cs.evaluate(own, csr, text="Works")
        cs.evaluate(other, csr, text="No recurrence in 3 months")
        assert other.evaluated_by_id == csr.id
        # the manager themself may, as before
        cs.evaluate(own, manager, text="Checked")
    with time_machine.travel(at(MONDAY + timedelta(days=4)), tick=False):
        with pytest.raises(services.ServiceError):
            cs.evaluate(other, csr, text="again")


def test_only_the_manager_names_an_acting_manager(client, login, team):
    login(team["csr"])
    response = client.post("/department/acting", data={"deputy_id": team["csr2"].id, "starts_on": "2026-11-04",
                                                      "ends_on": "2026-11-05"})
    assert response.status_code == 403
    assert client.get("/department/acting").status_code == 200


# --- workload ------------------------------------------------------------------------------------

def test_workload_counts_match_the_lists_and_the_export(client, login, team, absence):
    csr = team["csr"]
    customer = make_customer("SINOCHEM", csr)
    with time_machine.travel(at(MONDAY + timedelta(days=3)), tick=False):  # Thursday
        inquiry(customer, csr, received=at(MONDAY))                                            # open, overdue, 3 days old
        inquiry(customer, csr, received=at(MONDAY + timedelta(days=3), 9))                     # open, today
        inquiry(customer, csr, received=at(MONDAY), answered=at(MONDAY, 15))                   # in one working day
        inquiry(customer, csr, received=at(MONDAY), answered=at(MONDAY + timedelta(days=2)))   # late
        complaint(customer, csr, received=at(MONDAY - timedelta(days=10)))                     # 13 days, ack overdue
        login(team["manager"])
        page = client.get("/department/workload").get_data(as_text=True)
        row = page.split('data-csr="csr"')[1].split("</tr>")[0]
        cells = [c.split(">")[-1] for c in row.split("</td>")[1:-1]]
        # inquiries, complaints, CAPA, ages 0-1, 2-7, 8+, overdue
        assert cells[:7] == ["2", "1", "0", "1", "1", "1", "2"]
        assert "1 / 2 (50 %)" in row
        assert "Csr" in page.split('data-csr="csr2"')[1].split("</tr>")[0]  # csr2's cover in force
        listed = client.get(f"/department/workload?csr={csr.id}").get_data(as_text=True)
        assert listed.count('<tr class="item">') == 3
        xlsx = client.get("/department/workload.xlsx")
        assert xlsx.status_code == 200
        wb = load_workbook(io.BytesIO(xlsx.data))
        summary, items = wb.worksheets
        line = next(r for r in summary.iter_rows(values_only=True) if r[0] == "Csr")
        assert list(line[1:8]) == [2, 1, 0, 1, 1, 1, 2] and line[8:10] == (2, 1)
        assert sum(1 for r in items.iter_rows(min_row=2, values_only=True) if r[0] == "Csr") == sum(line[1:4])
    login(team["csr"])
    assert client.get("/department/workload").status_code == 403


def test_ending_an_absence_or_an_acting_period_early_gives_everything_back(client, login, team, absence):
    a = absence["absence"]
    with time_machine.travel(at(MONDAY + timedelta(days=3)), tick=False):  # Thursday, the second day
        login(team["csr2"])
        assert client.post(f"/department/absences/{a.id}/cancel").status_code == 302
        db.session.expire_all()
        assert a.ends_on == MONDAY + timedelta(days=2) and a.cancelled_at is None  # Wednesday stays on record
        assert services.covering_for(team["csr"]) == []
        assert services.stand_in(team["csr2"]).id == team["csr2"].id
        login(team["manager"])
        client.post("/department/acting", data={"deputy_id": team["csr"].id, "starts_on": "2026-11-05",
                                                "ends_on": "2026-11-10"})
        assert team["csr"].has_role("cs_manager")
        period = db.session.scalar(db.select(ActingManager))
        assert client.post(f"/department/acting/{period.id}/end").status_code == 302
        assert not team["csr"].has_role("cs_manager")


def test_other_modules_add_their_open_work_to_my_customers(client, login, team):
    from portal.blueprints.department import models

    customer = make_customer("SINOCHEM", team["csr"])

    def orders(customer_ids, viewer, now):
        return [{"customer_id": customer_ids[0], "label": "Order", "ref": "ORD-2026-0012", "title": "Gasoil to T-12",
                 "due": None, "overdue": False, "endpoint": "customers.detail", "args": {"customer_id": customer.id}}]

    models.register_customer_lines(orders)
    try:
        login(team["csr"])
        page = client.get("/department/").get_data(as_text=True)
        assert "Order: " in page and "ORD-2026-0012 Gasoil to T-12" in page
    finally:
        models.CUSTOMER_LINE_SOURCES.remove(orders)


def test_mail_and_escalations_reach_the_cover_while_away_and_the_csr_after(team, absence):
    """The outbox addresses a user through the cover while they are away (per customer when the absence
    names one); the department's jobs escalate at due time and e-mail each notice to whom it reached."""
    from portal.jobs import JOBS
    from portal.outbox import OutboxMessage, queue_message

    csr, csr2, csr3 = team["csr"], team["csr2"], team["csr3"]
    for user in (csr, csr2, csr3):
        user.email = f"{user.username}@terminal.example"
    db.session.commit()
    wilmar = absence["wilmar"]
    with time_machine.travel(at(MONDAY), tick=False):
        late = inquiry(wilmar, csr2, received=at(MONDAY))                  # due Tuesday 10:00
    content = {"notice_text": lambda: "Tank T-204 ready", "path": "/"}

    def to(record=None):
        [message] = queue_message(csr2, "department_notice", content, kind="department", record=record)
        return message.to_address

    with time_machine.travel(at(MONDAY + timedelta(days=3), 11), tick=False):  # Thursday: csr2 away
        assert to() == "csr@terminal.example"                               # the cover for all
        assert to(late) == "csr3@terminal.example"                          # WILMAR's own cover
        now = at(MONDAY + timedelta(days=3), 11)
        JOBS["department.escalate_due"].fn(now)
        JOBS["department.mail_notices"].fn(now)
        db.session.commit()
        mailed = list(db.session.scalars(db.select(OutboxMessage).filter_by(kind="department")
                                         .filter(OutboxMessage.record_key == f"inquiry:{late.id}")))
        assert [m.to_address for m in mailed] == ["csr3@terminal.example"]
        assert late.ref in mailed[0].body_text and "past its due time" in mailed[0].body_text
        JOBS["department.mail_notices"].fn(now)                              # each notice is mailed once
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).filter(
            OutboxMessage.record_key == f"inquiry:{late.id}")) == 1
    with time_machine.travel(at(MONDAY + timedelta(days=7), 11), tick=False):  # back the next Monday
        assert to() == "csr2@terminal.example" and to(late) == "csr2@terminal.example"
