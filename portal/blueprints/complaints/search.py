"""Inquiries, complaints (with investigation and actions), MOC requests in the search index.

An MOC raised from a complaint is seen by who may see the complaint: its acl is the complaint's, and
the complaint names its MOCs as dependents, re-indexed whenever it changes (restricted, an owner added).
"""
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import object_session

from ...markdown import to_plain_text
from ...search.registry import register_child, register_dependents, register_kind
from .models import CapaAction, Complaint, ComplaintAttachment, Inquiry, Investigation, MocItem, MocRequest


def _inquiry(i: Inquiry) -> dict:
    return {
        "title": f"{i.ref} {i.subject}",
        "body": f"{i.question}\n{i.answer}\n{i.escalation_note}",
        "refs": i.ref,
        "tags": f"inquiry {i.channel}",
        "customer": i.customer.code if i.customer else "",
        "date": i.received_at,
        "lang": i.language,
    }


def _complaint(c: Complaint) -> dict:
    parts = [c.description, c.customer_request]
    inv = c.investigation
    if inv is not None:
        parts += [inv.containment, *inv.whys, inv.root_cause, inv.contributing_factors]
    parts += [f"{a.description} {a.completion_note}" for a in c.actions]
    parts += [c.effectiveness, c.lesson_summary, c.lesson_prevention]
    parts += [a.description for a in c.attachments]
    return {
        "title": f"{c.ref} {c.title}",
        "body": "\n".join(p for p in parts if p),
        "refs": f"{c.ref} {c.reference}",
        "tags": f"complaint {c.category} {c.state} {c.severity} {inv.cause_category if inv else ''}".strip(),
        "customer": c.customer.code if c.customer else "",
        "date": c.received_at,
        "lang": c.language,
    }


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
    }


register_kind("inquiry", Inquiry, document=_inquiry,
              url=lambda i: url_for("complaints.inquiry_detail", inquiry_id=i.id), label=_l("Inquiry"))
register_kind("complaint", Complaint, document=_complaint,
              url=lambda c: url_for("complaints.detail", complaint_id=c.id), label=_l("Complaint"),
              acl=lambda c: c.acl_terms())
register_kind("moc", MocRequest, document=_moc, url=lambda m: url_for("complaints.moc_detail", moc_id=m.id),
              label=_l("Management of change"),
              acl=lambda m: m.complaint.acl_terms() if m.complaint is not None else ["all"])
register_child(Investigation, parents=lambda inv: [inv.complaint])
register_child(CapaAction, parents=lambda a: [a.complaint])
register_child(ComplaintAttachment, parents=lambda a: [a.complaint])
register_child(MocItem, parents=lambda i: [i.moc])


def _mocs_of(c: Complaint) -> list:
    """The MOCs raised from this complaint (their acl is the complaint's)."""
    session = object_session(c)
    if session is None or c.id is None:
        return []
    return list(session.scalars(select(MocRequest).where(MocRequest.complaint_id == c.id)))


register_dependents("complaint", _mocs_of)
