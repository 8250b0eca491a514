"""Properties of the reconciliation: variance = physical − book on every line, and the month's book total
ties to the stock book at the end of the month, whatever the movements and the dips."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.blueprints.operations.monthend import services
from portal.blueprints.operations.stock import services as stock
from portal.extensions import db

from monthend_helpers import MONTH, book, calibrate, dip

quantity = st.integers(min_value=1, max_value=2_000_000)  # litres at 20 °C
movements = st.lists(st.tuples(st.sampled_from(["sino", "vitol"]), st.sampled_from(["t1", "t2"]),
                               st.sampled_from(["bonded", "duty_paid"]), quantity, st.integers(1, 30)),
                     min_size=1, max_size=8)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=movements, innage=st.integers(min_value=0, max_value=11_000), later=quantity)
def test_variance_is_physical_minus_book_and_totals_tie_to_the_stock_book(terminal, moves, innage, later):
    if not services.month_end_dips(MONTH):
        calibrate(terminal.t1)
        dip(terminal.t1, f"{innage}.0")
    for who, tank, status, litres, day in moves:
        m3 = Decimal(litres) / 1000
        book(getattr(terminal, who), getattr(terminal, tank), terminal.gasoil, (m3 * Decimal("838.9")).quantize(1),
             m3, customs_status=status, at=datetime(2026, 3, day, 2, 0, tzinfo=UTC))
    # a movement after the month's end is not in March's book
    book(terminal.sino, terminal.t1, terminal.gasoil, later, Decimal(later) / 1000,
         at=datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    rows = services.variances(MONTH)
    for row in rows:
        assert row.variance_m3 == row.physical_m3 - row.book_m3
        assert row.variance_t == row.physical_t - row.book_t
        if row.book_m3:
            assert row.variance_pct == (row.variance_m3 * 100 / row.book_m3).quantize(Decimal("0.001"))
    kg, m3 = stock.book_stock(at=services.month_end_at(MONTH))
    totals = services.totals(rows)
    assert totals["book_m3"] == m3
    assert totals["book_t"] == sum((Decimal(r.book_t) for r in rows), Decimal(0))
    assert abs(totals["book_t"] - kg / 1000) < Decimal("0.001") * len(rows) + Decimal("0.001")
    bonded_kg, bonded_m3 = stock.book_stock(customs_status="bonded", at=services.month_end_at(MONTH))
    assert totals["customs_m3"] == bonded_m3
    db.session.rollback()
