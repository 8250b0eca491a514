"""The customs side of the three-way reconciliation: physical vs customs and book vs customs are checked against
the product's tolerance like physical vs book; over tolerance opens an investigation of that comparison and
blocks the sign-off until it is resolved or accepted; within tolerance it does neither. Shown on the page, in
the PDF and the XLSX."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from portal.blueprints.operations.monthend import reports, services
from portal.extensions import db
from portal.services import ServiceError

from monthend_helpers import MONTH, book, calibrate, dip


def customs_file(rows) -> tuple[str, bytes]:
    lines = ["tank_code,customer_code,product_code,kg,m3"] + [",".join(map(str, r)) for r in rows]
    return "customs.csv", ("\n".join(lines) + "\n").encode()


@pytest.fixture
def bonded_tank(terminal):
    """T-102 (bonded) holds SINOCHEM's 4000 m³ bonded gasoil; the month-end dip finds exactly the book."""
    calibrate(terminal.t2)
    book(terminal.sino, terminal.t2, terminal.gasoil, "3355600", "4000.000", customs_status="bonded")
    dip(terminal.t2, "4000.0")  # 4000.000 m³, 4000 x 838.9 = 3355600 kg: physical = book
    db.session.commit()
    return terminal


def import_customs(t, kg, m3):
    name, data = customs_file([("T-102", "SINOCHEM", "GASOIL", kg, m3)])
    services.import_figures(MONTH, "customs", name, data, t.csr)
    db.session.commit()


def test_customs_over_tolerance_opens_investigations_and_blocks_the_sign_off(bonded_tank, make_user):
    t = bonded_tank
    import_customs(t, "3305268", "3940.000")  # customs 60 m³ (1.523 %) below physical and book
    [row] = services.variances(MONTH)
    assert not row.over_tolerance  # physical = book
    assert row.pc_variance_m3 == Decimal("60.000") and row.pc_pct == Decimal("1.523") and row.pc_over
    assert row.bc_variance_m3 == Decimal("60.000") and row.bc_variance_t == Decimal("50.332") and row.bc_over
    assert row.comparisons_over == ["physical_customs", "book_customs"]
    period = services.prepare(MONTH, t.csr)
    db.session.commit()
    invs = {i.comparison: i for i in services.open_investigations(period)}
    assert set(invs) == {"physical_customs", "book_customs"}
    assert invs["physical_customs"].variance_m3 == Decimal("60.000")
    assert invs["physical_customs"].variance_pct == Decimal("1.523")
    manager = make_user("boss", "cs_manager")
    assert any("investigation" in reason for reason in services.sign_off_blockers(period))
    with pytest.raises(ServiceError, match="investigation"):
        services.sign_off(period, manager)
    services.propose(invs["physical_customs"], cause="海关账册未核销 1 月出库", resolution="Broker asked customs to "
                     "write off the January delivery", user=t.csr)
    services.approve(invs["physical_customs"], manager)
    db.session.commit()
    with pytest.raises(ServiceError, match="1 variance"):  # book vs customs still open
        services.sign_off(period, manager)
    services.accept(invs["book_customs"], "Customs write-off confirmed by the broker for April", manager)
    db.session.commit()
    assert services.sign_off_blockers(period) == []
    services.sign_off(period, manager)
    assert period.locked


def test_customs_within_tolerance_opens_nothing_and_does_not_block(bonded_tank, make_user):
    t = bonded_tank
    import_customs(t, "3351405", "3995.000")  # 5 m³ (0.125 %) and 4195 kg (0.125 %): within 0.3 %
    [row] = services.variances(MONTH)
    assert row.customs_compared and row.pc_variance_m3 == Decimal("5.000") and row.pc_pct == Decimal("0.125")
    assert not row.pc_over and not row.bc_over and not row.blocking
    period = services.prepare(MONTH, t.csr)
    db.session.commit()
    assert services.open_investigations(period) == []
    assert services.sign_off_blockers(period) == []
    services.sign_off(period, make_user("boss", "cs_manager"))
    assert period.locked


def test_a_key_with_duty_paid_stock_is_compared_on_its_bonded_part(terminal):
    """3000 m³ bonded and 1000 m³ released duty-paid in the book, customs has the 3000 m³: no variance, although
    physical (4000 m³) − customs (3000 m³) is 1000 m³."""
    calibrate(terminal.t2)
    book(terminal.sino, terminal.t2, terminal.gasoil, "2516700", "3000.000", customs_status="bonded")
    book(terminal.sino, terminal.t2, terminal.gasoil, "838900", "1000.000", customs_status="duty_paid")
    dip(terminal.t2, "4000.0")
    db.session.commit()
    [row] = services.variances(MONTH)
    assert row.customs_m3 == Decimal("3000.000") and row.bonded_share_pct == Decimal("75.000")
    assert row.pc_variance_m3 == Decimal("0.000") and row.bc_variance_m3 == Decimal("0.000")
    assert row.comparisons_over == []
    dip(terminal.t2, "3960.0", at=datetime(2026, 3, 31, 9, 0, tzinfo=UTC))  # 40 m³ (1 %) short
    db.session.commit()
    [row] = services.variances(MONTH)
    assert row.pc_variance_m3 == Decimal("-30.000")  # 3960 x 75 % − 3000
    # customs taken from the stock book only repeats physical vs book: no check (nor investigation) of its own
    assert not row.customs_own and not row.pc_over and row.comparisons_over == ["book"]
    name, data = customs_file([("T-102", "SINOCHEM", "GASOIL", "2516700", "3000.000")])
    services.import_figures(MONTH, "customs", name, data, terminal.csr)
    [row] = services.variances(MONTH)
    assert row.customs_own and row.comparisons_over == ["book", "physical_customs"]


