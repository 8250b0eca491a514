"""Knowledge pages, government visits and certificates in the search index.

A page is indexed with its current (approved or published) version, readable by everyone; a procedure
that has only drafts is indexed with its latest draft and is visible to editors only (acl terms).
Regulation numbers and titles are boosted.
"""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...markdown import to_plain_text
from ...search.registry import register_child, register_kind
from .models import Citation, FollowUpAction, Page, Permit, Revision, Visit

MAX_BODY_CHARS = 200_000


def _page_document(p: Page) -> dict:
    rev = p.current_revision or p.latest_revision
    body = to_plain_text(rev.body) if rev else ""
    extra = []
    if p.kind == "regulation":
        extra = [p.authority, p.summary]
    elif p.kind == "procedure":
        extra = [p.owner_department] + [f"{c.target.doc_number} {c.target.title}" for c in p.citations]
    refs = " ".join(x for x in (p.doc_number, p.slug) if x)
    number = p.doc_number if p.doc_number and p.doc_number not in p.title else ""
    title = " ".join(x for x in (number, p.title, p.title_zh if p.title_zh != p.title else "") if x)
    return {
        "title": title,
        "body": ("\n".join(x for x in extra if x) + "\n" + body)[:MAX_BODY_CHARS],
        "refs": refs,
        "tags": " ".join(x for x in (p.kind, p.tags.replace(",", " "), p.status) if x),
        "date": p.effective_on or p.issued_on or (rev.created_at if rev else p.created_at),
        "lang": p.lang,
    }


register_kind(
    "knowledge",
    Page,
    document=_page_document,
    url=lambda p: url_for("knowledge.view", slug=p.slug),
    label=_l("Knowledge page"),
    acl=lambda p: p.acl_terms(),
    boost={"title": 3.0, "refs": 4.0},
)
register_child(Revision, parents=lambda r: [r.page] if r.page is not None else [])
register_child(Citation, parents=lambda c: [c.page] if c.page is not None else [])


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
    url=lambda v: url_for("knowledge.visit", visit_id=v.id),
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
    url=lambda c: url_for("knowledge.permit_edit", permit_id=c.id),
    label=_l("Certificate or approval"),
    boost={"refs": 3.0},
)
