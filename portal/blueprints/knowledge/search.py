"""Knowledge pages in the search index.

A page is indexed with its current (approved or published) version, readable by everyone; a procedure
that has only drafts is indexed with its latest draft and is visible to editors only (acl terms).
Regulation numbers and titles are boosted.
"""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...markdown import to_plain_text
from ...search import synonyms
from ...search.registry import register_child, register_kind
from . import glossary
from .models import Citation, Page, Revision

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

# The glossary's entries are the search's bilingual synonyms, read again whenever the list changes.
synonyms.register_source(glossary.version, glossary.synonym_groups)
