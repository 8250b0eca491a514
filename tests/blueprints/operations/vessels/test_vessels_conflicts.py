"""Conflicts on the berth plan: two calls overlapping on one berth (touching windows are not a conflict), a
vessel longer or deeper than the berth allows, a product the berth does not serve."""
from __future__ import annotations

from datetime import timedelta

from portal.blueprints.operations.vessels import plan as berth_plan
from portal.blueprints.operations.vessels import services
from portal.extensions import db

from vessels_clock import T0


def _kinds(conflicts, call):
    return sorted(c.kind for c in conflicts.get(call.id, []))


def test_touching_windows_are_not_a_conflict(harbour):
    a = harbour.announce(eta=T0, hours=24)  # on the berth T0+2h .. T0+26h
    b = harbour.announce(vessel=harbour.small, eta=T0 + timedelta(hours=24), hours=10)  # berths at T0+26h
    assert a.plan_end == b.plan_start
    assert berth_plan.find_conflicts([a, b]) == {}


def test_overlapping_windows_are_a_conflict_on_both_calls(harbour):
    a = harbour.announce(eta=T0, hours=24)
    b = harbour.announce(vessel=harbour.small, eta=T0 + timedelta(hours=23), hours=10)  # one hour too early
    conflicts = berth_plan.find_conflicts([a, b])
    assert _kinds(conflicts, a) == ["overlap"] and conflicts[a.id][0].other == b.number
    assert _kinds(conflicts, b) == ["overlap"] and conflicts[b.id][0].other == a.number


def test_overlap_on_another_berth_or_with_a_cancelled_call_is_no_conflict(harbour):
    a = harbour.announce(eta=T0, hours=24)
    b = harbour.announce(vessel=harbour.small, berth=harbour.b2, eta=T0 + timedelta(hours=3))
    c = harbour.announce(vessel=harbour.small, eta=T0 + timedelta(hours=3))
    services.set_status(c, "cancelled", user=harbour.csr, reason="Cargo sold on")
    db.session.commit()
    assert berth_plan.find_conflicts([a, b, c]) == {}


def test_vessel_over_the_berths_limits_and_unserved_product(harbour):
    t = harbour.t
    too_long = harbour.announce(vessel=harbour.huge, eta=T0, parcels=[(t.sino, t.gasoil, "30000")])
    wrong_product = harbour.announce(vessel=harbour.small, berth=harbour.b2, eta=T0 + timedelta(days=5),
                                     parcels=[(t.sino, t.gasoil, "5000"), (t.sino, t.methanol, "1000")])
    deep = harbour.announce(vessel=harbour.big, berth=harbour.b2, eta=T0 + timedelta(days=10),
                            parcels=[(t.vitol, t.methanol, "2000")])
    conflicts = berth_plan.find_conflicts([too_long, wrong_product, deep])
    assert _kinds(conflicts, too_long) == ["draught", "loa"]
    assert _kinds(conflicts, wrong_product) == ["product"] and conflicts[wrong_product.id][0].other == "GASOIL"
    assert _kinds(conflicts, deep) == ["draught", "loa"]  # 182 m / 11.2 m at a 120 m / 8 m berth


def test_a_fitting_call_has_no_conflict(harbour):
    t = harbour.t
    fine = harbour.announce(eta=T0, parcels=[(t.sino, t.gasoil, "20000"), (t.vitol, t.jet, "8000")])
    assert berth_plan.find_conflicts([fine]) == {}


def test_the_plan_page_flags_the_conflict_and_the_call_page_names_it(client, login, harbour):
    a = harbour.announce(eta=T0, hours=24)
    b = harbour.announce(vessel=harbour.small, eta=T0 + timedelta(hours=12), hours=10)
    ok = harbour.announce(vessel=harbour.small, berth=harbour.b2, eta=T0)
    login("staff")
    page = client.get("/operations/vessels/plan?from=2026-03-01&to=2026-03-07").get_data(as_text=True)
    assert f'data-call="{a.number}" data-conflict="overlap"' in page
    assert f'data-call="{b.number}" data-conflict="overlap"' in page
    assert f'data-call="{ok.number}" data-conflict' not in page
    assert f"Overlaps call {b.number} on the same berth." in page
    call_page = client.get(f"/operations/vessels/calls/{a.id}").get_data(as_text=True)
    assert 'id="call-conflicts"' in call_page and f"Overlaps call {b.number}" in call_page
    # moving the second call after the first clears it
    services.change_times(b, user=harbour.csr, eta=T0 + timedelta(hours=20), etb=a.etd, etd=a.etd + timedelta(hours=10))
    db.session.commit()
    page = client.get("/operations/vessels/plan?from=2026-03-01&to=2026-03-07").get_data(as_text=True)
    assert 'data-conflict="overlap"' not in page


def test_the_plan_finds_the_limits_from_the_berths_product_lists_as_a_call_page_does(client, login, harbour):
    """The plan reads which products each berth serves from the berths' lists alone (no product loaded): the same
    conflicts as read through each berth's products, on the page and in a published version."""
    t = harbour.t
    wrong = harbour.announce(vessel=harbour.small, berth=harbour.b2, eta=T0, parcels=[(t.sino, t.gasoil, "5000")])
    fine = harbour.announce(eta=T0, parcels=[(t.sino, t.gasoil, "9000")])
    start, end = T0.date(), T0.date() + timedelta(days=6)
    plan = berth_plan.build_plan(start, end)
    by_bar = {bar.call.id: sorted(c.as_list() for c in bar.conflicts) for bar in plan.bars}
    through_berths = berth_plan.find_conflicts([wrong, fine])
    assert by_bar == {call.id: sorted(c.as_list() for c in through_berths.get(call.id, [])) for call in (wrong, fine)}
    assert by_bar[wrong.id] == [["product", "GASOIL"]] and by_bar[fine.id] == []
    login("staff")
    page = client.get(f"/operations/vessels/plan?from={start}&to={end}").get_data(as_text=True)
    assert f'data-call="{wrong.number}" data-conflict="product"' in page and "does not serve GASOIL" in page
    frozen = {b["code"]: b["products"] for b in berth_plan.freeze(plan)["berths"]}
    assert frozen == {row.berth.code: [p.code for p in row.berth.products] for row in plan.rows}
    assert frozen[harbour.b2.code] and "GASOIL" not in frozen[harbour.b2.code]
