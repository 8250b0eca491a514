"""The demonstration terminal has three yearly surveys answered by the demo customers."""
from __future__ import annotations

from portal.blueprints.surveys import services
from portal.blueprints.surveys.models import SurveyCampaign


def test_three_yearly_campaigns_with_answers_and_follow_up(demo_app):
    from portal.extensions import db

    campaigns = list(db.session.scalars(db.select(SurveyCampaign).order_by(SurveyCampaign.year)))
    years = [c.year for c in campaigns]
    assert len(campaigns) == 3 and years == sorted(years) and years[-1] - years[0] == 2
    assert {c.version.number for c in campaigns} == {1, 2}
    for c in campaigns:
        res = services.results(c)
        assert res["answered"] >= 3 and len(res["customers"]) >= 5
    assert services.results(campaigns[1])["closed_loops"] >= 1
    trend = services.trend(campaigns)
    assert trend["questions"]["portal_use"][0] is None and trend["questions"]["portal_use"][2] is not None
    assert services.campaign_status(campaigns[-1]) == "open"
