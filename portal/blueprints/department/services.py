"""Department logic: portfolios and their handover, absences and cover, the acting manager, notices,
due-time escalations and the workload. Services flush, never commit; time comes in as ``now``."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ...delegation import stand_in
from ...extensions import db
from ...models import User
from ...services import ServiceError
from ...timeutil import local_today, tz, utcnow
from ...workdays import add_workdays
from ..complaints.models import FINAL_STATES, OPEN_ACTION_STATUSES, CapaAction, Complaint, Inquiry
from ..customers.models import Customer
from ..meetings.models import ReviewCadence, ReviewMeeting
from ..operations.models import OPEN_STATES as OPEN_ORDER_STATES
from ..operations.models import Order
from ..surveys.models import SurveyAnswer, SurveyResponse
from .models import (
    CUSTOMER_LINE_SOURCES,
    REASONS,
    Absence,
    AbsenceCover,
    ActingManager,
    Handover,
    HandoverItem,
    Notice,
    PortfolioAssignment,
    absence_loading,
    absences_in_force,
    backup_csr,
    local_day,
)


class DepartmentError(ServiceError):
    pass


def cs_staff() -> list[User]:
    users = db.session.scalars(db.select(User).filter(User.active.is_(True)).order_by(User.full_name, User.username))
    return [u for u in users if "csr" in u.role_names or "cs_manager" in u.role_names]


def csrs() -> list[User]:
    """Active users holding the CSR role themselves (the department's portfolio holders)."""
    users = db.session.scalars(db.select(User).filter(User.active.is_(True)).order_by(User.full_name, User.username))
    return [u for u in users if "csr" in u.role_names]


def _cs_user(user_id: int | None, field: str) -> User | None:
    if not user_id:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not ({"csr", "cs_manager"} & user.role_names):
        raise DepartmentError(_l("Choose an active CSR or CS manager."), field=field)
    return user


# --- portfolios ----------------------------------------------------------------------------------

def portfolio(user) -> list[Customer]:
    return list(db.session.scalars(db.select(Customer).filter(Customer.csr_id == user.id, Customer.active.is_(True))
                                   .order_by(Customer.code)))


def backup_portfolio(user) -> list[Customer]:
    return list(db.session.scalars(
        db.select(Customer).join(PortfolioAssignment, PortfolioAssignment.customer_id == Customer.id)
        .filter(PortfolioAssignment.kind == "backup", PortfolioAssignment.ends_at.is_(None),
                PortfolioAssignment.user_id == user.id, Customer.active.is_(True)).order_by(Customer.code)))


def history(customer) -> list[PortfolioAssignment]:
    return list(db.session.scalars(db.select(PortfolioAssignment).filter_by(customer_id=customer.id)
                                   .order_by(PortfolioAssignment.starts_at.desc(), PortfolioAssignment.id.desc())))


def set_backup(customer, user_id: int | None, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    user = _cs_user(user_id, "backup_id")
    if user is not None and user.id == customer.csr_id:
        raise DepartmentError(_l("The backup must be someone other than the responsible CSR."), field="backup_id")
    current = backup_csr(customer)
    if (current.id if current else None) == (user.id if user else None):
        return
    for row in db.session.scalars(db.select(PortfolioAssignment).filter_by(customer_id=customer.id, kind="backup",
                                                                           ends_at=None)):
        row.ends_at = now
    if user is not None:
        db.session.add(PortfolioAssignment(customer=customer, kind="backup", user=user, starts_at=now))
    db.session.flush()


def open_work_of(user_id: int, customer_ids) -> dict[str, list]:
    """The open work a user holds on these customers: inquiries, complaints and CAPA actions (never closed ones)."""
    customer_ids = list(customer_ids)
    if not customer_ids:
        return {"inquiry": [], "complaint": [], "capa_action": []}
    inquiries = db.session.scalars(db.select(Inquiry).filter(
        Inquiry.assigned_to_id == user_id, Inquiry.answered_at.is_(None), Inquiry.customer_id.in_(customer_ids))
        .order_by(Inquiry.id))
    complaints = db.session.scalars(db.select(Complaint).filter(
        Complaint.owner_id == user_id, Complaint.state.not_in(FINAL_STATES), Complaint.customer_id.in_(customer_ids))
        .order_by(Complaint.id))
    actions = db.session.scalars(db.select(CapaAction).join(Complaint).filter(
        CapaAction.owner_id == user_id, CapaAction.status.in_(OPEN_ACTION_STATUSES),
        Complaint.state.not_in(FINAL_STATES), Complaint.customer_id.in_(customer_ids)).order_by(CapaAction.id))
    # actions raised from a survey answer of these customers (no complaint)
    survey_actions = db.session.scalars(db.select(CapaAction).join(SurveyAnswer).join(SurveyResponse).filter(
        CapaAction.owner_id == user_id, CapaAction.status.in_(OPEN_ACTION_STATUSES),
        SurveyResponse.customer_id.in_(customer_ids)).order_by(CapaAction.id))
    return {"inquiry": list(inquiries), "complaint": list(complaints),
            "capa_action": list(actions) + list(survey_actions)}


def reassign(customers, to_user_id: int, *, user, note: str = "", now: datetime | None = None) -> Handover:
    """Give customers to another CSR: the responsible CSR changes (history kept), the previous CSR's open
    inquiries, complaints and CAPA actions on them move along, a handover records what moved, and the
    previous and the new CSR (and the backup) get a notice. Closed work stays with who did it."""
    now = now or utcnow()
    to_user = _cs_user(to_user_id, "to_user_id")
    customers = [c for c in customers if c.csr_id != to_user.id]
    if not customers:
        raise DepartmentError(_l("Choose at least one customer that is not already with this CSR."), field="customer_ids")
    from_ids = {c.csr_id for c in customers}
    from_id = from_ids.pop() if len(from_ids) == 1 else None
    handover = Handover(from_user_id=from_id, to_user_id=to_user.id, at=now, note=(note or "").strip(),
                        created_by_id=getattr(user, "id", None))
    db.session.add(handover)
    db.session.flush()
    for customer in customers:
        previous = customer.csr_id
        handover.items.append(HandoverItem(kind="customer", record_id=customer.id, ref=customer.code))
        if previous:
            work = open_work_of(previous, [customer.id])
            for inquiry in work["inquiry"]:
                inquiry.assigned_to_id = to_user.id
                handover.items.append(HandoverItem(kind="inquiry", record_id=inquiry.id, ref=inquiry.ref))
            for complaint in work["complaint"]:
                complaint.owner_id = to_user.id
                handover.items.append(HandoverItem(kind="complaint", record_id=complaint.id, ref=complaint.ref))
            for action in work["capa_action"]:
                action.owner_id = to_user.id
                handover.items.append(HandoverItem(kind="capa_action", record_id=action.id, ref=action.ref))
        # open orders (received, verified, handed over, in execution) of the customer held by the previous CSR
        # or by nobody; completed, cancelled and rejected ones stay with who was in charge
        for order in db.session.scalars(db.select(Order).filter(
                Order.customer_id == customer.id, Order.state.in_(OPEN_ORDER_STATES),
                db.or_(Order.owner_id.is_(None), Order.owner_id == previous) if previous else Order.owner_id.is_(None))
                .order_by(Order.id)):
            order.owner_id = to_user.id
            handover.items.append(HandoverItem(kind="order", record_id=order.id, ref=order.number))
        customer._dept_handover = handover
        customer.csr_id = to_user.id
        db.session.flush()
        del customer._dept_handover
        backup = backup_csr(customer)
        if backup is not None and backup.id == to_user.id:
            set_backup(customer, None, now=now)
    codes = ", ".join(c.code for c in customers)
    moved = sum(1 for i in handover.items if i.kind != "customer")
    people = {to_user.id: to_user}
    for uid in from_ids | ({from_id} if from_id else set()):
        if uid:
            people[uid] = db.session.get(User, uid)
    for customer in customers:
        backup = backup_csr(customer)
        if backup is not None:
            people.setdefault(backup.id, backup)
    for person in people.values():
        if person is not None and person.id != getattr(user, "id", None):
            notify(person, "handover", {"customers": codes, "to": to_user.display_name, "moved": moved},
                   record_key=f"handover:{handover.id}", now=now)
    db.session.flush()
    return handover


# --- what is open per customer: "my customers" ---------------------------------------------------

@dataclass
class Line:
    kind: str        # inquiry, complaint, capa_action, review_meeting
    ref: str
    title: str
    due: object      # datetime or date or None
    overdue: bool
    endpoint: str
    args: dict
    restricted: bool = False


@dataclass
class CustomerWork:
    customer: Customer
    lines: list[Line] = field(default_factory=list)
    hidden: int = 0  # restricted records the viewer may not open


def customer_lines(customers, viewer, *, now: datetime | None = None) -> list[CustomerWork]:
    """For each customer: its open inquiries, complaints and CAPA actions and the review meeting due, one line
    each; restricted records the viewer may not open are only counted."""
    now = now or utcnow()
    today = local_day(now)
    out = {c.id: CustomerWork(c) for c in customers}
    if not out:
        return []
    ids = list(out)
    for i in db.session.scalars(db.select(Inquiry).filter(Inquiry.customer_id.in_(ids), Inquiry.answered_at.is_(None))
                                .order_by(Inquiry.due_at)):
        out[i.customer_id].lines.append(Line("inquiry", i.ref, i.subject, i.due_at, now > i.due_at,
                                             "complaints.inquiry_detail", {"inquiry_id": i.id}))
    for c in db.session.scalars(db.select(Complaint).options(selectinload(Complaint.actions))
                                .filter(Complaint.customer_id.in_(ids),
                                                            Complaint.state.not_in(FINAL_STATES)).order_by(Complaint.id)):
        if not c.can_view(viewer):
            out[c.customer_id].hidden += 1 + len([a for a in c.actions if a.is_open])
            continue
        due = c.ack_due_at if c.acknowledged_at is None else None
        out[c.customer_id].lines.append(Line("complaint", c.ref, c.title, due, bool(due and now > due),
                                             "complaints.detail", {"complaint_id": c.id}))
        for a in c.actions:
            if a.is_open:
                out[c.customer_id].lines.append(Line("capa_action", f"{c.ref}/{a.id}", a.description, a.due_date,
                                                     a.is_overdue(today), "complaints.detail", {"complaint_id": c.id}))
    for source in CUSTOMER_LINE_SOURCES:  # other modules' open work (see models.register_customer_lines)
        for row in source(ids, viewer, now) or ():
            if row.get("customer_id") in out:
                out[row["customer_id"]].lines.append(Line(
                    str(row.get("label", "")), row.get("ref", ""), row.get("title", ""), row.get("due"),
                    bool(row.get("overdue")), row["endpoint"], dict(row.get("args") or {})))
    cadences = list(db.session.scalars(db.select(ReviewCadence).filter(ReviewCadence.customer_id.in_(ids),
                                                                       ReviewCadence.active.is_(True))))
    cadence_ids = list({c.customer_id for c in cadences})
    last_dates: dict[int, date] = {}
    planned: set[int] = set()
    if cadence_ids:
        last_dates = dict(db.session.execute(
            db.select(ReviewMeeting.customer_id, db.func.max(ReviewMeeting.meeting_date)).filter(
                ReviewMeeting.customer_id.in_(cadence_ids), ReviewMeeting.meeting_date <= today)
            .group_by(ReviewMeeting.customer_id)).all())
        planned = set(db.session.scalars(db.select(ReviewMeeting.customer_id).filter(
            ReviewMeeting.customer_id.in_(cadence_ids), ReviewMeeting.meeting_date > today).distinct()))
    for cadence in cadences:
        if cadence.customer_id in planned:
            continue
        last = last_dates.get(cadence.customer_id)
        due = _add_months(last, cadence.interval_months) if last else today
        if due <= today + timedelta(days=30):
            out[cadence.customer_id].lines.append(Line("review_meeting", "", str(_l("Review meeting due")), due,
                                                       due < today, "meetings.index", {}))
    return [out[c.id] for c in customers]


def _add_months(d: date, months: int) -> date:
    import calendar

    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


# --- absences and cover --------------------------------------------------------------------------

def record_absence(absent: User, *, starts_on: date, ends_on: date, reason: str, cover_id: int | None,
                   customer_covers: dict[int, int] | None = None, handover_note: str = "", user) -> Absence:
    if ends_on < starts_on:
        raise DepartmentError(_l("The absence cannot end before it starts."), field="ends_on")
    if reason not in REASONS:
        raise DepartmentError(_l("Choose a reason."), field="reason")
    customer_covers = {k: v for k, v in (customer_covers or {}).items() if v}
    cover = _cs_user(cover_id, "cover_id")
    if cover is None and not customer_covers:
        raise DepartmentError(_l("Name a cover for all customers or for each customer."), field="cover_id")
    if cover is not None and cover.id == absent.id:
        raise DepartmentError(_l("Someone else must cover the absence."), field="cover_id")
    overlap = db.session.scalar(db.select(db.func.count(Absence.id)).filter(
        Absence.user_id == absent.id, Absence.cancelled_at.is_(None), Absence.starts_on <= ends_on,
        Absence.ends_on >= starts_on))
    if overlap:
        raise DepartmentError(_l("This absence overlaps another absence of the same person."), field="starts_on")
    absence = Absence(user_id=absent.id, starts_on=starts_on, ends_on=ends_on, reason=reason,
                      cover_id=cover.id if cover else None, handover_note=(handover_note or "").strip(),
                      created_by_id=getattr(user, "id", None))
    db.session.add(absence)
    for customer_id, cid in customer_covers.items():
        per = _cs_user(cid, "cover_id")
        if per.id == absent.id:
            raise DepartmentError(_l("Someone else must cover the absence."), field="cover_id")
        absence.covers.append(AbsenceCover(customer_id=customer_id, cover_id=per.id))
    db.session.flush()
    for cid in absence.cover_ids():
        notify(db.session.get(User, cid), "cover", {"absent": absent.display_name, "from": str(starts_on),
                                                    "to": str(ends_on)}, record_key=f"absence:{absence.id}")
    db.session.flush()
    return absence


def cancel_absence(absence: Absence, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    if absence.cancelled_at is not None:
        raise DepartmentError(_l("This absence is already cancelled."))
    today = local_day(now)
    if absence.ends_on < today:
        raise DepartmentError(_l("This absence is over."))
    if absence.starts_on < today:  # under way: it ended yesterday, everything returns today
        absence.ends_on = today - timedelta(days=1)
    else:
        absence.cancelled_at = now
    db.session.flush()


@dataclass
class Covering:
    absence: Absence
    customers: list[Customer]
    work: list[CustomerWork]
    first_day: bool


def covering_for(user, *, now: datetime | None = None) -> list[Covering]:
    """The absences ``user`` covers today, with the customers covered and their open work."""
    now = now or utcnow()
    today = local_day(now)
    out = []
    for absence in absences_in_force(today, loaded=True):
        if user.id not in absence.cover_ids():
            continue
        customers = [c for c in portfolio(absence.user) if absence.cover_for(c.id) == user.id]
        out.append(Covering(absence, customers, customer_lines(customers, user, now=now), today == absence.starts_on))
    return out


def absences(*, user=None, include_past: bool = False, today: date | None = None) -> list[Absence]:
    today = today or local_today()
    stmt = (db.select(Absence).options(*absence_loading()).filter(Absence.cancelled_at.is_(None))
            .order_by(Absence.starts_on.desc(), Absence.id.desc()))
    if not include_past:
        stmt = stmt.filter(Absence.ends_on >= today)
    if user is not None:
        stmt = stmt.filter(db.or_(Absence.user_id == user.id, Absence.cover_id == user.id,
                                  Absence.id.in_(db.select(AbsenceCover.absence_id).filter(AbsenceCover.cover_id == user.id))))
    return list(db.session.scalars(stmt))


def may_see_portfolio(viewer, csr: User, *, now: datetime | None = None) -> bool:
    """The CSR themself, managers, and (only while the absence lasts) whoever covers the CSR."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == csr.id or viewer.has_role("admin", "cs_manager"):
        return True
    today = local_day(now or utcnow())
    return any(viewer.id in a.cover_ids() for a in absences_in_force(today, csr.id))


# --- the acting manager -------------------------------------------------------------------------

def day_start_utc(d: date) -> datetime:
    from datetime import UTC

    return datetime.combine(d, time.min).replace(tzinfo=tz()).astimezone(UTC)


def name_acting_manager(manager: User, deputy_id: int, *, starts_on: date, ends_on: date, note: str = "",
                        user) -> ActingManager:
    if "cs_manager" not in manager.role_names:
        raise DepartmentError(_l("Only a CS manager names an acting manager."))
    deputy = _cs_user(deputy_id, "deputy_id")
    if deputy is None or deputy.id == manager.id:
        raise DepartmentError(_l("Choose someone other than the manager."), field="deputy_id")
    if ends_on < starts_on:
        raise DepartmentError(_l("The period cannot end before it starts."), field="ends_on")
    starts_at, ends_at = day_start_utc(starts_on), day_start_utc(ends_on + timedelta(days=1))
    overlap = db.session.scalar(db.select(db.func.count(ActingManager.id)).filter(
        ActingManager.manager_id == manager.id, ActingManager.starts_at < ends_at, ActingManager.ends_at > starts_at))
    if overlap:
        raise DepartmentError(_l("An acting manager is already named for part of this period."), field="starts_on")
    row = ActingManager(manager_id=manager.id, deputy_id=deputy.id, starts_at=starts_at, ends_at=ends_at,
                        note=(note or "").strip(), created_by_id=getattr(user, "id", None))
    db.session.add(row)
    db.session.flush()
    notify(deputy, "acting", {"manager": manager.display_name, "from": str(starts_on), "to": str(ends_on)},
           record_key=f"acting:{row.id}", direct=True)
    db.session.flush()
    return row


def end_acting(row: ActingManager, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    if row.ends_at <= now:
        raise DepartmentError(_l("This period is over."))
    row.ends_at = max(now, row.starts_at)
    db.session.flush()


def acting_periods(*, include_past: bool = False, now: datetime | None = None) -> list[ActingManager]:
    now = now or utcnow()
    stmt = db.select(ActingManager).order_by(ActingManager.starts_at.desc())
    if not include_past:
        stmt = stmt.filter(ActingManager.ends_at > now)
    return list(db.session.scalars(stmt))


# --- notices and due-time escalations -------------------------------------------------------------

NOTICE_TEXTS = {
    "handover": _l("Customers %(customers)s are now with %(to)s (%(moved)s open item(s) moved)."),
    "cover": _l("You cover %(absent)s from %(from)s to %(to)s."),
    "acting": _l("You are acting manager for %(manager)s from %(from)s to %(to)s."),
    "overdue": _l("%(ref)s of %(customer)s is past its due time: %(title)s"),
}


def notice_text(notice: Notice) -> str:
    template = NOTICE_TEXTS.get(notice.kind)
    if template is None:
        return notice.kind
    try:
        return str(template) % {k: v for k, v in (notice.params or {}).items()}
    except (KeyError, TypeError, ValueError):
        return str(template)


def notify(user, kind: str, params: dict, *, record_key: str = "", customer_id: int | None = None,
           dedupe: str | None = None, now: datetime | None = None, direct: bool = False) -> Notice | None:
    """A notice to ``user``, or to their cover while they are away (``direct``: to the user whatever)."""
    if user is None:
        return None
    recipient = user if direct else stand_in(user, customer_id, now)
    key = f"{dedupe}:{recipient.id}" if dedupe else None
    if key and db.session.scalar(db.select(db.func.count(Notice.id)).filter_by(dedupe_key=key)):
        return None
    notice = Notice(user_id=recipient.id, intended_for_id=user.id if recipient.id != user.id else None, kind=kind,
                    params=params, record_key=record_key, dedupe_key=key, created_at=now or utcnow())
    db.session.add(notice)
    db.session.flush()
    return notice


def unread_notices(user) -> list[Notice]:
    return list(db.session.scalars(db.select(Notice).options(selectinload(Notice.intended_for))
                                   .filter_by(user_id=user.id, read_at=None)
                                   .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(50)))


def mark_read(user, *, now: datetime | None = None) -> int:
    rows = unread_notices(user)
    for n in rows:
        n.read_at = now or utcnow()
    db.session.flush()
    return len(rows)


def escalate_due(now: datetime | None = None) -> list[Notice]:
    """Due-time escalation: each open inquiry past its answer time and each complaint past its acknowledgement
    time is notified once to its owner, or to the owner's cover while the owner is away (once per recipient)."""
    now = now or utcnow()
    out = []
    for i in db.session.scalars(db.select(Inquiry).filter(Inquiry.answered_at.is_(None), Inquiry.due_at < now,
                                                          Inquiry.assigned_to_id.is_not(None)).order_by(Inquiry.id)):
        n = notify(i.assigned_to, "overdue", {"ref": i.ref, "customer": i.customer.code, "title": i.subject},
                   record_key=f"inquiry:{i.id}", customer_id=i.customer_id, dedupe=f"overdue:inquiry:{i.id}", now=now)
        out += [n] if n else []
    for c in db.session.scalars(db.select(Complaint).filter(Complaint.acknowledged_at.is_(None), Complaint.ack_due_at < now,
                                                            Complaint.state == "received",
                                                            Complaint.owner_id.is_not(None)).order_by(Complaint.id)):
        params = {"ref": c.ref, "customer": c.customer.code, "title": "" if c.restricted else c.title}
        n = notify(c.owner, "overdue", params, record_key=f"complaint:{c.id}", customer_id=c.customer_id,
                   dedupe=f"overdue:complaint:{c.id}", now=now)
        out += [n] if n else []
    return out


# --- workload ------------------------------------------------------------------------------------

AGE_BUCKETS = (("0-1", 0, 1), ("2-7", 2, 7), ("8+", 8, 10**6))
KINDS = {"inquiry": _l("Inquiry"), "complaint": _l("Complaint"), "capa_action": _l("CAPA action")}


@dataclass
class WorkItem:
    kind: str
    ref: str
    title: str
    customer: str
    since: datetime
    due: object
    overdue: bool
    age_days: int
    endpoint: str
    args: dict

    @property
    def age_bucket(self) -> str:
        return next(name for name, lo, hi in AGE_BUCKETS if lo <= self.age_days <= hi)


@dataclass
class CsrLoad:
    user: User
    items: list[WorkItem]
    answered: int
    answered_in_time: int
    cover: list[Absence]

    def count(self, kind: str | None = None, bucket: str | None = None) -> int:
        return sum(1 for i in self.items if (kind is None or i.kind == kind) and (bucket is None or i.age_bucket == bucket))

    @property
    def overdue(self) -> list[WorkItem]:
        return [i for i in self.items if i.overdue]

    @property
    def answered_pct(self):
        return None if not self.answered else round(100 * self.answered_in_time / self.answered)


def open_items(user_id: int, viewer, *, now: datetime) -> list[WorkItem]:
    """Every open item a CSR holds (restricted ones only by reference for who may not open them)."""
    return open_items_of([user_id], viewer, now=now)[user_id]


def open_items_of(user_ids, viewer, *, now: datetime) -> dict[int, list[WorkItem]]:
    """{user id: open items} of these CSRs, three queries for all of them (see open_items)."""
    today = local_day(now)
    items: dict[int, list[WorkItem]] = {uid: [] for uid in user_ids}
    if not items:
        return items
    ids = list(items)

    def age(since: datetime) -> int:
        return max(0, (today - local_day(since)).days)

    for i in db.session.scalars(db.select(Inquiry).options(selectinload(Inquiry.customer))
                                .filter(Inquiry.assigned_to_id.in_(ids), Inquiry.answered_at.is_(None))
                                .order_by(Inquiry.received_at)):
        items[i.assigned_to_id].append(WorkItem("inquiry", i.ref, i.subject, i.customer.code, i.received_at, i.due_at,
                                                now > i.due_at, age(i.received_at), "complaints.inquiry_detail",
                                                {"inquiry_id": i.id}))
    for c in db.session.scalars(db.select(Complaint).options(selectinload(Complaint.customer))
                                .filter(Complaint.owner_id.in_(ids), Complaint.state.not_in(FINAL_STATES))
                                .order_by(Complaint.received_at)):
        due = c.ack_due_at if c.acknowledged_at is None else None
        title = c.title if c.can_view(viewer) else str(_l("(restricted record)"))
        items[c.owner_id].append(WorkItem("complaint", c.ref, title, c.customer.code, c.received_at, due,
                                          bool(due and now > due), age(c.received_at), "complaints.detail",
                                          {"complaint_id": c.id}))
    # a complaint's open actions while the complaint is open, and open actions raised from a survey answer
    for a in db.session.scalars(db.select(CapaAction).outerjoin(Complaint)
                                .options(selectinload(CapaAction.complaint).selectinload(Complaint.customer),
                                         selectinload(CapaAction.survey_answer).selectinload(SurveyAnswer.response)
                                         .selectinload(SurveyResponse.customer))
                                .filter(CapaAction.owner_id.in_(ids), CapaAction.status.in_(OPEN_ACTION_STATUSES),
                                        db.or_(CapaAction.complaint_id.is_(None), Complaint.state.not_in(FINAL_STATES)))
                                .order_by(CapaAction.created_at)):
        title = a.description if a.can_view(viewer) else str(_l("(restricted record)"))
        endpoint, args, _anchor = a.source_link
        items[a.owner_id].append(WorkItem("capa_action", a.ref, title, a.customer.code if a.customer else "",
                                          a.created_at, a.due_date, a.is_overdue(today), age(a.created_at),
                                          endpoint, args))
    return items


def month_start_utc(now: datetime) -> datetime:
    local = now.astimezone(tz())
    return day_start_utc(local.date().replace(day=1))


def answered_this_month(user_id: int, *, now: datetime) -> tuple[int, int]:
    """(answered, answered within one working day of receipt) of the CSR's inquiries answered this month."""
    return answered_this_month_of([user_id], now=now)[user_id]


def answered_this_month_of(user_ids, *, now: datetime) -> dict[int, tuple[int, int]]:
    """{user id: (answered, answered in time)} of these CSRs in one query (see answered_this_month)."""
    counts = {uid: [0, 0] for uid in user_ids}
    if counts:
        rows = db.session.scalars(db.select(Inquiry).filter(Inquiry.assigned_to_id.in_(list(counts)),
                                                            Inquiry.answered_at >= month_start_utc(now),
                                                            Inquiry.answered_at <= now))
        for i in rows:
            counts[i.assigned_to_id][0] += 1
            counts[i.assigned_to_id][1] += i.answered_at <= add_workdays(i.received_at, 1)
    return {uid: (answered, in_time) for uid, (answered, in_time) in counts.items()}


def workload(viewer, *, now: datetime | None = None) -> list[CsrLoad]:
    now = now or utcnow()
    covers: dict[int, list[Absence]] = defaultdict(list)
    for a in absences_in_force(local_day(now), loaded=True):
        covers[a.user_id].append(a)
    users = csrs()
    ids = [u.id for u in users]
    items = open_items_of(ids, viewer, now=now)
    answered = answered_this_month_of(ids, now=now)
    return [CsrLoad(u, items[u.id], *answered[u.id], covers.get(u.id, [])) for u in users]


def _cover_text(load: CsrLoad) -> str:
    parts = []
    for a in load.cover:
        names = sorted({u.display_name for u in [a.cover] + [c.cover for c in a.covers] if u is not None})
        parts.append(f"{a.starts_on}–{a.ends_on}: {', '.join(names)}")
    return "; ".join(parts)


def workload_sheets(rows: list[CsrLoad]) -> list[tuple[str, list, list]]:
    """The workload for portal.xlsx: one line per CSR, then every open item (the counts are of these items)."""
    buckets = [b[0] for b in AGE_BUCKETS]
    header = ([str(_l("CSR"))] + [str(v) for v in KINDS.values()]
              + [str(_l("Age %(days)s days", days=b)) for b in buckets]
              + [str(_l("Overdue")), str(_l("Answered this month")), str(_l("Within one working day")),
                 str(_l("Cover in force"))])
    summary = []
    for r in rows:
        summary.append([r.user.display_name] + [r.count(k) for k in KINDS] + [r.count(bucket=b) for b in buckets]
                       + [len(r.overdue), r.answered, r.answered_in_time, _cover_text(r)])
    items_header = [str(_l("CSR")), str(_l("Kind")), str(_l("Reference")), str(_l("Customer")), str(_l("Title")),
                    str(_l("Since")), str(_l("Due")), str(_l("Age (days)")), str(_l("Overdue"))]
    items = []
    for r in rows:
        for i in r.items:
            items.append([r.user.display_name, str(KINDS[i.kind]), i.ref, i.customer, i.title, i.since, i.due,
                          i.age_days, str(_l("yes")) if i.overdue else str(_l("no"))])
    return [(str(_l("Workload")), header, summary), (str(_l("Open items")), items_header, items)]
