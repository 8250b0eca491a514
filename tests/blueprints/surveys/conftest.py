"""A small questionnaire (every question type) and an open campaign with one invited contact."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from portal.blueprints.customers.models import CustomerContact
from portal.blueprints.surveys import services
from portal.extensions import db
from portal.timeutil import local_today

QUESTIONS = [
    # key, kind, zh, en, category, mandatory, allow_na, options
    ("order_handling", "rating", "订单处理是否及时？", "Are orders handled on time?", "orders", True, False, ""),
    ("billing_accuracy", "rating", "账单是否准确？", "Are invoices correct?", "billing", False, True, ""),
    ("recommend", "nps", "您推荐我们的可能性？", "Would you recommend us?", "", True, False, ""),
    ("product", "single", "您储存哪类产品？", "Which products do you store?", "", False, False, "油品 / Oil products\n化工品 / Chemicals"),
    ("channels", "multiple", "您如何联系我们？", "How do you contact us?", "", False, False, "电子邮件 / E-mail\n电话 / Phone\n微信 / WeChat"),
    ("comments", "text", "其他意见？", "Anything else?", "", False, False, ""),
]


def build_version(user, code="CSAT", questions=QUESTIONS):
    q = services.create_questionnaire(code=code, title_zh="满意度问卷", title_en="Satisfaction questionnaire", user=user)
    version = q.versions[0]
    section = services.add_section(version, title_zh="服务", title_en="Service")
    for key, kind, zh, en, cat, mandatory, na, options in questions:
        services.add_question(version, section_id=section.id, key=key, kind=kind, text_zh=zh, text_en=en, category=cat,
                              mandatory=mandatory, allow_na=na, options=options)
    return q, version


def open_campaign(version, user, customer, *, year=2026, days_left=10, title="Survey"):
    today = local_today()
    campaign = services.create_campaign(title=title, kind="yearly", year=year, version=version,
                                        opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=days_left),
                                        user=user)
    invitations = services.invite(campaign, [customer.id])
    return campaign, invitations


@pytest.fixture
def survey(app, customer, people):
    customer.contacts.append(CustomerContact(name="王芳", email="wang.fang@sinochem.example"))
    db.session.commit()
    q, version = build_version(people["csr"])
    campaign, invitations = open_campaign(version, people["csr"], customer)
    inv = invitations[0]
    token = services.issue_link(inv)
    db.session.commit()
    questions = {x.key: x for x in version.questions}
    return SimpleNamespace(questionnaire=q, version=version, campaign=campaign, invitation=inv, token=token,
                           url=f"/surveys/answer/{campaign.id}/{token}", q=questions, customer=customer)


def form_data(survey, **answers):
    """POST data for the answer form: answers by question key (lists for multiple choice)."""
    data = {}
    for key, value in answers.items():
        name = f"q{survey.q[key].id}"
        data[name] = value
    return data


@pytest.fixture
def kit():
    """The helpers above, for tests (test modules here are not a package)."""
    return SimpleNamespace(build_version=build_version, open_campaign=open_campaign, form_data=form_data,
                           QUESTIONS=QUESTIONS)
