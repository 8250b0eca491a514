"""Review meeting minutes in the search index."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...search.registry import register_child, register_kind
from .models import ReviewAction, ReviewAttendee, ReviewMeeting


def _document(m: ReviewMeeting) -> dict:
    people = " ".join(f"{a.name} {a.company}" for a in m.attendees)
    actions = "\n".join(a.description for a in m.actions)
    return {
        "title": f"{m.ref} {m.customer.name_en} {m.customer.name_zh}",
        "body": "\n".join(p for p in (m.agenda, m.minutes, m.decisions, actions, people) if p),
        "refs": m.ref,
        "tags": f"review_meeting {m.status}",
        "customer": m.customer.code,
        "date": m.meeting_date,
    }


register_kind("review_meeting", ReviewMeeting, document=_document,
              url=lambda m: url_for("meetings.detail", meeting_id=m.id), label=_l("Review meeting minutes"))
register_child(ReviewAttendee, parents=lambda a: [a.meeting])
register_child(ReviewAction, parents=lambda a: [a.meeting])
