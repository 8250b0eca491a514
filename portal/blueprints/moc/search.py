"""MOC requests (with their items) in the search index."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...search.registry import register_child, register_kind
from .models import MocItem, MocRequest


def _moc(m: MocRequest) -> dict:
    parts = [m.description, m.technical_basis, m.safety_health_impact, m.procedure_changes, m.customer_impact,
             m.agenda, m.minutes, m.decisions] + [i.description for i in m.items]
    return {
        "title": f"{m.ref} {m.title}",
        "body": "\n".join(p for p in parts if p),
        "refs": f"{m.ref} {m.complaint.ref if m.complaint else ''}".strip(),
        "tags": f"moc {m.state} {m.period}",
        "customer": m.customer.code if m.customer else "",
        "date": m.meeting_date or m.created_at,
    }


register_kind("moc", MocRequest, document=_moc, url=lambda m: url_for("moc.detail", moc_id=m.id),
              label=_l("Management of change"),
              acl=lambda m: m.complaint.acl_terms() if m.complaint is not None else ["all"])
register_child(MocItem, parents=lambda i: [i.moc])
