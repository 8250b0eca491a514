"""The day's due work per role, each a count on the dashboard and a list behind it (see portal.panels.register_due).

CSR: my open inquiries with their answer-by times, my open complaints with the acknowledgement or next action due,
my CAPA actions due within 7 days, my training and the pages I am asked to read. Manager: escalated inquiries,
complaints waiting for the effectiveness check, CAPA actions due this week, disposal batches to approve.
Records officer: active legal holds (records due for disposal are the archive's own list). Operations adds orders
to verify, daily reports due, ETA changes and applications due from its own package the same way.
"""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import case
from sqlalchemy.orm import load_only, selectinload

from ...extensions import db
from ...panels import DueRow, DueSummary, first_due, register_due
from ...timeutil import local_today
from ..archive.models import ArchiveRecord, DisposalBatch, Hold
from ..complaints.models import FINAL_STATES, OPEN_ACTION_STATUSES, CapaAction, Complaint, Inquiry
from ..knowledge.models import Acknowledgement, Announcement, AnnouncementRecipient, TrainingAssignment

CS = ("csr", "cs_manager")
MANAGERS = ("cs_manager", "admin")

MAX_LISTED = 200  # the linked lists are opened with this page size so every counted row is on one page


def _is(user, *roles) -> bool:
    return user.has_role(*roles)


def _count(*criteria, due=None, count=None, joins=()) -> DueSummary:
    """A list's summary in one statement: how many rows meet ``criteria``, and the earliest ``due`` among them."""
    stmt = db.select(count, db.func.min(due) if due is not None else db.null())
    for target in joins:
        stmt = stmt.join(target)
    n, first = db.session.execute(stmt.filter(*criteria)).one()
    return DueSummary(n, first)


# ---- CSR ----------------------------------------------------------------------------------------

def _my_inquiries(user):
    return Inquiry.assigned_to_id == user.id, Inquiry.answered_at.is_(None)


def my_inquiries_summary(user):
    if not _is(user, *CS):
        return None
    return _count(*_my_inquiries(user), count=db.func.count(Inquiry.id), due=Inquiry.due_at)


@register_due("my-inquiries", 10, _l("My open inquiries"),
              url=lambda user: url_for("complaints.inquiries", status="open", mine=1, per_page=MAX_LISTED),
              summary=my_inquiries_summary)
def my_inquiries(user):
    if not _is(user, *CS):
        return None
    rows = db.session.scalars(db.select(Inquiry).options(selectinload(Inquiry.customer)).filter(*_my_inquiries(user))
                              .order_by(Inquiry.due_at))
    return [DueRow(f"{i.ref} {i.subject}", url_for("complaints.inquiry_detail", inquiry_id=i.id), i.due_at,
                   i.customer.code) for i in rows]


def _my_complaints(user):
    return Complaint.visible_to(user).filter(Complaint.owner_id == user.id, Complaint.state.not_in(FINAL_STATES))


def my_complaints_summary(user):
    """How many open complaints I own, and the earliest of their acknowledgements due (not acknowledged yet) and
    next open actions' due dates (acknowledged ones): two minimums, a time and a day, in one statement."""
    if not _is(user, *CS):
        return None
    next_action = (db.select(db.func.min(CapaAction.due_date))
                   .where(CapaAction.complaint_id == Complaint.id, CapaAction.status.in_(OPEN_ACTION_STATUSES),
                          CapaAction.due_date.is_not(None))
                   .correlate(Complaint).scalar_subquery())
    n, ack_due, action_due = db.session.execute(_my_complaints(user).with_only_columns(
        db.func.count(Complaint.id),
        db.func.min(case((Complaint.acknowledged_at.is_(None), Complaint.ack_due_at))),
        db.func.min(case((Complaint.acknowledged_at.is_not(None), next_action))))).one()
    return DueSummary(n, first_due([ack_due, action_due]))


@register_due("my-complaints", 11, _l("My open complaints"), summary=my_complaints_summary)
def my_complaints(user):
    """Open complaints I own: the acknowledgement due while not acknowledged, else the next open action's due date."""
    if not _is(user, *CS):
        return None
    stmt = (_my_complaints(user).options(selectinload(Complaint.actions))
            .order_by(Complaint.acknowledged_at.is_not(None), Complaint.ack_due_at, Complaint.id))
    out = []
    for c in db.session.scalars(stmt):
        if c.acknowledged_at is None:
            due, note = c.ack_due_at, _l("acknowledgement due")
        else:
            open_dates = [a.due_date for a in c.actions if a.status in OPEN_ACTION_STATUSES and a.due_date]
            due, note = (min(open_dates), _l("next action due")) if open_dates else (None, "")
        out.append(DueRow(f"{c.ref} {c.title}", url_for("complaints.detail", complaint_id=c.id), due, str(note)))
    return out


