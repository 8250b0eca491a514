"""Inquiries, complaints (with investigation and actions) in the search index."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...search.context import customer_dependents, record_context
from ...search.registry import register_child, register_dependents, register_kind
from .models import (CATEGORIES, CAUSE_CATEGORIES, CHANNELS, SEVERITIES, STATES, CapaAction, Complaint,
                     ComplaintAttachment, Inquiry, Investigation)


def _inquiry(i: Inquiry) -> dict:
    return {
        "title": f"{i.ref} {i.subject}",
        "body": f"{i.question}\n{i.answer}\n{i.escalation_note}",
        "refs": i.ref,
        "tags": f"inquiry {i.channel}",
        "customer": i.customer.code if i.customer else "",
        "date": i.received_at,
        "lang": i.language,
        "context": record_context(customer=i.customer, owner=i.assigned_to, labels=[CHANNELS.get(i.channel)]),
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
        "context": record_context(
            customer=c.customer, category=CATEGORIES.get(c.category), state=STATES.get(c.state), owner=c.owner,
            labels=[SEVERITIES.get(c.severity), CAUSE_CATEGORIES.get(inv.cause_category) if inv else None]),
    }


register_kind("inquiry", Inquiry, document=_inquiry,
              url=lambda i: url_for("complaints.inquiry_detail", inquiry_id=i.id), label=_l("Inquiry"))
register_kind("complaint", Complaint, document=_complaint,
              url=lambda c: url_for("complaints.detail", complaint_id=c.id), label=_l("Complaint"),
              acl=lambda c: c.acl_terms())
register_child(Investigation, parents=lambda inv: [inv.complaint])
register_child(CapaAction, parents=lambda a: [a.complaint] if a.complaint is not None else [])
register_child(ComplaintAttachment, parents=lambda a: [a.complaint])
# their context holds the customer's names: renaming the customer re-indexes them
register_dependents("customer", customer_dependents(Inquiry, Inquiry.customer_id))
register_dependents("customer", customer_dependents(Complaint, Complaint.customer_id))
