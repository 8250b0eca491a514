"""MOC requests (with their items) in the search index.

An MOC raised from a complaint is seen by who may see the complaint: its acl is the complaint's, and
the complaint names its MOCs as dependents, re-indexed whenever it changes (restricted, an owner added).
"""
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import object_session

from ...markdown import to_plain_text
from ...search.context import customer_dependents, record_context
from ...search.registry import register_child, register_dependents, register_kind
from ..complaints.models import Complaint
from .models import MOC_PERIODS, MOC_STATES, MocItem, MocRequest


def _moc(m: MocRequest) -> dict:
    parts = [m.description, m.technical_basis, m.safety_health_impact, m.procedure_changes, m.customer_impact,
             m.agenda, to_plain_text(m.minutes) if m.minutes else "", m.decisions] + [i.description for i in m.items]
    return {
        "title": f"{m.ref} {m.title}",
        "body": "\n".join(p for p in parts if p),
        "refs": f"{m.ref} {m.complaint.ref if m.complaint else ''}".strip(),
        "tags": f"moc {m.state} {m.period}",
        "customer": m.customer.code if m.customer else "",
        "date": m.meeting_date or m.created_at,
        "context": record_context(customer=m.customer, state=MOC_STATES.get(m.state), owner=m.created_by,
                                  labels=[MOC_PERIODS.get(m.period)]),
    }


register_kind("moc", MocRequest, document=_moc, url=lambda m: url_for("moc.detail", moc_id=m.id),
              label=_l("Management of change"),
              acl=lambda m: m.complaint.acl_terms() if m.complaint is not None else ["all"])
register_child(MocItem, parents=lambda i: [i.moc])


def _mocs_of(c: Complaint) -> list:
    """The MOCs raised from this complaint (their acl is the complaint's)."""
    session = object_session(c)
    if session is None or c.id is None:
        return []
    return list(session.scalars(select(MocRequest).where(MocRequest.complaint_id == c.id)))


register_dependents("complaint", _mocs_of)
register_dependents("customer", customer_dependents(MocRequest, MocRequest.customer_id))
