"""Property tests of the billing records (hypothesis): random receipts, deliveries, services and
ownership transfers in March 2026 for both customers.

- The run's total is the sum of its lines; each line's amount is its quantity × rate ÷ divisor rounded
  once; every line's sources add up to its quantity; throughput lines add up to the month's orders.
- Preparing the month again gives the same lines.
- Once exported, the month cannot change: preparing it again is refused and the exported lines stay
  the same whatever is posted afterwards.

Each example works in the test's database and is rolled back; the number of examples is kept modest.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.blueprints.operations.billing import services as billing
from portal.blueprints.operations.models import ORDER_DIRECTION, Order
from portal.blueprints.operations.stock.services import StockError
from portal.extensions import db
from portal.timeutil import to_local, utcnow

from billing_terminal import MARCH, local

D = Decimal
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])

quantities = st.decimals(min_value=D("0.001"), max_value=D("4000"), places=3)
days = st.integers(0, 30)
operation = st.one_of(
    st.tuples(st.just("receipt"), st.integers(0, 1), st.integers(0, 1), quantities, days),
    st.tuples(st.just("delivery"), st.integers(0, 1), st.integers(0, 1), quantities, days),
    st.tuples(st.just("ownership"), st.integers(0, 1), st.integers(0, 1), quantities, days),
    st.tuples(st.just("service"), st.integers(0, 1), st.sampled_from(["tank_cleaning", "blending", "extra"]),
              quantities, days),
)


def _apply(bt, ops):
    customers, tanks = [bt.a, bt.b], [bt.t101, bt.t301]
    for kind, ci, extra, qty, day in ops:
        customer = customers[ci]
        when = local((MARCH + timedelta(days=day)).isoformat(), 9 + day % 12)
        try:
            if kind == "receipt":
                bt.order("pipeline_receipt", customer, tanks[extra], qty, when)
            elif kind == "delivery":
                bt.order("truck_loading", customer, tanks[extra], qty, when)
            elif kind == "ownership":
                bt.order("ownership_transfer", customer, tanks[extra], qty, when, counterparty=customers[1 - ci])
            else:
                unit = "t" if extra == "blending" else "job"
                billing.record_service(customer=customer, day=MARCH + timedelta(days=day), kind=extra,
                                       description="Work", quantity=qty, unit=unit, user=None, today=date(2026, 4, 2))
        except StockError:
            continue  # not enough stock: nothing was written


def _month_orders_t(customer, direction):
    total = D(0)
    for order in db.session.scalars(db.select(Order).where(Order.customer_id == customer.id, Order.state == "completed")):
        if ORDER_DIRECTION[order.kind] == direction and to_local(order.completed_at).date().month == 3:
            total += order.actual_kg / 1000
    return total


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=20))
def test_lines_add_up_to_the_total_and_trace_to_their_sources(bt, people, ops):
    csr, _manager = people["csr"], people["manager"]  # made before the example's work (creating a user commits)
    try:
        _apply(bt, ops)
        for customer in (bt.a, bt.b):
            run = billing.prepare_run(customer, MARCH, csr)
            assert run.total == sum((line.amount for line in run.lines), D("0"))
            for line in run.lines:
                exact = D(line.quantity) * D(line.rate) / line.divisor
                assert line.amount == exact.quantize(D("0.01"), rounding=ROUND_HALF_UP)
                assert sum((s.quantity for s in line.sources), D(0)) == line.quantity
            if customer is bt.a:  # SINOCHEM is charged throughput per t
                for direction, label in (("in", "进库"), ("out", "出库")):
                    charged = sum((line.quantity for line in run.lines
                                   if line.kind == "throughput" and label in line.description), D(0))
                    assert charged == _month_orders_t(customer, direction)
    finally:
        db.session.rollback()


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=20))
def test_preparing_a_month_again_gives_the_same_lines(bt, people, ops):
    csr, manager = people["csr"], people["manager"]  # made before the example's work (creating a user commits)
    try:
        _apply(bt, ops)
        run = billing.prepare_run(bt.a, MARCH, csr)
        first = [billing.line_signature(line) for line in run.lines]
        first_sources = [[(s.order_id, s.service_id, s.day, s.quantity) for s in line.sources] for line in run.lines]
        billing.prepare_run(bt.a, MARCH, manager)
        assert [billing.line_signature(line) for line in run.lines] == first
        assert [[(s.order_id, s.service_id, s.day, s.quantity) for s in line.sources] for line in run.lines] == first_sources
        assert billing.is_current(run)
    finally:
        db.session.rollback()


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=12), later=st.lists(operation, min_size=1, max_size=8))
def test_an_exported_month_cannot_change(bt, people, ops, later):
    csr, manager = people["csr"], people["manager"]  # made before the example's work (creating a user commits)
    try:
        _apply(bt, ops)
        run = billing.prepare_run(bt.a, MARCH, csr)
        billing.review_run(run, csr)
        billing.record_agreement(run, manager, by_name="Li", at=utcnow(), how="email")
        if not run.lines:
            return
        billing.export_run(run, csr)
        exported = [billing.line_signature(line) for line in run.lines]
        total = run.total
        try:
            _apply(bt, later)
        except billing.BillingError:
            pass  # a service in the locked month is refused
        try:
            billing.prepare_run(bt.a, MARCH, csr)
            raise AssertionError("an exported month was prepared again")
        except billing.BillingError:
            pass
        db.session.expire(run)
        assert [billing.line_signature(line) for line in run.lines] == exported and run.total == total
        assert billing.export_run(run, csr).total == total
    finally:
        db.session.rollback()