def _action_url(action: CapaAction) -> str:
    """A complaint's actions, or the survey answer an action was raised from (its actions section)."""
    endpoint, args, anchor = action.source_link
    return url_for(endpoint, **args) + f"#{anchor}"


def _my_actions(user):
    return CapaAction.due_for(user, local_today() + timedelta(days=7))


def my_actions_summary(user):
    if not _is(user, *CS):
        return None
    return _count(*_my_actions(user), count=db.func.count(CapaAction.id), due=CapaAction.due_date)


@register_due("my-actions", 12, _l("My CAPA actions due within 7 days"), summary=my_actions_summary)
def my_actions(user):
    if not _is(user, *CS):
        return None
    rows = db.session.scalars(db.select(CapaAction).options(selectinload(CapaAction.complaint)).filter(
        *_my_actions(user)).order_by(CapaAction.due_date, CapaAction.id))
    return [DueRow(f"{a.ref} {a.description[:120]}", _action_url(a), a.due_date) for a in rows]


def _my_training(user):
    return TrainingAssignment.user_id == user.id, TrainingAssignment.completed_at.is_(None)


@register_due("my-training", 13, _l("My training to do"),
              summary=lambda user: _count(*_my_training(user), count=db.func.count(TrainingAssignment.id),
                                          due=TrainingAssignment.due_date))
def my_training(user):
    rows = db.session.scalars(db.select(TrainingAssignment).options(selectinload(TrainingAssignment.plan)).filter(
        *_my_training(user))
        .order_by(TrainingAssignment.due_date.is_(None), TrainingAssignment.due_date, TrainingAssignment.id))
    return [DueRow(a.plan.title, url_for("knowledge.assignment", assignment_id=a.id), a.due_date) for a in rows]


def _to_read(user):
    acked = db.select(Acknowledgement.revision_id).filter(Acknowledgement.user_id == user.id)
    return AnnouncementRecipient.user_id == user.id, Announcement.revision_id.not_in(acked)


@register_due("to-read", 14, _l("Pages to read and acknowledge"),
              summary=lambda user: _count(*_to_read(user), count=db.func.count(db.distinct(Announcement.id)),
                                          due=Announcement.due_date, joins=(AnnouncementRecipient,)))
def to_read(user):
    rows = db.session.scalars(
        db.select(Announcement).options(selectinload(Announcement.page)).join(AnnouncementRecipient)
        .filter(*_to_read(user))
        .order_by(Announcement.due_date.is_(None), Announcement.due_date, Announcement.id)).unique().all()
    return [DueRow(a.page.title, url_for("knowledge.view", slug=a.page.slug), a.due_date) for a in rows]


# ---- manager ------------------------------------------------------------------------------------

_ESCALATED = (Inquiry.escalated_at.is_not(None), Inquiry.escalation_resolved_at.is_(None))


def escalations_summary(user):
    if not _is(user, *MANAGERS):
        return None
    return _count(*_ESCALATED, count=db.func.count(Inquiry.id), due=Inquiry.due_at)


@register_due("escalations", 20, _l("Escalated inquiries"),
              url=lambda user: url_for("complaints.inquiries", status="escalated", per_page=MAX_LISTED),
              summary=escalations_summary)
def escalations(user):
    if not _is(user, *MANAGERS):
        return None
    rows = db.session.scalars(db.select(Inquiry).options(selectinload(Inquiry.customer)).filter(*_ESCALATED)
                              .order_by(Inquiry.escalated_at))
    return [DueRow(f"{i.ref} {i.subject}", url_for("complaints.inquiry_detail", inquiry_id=i.id), i.due_at,
                   i.customer.code) for i in rows]


def effectiveness_summary(user):
    """Its rows have no due date: the count of the complaints the user may see."""
    if not _is(user, *MANAGERS):
        return None
    stmt = Complaint.visible_to(user).filter(Complaint.state == "awaiting_effectiveness")
    return DueSummary(db.session.scalar(stmt.with_only_columns(db.func.count(Complaint.id))))


