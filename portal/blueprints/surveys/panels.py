"""Dashboard panel: my survey follow-up actions open, and campaigns whose reminders are due."""
from ...extensions import db
from ...panels import register_panel
from . import services
from .models import SurveyFollowUp


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
