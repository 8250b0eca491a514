"""Customer domain logic: services flush, routes commit."""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import User
from ..admin.services import staff_choices
from .models import Customer, CustomerContact

FIELDS = ("code", "name_en", "name_zh", "long_term", "daily_report_time", "report_recipients", "active", "notes",
          "aliases")


def list_customers(q: str = "", *, active_only: bool = False):
    stmt = db.select(Customer).order_by(Customer.code).options(selectinload(Customer.csr))
    q = (q or "").strip()
    if q:
        # autoescape: % and _ typed by the user are searched for, not wildcards
        stmt = stmt.filter(db.or_(
            Customer.code.icontains(q, autoescape=True),
            Customer.name_en.icontains(q, autoescape=True),
            Customer.name_zh.contains(q, autoescape=True),
        ))
    if active_only:
        stmt = stmt.filter(Customer.active.is_(True))
    return stmt


def save_customer(form, customer: Customer | None, user: User) -> Customer:
    if customer is None:
        customer = Customer(created_by_id=user.id)
        db.session.add(customer)
    for field in FIELDS:
        setattr(customer, field, getattr(form, field).data)
    customer.name_zh = (customer.name_zh or "").strip()
    customer.aliases = "\n".join(line.strip() for line in (customer.aliases or "").splitlines() if line.strip())
    customer.csr_id = form.csr_id.data or None
    db.session.flush()
    return customer


def add_contact(customer: Customer, form) -> CustomerContact:
    contact = CustomerContact(customer=customer)
    form.populate_obj(contact)
    db.session.add(contact)
    db.session.flush()
    return contact


def remove_contact(contact: CustomerContact) -> None:
    db.session.delete(contact)
    db.session.flush()


def csr_choices():
    return staff_choices(cs_only=True, blank=False)


def customer_choices(*, blank: bool = False, active_only: bool = True) -> list[tuple[int, str]]:
    """(id, "CODE 中文名 / English name") pairs for the customer drop-downs of every module, by code.

    Without a leading blank choice by default (forms add their own "—"); `active_only=False` for
    filters over old records, whose customers may have left.
    """
    stmt = db.select(Customer.id, Customer.code, Customer.name_en, Customer.name_zh).order_by(Customer.code)
    if active_only:
        stmt = stmt.filter(Customer.active.is_(True))
    # `Customer.choice_label` from the four columns (a list page loads no whole customer for its filter)
    choices = [(cid, f"{code} {zh} / {en}" if zh and en else f"{code} {en or zh}")
               for cid, code, en, zh in db.session.execute(stmt)]
    return ([(0, "—")] if blank else []) + choices


# --- the customer's page: what we have done for this customer, one tab per kind -------------------

@dataclass
class TabRow:
    when: object  # date or datetime, newest first
    ref: str
    title: str
    status: str
    url: str | None
    restricted: bool = False


@dataclass
class Tab:
    key: str
    label: str
    rows: list[TabRow] = dc_field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)


TAB_KEYS = ("complaints", "inquiries", "meetings", "mocs", "records")


def _visible(rows, user) -> list:
    return [r for r in rows if r.can_view(user)]


def customer_tabs(customer: Customer, user) -> list[Tab]:
    """The customer's complaints, inquiries, review meetings, MOCs and archived records, newest first,
    each only when `user` may open it (restricted records are left out, not counted).

    Reads the other domains' models only (never their services); each row is checked with its own
    can_view, so a restriction that derives from another record (an MOC of a restricted complaint)
    is honoured the same way as on the record's page.
    """
    from flask_babel import gettext as _

    from ..archive.models import DESTROYED, TRANSFERRED, ArchiveRecord
    from ..complaints.models import STATES, Complaint, Inquiry
    from ..meetings.models import MEETING_STATUSES, ReviewMeeting
    from ..moc.models import MOC_STATES, MocRequest
    from ..surveys.models import SurveyCampaign, SurveyInvitation

    def rows(stmt):
        return _visible(db.session.scalars(stmt).unique().all(), user)

    complaints = rows(db.select(Complaint).filter_by(customer_id=customer.id)
                      .order_by(Complaint.received_at.desc(), Complaint.id.desc()))
    inquiries = rows(db.select(Inquiry).filter_by(customer_id=customer.id)
                     .order_by(Inquiry.received_at.desc(), Inquiry.id.desc()))
    meetings = rows(db.select(ReviewMeeting).filter_by(customer_id=customer.id)
                    .order_by(ReviewMeeting.meeting_date.desc(), ReviewMeeting.id.desc()))
    mocs = rows(db.select(MocRequest).outerjoin(Complaint, MocRequest.complaint_id == Complaint.id)
                .filter(db.or_(MocRequest.customer_id == customer.id, Complaint.customer_id == customer.id))
                .order_by(MocRequest.created_at.desc(), MocRequest.id.desc()))
    surveys = rows(db.select(SurveyInvitation).filter_by(customer_id=customer.id).join(SurveyCampaign)
                   .order_by(SurveyCampaign.opens_on.desc(), SurveyInvitation.id.desc()))
    records = rows(db.select(ArchiveRecord).filter_by(customer_id=customer.id)
                   .order_by(ArchiveRecord.record_date.desc(), ArchiveRecord.id.desc()))

    def url(endpoint, **values):
        from ...web import safe_url

        return safe_url(endpoint, **values)

    return [
        Tab("complaints", _("Complaints"), [
            TabRow(c.received_at, c.ref, c.title, str(STATES.get(c.state, c.state)),
                   url("complaints.detail", complaint_id=c.id), c.restricted) for c in complaints]),
        Tab("inquiries", _("Inquiries"), [
            TabRow(i.received_at, i.ref, i.subject, _("open") if i.is_open else _("answered"),
                   url("complaints.inquiry_detail", inquiry_id=i.id)) for i in inquiries]),
        Tab("meetings", _("Review meetings"), [
            TabRow(m.meeting_date, m.ref, m.location or "", str(MEETING_STATUSES.get(m.status, m.status)),
                   url("meetings.detail", meeting_id=m.id)) for m in meetings]),
        Tab("mocs", _("MOCs"), [
            TabRow(m.created_at, m.ref, m.title, str(MOC_STATES.get(m.state, m.state)),
                   url("moc.detail", moc_id=m.id)) for m in mocs]),
        Tab("surveys", _("Surveys"), [
            TabRow(s.campaign.opens_on, s.campaign.ref, f"{s.campaign.title} · {s.contact_name}",
                   _("answered") if s.submitted else _("not answered"),
                   url("surveys.results", campaign_id=s.campaign_id, customer=customer.id)) for s in surveys]),
        Tab("records", _("Archived records"), [
            TabRow(r.record_date, r.reference, r.title,
                   {DESTROYED: _("destroyed"), TRANSFERRED: _("transferred")}.get(r.status, ""),
                   url("archive.record", record_id=r.id), r.restricted) for r in records]),
    ]
