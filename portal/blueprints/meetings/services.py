"""Review meeting logic: carry-over of open actions, the pre-read pack, minutes circulation, cadence."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...outbox import Attachment, queue_message, with_contacts
from ...pdf import render_pdf_anywhere
from ...services import NoFilerRegistered, ServiceError, customer_summary, file_record
from ...storage import ContentStore
from ...i18n import fmt_datetime
from ...timeutil import from_local, local_today, to_local, utcnow
from ..complaints.models import FINAL_STATES, STATES, Complaint, Inquiry, on_time
from ..customers.models import Customer
from .models import ReviewAction, ReviewAttendee, ReviewCadence, ReviewCirculation, ReviewMeeting


def add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year = d.year + month // 12
    month = month % 12 + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return date(year, month, min(d.day, days[month - 1]))


def list_meetings(*, customer_id: int | None = None, limit: int = 200) -> list[ReviewMeeting]:
    """The newest meetings first, of one customer when given."""
    stmt = db.select(ReviewMeeting).order_by(ReviewMeeting.meeting_date.desc()).options(selectinload(ReviewMeeting.customer))
    if customer_id:
        stmt = stmt.filter(ReviewMeeting.customer_id == customer_id)
    return list(db.session.scalars(stmt.limit(limit)))


def previous_meeting(customer_id: int, before: date, exclude_id: int | None = None) -> ReviewMeeting | None:
    stmt = db.select(ReviewMeeting).filter(ReviewMeeting.customer_id == customer_id, ReviewMeeting.meeting_date < before)
    if exclude_id:
        stmt = stmt.filter(ReviewMeeting.id != exclude_id)
    return db.session.scalar(stmt.order_by(ReviewMeeting.meeting_date.desc()).limit(1))


def create_meeting(*, customer_id: int, meeting_date: date, user, period_start: date | None = None,
                   period_end: date | None = None, location: str = "", agenda: str = "") -> ReviewMeeting:
    prev = previous_meeting(customer_id, meeting_date)
    if period_start is None:
        period_start = prev.meeting_date if prev else add_months(meeting_date, -3)
    period_end = period_end or meeting_date
    if period_end < period_start:
        raise ServiceError(_l("The period ends before it starts."))
    meeting = ReviewMeeting(customer_id=customer_id, meeting_date=meeting_date, period_start=period_start,
                            period_end=period_end, location=location, agenda=agenda or default_agenda(),
                            created_by_id=getattr(user, "id", None))
    db.session.add(meeting)
    db.session.flush()
    return meeting


def default_agenda() -> str:
    return "\n".join([
        "1. Actions from the previous meeting / 上次会议行动项",
        "2. Operations of the period: receipts, deliveries, stock variances / 本期作业：进出库与库存差异",
        "3. Complaints and inquiries, SLA / 投诉与咨询、服务水平",
        "4. Safety and quality / 安全与质量",
        "5. Plans for the next period / 下期计划",
        "6. Any other business / 其他事项",
    ])


def save_minutes(meeting: ReviewMeeting, *, minutes: str, decisions: str, agenda: str | None = None,
                 location: str | None = None) -> None:
    if meeting.status == "confirmed":
        raise ServiceError(_l("The customer has confirmed these minutes; they can no longer be changed."))
    meeting.minutes = minutes or ""
    meeting.decisions = decisions or ""
    if agenda is not None:
        meeting.agenda = agenda
    if location is not None:
        meeting.location = location
    if meeting.status == "planned" and meeting.minutes.strip():
        meeting.status = "held"
    db.session.flush()


def add_attendee(meeting: ReviewMeeting, *, name: str, company: str = "", position: str = "", email: str = "",
                 internal: bool = False, user_id: int | None = None) -> ReviewAttendee:
    attendee = ReviewAttendee(meeting=meeting, name=name.strip(), company=company or "", position=position or "",
                              email=email or "", internal=internal, user_id=user_id or None)
    db.session.add(attendee)
    db.session.flush()
    return attendee


def remove_attendee(attendee: ReviewAttendee) -> None:
    db.session.delete(attendee)
    db.session.flush()


def add_action(meeting: ReviewMeeting, *, description: str, owner_id: int | None = None, owner_name: str = "",
               due_date: date | None = None) -> ReviewAction:
    action = ReviewAction(meeting=meeting, customer_id=meeting.customer_id, description=description,
                          owner_id=owner_id or None, owner_name=owner_name or "", due_date=due_date)
    db.session.add(action)
    db.session.flush()
    return action


def close_action(action: ReviewAction, *, meeting: ReviewMeeting | None = None, note: str = "",
                 now: datetime | None = None) -> None:
    action.status = "closed"
    action.closed_at = now or utcnow()
    action.closed_in_meeting_id = meeting.id if meeting else action.meeting_id
    action.note = note or action.note
    db.session.flush()


def reopen_action(action: ReviewAction) -> None:
    action.status = "open"
    action.closed_at = None
    action.closed_in_meeting_id = None
    db.session.flush()


def carried_over(meeting: ReviewMeeting) -> list[ReviewAction]:
    """Actions raised at earlier meetings with this customer that were still open when this meeting was held
    (open now, or closed at or after this meeting)."""
    stmt = db.select(ReviewAction).join(ReviewMeeting, ReviewAction.meeting_id == ReviewMeeting.id).filter(
        ReviewAction.customer_id == meeting.customer_id, ReviewMeeting.meeting_date < meeting.meeting_date,
    ).order_by(ReviewMeeting.meeting_date, ReviewAction.id)
    out = []
    for action in db.session.scalars(stmt):
        if action.is_open:
            out.append(action)
        elif action.closed_in_meeting is not None:
            if action.closed_in_meeting.meeting_date >= meeting.meeting_date:
                out.append(action)
        elif action.closed_at is not None and to_local(action.closed_at).date() >= meeting.meeting_date:
            out.append(action)
    return out


def shown_at(action: ReviewAction, meeting: ReviewMeeting) -> bool:
    """Whether the meeting's page lists the action: raised at this meeting, or at an earlier one with the
    same customer (carried over)."""
    if action.meeting_id == meeting.id:
        return True
    return action.customer_id == meeting.customer_id and action.meeting.meeting_date < meeting.meeting_date


def _in_period(column, start: date, end: date):
    lo = from_local(datetime.combine(start, datetime.min.time()))
    hi = from_local(datetime.combine(end + timedelta(days=1), datetime.min.time()))
    return column >= lo, column < hi


ON_TIME_PDF = {"yes": "是 / yes", "no": "否 / no", "open": "未结 / open"}


def state_label_pdf(state: str) -> str:
    """A complaint state for the bilingual PDFs: Chinese / English."""
    label = STATES.get(state)
    if label is None:
        return state
    with force_locale("zh_Hans"):
        zh = str(label)
    with force_locale("en"):
        en = str(label)
    return en if zh == en else f"{zh} / {en}"


def preread(meeting: ReviewMeeting, user, *, now: datetime | None = None) -> dict:
    """The pre-read pack: complaints and inquiries of the period with SLA hit rate, open actions.

    The hit rates count what is decided: answered (on time or late) or past its due time; a record still
    open and not yet due is shown as "open" and left out of the rate."""
    now = now or utcnow()
    start, end = meeting.period_start, meeting.period_end
    inquiries = list(db.session.scalars(
        db.select(Inquiry).filter(Inquiry.customer_id == meeting.customer_id, *_in_period(Inquiry.received_at, start, end))
        .order_by(Inquiry.received_at)
    ))
    complaints = list(db.session.scalars(
        Complaint.visible_to(user).filter(Complaint.customer_id == meeting.customer_id,
                                          *_in_period(Complaint.received_at, start, end)).order_by(Complaint.received_at)
    ))
    open_complaints = [c for c in db.session.scalars(
        Complaint.visible_to(user).filter(Complaint.customer_id == meeting.customer_id, Complaint.state.not_in(FINAL_STATES))
        .order_by(Complaint.received_at)
    ) if c not in complaints]
    inquiry_on_time = {i.id: on_time(i.due_at, i.answered_at, now) for i in inquiries}
    complaint_acked = {c.id: on_time(c.ack_due_at, c.acknowledged_at, now) for c in complaints}

    def pct(outcomes: dict):
        decided = [v for v in outcomes.values() if v != "open"]
        return (Decimal(100 * decided.count("yes")) / len(decided)).quantize(Decimal("0.1")) if decided else None

    open_actions = [a for a in carried_over(meeting) if a.is_open] + [a for a in meeting.actions if a.is_open]
    return {
        "meeting": meeting,
        "inquiries": inquiries,
        "inquiry_on_time": inquiry_on_time,
        "complaints": complaints,
        "open_complaints": open_complaints,
        "inquiry_sla_pct": pct(inquiry_on_time),
        "complaint_ack_pct": pct(complaint_acked),
        "open_actions": open_actions,
        "survey": customer_summary("survey", meeting.customer_id),
        "on_time_pdf": ON_TIME_PDF,
        "state_label_pdf": state_label_pdf,
        "generated_at": fmt_datetime(now),
    }


def minutes_context(meeting: ReviewMeeting, *, now: datetime | None = None) -> dict:
    from ...markdown import render_markdown

    return {
        "meeting": meeting,
        "minutes_html": render_markdown(meeting.minutes or ""),
        "carried": carried_over(meeting),
        "version": meeting.minutes_version or 0,
        "generated_at": fmt_datetime(now or utcnow()),
    }


def render_minutes(meeting: ReviewMeeting, *, version: int | None = None, now: datetime | None = None) -> bytes:
    ctx = minutes_context(meeting, now=now)
    if version is not None:
        ctx["version"] = version
    return render_pdf_anywhere("pdf/meeting_minutes.html", **ctx)


def render_preread(meeting: ReviewMeeting, user, *, now: datetime | None = None) -> bytes:
    return render_pdf_anywhere("pdf/meeting_preread.html", **preread(meeting, user, now=now))


def store() -> ContentStore:
    return ContentStore(str(current_app.config["ARCHIVE_DIR"]) + "/attachments")


def read_stored(sha: str) -> bytes:
    with store().open(sha) as fh:
        return fh.read()


def circulate(meeting: ReviewMeeting, user, *, recipients: list[str], now: datetime | None = None) -> list[ReviewCirculation]:
    """Issue a new version of the minutes PDF to the distribution list and record who got it."""
    recipients = [r.strip() for r in recipients if r.strip()]
    if not recipients:
        raise ServiceError(_l("Name at least one recipient."))
    if not meeting.minutes.strip():
        raise ServiceError(_l("Write the minutes before circulating them."))
    if meeting.status == "confirmed":
        raise ServiceError(_l("The customer has confirmed these minutes; they can no longer be changed."))
    now = now or utcnow()
    version = meeting.minutes_version + 1
    data = render_minutes(meeting, version=version, now=now)
    sha = store().put(data)
    meeting.minutes_version = version
    meeting.status = "circulated"
    rows = [ReviewCirculation(meeting=meeting, version=version, recipient=r, sent_at=now, sent_by_id=user.id,
                              sha256=sha, size=len(data)) for r in dict.fromkeys(recipients)]
    db.session.add_all(rows)
    db.session.flush()
    _file_minutes(meeting, data, user, version)
    queue_message(with_contacts([r.recipient for r in rows if "@" in r.recipient], meeting.customer.contacts),
                  "meeting_minutes", {"meeting": meeting, "version": version}, kind="meeting_minutes",
                  record=meeting, user=user,
                  attachments=[Attachment.archived(f"{meeting.ref}-minutes-v{version}.pdf", sha, store="attachments",
                                                   mimetype="application/pdf")])
    return rows


def send_preread(meeting: ReviewMeeting, user, *, recipients: list[str], now: datetime | None = None) -> int:
    """E-mail the pre-read pack (PDF) to the recipients (a customer contact in their language); the number queued."""
    recipients = [r.strip() for r in recipients if r.strip()]
    if not recipients:
        raise ServiceError(_l("Name at least one recipient."))
    data = render_preread(meeting, user, now=now)
    queued = queue_message(with_contacts(recipients, meeting.customer.contacts), "meeting_preread",
                           {"meeting": meeting}, kind="meeting_minutes", record=meeting, user=user,
                           attachments=[Attachment.generated(f"{meeting.ref}-preread.pdf", data, "application/pdf")])
    return len(queued)


def _file_minutes(meeting: ReviewMeeting, data: bytes, user, version: int) -> None:
    """File the circulated version in the archive (kind ``meeting_minutes``) through the core filing contract.

    Filing must not block circulation: the PDF sent is kept with the meeting either way. When the archive
    refuses (no filing service, no series for the kind, a refused file), the savepoint is undone and the
    refusal logged."""
    try:
        with db.session.begin_nested():
            file_record("meeting_minutes", f"{meeting.ref} minutes", [(f"{meeting.ref}-minutes-v{version}.pdf", data)],
                        user, customer_id=meeting.customer_id, event_date=meeting.meeting_date,
                        source_key=f"review_meeting:{meeting.id}:minutes")
    except (NoFilerRegistered, ServiceError, ValueError):
        current_app.logger.exception("filing the minutes of %s in the archive failed", meeting.ref)


def confirm(meeting: ReviewMeeting, *, by: str, version: int, at: datetime | None = None) -> None:
    if meeting.minutes_version == 0:
        raise ServiceError(_l("Circulate the minutes before recording the customer's confirmation."))
    if version != meeting.minutes_version:
        raise ServiceError(_l("Only the latest version (v%(v)s) can be confirmed.", v=meeting.minutes_version))
    meeting.confirmed_by = by.strip()
    meeting.confirmed_at = at or utcnow()
    meeting.confirmed_version = version
    meeting.status = "confirmed"
    db.session.flush()


def distribution_list(meeting: ReviewMeeting) -> list[str]:
    """The default recipients: every attendee with an e-mail address."""
    return list(dict.fromkeys(a.email for a in meeting.attendees if a.email))


# --- cadence --------------------------------------------------------------------------------------

def set_cadence(customer_id: int, months: int, *, active: bool = True) -> ReviewCadence:
    if months < 1 or months > 24:
        raise ServiceError(_l("Choose between 1 and 24 months."))
    row = db.session.scalar(db.select(ReviewCadence).filter_by(customer_id=customer_id))
    if row is None:
        row = ReviewCadence(customer_id=customer_id)
        db.session.add(row)
    row.interval_months = months
    row.active = active
    db.session.flush()
    return row


def schedule(today: date | None = None, *, limit: int | None = None) -> list[dict]:
    """Every customer with a cadence: last meeting, next due date, overdue flag (soonest first).

    ``limit``: only the first rows (the dashboard's panel): every due date is reckoned from the meetings' dates
    alone, and only those rows' customers and meetings are loaded."""
    today = today or local_today()
    stmt = db.select(ReviewCadence).filter_by(active=True)
    rows = list(db.session.scalars(stmt if limit is not None else stmt.options(selectinload(ReviewCadence.customer))))
    # The last meeting on or before today and the first after it, of every customer with a cadence: two queries.
    customer_ids = [cad.customer_id for cad in rows]
    if limit is not None:
        last_day = dict(db.session.execute(
            db.select(ReviewMeeting.customer_id, db.func.max(ReviewMeeting.meeting_date))
            .filter(ReviewMeeting.customer_id.in_(customer_ids), ReviewMeeting.meeting_date <= today)
            .group_by(ReviewMeeting.customer_id)).all())
        rows = sorted(rows, key=lambda cad: add_months(last_day[cad.customer_id], cad.interval_months)
                      if cad.customer_id in last_day else today)[:limit]  # the order sorted() below keeps
        customer_ids = [cad.customer_id for cad in rows]
        held = db.session.scalars(db.select(Customer).filter(Customer.id.in_(customer_ids))).all()  # cad.customer

    def meetings_on(day, *when) -> dict[int, ReviewMeeting]:
        days = (db.select(ReviewMeeting.customer_id, day.label("day"))
                .filter(ReviewMeeting.customer_id.in_(customer_ids), *when)
                .group_by(ReviewMeeting.customer_id).subquery())
        found = db.select(ReviewMeeting).join(days, db.and_(ReviewMeeting.customer_id == days.c.customer_id,
                                                            ReviewMeeting.meeting_date == days.c.day))
        return {m.customer_id: m for m in db.session.scalars(found.order_by(ReviewMeeting.id))}

    last_of = meetings_on(db.func.max(ReviewMeeting.meeting_date), ReviewMeeting.meeting_date <= today)
    planned_of = meetings_on(db.func.min(ReviewMeeting.meeting_date), ReviewMeeting.meeting_date > today)
    out = []
    for cad in rows:
        last = last_of.get(cad.customer_id)
        planned = planned_of.get(cad.customer_id)
        due = add_months(last.meeting_date, cad.interval_months) if last else today
        out.append({"customer": cad.customer, "cadence": cad, "last": last, "planned": planned, "due": due,
                    "overdue": due < today and planned is None})
    if limit is not None:
        del held  # kept in the session's identity map until each row had its customer
    return sorted(out, key=lambda r: r["due"])


def long_term_customers() -> list[Customer]:
    return list(db.session.scalars(db.select(Customer).filter_by(long_term=True, active=True).order_by(Customer.code)))
