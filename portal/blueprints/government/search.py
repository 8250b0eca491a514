"""Government visits and certificates in the search index."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...search.registry import register_child, register_kind
from .models import FollowUpAction, Permit, Visit


def _visit_document(v: Visit) -> dict:
    actions = "\n".join(a.description for a in v.actions)
    return {
        "title": f"{v.authority.name_en} {v.authority.name_zh} {v.visit_date.isoformat()}",
        "body": f"{v.topics}\n{v.outcomes}\n{v.attendees}\n{actions}",
        "tags": "visit",
        "date": v.visit_date,
    }


register_kind(
    "gov_visit",
    Visit,
    document=_visit_document,
    url=lambda v: url_for("government.visit", visit_id=v.id),
    label=_l("Authority visit"),
)
register_child(FollowUpAction, parents=lambda a: [a.visit] if a.visit is not None else [])


def _permit_document(c: Permit) -> dict:
    authority = f"{c.authority.name_en} {c.authority.name_zh}" if c.authority else ""
    return {
        "title": f"{c.number} {c.title} {c.title_zh}".strip(),
        "body": f"{authority}\n{c.notes}",
        "refs": c.number,
        "tags": "certificate",
        "date": c.expires_on or c.issued_on,
    }


register_kind(
    "certificate",
    Permit,
    document=_permit_document,
    url=lambda c: url_for("government.permit_edit", permit_id=c.id),
    label=_l("Certificate or approval"),
    boost={"refs": 3.0},
)
