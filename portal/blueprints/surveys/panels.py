"""Dashboard panel: my survey follow-up actions open, and campaigns whose reminders are due; and the open
follow-ups of flagged answers on "My customers"."""
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...panels import register_panel
from ...timeutil import to_local
from ..department.models import register_customer_lines
from . import services
from .models import SurveyAnswer, SurveyFollowUp, SurveyResponse


@register_panel(36, "surveys/_panel.html")
def survey_work(user):
    actions = list(db.session.scalars(
        db.select(SurveyFollowUp).filter(SurveyFollowUp.owner_id == user.id, SurveyFollowUp.status == "open")
        .order_by(SurveyFollowUp.due_date)))
    reminders = []
    if user.has_role("csr", "cs_manager"):
        for c in services.yearly_campaigns():
            due = services.reminders_due(c)
            if due:
                reminders.append((c, len(due)))
    if not actions and not reminders:
        return None
    return {"actions": actions, "reminders": reminders}


@register_customer_lines
def customer_lines(customer_ids, viewer, now):
    """"My customers": each open follow-up action raised from an answer of these customers (one statement)."""
    today = to_local(now).date()
    rows = db.session.execute(
        db.select(SurveyFollowUp, SurveyResponse.customer_id)
        .join(SurveyAnswer, SurveyFollowUp.answer_id == SurveyAnswer.id)
        .join(SurveyResponse, SurveyAnswer.response_id == SurveyResponse.id)
        .filter(SurveyResponse.customer_id.in_(customer_ids), SurveyFollowUp.status == "open")
        .order_by(SurveyFollowUp.due_date, SurveyFollowUp.id))
    return [{"customer_id": customer_id, "label": _l("Survey follow-up"), "ref": "", "title": fu.description,
             "due": fu.due_date, "overdue": bool(fu.due_date and fu.due_date < today),
             "endpoint": "surveys.answer_detail", "args": {"answer_id": fu.answer_id}}
            for fu, customer_id in rows]
