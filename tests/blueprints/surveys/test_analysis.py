"""The mathematics of the results, checked against a plain recomputation (hypothesis) and on stored answers."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from portal.blueprints.surveys import analysis, services
from portal.blueprints.surveys.models import SurveyCampaign
from portal.extensions import db

ratings = st.lists(st.integers(min_value=1, max_value=5), max_size=60)
scores = st.lists(st.integers(min_value=0, max_value=10), max_size=60)


def _round(fraction: Fraction, places: int) -> Decimal:
    """Half-up rounding done by hand on an exact fraction."""
    scaled = fraction * 10 ** places
    sign = -1 if scaled < 0 else 1
    n = abs(scaled)
    whole = int(n) + (1 if n - int(n) >= Fraction(1, 2) else 0)
    return Decimal(sign * whole).scaleb(-places)


@given(ratings)
def test_distribution_counts_every_point_of_the_scale(values):
    dist = analysis.distribution(values, analysis.RATING_SCALE)
    assert list(dist) == [1, 2, 3, 4, 5]
    assert all(dist[k] == sum(1 for v in values if v == k) for k in dist)
    assert sum(dist.values()) == len(values)


@given(ratings)
def test_mean_is_the_sum_over_the_count(values):
    m = analysis.mean(values)
    if not values:
        assert m is None
    else:
        assert m == _round(Fraction(sum(values), len(values)), 2)
        assert min(values) <= m <= max(values)


@given(scores)
def test_nps_is_promoters_minus_detractors_in_per_cent(values):
    score = analysis.nps(values)
    if not values:
        assert score is None
        return
    promoters = len([v for v in values if v in (9, 10)])
    detractors = len([v for v in values if v in (0, 1, 2, 3, 4, 5, 6)])
    assert score == _round(Fraction(100 * (promoters - detractors), len(values)), 1)
    assert Decimal(-100) <= score <= Decimal(100)
    groups = analysis.nps_groups(values)
    assert groups["promoters"] + groups["passives"] + groups["detractors"] == len(values)


def test_nps_of_known_mixes():
    assert analysis.nps([10, 9, 8, 7, 6]) == Decimal("20.0")  # 2 promoters, 1 detractor of 5
    assert analysis.nps([0] * 3) == Decimal("-100.0")
    assert analysis.nps([9, 10]) == Decimal("100.0")


def _submit(inv, survey, when=None, **values):
    by_key = {k: survey.q[k].id for k in survey.q}
    services.save_answers(inv, {by_key[k]: v for k, v in values.items()}, submit=True)


def test_results_leave_not_applicable_out_and_flag_low_scores(survey, people, customer):
    from portal.blueprints.customers.models import CustomerContact

    customer.contacts.append(CustomerContact(name="John Smith", email="john@sinochem.example"))
    db.session.commit()
    second = services.invite(survey.campaign, [customer.id])[0]
    _submit(survey.invitation, survey, order_handling={"value": 2}, billing_accuracy={"na": True},
            recommend={"value": 10}, comments={"text": "计费不清楚"})
    _submit(second, survey, order_handling={"value": 5}, billing_accuracy={"value": 4}, recommend={"value": 3})
    db.session.commit()
    res = services.results(db.session.get(SurveyCampaign, survey.campaign.id))
    stats = {s["question"].key: s for s in res["stats"]}
    assert stats["billing_accuracy"]["na"] == 1
    assert stats["billing_accuracy"]["mean"] == Decimal("4.00")  # the N/A is not a zero
    assert stats["billing_accuracy"]["distribution"] == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}
    assert stats["order_handling"]["mean"] == Decimal("3.50")
    assert res["nps"] == Decimal("0.0")  # one promoter, one detractor
    assert res["categories"] == {"orders": Decimal("3.50"), "billing": Decimal("4.00")}
    assert sorted((a.question.key, a.value) for a in res["flagged"]) == [("order_handling", 2), ("recommend", 3)]
    assert [a.text for a in res["texts"]] == ["计费不清楚"]
    assert res["response_rate"] == Decimal("100.0") and res["customers"][0]["answered"] == 2
    assert res["closed_loop_rate"] == Decimal("0.0")


def test_drafts_do_not_count(survey):
    services.save_answers(survey.invitation, {survey.q["order_handling"].id: {"value": 1}}, submit=False)
    db.session.commit()
    res = services.results(survey.campaign)
    assert res["flagged"] == [] and res["answered"] == 0
    assert {s["question"].key: s["count"] for s in res["stats"]}["order_handling"] == 0


def test_an_empty_campaign_has_no_means_and_its_pages_still_open(client, login, survey):
    res = services.results(survey.campaign)
    assert res["nps"] is None and res["categories"] == {} and res["closed_loop_rate"] is None
    assert all(s.get("mean") is None for s in res["stats"])
    assert res["response_rate"] == Decimal("0.0")
    login("staff")
    assert client.get(f"/surveys/campaigns/{survey.campaign.id}/results").status_code == 200
    assert client.get(f"/surveys/campaigns/{survey.campaign.id}/results.pdf").status_code == 200
    assert client.get("/surveys/trend").status_code == 200
