"""The open follow-ups of flagged answers on the customer CSR's "My customers" page."""
from __future__ import annotations

from datetime import timedelta

from portal.blueprints.surveys import services
from portal.blueprints.surveys.models import SurveyAnswer
from portal.extensions import db
from portal.timeutil import local_today


def test_my_customers_lists_open_survey_capa_actions(client, login, survey, kit, people):
    survey.customer.csr_id = people["csr"].id
    db.session.commit()
    response = client.post(survey.url, data={**kit.form_data(survey, order_handling="1", recommend="9"), "submit": "1"})
    assert response.status_code == 302
    answer = db.session.scalar(db.select(SurveyAnswer).filter(SurveyAnswer.value == 1))
    action = services.raise_action(answer, description="Call the terminal manager about order delays",
                                   owner_id=people["csr"].id, due_date=local_today() - timedelta(days=1), user=people["csr"])
    db.session.commit()
    login("csr")
    page = client.get("/department/").get_data(as_text=True)
    line = page.split("Survey follow-up: ", 1)[1].split("</li>", 1)[0]
    assert f"/surveys/answers/{answer.id}" in line and "Call the terminal manager about order delays" in line
    assert "overdue since" in line
    action.status, action.completion_note = "done", "Called on Monday"  # done: no longer open work
    db.session.commit()
    assert "Survey follow-up: " not in client.get("/department/").get_data(as_text=True)
