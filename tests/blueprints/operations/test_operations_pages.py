"""Lists with filters (full page and htmx fragment), the live verification fragment, the tank page."""
from __future__ import annotations

from decimal import Decimal

from portal.blueprints.operations import services
from portal.extensions import db

HX = {"HX-Request": "true"}


def test_order_list_filters(client, login, terminal, make_order):
    a = make_order()
    b = make_order(kind="pipeline_receipt", customer_id=terminal.vitol.id, truck_plates="")
    c = make_order(kind="ship_loading", tank_id=terminal.t3.id, product_id=terminal.methanol.id, vessel_name="Ocean Star")
    c.state = "cancelled"
    db.session.commit()
    login("staff")

    def numbers(query: str, headers=None) -> set[str]:
        page = client.get(f"/operations/orders{query}", headers=headers or {}).get_data(as_text=True)
        return {o.number for o in (a, b, c) if f'data-order="{o.number}"' in page}

    assert numbers("") == {a.number, b.number, c.number}
    assert numbers(f"?customer={terminal.vitol.id}") == {b.number}
    assert numbers(f"?product={terminal.methanol.id}") == {c.number}
    assert numbers(f"?tank={terminal.t3.id}") == {c.number}
    assert numbers("?state=open") == {a.number, b.number}
    assert numbers("?state=cancelled") == {c.number}
    assert numbers("?q=ocean") == {c.number}
    assert numbers("?from=2999-01-01") == set()
    # htmx gets the rows only
    fragment = client.get(f"/operations/orders?customer={terminal.vitol.id}", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and b.number in fragment
    assert client.get("/operations/orders?from=2026-13-45").status_code == 404
    assert client.get("/operations/orders?customer=99999999999").status_code == 404


def test_live_check_fragment_shows_a_failing_rule_and_its_fix(client, login, terminal, receive):
    receive("500")
    login(terminal.csr)
    data = {"kind": "ship_loading", "customer_id": terminal.sino.id, "product_id": terminal.gasoil.id,
            "tank_id": terminal.t1.id, "quantity": "100", "unit": "t", "customs_status": "duty_paid", "vessel_name": ""}
    page = client.post("/operations/orders/check", data=data, headers=HX).get_data(as_text=True)
    assert "<html" not in page
    assert 'data-rule="vessel_named" data-outcome="error"' in page and "must name the vessel" in page
    page = client.post("/operations/orders/check", data={**data, "vessel_name": "Ocean Star"}, headers=HX).get_data(as_text=True)
    assert 'data-rule="vessel_named" data-outcome="ok"' in page
    # Half-typed values do not break it.
    page = client.post("/operations/orders/check", data={**data, "quantity": "1,0x", "customer_id": "x"}, headers=HX)
    assert page.status_code == 200 and 'data-rule="quantity_positive" data-outcome="error"' in page.get_data(as_text=True)


def test_tank_list_and_page(client, login, terminal, receive):
    receive("840", density="840")
    login("staff")
    page = client.get("/operations/tanks?area=B").get_data(as_text=True)
    assert "T-201" in page and "T-101" not in page
    page = client.get("/operations/tanks?status=maintenance").get_data(as_text=True)
    assert "T-202" in page and "T-201" not in page
    page = client.get(f"/operations/tanks?customer={terminal.vitol.id}").get_data(as_text=True)
    assert "T-101" in page and "T-201" not in page
    page = client.get(f"/operations/tanks/{terminal.t1.id}").get_data(as_text=True)
    assert "SINOCHEM" in page and "VITOLAP" in page  # shared
    assert "840.000" in page and "1,000.000" in page  # t and m³ in the book


def test_index_counts(client, login, terminal, make_order):
    make_order()
    login("staff")
    page = client.get("/operations/").get_data(as_text=True)
    assert "Open orders" in page and "Orders by state" in page


def test_density_typical_is_the_midpoint(terminal):
    assert terminal.gasoil.density_typical == Decimal("832.5")
    assert services.planning_density(None) == Decimal(1000)


def test_dashboard_lists_orders_waiting(client, login, terminal, make_order):
    order = make_order()
    login(terminal.csr)
    page = client.get("/").get_data(as_text=True)
    assert "To verify" in page and order.number in page


def test_procedure_verifying_an_order_links_to_working_pages(client, login, terminal):
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "knowledge" / "verify-customer-order.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((/operations/[^)]*)\)", text)
    assert "/operations/orders/new" in links and len(links) >= 4
    login(terminal.csr)
    for link in links:
        assert client.get(link).status_code == 200, link


def test_order_list_newest_first_by_planned_start_else_received(client, login, terminal, make_order, request_ctx):
    from datetime import timedelta

    from portal.timeutil import to_local, utcnow

    now = utcnow()
    unplanned = make_order(planned_start=None)  # sorts and filters by the time received (now)
    later = make_order(planned_start=now + timedelta(days=10))
    earlier = make_order(planned_start=now - timedelta(days=10))
    login("staff")

    def numbers(query: str = "") -> list[str]:
        page = client.get(f"/operations/orders{query}").get_data(as_text=True)
        found = [(page.find(f'data-order="{o.number}"'), o.number) for o in (unplanned, later, earlier)]
        return [number for at, number in sorted(found) if at >= 0]

    assert numbers() == [later.number, unplanned.number, earlier.number]
    today = to_local(now).date()
    assert numbers(f"?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}") == [unplanned.number]
    # moving the planned start moves the order in the list and in the date filter
    services.amend_order(earlier, {**_values(earlier), "planned_start": now + timedelta(days=20)}, terminal.csr)
    db.session.commit()
    assert numbers() == [earlier.number, later.number, unplanned.number]


def _values(order) -> dict:
    return {k: getattr(order, k) for k in services.ORDER_FIELDS}
