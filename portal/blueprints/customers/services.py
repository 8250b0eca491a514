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
    count: int = 0
    rows: list[TabRow] = dc_field(default_factory=list)


def customer_tabs(customer: Customer, user, active: str = "", *, page: int = 1, per_page: int = 25):
    """The customer's complaints, inquiries, review meetings, MOCs, surveys and archived records, one tab each,
    counted; the ``active`` tab's rows (the first tab's for an unknown key) a page at a time, newest first.
    Returns ``(tabs, active_tab, pagination)``.

    Only what ``user`` may open is listed or counted (restricted records are left out, not counted): each tab's
    query carries its module's own visibility in SQL (``Complaint.visible_to``, ``MocRequest.visible_to``,
    ``ArchiveRecord.visible_to``; inquiries, meetings and surveys are open to every
    signed-in user), so five years of a customer's records cost one count each and one page of rows.
    """
    from flask_babel import gettext as _
    from sqlalchemy.orm import contains_eager

    from ..archive.models import DESTROYED, TRANSFERRED, ArchiveRecord
    from ..complaints.models import STATES, Complaint, Inquiry
    from ..meetings.models import MEETING_STATUSES, ReviewMeeting
    from ..moc.models import MOC_STATES, MocRequest
    from ..surveys.models import SurveyCampaign, SurveyInvitation
    from ...web import safe_url as url

    cid = customer.id
    specs = {
        "complaints": (_("Complaints"),
                       Complaint.visible_to(user).filter_by(customer_id=cid)
                       .order_by(Complaint.received_at.desc(), Complaint.id.desc()),
                       lambda c: TabRow(c.received_at, c.ref, c.title, str(STATES.get(c.state, c.state)),
                                        url("complaints.detail", complaint_id=c.id), c.restricted)),
        "inquiries": (_("Inquiries"),
                      db.select(Inquiry).filter_by(customer_id=cid).order_by(Inquiry.received_at.desc(), Inquiry.id.desc()),
                      lambda i: TabRow(i.received_at, i.ref, i.subject, _("open") if i.is_open else _("answered"),
                                       url("complaints.inquiry_detail", inquiry_id=i.id))),
        "meetings": (_("Review meetings"),
                     db.select(ReviewMeeting).filter_by(customer_id=cid)
                     .order_by(ReviewMeeting.meeting_date.desc(), ReviewMeeting.id.desc()),
                     lambda m: TabRow(m.meeting_date, m.ref, m.location or "",
                                      str(MEETING_STATUSES.get(m.status, m.status)), url("meetings.detail", meeting_id=m.id))),
        "mocs": (_("MOCs"),
                 db.select(MocRequest)
                 .filter(db.or_(MocRequest.customer_id == cid, MocRequest.complaint_id.in_(
                     db.select(Complaint.id).filter_by(customer_id=cid))))
                 .filter(MocRequest.visible_to(user))
                 .order_by(MocRequest.created_at.desc(), MocRequest.id.desc()),
                 lambda m: TabRow(m.created_at, m.ref, m.title, str(MOC_STATES.get(m.state, m.state)),
                                  url("moc.detail", moc_id=m.id))),
        "surveys": (_("Surveys"),
                    db.select(SurveyInvitation).filter_by(customer_id=cid).join(SurveyCampaign)
                    .options(contains_eager(SurveyInvitation.campaign), selectinload(SurveyInvitation.response))
                    .order_by(SurveyCampaign.opens_on.desc(), SurveyInvitation.id.desc()),
                    lambda s: TabRow(s.campaign.opens_on, s.campaign.ref, f"{s.campaign.title} · {s.contact_name}",
                                     _("answered") if s.submitted else _("not answered"),
                                     url("surveys.results", campaign_id=s.campaign_id, customer=cid))),
        "records": (_("Archived records"),
                    ArchiveRecord.visible_to(user).filter_by(customer_id=cid)
                    .order_by(ArchiveRecord.record_date.desc(), ArchiveRecord.id.desc()),
                    lambda r: TabRow(r.record_date, r.reference, r.title,
                                     {DESTROYED: _("destroyed"), TRANSFERRED: _("transferred")}.get(r.status, ""),
                                     url("archive.record", record_id=r.id), r.restricted)),
    }
    counts = db.session.execute(db.select(*[
        db.select(db.func.count()).select_from(stmt.order_by(None).subquery()).scalar_subquery()
        for _label, stmt, _row in specs.values()])).one()
    tabs = [Tab(key, label, count) for (key, (label, _stmt, _row)), count in zip(specs.items(), counts)]
    shown = next((t for t in tabs if t.key == active), tabs[0])
    _label, stmt, row = specs[shown.key]
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=False)
    pagination.total = shown.count
    shown.rows = [row(item) for item in pagination.items]
    return tabs, shown, pagination
