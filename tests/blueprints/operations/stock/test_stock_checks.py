"""The morning stock check: differences per tank, flagged over tolerance, remarks, signing locks it;
imports of the terminal management system's export report bad lines and change nothing."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from portal.blueprints.operations.stock import checks
from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.models import StockCheck, StockCheckLine
from portal.extensions import db

from stock_clock import at

D = Decimal
DAY = date(2026, 3, 3)


@pytest.fixture
def stocked(terminal):
    """Book at the end of 3 March: T-101 1000 t diesel (A), T-201 800 t methanol (B, bonded), T-102 empty."""
    terminal.order("ship_discharge", terminal.a, terminal.t101, "1000", at("2026-03-02"))
    terminal.order("pipeline_receipt", terminal.b, terminal.t201, "800", at("2026-03-03"), product=terminal.methanol,
                   customs_status="bonded", density=D("791.8"))
    db.session.commit()
    return terminal


def test_differences_are_worked_out_and_flagged_over_the_products_tolerance(stocked, people, request_ctx):
    check = checks.open_check(DAY, people["csr"], today=date(2026, 3, 4))
    book_101 = stock.closing_on(DAY, tank_id=stocked.t101.id)  # 1000 t, 1183.432 m³
    lines = checks.save_entries(check, [
        checks.Entry(stocked.t101, book_101[1] + D("2.000")),  # +0.169 %: within diesel's 0.300 %
        checks.Entry(stocked.t201, D("1007.000")),  # book 1010.356 m³: -0.332 %, over methanol's 0.200 %
    ], people["csr"])
    l101, l201 = lines
    assert (l101.diff_m3, l101.diff_pct, l101.flagged) == (D("2.000"), D("0.169"), False)
    assert l101.diff_kg == D("1690")  # 2 m³ at the book's density 845.00 kg/m³
    assert (l201.book_m3, l201.diff_m3, l201.diff_pct, l201.flagged) == (D("1010.356"), D("-3.356"), D("-0.332"), True)
    assert l201.tolerance_pct == D("0.200")


def test_signing_needs_every_stocked_tank_and_a_remark_per_flag_then_locks(stocked, people, request_ctx):
    check = checks.open_check(DAY, people["csr"], today=date(2026, 3, 4))
    checks.save_entries(check, [checks.Entry(stocked.t201, D("1000"))], people["csr"])
    with pytest.raises(stock.StockError, match="T-101"):
        checks.sign_check(check, people["csr"])
    checks.save_entries(check, [checks.Entry(stocked.t101, D("1183.432"))], people["csr"])
    with pytest.raises(stock.StockError, match="remark.*T-201"):
        checks.sign_check(check, people["csr"])
    flagged = next(ln for ln in check.lines if ln.flagged)
    checks.set_remark(flagged, "Heating coil drain found open; maintenance informed", people["csr"])
    checks.sign_check(check, people["csr"])
    db.session.commit()
    assert check.signed and check.signed_by_id == people["csr"].id
    with pytest.raises(stock.StockError, match="signed"):
        checks.save_entries(check, [checks.Entry(stocked.t101, D("1"))], people["csr"])
    with pytest.raises(stock.StockError, match="signed"):
        checks.set_remark(flagged, "changed", people["csr"])
    with pytest.raises(stock.StockError, match="signed"):
        checks.import_export(check, "tms.csv", b"tank,standard_volume_m3\nT-101,1\n", people["csr"])
    assert db.session.get(StockCheckLine, flagged.id).remark.startswith("Heating coil")


def test_a_day_not_over_cannot_be_checked(stocked, people, request_ctx):
    with pytest.raises(stock.StockError):
        checks.open_check(DAY, people["csr"], today=DAY)


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_import_of_the_terminal_export_csv_and_xlsx(stocked, people, request_ctx):
    check = checks.open_check(DAY, people["csr"], today=date(2026, 3, 4))
    data = _csv("Tank,Standard volume m3 (20°C),Density_20,Mass_t,Product,Date",
                "T-101,\"1,183.000\",845.0,,GO,2026-03-03", "T-201,1010.356,,,MEOH,2026-03-03")
    lines = checks.import_export(check, "pepi-export.csv", data, people["csr"])
    assert [(ln.tank.code, ln.physical_m3) for ln in lines] == [("T-101", D("1183.000")), ("T-201", D("1010.356"))]
    assert check.source == "pepi-export.csv"
    wb = Workbook()
    ws = wb.active
    ws.append(["tank", "standard_volume_m3", "mass_t"])
    ws.append(["T-102", 0, 0])
    ws.append(["T-101", 1184.5, 1000.9])
    out = io.BytesIO()
    wb.save(out)
    checks.import_export(check, "pepi-export.xlsx", out.getvalue(), people["csr"])
    by_tank = {ln.tank.code: ln for ln in check.lines}
    assert by_tank["T-101"].physical_m3 == D("1184.500") and by_tank["T-101"].physical_kg == D("1000900")
    assert by_tank["T-102"].flagged is False


@pytest.mark.parametrize("content, line, message", [
    (_csv("tank,volume", "T-101,1"), 1, "Missing column"),
    (_csv("tank,standard_volume_m3", "T-101,1183", "T-999,5"), 3, "Unknown tank T-999"),
    (_csv("tank,standard_volume_m3", "T-101,about 1183"), 2, "is not a number"),
    (_csv("tank,standard_volume_m3", "T-101,1183", "T-201,1000", "t-101,1182"), 4, "already on line 2"),
    (_csv("tank,standard_volume_m3,product", "T-101,1183,MEOH"), 2, "does not hold product MEOH"),
    (_csv("tank,standard_volume_m3,date", "T-101,1183,2026-03-02"), 2, "not the day checked"),
    (_csv("tank,standard_volume_m3", "T-101,-5"), 2, "must be positive"),
])
def test_bad_imports_name_their_line_and_change_nothing(stocked, people, request_ctx, content, line, message):
    check = checks.open_check(DAY, people["csr"], today=date(2026, 3, 4))
    checks.save_entries(check, [checks.Entry(stocked.t101, D("1183.432"))], people["csr"])
    db.session.commit()
    with pytest.raises(checks.ImportRejected) as exc:
        checks.import_export(check, "export.csv", content, people["csr"])
    assert any(n == line and message in str(text) for n, text in exc.value.errors), exc.value.errors
    db.session.rollback()
    assert [(ln.tank.code, ln.physical_m3) for ln in db.session.get(StockCheck, check.id).lines] == [("T-101", D("1183.432"))]


def test_the_check_page_enter_import_errors_and_sign(stocked, client, login):
    login("csr")
    url = f"/operations/stock/checks/{DAY}"
    assert client.get(url).status_code == 200
    t101, t201 = stocked.t101.id, stocked.t201.id
    response = client.post(url + "/enter", data={f"m3_{t101}": "1183.432", f"m3_{t201}": "1000"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "over tolerance" in page
    bad = client.post(url + "/import", data={"file": (io.BytesIO(_csv("tank,standard_volume_m3", "T-404,1")), "x.csv")},
                      content_type="multipart/form-data")
    assert bad.status_code == 200 and "Line 2" in bad.get_data(as_text=True) and "T-404" in bad.get_data(as_text=True)
    client.post(url + "/sign")
    assert not db.session.scalar(db.select(StockCheck)).signed  # the flagged tank has no remark yet
    line = db.session.scalar(db.select(StockCheckLine).where(StockCheckLine.tank_id == t201))
    assert client.post(f"{url}/lines/{line.id}/remark", data={"remark": "Sample taken, re-dip at noon"}).status_code == 302
    client.post(url + "/sign")
    db.session.expire_all()
    assert db.session.scalar(db.select(StockCheck)).signed
    locked = client.post(url + "/enter", data={f"m3_{t101}": "1"})
    assert "signed and can no longer change" in locked.get_data(as_text=True)
    assert db.session.scalar(db.select(StockCheckLine.physical_m3).where(StockCheckLine.tank_id == t101)) == D("1183.432")
    assert client.get("/operations/stock/checks/2999-01-01").status_code == 404
    assert client.get("/operations/stock/checks/x1").status_code == 404
    assert client.get(f"/operations/stock/reports/{stocked.a.id}/2026-02-30").status_code == 404
