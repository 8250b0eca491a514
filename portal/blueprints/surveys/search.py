"""Survey answers in the search index (kind ``survey``): one document per response, its answers as text."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...search.registry import register_child, register_kind
from .models import SurveyAnswer, SurveyResponse


def _response(r: SurveyResponse) -> dict:
    inv = r.invitation
    lines = []
    for a in r.answers:
        q = a.question
        value = a.text or ("N/A" if a.na else (str(a.value) if a.value is not None else ""))
        if a.chosen:
            value = "; ".join(f"{q.choices[c][0]} {q.choices[c][1]}" for c in a.chosen if c < len(q.choices))
        lines.append(f"{q.text_zh} {q.text_en}: {value}")
    campaign = r.campaign
    return {
        "title": f"{campaign.ref} {campaign.title} · {inv.customer.code} {inv.contact_name}",
        "body": "\n".join(lines),
        "refs": campaign.ref,
        "tags": f"survey {r.mode} {'submitted' if r.submitted_at else 'draft'}",
        "customer": inv.customer.code,
        "date": r.submitted_at or r.created_at,
        "lang": r.language,
    }


def _url(r: SurveyResponse) -> str:
    return url_for("surveys.results", campaign_id=r.campaign_id, customer=r.customer_id)


register_kind("survey", SurveyResponse, document=_response, url=_url, label=_l("Survey answer"))
register_child(SurveyAnswer, parents=lambda a: [a.response])