@register_due("effectiveness", 21, _l("Complaints waiting for the effectiveness check"),
              url=lambda user: url_for("complaints.index", state="awaiting_effectiveness", per_page=MAX_LISTED),
              summary=effectiveness_summary)
def effectiveness(user):
    if not _is(user, *MANAGERS):
        return None
    rows = db.session.scalars(Complaint.visible_to(user).filter(Complaint.state == "awaiting_effectiveness")
                              .order_by(Complaint.received_at.desc()))
    return [DueRow(f"{c.ref} {c.title}", url_for("complaints.detail", complaint_id=c.id)) for c in rows]


def _this_week(user):
    """Every open action due by the end of this week (Sunday, local date), overdue ones included, that the user
    may see."""
    today = local_today()
    sunday = today + timedelta(days=6 - today.weekday())
    return CapaAction.status.in_(OPEN_ACTION_STATUSES), CapaAction.due_date <= sunday, CapaAction.visible_to(user)


def capa_this_week_summary(user):
    if not _is(user, *MANAGERS):
        return None
    return _count(*_this_week(user), count=db.func.count(CapaAction.id), due=CapaAction.due_date)


@register_due("capa-this-week", 22, _l("CAPA actions due this week"), summary=capa_this_week_summary)
def capa_this_week(user):
    """Every open action due by the end of this week (Sunday, local date), overdue ones included."""
    if not _is(user, *MANAGERS):
        return None
    rows = db.session.scalars(db.select(CapaAction).options(selectinload(CapaAction.complaint),
                                                            selectinload(CapaAction.owner))
                              .filter(*_this_week(user)).order_by(CapaAction.due_date, CapaAction.id))
    return [DueRow(f"{a.ref} {a.description[:120]}", _action_url(a), a.due_date,
                   a.owner.display_name if a.owner else "") for a in rows]


def _to_approve(user):
    return DisposalBatch.status == "proposed", DisposalBatch.proposed_by_id != user.id


def batches_to_approve_summary(user):
    if not _is(user, "cs_manager", "admin"):
        return None
    return _count(*_to_approve(user), count=db.func.count(DisposalBatch.id), due=DisposalBatch.as_of)


@register_due("batches-to-approve", 23, _l("Disposal batches to approve"), summary=batches_to_approve_summary)
def batches_to_approve(user):
    if not _is(user, "cs_manager", "admin"):
        return None
    rows = db.session.scalars(db.select(DisposalBatch).filter(*_to_approve(user)).order_by(DisposalBatch.proposed_at))
    return [DueRow(b.number, url_for("archive.batch", batch_id=b.id), b.as_of) for b in rows]


# ---- records officer ----------------------------------------------------------------------------

_CAN_VIEW_COLUMNS = (ArchiveRecord.id, ArchiveRecord.restricted, ArchiveRecord.created_by_id, ArchiveRecord.source_key)


def holds_summary(user):
    """Every active hold is a row; the first due date is the placing time of the first one (in placing order) not
    on a record the user may not open: the records are asked in that order only until one answers."""
    if not _is(user, "records_officer", "admin"):
        return None
    active = Hold.released_at.is_(None)
    count = db.session.scalar(db.select(db.func.count(Hold.id)).filter(active))
    for placed_at, record_id in db.session.execute(db.select(Hold.placed_at, Hold.record_id).filter(active)
                                                   .order_by(Hold.placed_at)):
        record = None if record_id is None else db.session.get(ArchiveRecord, record_id,
                                                               options=[load_only(*_CAN_VIEW_COLUMNS)])
        if record is None or record.can_view(user):
            return DueSummary(count, placed_at)
    return DueSummary(count)


@register_due("holds", 31, _l("Active legal holds"), summary=holds_summary)
def holds(user):
    if not _is(user, "records_officer", "admin"):
        return None
    record = selectinload(Hold.record).load_only(*_CAN_VIEW_COLUMNS)  # what can_view reads, not the record's text
    rows = db.session.scalars(db.select(Hold).options(record).filter(Hold.released_at.is_(None))
                              .order_by(Hold.placed_at))
    out = []
    for h in rows:
        if h.record is not None and not h.record.can_view(user):
            out.append(DueRow(str(_l("(restricted record)")), None, None))
        else:
            out.append(DueRow(h.reason[:160], url_for("archive.holds"), h.placed_at))
    return out
