"""Review meeting minutes in the search index (the minutes as plain text, as the page reads).

An action raised at a meeting is part of that meeting's record (its text, its visibility): changing it
re-indexes the meeting. The minutes filed in the archive follow the meeting (archive/search.py)."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from ...markdown import to_plain_text
from ...search.context import customer_dependents, record_context
from ...search.registry import register_child, register_dependents, register_kind
from .models import MEETING_STATUSES, ReviewAction, ReviewAttendee, ReviewMeeting


def _document(m: ReviewMeeting) -> dict:
    people = " ".join(f"{a.name} {a.company}" for a in m.attendees)
    actions = "\n".join(a.description for a in m.actions)
    return {
        "title": f"{m.ref} {m.customer.name_en} {m.customer.name_zh}",
        "body": "\n".join(p for p in (m.agenda, to_plain_text(m.minutes) if m.minutes else "", m.decisions, actions,
                                       people) if p),
        "refs": m.ref,
        "tags": f"review_meeting {m.status}",
        "customer": m.customer.code,
        "date": m.meeting_date,
        "context": record_context(customer=m.customer, state=MEETING_STATUSES.get(m.status)),
    }


register_kind("review_meeting", ReviewMeeting, document=_document,
              url=lambda m: url_for("meetings.detail", meeting_id=m.id), label=_l("Review meeting minutes"))
register_child(ReviewAttendee, parents=lambda a: [a.meeting])
register_child(ReviewAction, parents=lambda a: [a.meeting])
register_dependents("customer", customer_dependents(ReviewMeeting, ReviewMeeting.customer_id))
