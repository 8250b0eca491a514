"""Review meetings: carry-over of open actions, pre-read pack, minutes PDF, circulation, confirmation, cadence."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from portal.blueprints.complaints import services as cs
from portal.blueprints.meetings import services
from portal.blueprints.meetings.models import ReviewCirculation
from portal.extensions import db
from portal.services import ServiceError

pytestmark = pytest.mark.usefixtures("request_ctx")  # services raise translated messages


def _meeting(customer, people, d: date, **kw):
    m = services.create_meeting(customer_id=customer.id, meeting_date=d, user=people["csr"], **kw)
    db.session.commit()
    return m


def test_open_actions_carry_over_until_closed(app, customer, people):
    q1 = _meeting(customer, people, date(2025, 3, 20))
    keep = services.add_action(q1, description="Send monthly variance analysis per tank", owner_id=people["csr"].id,
                               due_date=date(2025, 4, 30))
    done = services.add_action(q1, description="Customer to update nomination template", owner_name="Ms Tan (Vitol)")
    services.close_action(done, meeting=q1, note="Template received")
    db.session.commit()

    q2 = _meeting(customer, people, date(2025, 6, 19))
    assert q2.period_start == date(2025, 3, 20) and q2.period_end == date(2025, 6, 19)
    assert services.carried_over(q2) == [keep]
    new = services.add_action(q2, description="Review berth window for barges", owner_id=people["csr"].id)
    services.close_action(keep, meeting=q2, note="Now sent with the monthly report")
    db.session.commit()

    q3 = _meeting(customer, people, date(2025, 9, 18))
    assert services.carried_over(q3) == [new]
    assert keep in services.carried_over(q2)  # shown as closed at the meeting that closed it
    # another customer's actions never appear
    from portal.blueprints.customers.models import Customer

    other = Customer(code="TRAFIG", name_en="Trafigura Pte Ltd")
    db.session.add(other)
    db.session.commit()
    assert services.carried_over(_meeting(other, people, date(2025, 9, 18))) == []


def test_carry_over_on_the_meeting_page(client, login, customer, people):
    q1 = _meeting(customer, people, date(2025, 3, 20))
    services.add_action(q1, description="Install second sampling point on T-204", owner_id=people["csr"].id)
    db.session.commit()
    q2 = _meeting(customer, people, date(2025, 6, 19))
    login(people["csr"])
    html = client.get(f"/meetings/{q2.id}").get_data(as_text=True)
    assert "Actions carried over" in html and "Install second sampling point on T-204" in html


def test_preread_pack_with_sla_hit_rate(client, login, customer, people):
    sh = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    a = cs.create_inquiry(customer_id=customer.id, channel="email", subject="Ullage T-204", question="?",
                          received_at=sh(2025, 5, 6, 2, 0), language="en", user=people["csr"])
    cs.create_inquiry(customer_id=customer.id, channel="email", subject="Late answer", question="?",
                      received_at=sh(2025, 5, 7, 2, 0), language="en", user=people["csr"])
    cs.create_inquiry(customer_id=customer.id, channel="email", subject="Outside the period", question="?",
                      received_at=sh(2025, 1, 7, 2, 0), language="en", user=people["csr"])
    cs.answer_inquiry(a, answer="ok", answered_at=sh(2025, 5, 6, 5, 0), user=people["csr"])
    cs.create_complaint(customer_id=customer.id, title="Slow truck loading", category="delay", description="d",
                        user=people["csr"], received_at=sh(2025, 5, 8, 2, 0))
    db.session.commit()
    m = _meeting(customer, people, date(2025, 6, 19), period_start=date(2025, 4, 1))
    pack = services.preread(m, people["csr"])
    assert [i.subject for i in pack["inquiries"]] == ["Ullage T-204", "Late answer"]
    assert str(pack["inquiry_sla_pct"]) == "50.0"
    assert [c.title for c in pack["complaints"]] == ["Slow truck loading"]
    login(people["csr"])
    response = client.get(f"/meetings/{m.id}/preread.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Slow truck loading" in text and "50.0" in text


def test_minutes_circulated_with_versions_and_confirmed(client, login, customer, people):
    m = _meeting(customer, people, date(2025, 6, 19))
    services.add_attendee(m, name="Ms Tan", company="Vitol Asia", email="tan@vitolap.example")
    db.session.commit()
    login(people["csr"])
    r = client.post(f"/meetings/{m.id}/circulate", data={"circ-recipients": "tan@vitolap.example"})
    assert r.status_code == 200 and "Write the minutes" in r.get_data(as_text=True)
    r = client.post(f"/meetings/{m.id}/minutes", data={"minutes": "## 作业回顾\n\n- 本季度进库 12 船", "decisions": "继续季度会议",
                                                       "agenda": m.agenda, "location": "Terminal office"})
    assert r.status_code == 302
    r = client.post(f"/meetings/{m.id}/circulate", data={"circ-recipients": "tan@vitolap.example\nops@vitolap.example"})
    assert r.status_code == 302
    client.post(f"/meetings/{m.id}/minutes", data={"minutes": "## 作业回顾\n\n- 本季度进库 13 船", "decisions": "继续季度会议"})
    client.post(f"/meetings/{m.id}/circulate", data={"circ-recipients": "tan@vitolap.example"})
    rows = db.session.scalars(db.select(ReviewCirculation).order_by(ReviewCirculation.id)).all()
    assert [(r.version, r.recipient) for r in rows] == [(1, "tan@vitolap.example"), (1, "ops@vitolap.example"), (2, "tan@vitolap.example")]
    assert rows[0].sha256 != rows[2].sha256
    v1 = client.get(f"/meetings/{m.id}/circulated/{rows[0].id}")
    assert v1.headers["Content-Disposition"].startswith("attachment")
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(v1.data)).pages)
    assert "会议纪要" in text and "12船" in text and "Minutes" in text
    r = client.post(f"/meetings/{m.id}/confirm", data={"conf-confirmed_by": "Ms Tan", "conf-version": 1})
    assert r.status_code == 200 and "latest version" in r.get_data(as_text=True)
    r = client.post(f"/meetings/{m.id}/confirm", data={"conf-confirmed_by": "Ms Tan", "conf-version": 2})
    assert r.status_code == 302
    db.session.refresh(m)
    assert m.status == "confirmed" and m.confirmed_version == 2
    with pytest.raises(ServiceError):
        services.save_minutes(m, minutes="changed", decisions="")


def test_minutes_filed_through_the_core_filing_contract_when_circulated(app, customer, people, monkeypatch):
    import portal.services as core

    filed = []

    def filer(**kw):
        filed.append(kw)

    monkeypatch.setattr(core, "_FILER", [filer])
    m = _meeting(customer, people, date(2025, 6, 19))
    services.save_minutes(m, minutes="Minutes", decisions="")
    services.circulate(m, people["csr"], recipients=["tan@vitolap.example"])
    db.session.commit()
    (call,) = filed
    assert call["kind"] == "meeting_minutes" and call["customer_id"] == customer.id
    assert call["event_date"] == date(2025, 6, 19) and call["user"] == people["csr"]
    ((name, data),) = call["files"]
    assert name == f"{m.ref}-minutes-v1.pdf" and data.startswith(b"%PDF")
    assert data == services.read_stored(m.circulations[0].sha256)  # the very PDF sent


def test_circulation_is_kept_when_the_archive_refuses(app, customer, people, monkeypatch):
    import portal.services as core

    monkeypatch.setattr(core, "_FILER", [])
    m = _meeting(customer, people, date(2025, 6, 19))
    services.save_minutes(m, minutes="Minutes", decisions="")
    services.circulate(m, people["csr"], recipients=["tan@vitolap.example"])
    db.session.commit()
    assert m.status == "circulated" and [c.recipient for c in m.circulations] == ["tan@vitolap.example"]


def test_live_preview_renders_markdown(client, login, people):
    login(people["csr"])
    r = client.post("/meetings/preview", data={"minutes": "# 回顾\n\n**bold** <script>x</script>"}, headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert "<strong>bold</strong>" in html and "<script>" not in html and "<html" not in html
    # opened directly (not by htmx): on to the meetings, not a bare fragment
    for response in (client.get("/meetings/preview"), client.post("/meetings/preview", data={"minutes": "x"})):
        assert response.status_code == 303 and response.headers["Location"].endswith("/meetings/")


def test_cadence_and_next_meeting_due_on_dashboard(client, login, customer, people):
    _meeting(customer, people, date(2025, 3, 20))
    services.set_cadence(customer.id, 3)
    db.session.commit()
    (row,) = services.schedule(date(2025, 7, 1))
    assert row["due"] == date(2025, 6, 20) and row["overdue"]
    (row,) = services.schedule(date(2025, 5, 1))
    assert not row["overdue"]
    login(people["csr"])
    html = client.get("/").get_data(as_text=True)
    assert "Next review meetings due" in html and customer.code in html


def test_staff_may_read_but_not_edit(client, login, customer, people):
    m = _meeting(customer, people, date(2025, 6, 19))
    login(people["staff"])
    assert client.get(f"/meetings/{m.id}").status_code == 200
    assert client.get(f"/meetings/{m.id}/minutes").status_code == 403
    assert client.post(f"/meetings/{m.id}/actions", data={"act-description": "x"}).status_code == 403


def test_the_dashboard_s_first_reviews_due_are_the_schedule_s_first_rows(app, client, login, people):
    """The panel reads only its six rows: the same customers, meetings, due dates and flags, in the same order, as
    the first six of the whole schedule (meetings on the same day, planned ones, customers never met)."""
    from portal.blueprints.customers.models import Customer

    customers = [Customer(code=f"R{i:02d}", name_en=f"Review {i}", long_term=True) for i in range(14)]
    db.session.add_all(customers)
    db.session.commit()
    for i, c in enumerate(customers):
        services.set_cadence(c.id, 1 + i % 4)
        for k in range(i % 3):
            _meeting(c, people, date(2025, 1 + (i + 3 * k) % 12, 1 + (7 * i) % 27))
        if i % 4 == 1:
            _meeting(c, people, date(2025, 1 + (i + 3) % 12, 1 + (7 * i) % 27))  # two meetings on one day
    db.session.commit()
    for day in (date(2025, 1, 15), date(2025, 5, 1), date(2025, 9, 30), date(2026, 3, 1)):
        whole = services.schedule(day)
        assert services.schedule(day, limit=6) == whole[:6], day
        assert any(r["planned"] for r in whole) or day == date(2026, 3, 1)
    login(people["csr"])
    html = client.get("/").get_data(as_text=True)
    shown = [r["customer"].code for r in services.schedule()[:6]]
    assert all(code in html for code in shown)
