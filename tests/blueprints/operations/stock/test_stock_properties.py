"""Property tests of the stock book (hypothesis): random sequences of receipts, deliveries, tank
transfers, ownership transfers, adjustments and reversals over a week.

- Every customer's daily report ties out on every day (opening + in - out = closing, per line, per
  product and in total); the lines summed equal the customer's book stock; the customers' closings in a
  tank sum to the tank's book stock; each day opens with the day before's closing; the derived balances
  equal the ledger (a rebuild from the ledger changes nothing).
- No delivery verifies against stock that is not there: whenever the verification's stock rule passes
  a delivery (counting the other verified orders), completing all of them never takes a customer's book
  stock below zero.

Each example works in the test's database and is rolled back; the number of examples is kept modest.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.blueprints.operations import verification
from portal.blueprints.operations.stock import reports
from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.models import StockAdjustment, StockDaily
from portal.blueprints.operations.stock.quantities import to_kg_m3
from portal.extensions import db

from stock_clock import at

D = Decimal
START = date(2026, 3, 1)
DAYS = 5
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])

quantities = st.decimals(min_value=D("0.5"), max_value=D("3000"), places=3)
moments = st.tuples(st.integers(0, DAYS - 1), st.integers(0, 23))
customer_ix = st.integers(0, 2)
tank_ix = st.integers(0, 2)

operation = st.one_of(
    st.tuples(st.just("receipt"), customer_ix, tank_ix, quantities, moments, st.sampled_from(["t", "m3"])),
    st.tuples(st.just("delivery"), customer_ix, tank_ix, quantities, moments, st.sampled_from(["t", "m3"])),
    st.tuples(st.just("transfer"), customer_ix, tank_ix, quantities, moments, tank_ix),
    st.tuples(st.just("ownership"), customer_ix, tank_ix, quantities, moments, customer_ix),
    st.tuples(st.just("adjustment"), customer_ix, tank_ix, quantities, moments, st.sampled_from(["gain", "loss"])),
    st.tuples(st.just("reverse"), st.integers(0, 40), st.just(0), quantities, moments, st.just(0)),
)


def _parties(terminal, people):
    """The three customers and three tanks; the users exist before the example's work starts (creating
    one commits)."""
    from portal.blueprints.customers.models import Customer

    people["csr"], people["manager"]
    c = db.session.scalar(db.select(Customer).filter_by(code="TOTAL"))
    if c is None:
        c = Customer(code="TOTAL", name_en="TotalEnergies Trading Asia", name_zh="道达尔能源贸易亚洲")
        db.session.add(c)
        db.session.commit()
    return [terminal.a, terminal.b, c], [terminal.t101, terminal.t102, terminal.t201]


def _apply(terminal, customers, tanks, ops, people):
    density = terminal.diesel.density_typical
    postings = []
    for kind, ci, ti, qty, (day, hour), extra in ops:
        when = at((START + timedelta(days=day)).isoformat(), hour)
        customer, tank = customers[ci % 3], tanks[ti]
        try:  # a refused posting raises before it writes anything
            if kind in ("receipt", "delivery"):
                order = terminal.order("pipeline_receipt" if kind == "receipt" else "truck_loading", customer, tank,
                                       qty, when, density=density, unit=extra)
                postings.append(stock.order_posting(order))
            elif kind == "transfer":
                if tanks[extra].id == tank.id:
                    continue
                order = terminal.order("tank_transfer", customer, tank, qty, when, to_tank=tanks[extra],
                                       density=density)
                postings.append(stock.order_posting(order))
            elif kind == "ownership":
                if customers[extra].id == customer.id:
                    continue
                order = terminal.order("ownership_transfer", customer, tank, qty, when, counterparty=customers[extra],
                                       density=density)
                postings.append(stock.order_posting(order))
            elif kind == "adjustment":
                adj = stock.request_adjustment(
                    customer_id=customer.id, tank_id=tank.id, product_id=terminal.diesel.id,
                    customs_status="duty_paid", direction=extra, quantity=qty, unit="t", density_20=density,
                    occurred_at=when, reason="Found at the dip", user=people["csr"], now=at("2026-04-01"))
                stock.decide_adjustment(adj, people["manager"], approve=True)
                postings.append(stock.adjustment_posting(adj))
            elif kind == "reverse" and postings:
                target = postings[ci % len(postings)]
                reverse_at = max(when, target.occurred_at)
                postings.append(stock.reverse_posting(target, people["csr"], "Correction", at=reverse_at))
        except stock.StockError:
            continue  # refused (not enough stock, already reversed...): nothing was written
    return postings


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_daily_reports_tie_out_for_random_sequences(terminal, people, request_ctx, ops):
    customers, tanks = _parties(terminal, people)
    try:
        _apply(terminal, customers, tanks, ops, people)
        db.session.flush()
        for offset in range(DAYS):
            day = START + timedelta(days=offset)
            per_tank: dict[int, list[Decimal]] = {t.id: [D(0), D(0)] for t in tanks}
            for customer in customers:
                report = reports.build(customer, day)
                previous = reports.build(customer, day - timedelta(days=1))
                for line in report.lines + report.product_totals + [report.total]:
                    assert line.ties_out(), (customer.code, day, line)
                    assert line.kg["closing"] >= 0
                closing_kg = sum((ln.kg["closing"] for ln in report.lines), D(0))
                assert closing_kg == report.total.kg["closing"]
                assert (closing_kg, sum((ln.m3["closing"] for ln in report.lines), D(0))) == \
                    stock.book_stock(customer_id=customer.id, at=stock.day_end(day) - timedelta(microseconds=1))
                assert report.total.kg["opening"] == previous.total.kg["closing"]
                assert report.total.m3["opening"] == previous.total.m3["closing"]
                for line in report.lines:
                    per_tank[line.tank.id][0] += line.kg["closing"]
                    per_tank[line.tank.id][1] += line.m3["closing"]
            for tank in tanks:
                assert tuple(per_tank[tank.id]) == stock.closing_on(day, tank_id=tank.id)
        assert stock.check_balances() == []
        before = sorted((r.customer_id, r.tank_id, r.day, r.closing_kg, r.closing_m3)
                        for r in db.session.scalars(db.select(StockDaily)))
        stock.rebuild_balances()
        after = sorted((r.customer_id, r.tank_id, r.day, r.closing_kg, r.closing_m3)
                       for r in db.session.scalars(db.select(StockDaily)))
        assert after == before
    finally:
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count(StockAdjustment.id))) == 0


delivery = st.tuples(customer_ix, tank_ix, quantities, st.sampled_from(["t", "m3"]),
                     st.sampled_from(["truck_loading", "ship_loading", "pipeline_delivery", "tank_transfer",
                                      "ownership_transfer"]))


@SETTINGS
@given(receipts=st.lists(st.tuples(customer_ix, tank_ix, quantities), max_size=6),
       orders=st.lists(delivery, min_size=1, max_size=10))
def test_no_delivery_verifies_against_stock_that_is_not_there(terminal, people, request_ctx, receipts, orders):
    from portal.blueprints.operations.models import Order

    customers, tanks = _parties(terminal, people)
    density = terminal.diesel.density_typical
    try:
        for ci, ti, qty in receipts:
            terminal.order("ship_discharge", customers[ci], tanks[ti], qty, at("2026-03-01"), density=density)
        verified = []
        for n, (ci, ti, qty, unit, kind) in enumerate(orders):
            order = Order(number=f"ORD-P-{n:05d}", kind=kind, customer_id=customers[ci].id, product_id=terminal.diesel.id,
                          tank_id=tanks[ti].id, quantity=qty, unit=unit, customs_status="duty_paid", state="received",
                          to_tank_id=tanks[(ti + 1) % 3].id if kind == "tank_transfer" else None,
                          counterparty_id=customers[(ci + 1) % 3].id if kind == "ownership_transfer" else None)
            db.session.add(order)
            db.session.flush()
            results = {r.rule: r for r in verification.run_rules(verification.draft_from_order(order))}
            if results["stock_available"].outcome == "ok":
                order.state = "verified"  # it now holds its quantity against later orders
                db.session.flush()
                verified.append(order)
            else:
                assert "Not enough" in str(results["stock_available"].message)
        # every verified order completes with the quantity verified, without taking any stock below zero
        for order in verified:
            order.actual_kg, order.actual_m3 = to_kg_m3(order.quantity, order.unit, density)
            order.density_20, order.completed_at, order.state = density, at("2026-03-02"), "completed"
            stock.post_order(order, people["csr"])
        for customer in customers:
            for tank in tanks:
                kg, m3 = stock.book_stock(customer_id=customer.id, tank_id=tank.id)
                assert kg >= 0 or m3 >= 0
    finally:
        db.session.rollback()
