"""Year on year across questionnaire versions, and the SVG charts (valid XML, Chinese labels, escaped)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from decimal import Decimal

from portal import charts
from portal.blueprints.surveys import services
from portal.extensions import db

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg) -> list[str]:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    return [t.text or "" for t in root.iter(f"{SVG}text")] + [t.text or "" for t in root.iter(f"{SVG}title")]


def test_bar_chart_is_valid_svg_with_chinese_labels():
    svg = charts.bar_chart([("1 非常不满意", 2), ("2 不满意", 0), ("5 非常满意", 7)], "订单处理 <&> “评分”", flagged={0})
    texts = _texts(svg)
    assert "1 非常不满意" in texts and "订单处理 <&> “评分”" in texts
    assert "<&>" not in str(svg).replace("&lt;&amp;&gt;", "")
    assert "<script" not in str(svg) and "style=" not in str(svg)


def test_category_bars_and_trend_line_are_valid_svg():
    hbar = charts.hbar_chart([("账单 Billing", Decimal("2.5")), ("安全 HSE", None)], "各类别", reference=[Decimal("3.9"), None])
    assert "账单 Billing" in _texts(hbar)
    line = charts.line_chart(["2024", "2025", "2026"], [("泊位 Berth", [Decimal("3.1"), None, Decimal("4.2")])], "逐年趋势")
    assert {"2024", "2026", "泊位 Berth", "逐年趋势"} <= set(_texts(line))


def _answer(campaign, when, values_by_key):
    inv = campaign.invitations[0]
    keyed = {q.key: q.id for q in campaign.version.questions}
    services.save_answers(inv, {keyed[k]: v for k, v in values_by_key.items()}, submit=True,
                          now=datetime.combine(when, datetime.min.time(), tzinfo=timezone.utc))


def test_year_on_year_matches_questions_by_key_across_versions(survey, people, customer, kit):
    # 2025 on version 1; 2026 on version 2, which drops billing_accuracy and adds a new berth question
    q = survey.questionnaire
    old = services.create_campaign(title="2025", kind="yearly", year=2025, version=survey.version,
                                   opens_on=date(2025, 11, 1), closes_on=date(2025, 12, 15), user=people["csr"])
    services.invite(old, [customer.id], now=datetime(2025, 11, 2, tzinfo=timezone.utc))
    _answer(old, date(2025, 11, 3), {"order_handling": {"value": 3}, "billing_accuracy": {"value": 2},
                                     "recommend": {"value": 6}})
    v2 = services.new_version(q)
    services.remove_question(next(x for x in v2.questions if x.key == "billing_accuracy"))
    services.add_question(v2, section_id=v2.sections[0].id, key="berth_window", kind="rating", text_zh="泊位窗口？",
                          text_en="Berth windows?", category="berth")
    new = services.create_campaign(title="2026", kind="yearly", year=2026, version=v2, opens_on=date(2026, 11, 1),
                                   closes_on=date(2026, 12, 15), user=people["csr"])
    services.invite(new, [customer.id], now=datetime(2026, 11, 2, tzinfo=timezone.utc))
    _answer(new, date(2026, 11, 3), {"order_handling": {"value": 5}, "berth_window": {"value": 4},
                                     "recommend": {"value": 10}})
    db.session.commit()
    tr = services.trend([new, old])  # any order in, oldest first out
    assert [c.year for c in tr["campaigns"]] == [2025, 2026]
    assert tr["questions"]["order_handling"] == [Decimal("3.00"), Decimal("5.00")]
    assert tr["questions"]["billing_accuracy"] == [Decimal("2.00"), None]
    assert tr["questions"]["berth_window"] == [None, Decimal("4.00")]
    assert tr["categories"]["orders"] == [Decimal("3.00"), Decimal("5.00")]
    assert tr["categories"]["berth"] == [None, Decimal("4.00")]
    assert tr["nps"] == [Decimal("-100.0"), Decimal("100.0")]


def test_the_trend_page_draws_the_charts(client, login, survey):
    _answer(survey.campaign, date.today(), {"order_handling": {"value": 4}, "recommend": {"value": 9}})
    db.session.commit()
    login("staff")
    html = client.get("/surveys/trend").get_data(as_text=True)
    assert html.count("<svg") >= 2
