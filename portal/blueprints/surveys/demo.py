"""Demo data: the yearly satisfaction questionnaire in two versions and three yearly campaigns answered by
the demo customers (a few low scores followed up, one left to act on)."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from ...demo import register
from ...extensions import db
from ...models import User
from ...timeutil import local_today
from ..customers.models import Customer
from . import services
from .models import Questionnaire

SECTIONS = [
    ("作业服务", "Operations", [
        ("order_handling", "rating", "订单（作业指令）处理是否及时准确？", "How well are your orders (instructions) handled?", "orders", False),
        ("berth_operations", "rating", "船舶靠泊与装卸作业的表现如何？", "How do you rate berth and vessel operations?", "berth", True),
        ("truck_loading", "rating", "汽车装车的效率与秩序如何？", "How do you rate truck loading?", "trucks", True),
        ("quantity_quality", "rating", "货物数量与质量的控制是否令您满意？", "Are you satisfied with quantity and quality control?", "quality", False),
    ]),
    ("单证、账单与沟通", "Documents, billing and communication", [
        ("daily_report", "rating", "库存日报和月度报告是否准时、准确？", "Are the daily stock reports and monthly reports on time and correct?", "documents", False),
        ("billing_accuracy", "rating", "账单是否准确、清楚？", "Are our invoices correct and clear?", "billing", False),
        ("csr_response", "rating", "客服代表的响应速度与专业程度如何？", "How responsive and professional is your customer service representative?", "communication", False),
        ("hse", "rating", "码头的安全、健康与环境表现如何？", "How do you rate the terminal's HSE performance?", "hse", True),
    ]),
    ("总体评价", "Overall", [
        ("recommend", "nps", "您向同行推荐本码头的可能性有多大？", "How likely are you to recommend our terminal to a colleague?", "", True),
        ("channels", "multiple", "您通常通过哪些方式联系我们？", "How do you usually contact us?", "", False),
        ("comments", "text", "您对我们还有什么意见或建议？", "What else should we improve?", "", False),
    ]),
]
CHANNELS = "电子邮件 / E-mail\n电话 / Phone\n微信 / WeChat\n客户门户 / Customer portal"
COMMENTS = [
    "周末驳船靠泊窗口太少，希望增加。 / Too few barge windows at weekends.",
    "Invoices for heating charges are hard to reconcile with the tank heating log.",
    "客服代表响应很快，感谢！",
    "Please send the monthly variance analysis per tank.",
    "",
    "",
]


def _questionnaire(user) -> Questionnaire:
    q = services.create_questionnaire(code="CSAT", title_zh="客户满意度调查问卷", title_en="Customer satisfaction questionnaire",
                                      user=user)
    v1 = q.versions[0]
    v1.intro_zh = "感谢您抽出约5分钟时间评价我们的服务。1分表示非常不满意，5分表示非常满意。"
    v1.intro_en = "Thank you for taking about five minutes to rate our services: 1 is very dissatisfied, 5 very satisfied."
    for zh, en, questions in SECTIONS:
        section = services.add_section(v1, title_zh=zh, title_en=en)
        for key, kind, text_zh, text_en, category, flag in questions:
            services.add_question(v1, section_id=section.id, key=key, kind=kind, text_zh=text_zh, text_en=text_en,
                                  mandatory=kind in ("nps",) or key == "order_handling", allow_na=flag and kind == "rating",
                                  category=category, options=CHANNELS if kind == "multiple" else "")
    return q


def _answer_values(version, rng: random.Random, base: float, year_shift: float, weak: str | None) -> dict:
    values = {}
    for q in version.questions:
        if q.kind == "rating":
            if q.allow_na and rng.random() < 0.15:
                values[q.id] = {"na": True}
                continue
            mean = base + year_shift - (1.8 if q.category == weak else 0)
            values[q.id] = {"value": max(1, min(5, round(rng.gauss(mean, 0.7))))}
        elif q.kind == "nps":
            values[q.id] = {"value": max(0, min(10, round(rng.gauss(base * 2 + year_shift * 2, 1.4))))}
        elif q.kind == "multiple":
            values[q.id] = {"choices": sorted(rng.sample(range(4), rng.randint(1, 3)))}
        else:
            values[q.id] = {"text": rng.choice(COMMENTS)}
    return values


@register(70, "satisfaction surveys")
def load():
    if db.session.scalar(db.select(db.func.count(Questionnaire.id))):
        return
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    csr, manager = users.get("csr"), users.get("manager")
    customers = list(db.session.scalars(db.select(Customer).order_by(Customer.code)))
    if csr is None or not customers:
        return
    rng = random.Random(18)
    today = local_today()
    q = _questionnaire(csr)
    v1 = q.versions[0]
    services.freeze(v1)
    v2 = services.new_version(q)
    # Version 2 asks about the customer portal as well, and no longer about truck loading.
    section = v2.sections[1]
    services.remove_question(next(x for x in v2.questions if x.key == "truck_loading"))
    services.add_question(v2, section_id=section.id, key="portal_use", kind="rating",
                          text_zh="客户门户（库存查询、单证下载）是否好用？",
                          text_en="How useful is the customer portal (stock, documents)?", category="communication",
                          allow_na=True)
    base = {c.id: 3.3 + (i % 4) * 0.35 for i, c in enumerate(customers)}
    weak = {customers[1].id: "billing", customers[3].id: "berth"} if len(customers) > 3 else {}
    plan = [(today.year - 2, v1, 0.0), (today.year - 1, v2, 0.2), (today.year, v2, 0.35)]
    for n, (year, version, shift) in enumerate(plan):
        current = year == today.year
        opens = today - timedelta(days=20) if current else date(year, 11, 1)
        closes = today + timedelta(days=30) if current else date(year, 12, 15)
        campaign = services.create_campaign(
            title=f"{year}年度客户满意度调查 / Customer satisfaction survey {year}", kind="yearly", year=year,
            version=version, opens_on=opens, closes_on=closes, reminder_on=opens + timedelta(days=14), user=csr)
        invitations = services.invite(campaign, [c.id for c in customers],
                                      now=datetime.combine(opens, time(3, 0), tzinfo=timezone.utc))
        for k, inv in enumerate(invitations):
            services.issue_link(inv)
            share = 0.55 if current else 0.85
            if rng.random() > share:
                continue
            when = datetime.combine(opens + timedelta(days=2 + k), time(3, 0), tzinfo=timezone.utc)
            values = _answer_values(version, rng, base[inv.customer_id], shift, weak.get(inv.customer_id))
            submit = not (current and k % 4 == 3)
            services.save_answers(inv, values, submit=submit, language=inv.language, now=when)
        if n == 1 and manager is not None:
            # last year's low scores: CAPA actions, two verified (loop closed), one done awaiting verification,
            # one still open
            flagged = [a for inv in campaign.invitations if inv.submitted for a in inv.response.answers if a.flagged]
            for j, answer in enumerate(flagged[:4]):
                action = services.raise_action(
                    answer, description="Call the customer and agree an improvement plan / 回访客户并商定改进计划",
                    owner_id=csr.id, due_date=closes + timedelta(days=30), user=manager)
                if j < 3:  # the owner's progress and the manager's verification, as the action's page records them
                    done_at = datetime.combine(closes + timedelta(days=20 + j), time(3, 0), tzinfo=timezone.utc)
                    action.status, action.completion_note = "done", "Agreed with the customer / 已与客户确认改进措施"
                    action.completed_at, action.completed_by_id = done_at, csr.id
                if j < 2:
                    action.status, action.verified_by_id = "verified", manager.id
                    action.verified_at = done_at + timedelta(days=7)
                    action.verification_note = "Customer confirmed the plan / 客户已确认改进计划"
    db.session.flush()
