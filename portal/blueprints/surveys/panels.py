"""Dashboard panel: my open CAPA actions raised from survey answers, and campaigns whose reminders are due; and the open
follow-ups of flagged answers on "My customers"."""
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...panels import register_panel
from ...timeutil import local_today, to_local
from ..department.models import register_customer_lines
from . import services
from ..complaints.models import OPEN_ACTION_STATUSES, CapaAction
from .models import SurveyAnswer, SurveyResponse


@register_panel(36, "surveys/_panel.html")
def survey_work(user):
    actions = services.open_actions_of(user)
    reminders = services.reminder_counts() if user.has_role("csr", "cs_manager") else []
    if not actions and not reminders:
        return None
    return {"actions": actions, "reminders": reminders, "today": local_today()}


@register_customer_lines
def customer_lines(customer_ids, viewer, now):
    """"My customers": each open CAPA action raised from an answer of these customers (one statement); a
    complaint's actions are listed with the complaint."""
    today = to_local(now).date()
    rows = db.session.execute(
        db.select(CapaAction, SurveyResponse.customer_id)
        .join(SurveyAnswer, CapaAction.survey_answer_id == SurveyAnswer.id)
        .join(SurveyResponse, SurveyAnswer.response_id == SurveyResponse.id)
        .filter(SurveyResponse.customer_id.in_(customer_ids), CapaAction.status.in_(OPEN_ACTION_STATUSES))
        .order_by(CapaAction.due_date, CapaAction.id))
    return [{"customer_id": customer_id, "label": _l("Survey follow-up"), "ref": a.ref, "title": a.description,
             "due": a.due_date, "overdue": a.is_overdue(today),
             "endpoint": "surveys.answer_detail", "args": {"answer_id": a.survey_answer_id}}
            for a, customer_id in rows]
