"""Customer orders through their states, amendments as versions operations acknowledge, abnormal events."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.blueprints.operations import services
from portal.blueprints.operations.models import Order
from portal.extensions import db
from portal.services import ServiceError
from portal.timeutil import to_local, utcnow


def form_data(t, **over) -> dict:
    start = to_local(utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    data = {"kind": "truck_loading", "customer_id": t.sino.id, "product_id": t.gasoil.id, "tank_id": t.t1.id,
            "to_tank_id": 0, "counterparty_id": 0, "quantity": "100", "unit": "t", "customs_status": "duty_paid",
            "planned_start": start, "planned_end": "", "vessel_name": "", "truck_plates": "浙B12345",
            "instruction_ref": "E-mail 2026-05-12 09:14", "remarks": "", "reason": ""}
    data.update(over)
    return data


def test_walk_an_order_from_received_to_completed(client, login, terminal, receive):
    receive("1000")
    login(terminal.csr)
    r = client.post("/operations/orders/new", data=form_data(terminal))
    assert r.status_code == 302
    order = db.session.scalar(db.select(Order).order_by(Order.id.desc()))
    assert order.number.startswith("ORD-") and order.state == "received" and order.version == 1
    client.post(f"/operations/orders/{order.id}/verify", data={})
    db.session.refresh(order)
    assert order.state == "verified"
    client.post(f"/operations/orders/{order.id}/hand-over")
    db.session.refresh(order)
    assert order.state == "handed_over" and order.acknowledged_version is None
    page = client.get(f"/operations/orders/{order.id}").get_data(as_text=True)
    assert "Operations have not yet acknowledged this order" in page
    login("staff")  # operations
    client.post(f"/operations/orders/{order.id}/start")
    db.session.refresh(order)
    assert order.state == "in_execution" and order.acknowledged_version == 1
    when = to_local(utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(f"/operations/orders/{order.id}/complete", data={
        "done-actual_qty": "99.850", "done-unit": "t", "done-density_20": "840.5", "done-completed_at": when})
    assert r.status_code == 302
    db.session.refresh(order)
    assert order.state == "completed"
    assert order.actual_kg == Decimal("99850") and order.actual_m3 == Decimal("118.798")
    assert order.density_20 == Decimal("840.5")
    # The book moved: 1,000 t received, 99.85 t delivered.
    kg, _m3 = services.book_stock(customer_id=terminal.sino.id, tank_id=terminal.t1.id)
    assert kg == Decimal("900150")


def test_failing_rule_blocks_verification_and_is_shown(client, login, terminal):
    login(terminal.csr)
    client.post("/operations/orders/new", data=form_data(terminal))
    order = db.session.scalar(db.select(Order))
    page = client.post(f"/operations/orders/{order.id}/verify", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Verification failed" in page
    assert 'data-rule="stock_available" data-outcome="error"' in page
    db.session.refresh(order)
    assert order.state == "received" and len(order.verifications) == 1 and not order.verifications[0].passed


def test_amendment_after_hand_over_is_a_new_version_operations_must_acknowledge(client, login, terminal, receive):
    receive("1000")
    login(terminal.csr)
    client.post("/operations/orders/new", data=form_data(terminal))
    order = db.session.scalar(db.select(Order).filter_by(kind="truck_loading"))
    client.post(f"/operations/orders/{order.id}/verify", data={})
    client.post(f"/operations/orders/{order.id}/hand-over")
    client.post(f"/operations/orders/{order.id}/acknowledge")
    db.session.refresh(order)
    assert order.acknowledged_version == 1
    # Without a reason the amendment is refused.
    page = client.post(f"/operations/orders/{order.id}/edit", data=form_data(terminal, quantity="150")).get_data(as_text=True)
    assert "Give the reason for the amendment" in page
    r = client.post(f"/operations/orders/{order.id}/edit",
                    data=form_data(terminal, quantity="150", truck_plates="浙B12345, 浙B67890",
                                   reason="Customer's e-mail of 13 May: second truck"))
    assert r.status_code == 302
    db.session.refresh(order)
    assert order.version == 2 and order.quantity == Decimal("150") and order.ops_behind
    v2 = order.versions[-1]
    assert v2.change_map["quantity"] == ["100.000", "150"]
    assert v2.change_map["truck_plates"][1] == "浙B12345, 浙B67890"
    page = client.get(f"/operations/orders/{order.id}").get_data(as_text=True)
    assert "Operations hold version 1 of 2" in page
    assert "Acknowledge version 2" in page
    assert "Customer&#39;s e-mail of 13 May" in page or "Customer's e-mail of 13 May" in page
    assert order.number in client.get("/operations/").get_data(as_text=True)  # on the overview: not acknowledged
    login("staff")
    client.post(f"/operations/orders/{order.id}/acknowledge")
    db.session.refresh(order)
    assert order.acknowledged_version == 2 and not order.ops_behind


def test_amendment_failing_a_rule_is_refused(terminal, receive, make_order, request_ctx):
    receive("1000")
    order = make_order()
    services.verify_order(order, terminal.csr)
    services.hand_over(order, terminal.csr)
    db.session.commit()
    values = {k: getattr(order, k) for k in services.ORDER_FIELDS}
    with pytest.raises(ServiceError, match="fails verification"):
        services.amend_order(order, {**values, "quantity": Decimal("5000")}, terminal.csr, reason="more")
    db.session.rollback()
    assert order.version == 1 and order.quantity == Decimal("100")


def test_amending_a_verified_order_sends_it_back_to_verification(terminal, receive, make_order, request_ctx):
    receive("1000")
    order = make_order()
    services.verify_order(order, terminal.csr)
    values = {k: getattr(order, k) for k in services.ORDER_FIELDS}
    services.amend_order(order, {**values, "quantity": Decimal("120")}, terminal.csr)
    assert order.state == "received" and order.version == 1


def test_cancel_and_reject_need_a_reason(client, login, terminal, make_order):
    order = make_order()
    login(terminal.csr)
    page = client.post(f"/operations/orders/{order.id}/close/rejected", data={"close-reason": ""}).get_data(as_text=True)
    assert "This field is required." in page
    client.post(f"/operations/orders/{order.id}/close/rejected", data={"close-reason": "No contract for that tank"})
    db.session.refresh(order)
    assert order.state == "rejected" and order.closed_reason == "No contract for that tank"
    other = make_order()
    client.post(f"/operations/orders/{other.id}/close/cancelled", data={"close-reason": "Customer withdrew"})
    db.session.refresh(other)
    assert other.state == "cancelled"


def test_instruction_file_is_filed_in_the_archive(client, login, terminal):
    login(terminal.csr)
    data = form_data(terminal)
    data["instruction_file"] = (io.BytesIO(b"Please load 100 t gasoil on truck B12345.\n"), "instruction.txt")
    client.post("/operations/orders/new", data=data, content_type="multipart/form-data")
    order = db.session.scalar(db.select(Order))
    assert order.instruction_record_id is not None
    page = client.get(f"/operations/orders/{order.id}").get_data(as_text=True)
    assert f"/archive/records/{order.instruction_record_id}" in page


def test_ownership_and_tank_transfers_move_the_book(terminal, receive, make_order, request_ctx):
    receive("1000")
    own = make_order(kind="ownership_transfer", counterparty_id=terminal.vitol.id, quantity=Decimal("200"))
    services.verify_order(own, terminal.csr)
    services.hand_over(own, terminal.csr)
    services.complete_order(own, Decimal("200"), "t", Decimal("840"), utcnow(), terminal.csr)
    move = make_order(kind="tank_transfer", to_tank_id=terminal.t2.id, quantity=Decimal("100"))
    services.verify_order(move, terminal.csr, warning_reason="")
    assert move.state == "verified", [(r.rule, str(r.message)) for r in move.verifications[-1].results if r.outcome != "ok"]
    services.hand_over(move, terminal.csr)
    services.complete_order(move, Decimal("100"), "t", Decimal("840"), utcnow(), terminal.csr)
    db.session.commit()
    assert services.book_stock(customer_id=terminal.vitol.id)[0] == Decimal("200000")
    assert services.book_stock(customer_id=terminal.sino.id, tank_id=terminal.t1.id)[0] == Decimal("700000")
    assert services.book_stock(customer_id=terminal.sino.id, tank_id=terminal.t2.id)[0] == Decimal("100000")


# ------------------------------------------------------------------------------------------- events

def event_data(**over):
    occurred = to_local(utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"kind": "delay", "occurred_at": occurred, "description": "Loading arm 2 hydraulic leak; loading stopped.",
            "impact": "About 3 hours' delay", "informed_at": "", "informed_by_id": 0, "informed_how": ""}
    data.update(over)
    return data


def test_event_needs_the_customer_informed_before_closing(client, login, terminal, make_order):
    order = make_order()
    login(terminal.csr)
    r = client.post(f"/operations/orders/{order.id}/events/new", data=event_data(kind="equipment_failure"))
    assert r.status_code == 302
    event = order.events[0] if order.events else None
    db.session.refresh(order)
    event = order.events[0]
    page = client.post(f"/operations/orders/{order.id}/events/{event.id}/close", follow_redirects=True).get_data(as_text=True)
    assert "Record when, by whom and how the customer was informed" in page
    db.session.refresh(event)
    assert event.closed_at is None
    # An open event also holds the order open.
    with pytest.raises(ServiceError):
        with client.application.test_request_context():
            services.close_order(order, "cancelled", "withdrawn", terminal.csr)
    db.session.rollback()
    informed = to_local(utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/operations/orders/{order.id}/events/{event.id}/edit",
                data=event_data(kind="equipment_failure", informed_at=informed, informed_by_id=terminal.csr.id,
                                informed_how="phone"))
    client.post(f"/operations/orders/{order.id}/events/{event.id}/close")
    db.session.refresh(event)
    assert event.closed_at is not None and event.customer_informed
    page = client.get(f"/operations/orders/{order.id}").get_data(as_text=True)
    assert "Equipment failure" in page and "Loading arm 2 hydraulic leak" in page and "by phone" in page


def test_event_raises_a_prefilled_complaint(client, login, terminal, make_order):
    order = make_order()
    login(terminal.csr)
    client.post(f"/operations/orders/{order.id}/events/new", data=event_data(kind="quantity_deviation",
                description="Truck weighbridge shows 0.8 t short."))
    db.session.refresh(order)
    with client.application.test_request_context():
        link = services.complaint_link(order.events[0])
    parts = urlsplit(link)
    assert parts.path == "/complaints/new"
    args = parse_qs(parts.query)
    assert args["customer_id"] == [str(terminal.sino.id)] and args["source"] == [f"order:{order.id}"]
    assert order.number in args["title"][0] and "0.8 t short" in args["description"][0]
    page = client.get(f"/operations/orders/{order.id}").get_data(as_text=True)
    assert "/complaints/new?customer_id=" in page
    assert client.get(link).status_code == 200


def test_informed_before_the_event_is_refused(client, login, terminal, make_order):
    order = make_order()
    login(terminal.csr)
    earlier = to_local(datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(f"/operations/orders/{order.id}/events/new",
                       data=event_data(informed_at=earlier, informed_by_id=terminal.csr.id, informed_how="email")
                       ).get_data(as_text=True)
    assert "cannot be informed before the event" in page
