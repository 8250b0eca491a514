"""Similar past complaints: a near-duplicate worded differently is found, in Chinese and in English;
the recurrence warning for the same customer and category within twelve months."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.blueprints.complaints import services
from portal.extensions import db

BACKGROUND = [
    ("Vessel waited at anchorage for berth", "delay", "The tanker waited 20 hours at anchorage because berth 1 was occupied by a barge."),
    ("Invoice shows wrong storage fee", "billing", "Storage fee invoiced at the old rate, the contract changed in March."),
    ("Styrene off-spec after tank transfer", "quality", "Polymer content above limit after tank-to-tank transfer from T-12 to T-15."),
    ("船舶靠泊延误", "delay", "船舶在锚地等待泊位超过十八小时，影响客户的船期安排。"),
    ("发票仓储费金额错误", "billing", "仓储费按旧费率开票，合同三月已调整。"),
    ("甲醇储罐水分超标", "quality", "甲醇出库前化验发现水分超标，怀疑储罐呼吸阀进水。"),
]


@pytest.fixture
def history(new_complaint, walk):
    rows = [new_complaint(title=t, category=c, description=d) for t, c, d in BACKGROUND]
    en = new_complaint(title="Gasoil short delivery at truck loading", category="quantity",
                       description="Customer's weighbridge shows 2.1 tonnes less diesel than our flow meter on the loading ticket.")
    zh = new_complaint(title="汽车装车柴油短量", category="quantity", language="zh",
                       description="客户地磅称重比我方流量计少2.1吨柴油，怀疑流量计计量偏差。")
    walk(en, "closed")
    walk(zh, "closed")
    return {"en": en, "zh": zh, "others": rows}


def test_similar_text_finds_the_english_near_duplicate(app, history, people):
    hits = services.similar_to_text(
        "Truck loading quantity complaint: weighbridge ticket lower than meter, diesel missing", people["csr"])
    assert f"complaint:{history['en'].id}" in [h.key for h in hits[:5]]


def test_similar_text_finds_the_chinese_near_duplicate(app, history, people):
    hits = services.similar_to_text("装车后客户过磅发现柴油少了两吨，流量计可能不准", people["csr"])
    assert f"complaint:{history['zh'].id}" in [h.key for h in hits[:5]]


def test_similar_panel_while_typing(client, login, history, people, customer):
    login(people["csr"])
    response = client.get("/complaints/similar", headers={"HX-Request": "true"}, query_string={
        "title": "短量", "description": "客户过磅发现柴油少了两吨，流量计可能不准",
        "customer_id": customer.id, "category": "quantity",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert history["zh"].ref in html
    assert "Recurrence" in html  # the same customer's closed quantity complaints


def test_similar_panel_on_the_complaint_page(client, login, history, people):
    login(people["csr"])
    new = services.create_complaint(customer_id=history["en"].customer_id, title="Diesel quantity short on road tanker",
                                    category="quantity", description="Weighbridge lower than meter ticket again.",
                                    user=people["csr"])
    db.session.commit()
    html = client.get(f"/complaints/{new.id}/similar", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert history["en"].ref in html and new.ref not in html


def test_recurrence_within_twelve_months_only(app, new_complaint, walk, customer, people):
    old = new_complaint(title="Short delivery", category="quantity")
    walk(old, "closed")
    old.closed_at = datetime(2025, 1, 10, tzinfo=UTC)
    db.session.commit()
    assert services.recurrences(customer_id=customer.id, category="quantity", at=datetime(2025, 12, 1, tzinfo=UTC)) == [old]
    assert services.recurrences(customer_id=customer.id, category="quantity", at=datetime(2026, 2, 1, tzinfo=UTC)) == []
    assert services.recurrences(customer_id=customer.id, category="delay", at=datetime(2025, 12, 1, tzinfo=UTC)) == []
