"""Browser test: a CSR moves a vessel call's ETA (and ETB) six hours earlier on the call's page, then sees the berth
plan's bar move, the call's government applications due six hours earlier with the previous due time shown, and
the order carried by the call showing the ETA change."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.extensions import db

pytestmark = pytest.mark.e2e


def _pick_call(live_app):
    """An announced call at a berth, arriving in 2 to 5 days, with a parcel of an order and its DG declaration still
    a draft: (call id, number, eta, etb, order id, application id)."""
    from portal.blueprints.operations.applications.models import Application, ApplicationType
    from portal.blueprints.operations.vessels.models import CallParcel, VesselCall
    from portal.timeutil import utcnow

    with live_app.app_context():
        now = utcnow()
        rows = db.session.execute(
            db.select(VesselCall, CallParcel.order_id, Application.id)
            .join(CallParcel, CallParcel.call_id == VesselCall.id)
            .join(Application, Application.call_id == VesselCall.id)
            .join(ApplicationType, ApplicationType.id == Application.type_id)
            .filter(VesselCall.status == "announced", VesselCall.berth_id.is_not(None),
                    VesselCall.eta > now + timedelta(days=2), VesselCall.eta < now + timedelta(days=5),
                    CallParcel.order_id.is_not(None), ApplicationType.code == "MSA-DG-ARR",
                    Application.state == "draft")
            .order_by(VesselCall.eta)).first()
        assert rows is not None, "the demo has an announced call with an order and a draft declaration"
        call, order_id, app_id = rows
        return call.id, call.number, call.eta, call.etb, order_id, app_id


def test_csr_moves_an_eta_and_sees_the_plan_the_applications_and_the_order_change(page, sign_in, live_app):
    zone = ZoneInfo(live_app.config["TIMEZONE"])
    call_id, number, eta, etb, order_id, app_id = _pick_call(live_app)
    local = lambda dt: dt.astimezone(zone).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    new_eta = eta - timedelta(hours=6)
    new_etb = etb - timedelta(hours=6) if etb else None
    old_due, new_due = eta - timedelta(hours=24), new_eta - timedelta(hours=24)

    sign_in(page, "csr")
    page.goto("/operations/vessels/plan")
    bar = page.locator(f'g[data-call="{number}"] rect').first
    x_before = float(bar.get_attribute("x"))

    page.goto(f"/operations/vessels/calls/{call_id}")
    page.locator("#call-times summary").click()
    page.fill("#times-eta", new_eta.astimezone(zone).strftime("%Y-%m-%dT%H:%M"))
    if new_etb is not None:
        page.fill("#times-etb", new_etb.astimezone(zone).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#times-note", "Agent: faster passage")
    page.get_by_role("button", name="Save the times").click()
    page.get_by_text("Times and berth saved.").wait_for()
    assert local(new_eta) in page.locator('#call-times td[data-time="eta"]').inner_text()
    assert f"{local(eta)} → {local(new_eta)}" in page.locator("#call-revisions").inner_text()
    # The call's own applications section shows the moved due time.
    section = page.locator(f'#call-applications tr[data-application="{app_id}"]')
    assert local(new_due) in section.inner_text() and section.locator("del").inner_text() == local(old_due)

    # The berth plan: the call's bar starts earlier.
    page.goto("/operations/vessels/plan")
    x_after = float(page.locator(f'g[data-call="{number}"] rect').first.get_attribute("x"))
    assert x_after < x_before

    # The applications: due six hours earlier, the previous due time shown struck through with why it moved.
    page.goto(f"/operations/applications/?window=all&state=any&q={number}")
    row = page.locator(f'tr[data-application="{app_id}"]')
    text = row.inner_text()
    assert local(new_due) in text
    assert row.locator("del").inner_text() == local(old_due)
    assert f"ETA {local(eta)} → {local(new_eta)}" in text
    row.get_by_role("link", name=re.compile("Dangerous goods")).click()
    page.wait_for_url(re.compile(rf"/operations/applications/{app_id}$"))
    assert local(new_due) in page.locator("#due-changes").inner_text()

    # The order carried by the call shows the ETA change.
    page.goto(f"/operations/orders/{order_id}")
    change = page.locator("#order-eta-change").inner_text()
    assert local(new_eta) in change and local(eta) in change
