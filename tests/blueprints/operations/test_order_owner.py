"""The CSR in charge of an order: the customer's responsible CSR by default, moved by a portfolio handover, and
the register's open work on "My customers" (orders to verify, daily stock reports due)."""
from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import time_machine

from portal.blueprints.department import services as department
from portal.blueprints.operations import services
from portal.blueprints.operations.models import Order
from portal.extensions import db


def test_an_order_defaults_to_the_customers_responsible_csr(terminal, order_values, people, client, login):
    terminal.sino.csr_id = people["csr2"].id
    db.session.commit()
    order = services.create_order(order_values(), people["csr"])
    assert order.owner_id == people["csr2"].id
    chosen = services.create_order(order_values(owner_id=people["csr"].id), people["csr"])
    assert chosen.owner_id == people["csr"].id
    nobody = services.create_order(order_values(customer_id=terminal.vitol.id), people["csr"])
    assert nobody.owner_id is None
    db.session.commit()

    login("csr")
    # Through the form, left at "—": the customer's CSR; the page and the list show who is in charge.
    form = {"kind": "truck_loading", "customer_id": terminal.sino.id, "owner_id": 0, "product_id": terminal.gasoil.id,
            "tank_id": terminal.t1.id, "quantity": "50", "unit": "t", "customs_status": "duty_paid",
            "truck_plates": "浙B12345"}
    response = client.post("/operations/orders/new", data=form)
    assert response.status_code == 302
    made = db.session.scalar(db.select(Order).order_by(Order.id.desc()).limit(1))
    assert made.owner_id == people["csr2"].id
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Responsible CSR" in detail and people["csr2"].display_name in detail
    # The "mine" filter: only the orders I am in charge of.
    mine = client.get("/operations/orders?mine=1").get_data(as_text=True)
    assert chosen.number in mine and order.number not in mine and made.number not in mine
    everything = client.get("/operations/orders").get_data(as_text=True)
    assert order.number in everything and people["csr2"].display_name in everything
    # Chosen on the edit form: the order moves, without a new version for operations.
    client.post(f"/operations/orders/{order.id}/edit", data={**form, "owner_id": people["csr"].id})
    assert db.session.get(Order, order.id).owner_id == people["csr"].id
    assert db.session.get(Order, order.id).version == 1


def test_a_handover_moves_open_orders_and_not_completed_ones(terminal, make_order, receive, people):
    csr, csr2 = people["csr"], people["csr2"]
    terminal.sino.csr_id = csr.id
    db.session.commit()
    done = receive("500")
    received = make_order()
    verified = make_order()
    verified.state = "verified"
    in_execution = make_order()
    in_execution.state = "in_execution"
    cancelled = make_order()
    cancelled.state = "cancelled"
    db.session.commit()
    assert {o.owner_id for o in (done, received, verified, in_execution, cancelled)} == {csr.id}

    handover = department.reassign([terminal.sino], csr2.id, user=people["manager"])
    db.session.commit()

    for order in (received, verified, in_execution):
        assert db.session.get(Order, order.id).owner_id == csr2.id
    assert db.session.get(Order, done.id).owner_id == csr.id        # completed: stays
    assert db.session.get(Order, cancelled.id).owner_id == csr.id   # cancelled: stays
    assert sorted(i.ref for i in handover.items if i.kind == "order") == sorted(
        [received.number, verified.number, in_execution.number])


def test_my_customers_lists_orders_to_verify_and_reports_due(terminal, make_order, receive, people, client, login):
    terminal.sino.csr_id = people["csr"].id
    terminal.sino.daily_report_time = time(9, 0)
    terminal.sino.report_recipients = "stock@sinochem.example"
    db.session.commit()
    # 2026-11-04 10:00 in Shanghai: stock received; the next day at 12:00 its report (due 09:00) is not sent.
    with time_machine.travel(datetime(2026, 11, 4, 2, 0, tzinfo=UTC), tick=False):
        receive("800")
        to_verify = make_order(quantity=Decimal("30"))
        verified = make_order(quantity=Decimal("40"))
        verified.state = "verified"
        db.session.commit()
    with time_machine.travel(datetime(2026, 11, 5, 4, 0, tzinfo=UTC), tick=False):
        login("csr")
        page = client.get("/department/").get_data(as_text=True)
    order_line = page.split("Order to verify: ", 1)[1].split("</li>", 1)[0]
    assert f"/operations/orders/{to_verify.id}" in order_line and to_verify.number in order_line
    assert verified.number not in page
    report_line = page.split("Daily stock report due: ", 1)[1].split("</li>", 1)[0]
    assert f"/operations/stock/reports/{terminal.sino.id}/2026-11-04" in report_line and "overdue since" in report_line