def test_customs_from_the_stock_book_opens_no_second_investigation(bonded_tank, client, login):
    """Book and customs both from the stock book: a physical shortage is one investigation (physical vs book)."""
    dip(bonded_tank.t2, "3960.0", at=datetime(2026, 3, 31, 9, 0, tzinfo=UTC))
    db.session.commit()
    period = services.prepare(MONTH, bonded_tank.csr)
    db.session.commit()
    assert [i.comparison for i in services.open_investigations(period)] == ["book"]
    login("staff")
    html = client.get("/operations/month-end/2026-03").get_data(as_text=True)
    assert 'id="customs-from-book"' in html and 'data-over="book"' in html


def test_a_duty_paid_key_has_no_customs_comparison(terminal):
    calibrate(terminal.t1)
    book(terminal.sino, terminal.t1, terminal.gasoil, "3355600", "4000.000")
    dip(terminal.t1, "3900.0")
    db.session.commit()
    [row] = services.variances(MONTH)
    assert not row.customs_compared and row.pc_variance_m3 is None and row.bc_variance_m3 is None
    assert row.comparisons_over == ["book"]


def test_page_pdf_and_xlsx_show_the_customs_comparisons(bonded_tank, client, login):
    t = bonded_tank
    import_customs(t, "3305268", "3940.000")
    services.prepare(MONTH, t.csr)
    db.session.commit()
    login("staff")
    html = client.get("/operations/month-end/2026-03").get_data(as_text=True)
    assert 'data-over="physical_customs book_customs"' in html
    assert 'data-comparison="physical_customs">Physical vs customs: Open' in html
    assert "1.523" in html
    inv = {i.comparison: i for i in services.open_investigations()}["book_customs"]
    page = client.get(f"/operations/month-end/investigations/{inv.id}").get_data(as_text=True)
    assert 'data-comparison="book_customs">Book vs customs<' in page
    wb = openpyxl.load_workbook(io.BytesIO(reports.report_xlsx(MONTH)))
    sheet = wb.worksheets[0]
    header = [c.value for c in sheet[1]]
    line = dict(zip(header, [c.value for c in sheet[2]]))
    assert Decimal(str(line["实测−海关 Physical − customs m³"])) == Decimal("60")
    assert Decimal(str(line["账面−海关 Book − customs %"])) == Decimal("1.523")
    assert "Physical vs customs" in line["超差 Over tolerance"] and "Physical vs book" not in line["超差 Over tolerance"]
    comparisons = {r[3].value for r in wb.worksheets[1].iter_rows(min_row=2)}
    assert comparisons == {"实测/海关 Physical vs customs", "账面/海关 Book vs customs"}
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(reports.report_pdf(MONTH))).pages)
    assert "Physical vs customs" in text and "1.523" in text


quantity = st.integers(min_value=1, max_value=2_000_000)  # litres at 20 °C


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bonded=st.lists(st.tuples(quantity, st.integers(1, 30)), min_size=1, max_size=5),
       duty_paid=st.lists(st.tuples(quantity, st.integers(1, 30)), max_size=3),
       innage=st.integers(min_value=0, max_value=11_000), imported=st.one_of(st.none(), quantity))
def test_customs_variance_is_physical_minus_customs_of_the_bonded_part(terminal, bonded, duty_paid, innage,
                                                                      imported):
    """Where a customs comparison exists: physical − customs and book − customs, of the key's bonded part (all of
    it when the key holds no duty-paid stock: then literally physical − customs)."""
    if not services.month_end_dips(MONTH):
        calibrate(terminal.t2)
        dip(terminal.t2, f"{innage}.0")
    for status, moves in (("bonded", bonded), ("duty_paid", duty_paid)):
        for litres, day in moves:
            m3 = Decimal(litres) / 1000
            book(terminal.sino, terminal.t2, terminal.gasoil, (m3 * Decimal("838.9")).quantize(1), m3,
                 customs_status=status, at=datetime(2026, 3, day, 2, 0, tzinfo=UTC))
    if imported is not None:
        m3 = Decimal(imported) / 1000
        name, data = customs_file([("T-102", "SINOCHEM", "GASOIL", (m3 * Decimal("838.9")).quantize(1), m3)])
        services.import_figures(MONTH, "customs", name, data, terminal.csr)
    [row] = services.variances(MONTH)
    assert row.customs_compared and row.pc_variance_m3 is not None
    share = Decimal(1) if not duty_paid else Decimal(sum(q for q, _d in bonded)) / sum(q for q, _d in bonded + duty_paid)
    assert row.pc_variance_m3 == (row.physical_m3 * share).quantize(Decimal("0.001")) - row.customs_m3
    assert row.bc_variance_m3 == (row.book_m3 * share).quantize(Decimal("0.001")) - row.customs_m3
    if not duty_paid:
        assert row.pc_variance_m3 == row.physical_m3 - row.customs_m3
        assert row.pc_variance_t == row.physical_t - row.customs_t
        assert row.bc_variance_m3 == row.book_m3 - row.customs_m3
    if row.customs_m3:
        assert row.pc_pct == (row.pc_variance_m3 * 100 / row.customs_m3).quantize(Decimal("0.001"))
        by_mass = (row.pc_variance_t * 100 / row.customs_t).quantize(Decimal("0.001")) if row.customs_t else None
        over = (abs(row.pc_pct) > row.tolerance_pct or (by_mass is not None and abs(by_mass) > row.tolerance_pct)
                or (by_mass is None and row.pc_variance_t != 0))
        assert row.pc_over == (over and imported is not None)  # checked on its own only with imported figures
    db.session.rollback()
