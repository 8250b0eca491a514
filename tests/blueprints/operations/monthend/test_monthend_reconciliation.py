"""The three-way reconciliation: physical from the month-end dip, book from the stock book or an import,
customs from the bonded stock or an import; variances, tolerance and investigations."""
from __future__ import annotations

from decimal import Decimal

from portal.blueprints.operations.monthend import services
from portal.extensions import db

from monthend_helpers import MONTH, book, calibrate, dip


def test_variance_is_physical_minus_book_and_over_tolerance_opens_an_investigation(terminal):
    calibrate(terminal.t1)
    book(terminal.sino, terminal.t1, terminal.gasoil, "3358800", "4000.000")
    dip(terminal.t1, "4000.0")  # v20 4000.000 m³, mass in air 4000 x 838.9 = 3355600 kg
    rows = services.variances(MONTH)
    assert len(rows) == 1
    row = rows[0]
    assert row.physical_m3 == Decimal("4000.000") and row.book_m3 == Decimal("4000.000")
    assert row.physical_t == Decimal("3355.600") and row.book_t == Decimal("3358.800")
    assert row.variance_m3 == Decimal("0.000") and row.variance_t == Decimal("-3.200")
    assert not row.over_tolerance  # 0.095 % by mass, 0 by volume
    db.session.commit()
    assert services.prepare(MONTH, terminal.csr).state == "prepared"
    assert services.open_investigations() == []
