"""What the CSR sees: results with charts, the report filed in the archive, follow-up and the closed loop, the
complaint raised from an answer, the customer's survey history and the review meeting's pre-read pack."""
from __future__ import annotations

import io
from datetime import date
from urllib.parse import parse_qs, urlsplit

from openpyxl import load_workbook

from portal.blueprints.complaints.models import Complaint
from portal.blueprints.surveys.models import SurveyAnswer, SurveyCampaign
from portal.extensions import db


def _submit(client, survey, kit, **answers):
    response = client.post(survey.url, data={**kit.form_data(survey, **answers), "submit": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_results_show_charts_flags_and_downloads(client, login, survey, kit):
    _submit(client, survey, kit, order_handling="1", billing_accuracy="na", recommend="4", channels=["1"],
            comments="账单太晚 <b>late</b>")
    login("staff")
    html = client.get(f"/surveys/campaigns/{survey.campaign.id}/results").get_data(as_text=True)
    assert html.count("<svg") >= 4  # category bars, two ratings, NPS, choices
    assert "账单太晚 &lt;b&gt;late&lt;/b&gt;" in html
    assert "-100.0" in html  # NPS of a single detractor
    pdf = client.get(f"/surveys/campaigns/{survey.campaign.id}/results.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = client.get(f"/surveys/campaigns/{survey.campaign.id}/answers.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("Customer") and len(rows) == 1 + 5  # five answered questions
    assert any(r[6] == "billing_accuracy" and r[10] == "yes" for r in rows[1:])


def test_the_results_report_is_filed_in_the_survey_series(client, login, survey, kit):
    from portal.blueprints.archive.models import ArchiveRecord

    _submit(client, survey, kit, order_handling="4", recommend="9")
    login("csr")
    response = client.post(f"/surveys/campaigns/{survey.campaign.id}/file")
    assert response.status_code == 302
    record = db.session.scalar(db.select(ArchiveRecord))
    assert record.series.code == "CS-05" and record.kind == "survey"
    assert sorted(f.filename for f in record.files) == [f"{survey.campaign.ref}-answers.xlsx", f"{survey.campaign.ref}-results.pdf"]
    assert db.session.get(SurveyCampaign, survey.campaign.id).archive_record_id == record.id


def test_a_complaint_raised_from_an_answer_links_back(client, login, survey, kit):
    _submit(client, survey, kit, order_handling="3", recommend="5", comments="泊位等待太久")
    answer = db.session.scalar(db.select(SurveyAnswer).filter(SurveyAnswer.text == "泊位等待太久"))
    login("csr")
    page = client.get(f"/surveys/answers/{answer.id}").get_data(as_text=True)
    link = next(part.split('"')[0] for part in page.split('href="') if part.startswith("/complaints/new?"))
    link = link.replace("&amp;", "&")
    args = parse_qs(urlsplit(link).query)
    assert args["source"] == [f"survey_answer:{answer.id}"] and args["customer_id"] == [str(survey.customer.id)]
    form = client.get(link).get_data(as_text=True)
    assert "泊位等待太久" in form and f'value="survey_answer:{answer.id}"' in form
    response = client.post("/complaints/new", data={
        "customer_id": survey.customer.id, "title": args["title"][0], "category": "service", "severity": "medium",
        "received_at": "2026-11-30T09:00", "language": "zh", "description": args["description"][0],
        "owner_id": 0, "source": f"survey_answer:{answer.id}"})
    assert response.status_code == 302
    complaint = db.session.scalar(db.select(Complaint))
    assert complaint.source == f"survey_answer:{answer.id}"
    detail = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert f'href="/surveys/answers/{answer.id}"' in detail
    assert complaint.ref in client.get(f"/surveys/answers/{answer.id}").get_data(as_text=True)


def test_a_made_up_source_is_not_kept(client, login, customer):
    login("csr")
    form = client.get("/complaints/new?source=javascript:alert(1)&title=x").get_data(as_text=True)
    assert "javascript" not in form


def test_the_customer_page_has_the_survey_history(client, login, survey, kit):
    _submit(client, survey, kit, order_handling="4", recommend="8")
    login("staff")
    html = client.get(f"/customers/{survey.customer.id}?tab=surveys").get_data(as_text=True)
    assert survey.campaign.ref in html and "answered" in html


def test_the_pre_read_pack_includes_the_latest_survey(client, login, survey, kit):
    from portal.blueprints.meetings import services as meeting_services

    _submit(client, survey, kit, order_handling="2", recommend="6", comments="请提供月度损溢分析")
    user = login("csr")
    meeting = meeting_services.create_meeting(customer_id=survey.customer.id, meeting_date=date(2026, 12, 10), user=user)
    db.session.commit()
    html = client.get(f"/meetings/{meeting.id}/preread").get_data(as_text=True)
    assert "Latest satisfaction survey" in html and survey.campaign.ref in html and "请提供月度损溢分析" in html
    assert "<svg" in html
    pdf = client.get(f"/meetings/{meeting.id}/preread.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_answers_are_found_by_search(client, survey, kit, people):
    from portal.search import search

    _submit(client, survey, kit, order_handling="4", recommend="8", comments="heating coils on tank T-204 too slow")
    found = search("heating coils", user=people["staff"], kinds=["survey"])
    assert found.total == 1
    assert search("订单处理", user=people["staff"], kinds=["survey"]).total == 1
