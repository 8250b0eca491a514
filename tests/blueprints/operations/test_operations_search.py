"""Orders and their events are found by search (kind `order`)."""
from __future__ import annotations

from datetime import timedelta

from portal.blueprints.operations import services
from portal.extensions import db
from portal.search import search
from portal.timeutil import utcnow


def keys(query: str, user) -> list[str]:
    return [hit.key for hit in search(query, user=user, kinds=["order"]).hits]


def test_orders_and_their_events_are_found(app, terminal, make_order, people):
    order = make_order(kind="ship_discharge", vessel_name="MT Yangtze Star", truck_plates="")
    make_order()
    staff = people["staff"]
    assert keys("Yangtze", staff) == [f"order:{order.id}"]
    assert f"order:{order.id}" in keys(order.number, staff)
    services.save_event(order, {"kind": "weather", "occurred_at": utcnow() - timedelta(hours=1),
                                "description": "Typhoon warning: berth closed", "impact": ""}, terminal.csr)
    db.session.commit()
    assert keys("typhoon", staff) == [f"order:{order.id}"]
    assert keys("柴油", staff)  # the product's Chinese name
