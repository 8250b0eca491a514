"""What the order page and the order form say about customs: the order's customs entries are listed on its page
with links, and the customs release shown is the entries' (no tick on the form decides it any more)."""
from __future__ import annotations

from decimal import Decimal

from portal.blueprints.operations import services
from portal.extensions import db

from customs_world import completed_order, lodge, release


def test_the_order_page_lists_its_customs_entries_and_the_release_comes_from_them(terminal, make_order, client,
                                                                                 login):
    completed_order(terminal, make_order, qty="800", customs_status="bonded")
    export = make_order(kind="ship_loading", tank_id=terminal.t2.id, quantity=Decimal("500"), customs_status="bonded",
                        vessel_name="MT Eastern Jade", truck_plates="")
    login("csr")
    page = client.get(f"/operations/orders/{export.id}").get_data(as_text=True)
    assert 'data-release="none"' in page and "No customs entry names this order yet" in page
    form = client.get(f"/operations/orders/{export.id}/edit").get_data(as_text=True)
    assert 'name="customs_released"' not in form  # no tick to set by hand
    assert "customs entries (Customs clearance), not on this form" in form and 'data-release="none"' in form

    entry = lodge(terminal, kind="re_export", order_number=export.number, quantity=Decimal("500"))
    page = client.get(f"/operations/orders/{export.id}").get_data(as_text=True)
    assert 'data-release="lodged"' in page
    assert f'href="/operations/customs/{entry.id}"' in page
    assert 'data-entry="310420260001234567"' in page and 'data-status="lodged"' in page
    assert not services.verify_order(export, terminal.csr).passed  # lodged is not released
    db.session.commit()

    release(terminal, entry)
    page = client.get(f"/operations/orders/{export.id}").get_data(as_text=True)
    assert 'data-release="released"' in page and 'data-status="released"' in page
    assert "500.000 t" in page or "500 t" in page
    form = client.get(f"/operations/orders/{export.id}/edit").get_data(as_text=True)
    assert 'data-release="released"' in form
    assert services.verify_order(export, terminal.csr).passed  # the released entry decides, as the page says
    db.session.commit()


def test_saving_the_form_does_not_change_the_release(terminal, make_order, client, login):
    order = make_order(kind="ship_loading", tank_id=terminal.t2.id, quantity=Decimal("100"), customs_status="bonded",
                       vessel_name="MT Eastern Jade", truck_plates="")
    login("csr")
    response = client.post(f"/operations/orders/{order.id}/edit", data={
        "kind": "ship_loading", "customer_id": terminal.sino.id, "owner_id": 0, "product_id": terminal.gasoil.id,
        "tank_id": terminal.t2.id, "to_tank_id": 0, "counterparty_id": 0, "quantity": "120", "unit": "t",
        "customs_status": "bonded", "customs_released": "y", "vessel_name": "MT Eastern Jade"})
    assert response.status_code == 302
    db.session.refresh(order)
    assert order.quantity == Decimal("120") and order.customs_released is False
