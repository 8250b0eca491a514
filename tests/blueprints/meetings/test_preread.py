"""The pre-read pack and the minutes as the customer and our staff read them: state names, on-time column,
dates in the portal's time zone."""
from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pypdf import PdfReader

from portal.blueprints.complaints.models import Complaint, Inquiry
from portal.blueprints.meetings import services
from portal.extensions import db
from portal.timeutil import from_local, local_today, utcnow

pytestmark = pytest.mark.usefixtures("request_ctx")  # services raise translated messages


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _meeting(customer, people, d: date, **kw):
    m = services.create_meeting(customer_id=customer.id, meeting_date=d, user=people["csr"], **kw)
    db.session.commit()
    return m


def _complaint(customer, title: str, received_at: datetime, **kw) -> Complaint:
    c = Complaint(customer_id=customer.id, title=title, category="delay", received_at=received_at,
                  ack_due_at=received_at + timedelta(days=1), **kw)
    db.session.add(c)
    db.session.commit()
    return c


def _inquiry(customer, subject: str, received_at: datetime, due_at: datetime, answered_at: datetime | None = None):
    i = Inquiry(customer_id=customer.id, channel="email", subject=subject, received_at=received_at, due_at=due_at,
                answered_at=answered_at, language="en")
    db.session.add(i)
    db.session.commit()
    return i


def _row(html: str, text: str) -> str:
    """The table row of a page holding `text`."""
    match = re.search(r"<tr>(?:(?!</tr>).)*" + re.escape(text) + r"(?:(?!</tr>).)*</tr>", html, re.S)
    assert match, text
    return re.sub(r"<[^>]+>", " ", match.group(0))


def test_preread_pdf_names_complaint_states_not_codes(client, login, customer, people):
    _complaint(customer, "Tank heating late", datetime(2025, 5, 6, 2, tzinfo=UTC), state="awaiting_effectiveness")
    _complaint(customer, "Sample bottles mislabelled", datetime(2025, 5, 9, 2, tzinfo=UTC), state="actions_in_progress")
    m = _meeting(customer, people, date(2025, 6, 19), period_start=date(2025, 4, 1))
    login(people["csr"])
    text = _pdf_text(client.get(f"/meetings/{m.id}/preread.pdf").data)
    assert "awaiting_effectiveness" not in text and "actions_in_progress" not in text
    flat = "".join(text.split())
    assert "待效果验证/Awaitingeffectivenesscheck" in flat
    assert "Actionsinprogress" in flat
    # the page names them in the reader's language
    people["csr"].language = "zh_Hans"
    db.session.commit()
    html = client.get(f"/meetings/{m.id}/preread").get_data(as_text=True)
    assert "待效果验证" in _row(html, "Tank heating late")


def test_open_inquiry_not_yet_due_is_open_not_late(client, login, customer, people):
    now = utcnow()
    today = local_today()
    end_of_today = from_local(datetime.combine(today, time.max))
    _inquiry(customer, "Due later today", received_at=now - timedelta(hours=20), due_at=end_of_today)
    _inquiry(customer, "Answered in time", received_at=now - timedelta(hours=30), due_at=now - timedelta(hours=6),
             answered_at=now - timedelta(hours=10))
    _inquiry(customer, "Still unanswered, past due", received_at=now - timedelta(hours=40),
             due_at=now - timedelta(hours=16))
    m = _meeting(customer, people, today + timedelta(days=1), period_start=today - timedelta(days=10),
                 period_end=today + timedelta(days=1))
    login(people["csr"])

    html = client.get(f"/meetings/{m.id}/preread").get_data(as_text=True)
    row = _row(html, "Due later today").split()
    assert "open" in row and "no" not in row
    assert "yes" in _row(html, "Answered in time").split()
    assert "no" in _row(html, "Still unanswered, past due").split()
    # the hit rate counts what is decided: one of two, the open one is not late yet
    assert "50.0 %" in html

    lines = _pdf_text(client.get(f"/meetings/{m.id}/preread.pdf").data).splitlines()
    (due_today,) = [line for line in lines if "Due later today" in line]
    assert "open" in due_today and "no" not in due_today.split()
    (late,) = [line for line in lines if "past due" in line]
    assert late.rstrip().endswith("否 / no")
    (answered,) = [line for line in lines if "Answered in time" in line]
    assert answered.rstrip().endswith("是 / yes")


def test_pdf_dates_are_in_the_portal_time_zone(app, client, login, customer, people):
    """21:30 UTC on 7 May is 05:30 on 8 May in Asia/Shanghai: both PDFs print the local date."""
    assert app.config["TIMEZONE"] == "Asia/Shanghai"
    late_evening_utc = datetime(2025, 5, 7, 21, 30, tzinfo=UTC)
    _complaint(customer, "Night loading stopped", late_evening_utc)
    _inquiry(customer, "Night ullage question", late_evening_utc, due_at=late_evening_utc + timedelta(days=1))
    m = _meeting(customer, people, date(2025, 6, 19), period_start=date(2025, 5, 8))
    services.save_minutes(m, minutes="Minutes", decisions="")
    db.session.commit()
    login(people["csr"])

    lines = _pdf_text(client.get(f"/meetings/{m.id}/preread.pdf").data).splitlines()
    for title in ("Night loading stopped", "Night ullage question"):
        (line,) = [x for x in lines if title in x]
        assert "2025-05-08" in line and "2025-05-07" not in line
    assert "2025-05-08" in _pdf_text(client.get(f"/meetings/{m.id}/minutes.pdf").data)  # the period

    evening = datetime(2025, 6, 19, 17, 0, tzinfo=UTC)  # 01:00 on 20 June in Shanghai
    for data in (services.render_minutes(m, now=evening), services.render_preread(m, people["csr"], now=evening)):
        flat = " ".join(_pdf_text(data).split())
        assert "2025-06-20 01:00" in flat and "2025-06-19 17:00" not in flat


def test_restricted_complaints_only_in_the_pack_of_who_may_open_them(client, login, customer, people):
    _complaint(customer, "Driver injured at gantry 3", datetime(2025, 5, 6, 2, tzinfo=UTC), restricted=True,
               owner_id=people["csr2"].id)
    _complaint(customer, "Slow truck loading", datetime(2025, 5, 7, 2, tzinfo=UTC))
    m = _meeting(customer, people, date(2025, 6, 19), period_start=date(2025, 4, 1))
    for name, sees in (("csr", False), ("staff", False), ("csr2", True), ("manager", True)):
        titles = [c.title for c in services.preread(m, people[name])["complaints"]]
        assert ("Driver injured at gantry 3" in titles) is sees, name
        assert "Slow truck loading" in titles
    login(people["csr"])
    assert "Driver injured" not in _pdf_text(client.get(f"/meetings/{m.id}/preread.pdf").data)
    assert "Driver injured" not in client.get(f"/meetings/{m.id}/preread").get_data(as_text=True)
