"""Property test of customs clearance (hypothesis): for random sequences of bonded and duty-paid receipts,
customs releases, transfers between bonded owners, duty-paid deliveries and re-exports, in time order:

- bonded + duty-paid = book stock for every customer, and neither ever goes below zero (kg and m³);
- a release (or a bonded transfer) is refused exactly when it would exceed the bonded stock, and refused
  ones change nothing;
- a duty-paid delivery verifies exactly when the duty-paid stock covers it; a bonded delivery verifies only
  once a released re-export entry covers it.

Each example works in the test's database and is rolled back. Whole tonnes at 800 kg/m³ keep kg and m³
exact, so the book is compared with a model of it to the kilogram and the litre.
"""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.blueprints.operations import verification
from portal.blueprints.operations.customs import services as customs
from portal.blueprints.operations.models import Order
from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.quantities import to_kg_m3
from portal.extensions import db
from portal.timeutil import to_local, utcnow

D = Decimal
DENSITY = D("800")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])
_numbers = itertools.count(1)

tonnes = st.integers(min_value=1, max_value=2000)
who = st.integers(0, 1)
operation = st.one_of(
    st.tuples(st.just("receipt_bonded"), who, tonnes),
    st.tuples(st.just("receipt_duty_paid"), who, tonnes),
    st.tuples(st.just("release"), who, tonnes),
    st.tuples(st.just("bond_transfer"), who, tonnes),
    st.tuples(st.just("delivery"), who, tonnes),
    st.tuples(st.just("re_export"), who, tonnes),
)


def _order(terminal, kind, customer, qty, status, when, *, complete: bool) -> Order:
    order = Order(number=f"ORD-C-{next(_numbers):05d}", kind=kind, customer_id=customer.id,
                  product_id=terminal.gasoil.id, tank_id=terminal.t2.id, quantity=D(qty), unit="t",
                  customs_status=status, state="received", vessel_name="MT Asia Harmony")
    db.session.add(order)
    db.session.flush()
    if complete:
        _complete(order, when)
    return order


def _complete(order: Order, when) -> None:
    order.actual_kg, order.actual_m3 = to_kg_m3(order.quantity, "t", DENSITY)
    order.density_20, order.completed_at, order.state = DENSITY, when, "completed"
    db.session.flush()
    stock.post_order(order, None)


def _passes(order: Order) -> bool:
    results = {r.rule: r for r in verification.run_rules(verification.draft_from_order(order))}
    return results["customs_release"].outcome == "ok" and results["stock_available"].outcome == "ok"


def _entry(terminal, kind, customer, qty, when, **extra):
    return customs.lodge_entry({
        "declaration_no": f"P-{next(_numbers):08d}", "kind": kind, "customer_id": customer.id,
        "broker_name": "Huayang", "product_id": terminal.gasoil.id, "tank_id": terminal.t2.id, "quantity": D(qty),
        "unit": "t", "density_20": DENSITY, "lodged_on": to_local(when).date(), **extra}, None)


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=20))
def test_bonded_plus_duty_paid_is_book_stock_and_releases_never_exceed_bond(terminal, request_ctx, ops):
    customers = [terminal.sino, terminal.vitol]
    model = {(c.id, s): 0 for c in customers for s in ("bonded", "duty_paid")}  # tonnes
    when = utcnow() - timedelta(days=5)
    try:
        for kind, ci, qty in ops:
            when += timedelta(minutes=10)
            customer, other = customers[ci], customers[1 - ci]
            bonded, duty_paid = (customer.id, "bonded"), (customer.id, "duty_paid")
            if kind == "receipt_bonded":
                _order(terminal, "ship_discharge", customer, qty, "bonded", when, complete=True)
                model[bonded] += qty
            elif kind == "receipt_duty_paid":
                _order(terminal, "pipeline_receipt", customer, qty, "duty_paid", when, complete=True)
                model[duty_paid] += qty
            elif kind in ("release", "bond_transfer"):
                extra = {"to_customer_id": other.id} if kind == "bond_transfer" else {}
                entry = _entry(terminal, kind, customer, qty, when, **extra)
                try:
                    customs.release_entry(entry, when, None)
                    refused = False
                except customs.CustomsError as exc:
                    refused = True
                    assert "exceeds the bonded stock" in str(exc.args[0])
                assert refused == (qty > model[bonded]), (kind, qty, model)
                if not refused:
                    model[bonded] -= qty
                    model[(other.id, "bonded") if kind == "bond_transfer" else duty_paid] += qty
            elif kind == "delivery":
                order = _order(terminal, "truck_loading", customer, qty, "duty_paid", when, complete=False)
                assert _passes(order) == (qty <= model[duty_paid]), (qty, model)
                if qty <= model[duty_paid]:
                    _complete(order, when)
                    model[duty_paid] -= qty
                else:
                    order.state = "rejected"
            elif kind == "re_export":
                order = _order(terminal, "ship_loading", customer, qty, "bonded", when, complete=False)
                assert not _passes(order)  # no re-export entry yet
                customs.release_entry(_entry(terminal, "re_export", customer, qty, when, order_id=order.id), when,
                                      None)
                assert _passes(order) == (qty <= model[bonded]), (qty, model)
                if qty <= model[bonded]:
                    _complete(order, when)
                    model[bonded] -= qty
                else:
                    order.state = "rejected"
            db.session.flush()
            for c in customers:
                key = dict(customer_id=c.id, tank_id=terminal.t2.id, product_id=terminal.gasoil.id)
                b = stock.book_stock(customs_status="bonded", **key)
                p = stock.book_stock(customs_status="duty_paid", **key)
                total = stock.book_stock(**key)
                assert (b[0] + p[0], b[1] + p[1]) == total
                assert min(b + p) >= 0
                assert b == to_kg_m3(model[(c.id, "bonded")], "t", DENSITY)
                assert p == to_kg_m3(model[(c.id, "duty_paid")], "t", DENSITY)
        assert stock.check_balances() == []
    finally:
        db.session.rollback()
