"""Investigations, the manager's sign-off (two-person rule), the month lock everywhere, corrections in the
next month, the filed report read back, imports with bad rows and role checks."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader

from portal.blueprints.archive.models import ArchiveRecord
from portal.blueprints.operations.billing import services as billing
from portal.blueprints.operations.imports import ImportFailed
from portal.blueprints.operations.monthend import reports, services
from portal.blueprints.operations.monthend.models import VarianceInvestigation
from portal.blueprints.operations.periods import PeriodLocked
from portal.blueprints.operations.stock import services as stock
from portal.extensions import db
from portal.services import ServiceError

from monthend_helpers import IN_MONTH, MONTH, book, calibrate, dip

LATE_MARCH = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def month_over(terminal):
    """T-101 holds SINOCHEM's 4000 m³ in the book but the month-end dip finds 3980 m³ (−0.5 %): over tolerance."""
    calibrate(terminal.t1)
    book(terminal.sino, terminal.t1, terminal.gasoil, "3355600", "4000.000")
    dip(terminal.t1, "3980.0")
    db.session.commit()
    return terminal


def test_sign_off_is_blocked_by_an_open_investigation_then_allowed(month_over, make_user):
    t = month_over
    period = services.prepare(MONTH, t.csr)
    db.session.commit()
    [row] = services.variances(MONTH)
    assert row.variance_m3 == Decimal("-20.000") and row.variance_pct == Decimal("-0.500") and row.over_tolerance
    [inv] = services.open_investigations(period)
    assert inv.state == "open" and inv.variance_m3 == Decimal("-20.000")
    manager = make_user("boss", "cs_manager")
    with pytest.raises(ServiceError, match="investigation"):
        services.sign_off(period, manager)
    services.propose(inv, cause="Meter drift on the receipt of 10 March", resolution="Meter recalibrated",
                     user=t.csr)
    proposer = make_user("selfmgr", "cs_manager")
    inv.proposed_by_id = proposer.id
    with pytest.raises(ServiceError, match="another person"):
        services.approve(inv, proposer)
    with pytest.raises(ServiceError, match="CS manager"):
        services.approve(inv, t.csr)
    services.approve(inv, manager)
    assert inv.state == "resolved" and inv.approved_by_id == manager.id
    files = reports.report_files(MONTH, manager)
    services.sign_off(period, manager, note="Checked", report_files=files)
    db.session.commit()
    assert services.month_locked(date(2026, 3, 17)) and not services.month_locked(date(2026, 4, 1))
    record = db.session.get(ArchiveRecord, period.archive_record_id)
    assert record is not None and "2026-03" in record.title


def test_the_preparer_cannot_sign_off_and_a_csr_cannot_either(month_over, make_user):
    t = month_over
    manager = make_user("prep", "cs_manager")
    period = services.prepare(MONTH, manager)
    [inv] = services.open_investigations(period)
    services.accept(inv, "Within the meter's uncertainty", manager)
    with pytest.raises(ServiceError, match="another person"):
        services.sign_off(period, manager)
    with pytest.raises(ServiceError, match="CS manager"):
        services.sign_off(period, t.csr)
    with pytest.raises(ServiceError, match="reason"):
        services.accept(VarianceInvestigation(period=period, state="open"), "  ", manager)


def _signed_off(t, make_user):
    period = services.prepare(MONTH, t.csr)
    [inv] = services.open_investigations(period)
    manager = make_user("boss2", "cs_manager")
    services.accept(inv, "Accepted: sampling", manager)
    services.sign_off(period, manager)
    db.session.commit()
    return period, manager


def test_a_locked_month_refuses_movements_dips_imports_and_billing(month_over, make_user):
    t = month_over
    period, manager = _signed_off(t, make_user)
    with pytest.raises(PeriodLocked, match="2026-03 is signed off"):
        book(t.sino, t.t1, t.gasoil, "1000", "1.190", at=LATE_MARCH)
    with pytest.raises(PeriodLocked, match="2026-03 is signed off"):
        stock.post_customs_release(customer_id=t.sino.id, tank_id=t.t1.id, product_id=t.gasoil.id, kg=1, m3=1,
                                   at=LATE_MARCH, user=t.csr)
    with pytest.raises(PeriodLocked, match="2026-03 is signed off"):
        stock.request_adjustment(customer_id=t.sino.id, tank_id=t.t1.id, product_id=t.gasoil.id,
                                 customs_status="duty_paid", direction="loss", quantity=Decimal("1"), unit="t",
                                 density_20=Decimal("840"), occurred_at=LATE_MARCH, reason="late find", user=t.csr)
    with pytest.raises(PeriodLocked, match="2026-03 is signed off"):
        dip(t.t1, "3990.0", at=datetime(2026, 3, 31, 9, 0, tzinfo=UTC))
    with pytest.raises(ServiceError, match="signed off"):
        services.import_figures(MONTH, "pepi", "pepi.csv", b"tank_code,customer_code,product_code,kg,m3\n", t.csr)
    assert billing.period_locked(t.sino.id, MONTH)
    with pytest.raises(ServiceError, match="locked"):
        billing.prepare_run(t.sino, MONTH, t.csr, today=date(2026, 5, 2))
    # April is open
    book(t.sino, t.t1, t.gasoil, "1000", "1.190", at=datetime(2026, 4, 2, 2, 0, tzinfo=UTC))


def test_a_correction_goes_into_the_next_month_linked_to_the_locked_one(month_over, make_user):
    t = month_over
    period, manager = _signed_off(t, make_user)
    corr = services.add_correction(period, customer_id=t.sino.id, tank_id=t.t1.id, product_id=t.gasoil.id,
                                   customs_status="duty_paid", direction="loss", quantity=Decimal("16.8"), unit="t",
                                   density_20=Decimal("840"), reason="March variance booked", user=t.csr,
                                   now=datetime(2026, 4, 3, 2, 0, tzinfo=UTC))
    db.session.commit()
    [(c, adj)] = services.corrections(period)
    assert c.id == corr.id and adj.occurred_at.date() >= date(2026, 3, 31) and adj.occurred_at.month == 4
    assert "correction of 2026-03" in adj.reason
    stock.decide_adjustment(adj, manager, approve=True, now=datetime(2026, 4, 3, 3, 0, tzinfo=UTC))
    assert adj.state == "approved"
    with pytest.raises(ServiceError, match="signed-off"):
        services.add_correction(services.get_or_create_period(date(2026, 4, 1)), customer_id=t.sino.id,
                                tank_id=t.t1.id, product_id=t.gasoil.id, customs_status="duty_paid", direction="loss",
                                quantity=Decimal("1"), unit="t", density_20=Decimal("840"), reason="x", user=t.csr)


def test_the_report_reads_back_as_pdf_and_xlsx(month_over):
    services.prepare(MONTH, month_over.csr)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(reports.report_pdf(MONTH))).pages)
    assert "T-101" in text and "SINOCHEM" in text and "-20.000" in text and "-0.500" in text
    ws = openpyxl.load_workbook(io.BytesIO(reports.report_xlsx(MONTH))).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][0] == "T-101" and rows[1][1] == "SINOCHEM" and Decimal(str(rows[1][9])) == Decimal("-20")
    assert rows[-1][0] == "合计 Total"


def test_imports_with_bad_rows_report_their_line_and_import_nothing(month_over):
    t = month_over
    data = ("tank_code,customer_code,product_code,kg,m3\n"
            "T-101,SINOCHEM,GASOIL,3355600,4000.000\n"
            "T-999,SINOCHEM,GASOIL,1,1\n"
            "T-101,VITOLAP,GASOIL,abc,1\n").encode()
    with pytest.raises(ImportFailed) as caught:
        services.import_figures(MONTH, "pepi", "pepi.csv", data, t.csr)
    messages = [str(e) for e in caught.value.errors]
    assert messages[0].startswith("Line 3") and "T-999" in messages[0]
    assert messages[1].startswith("Line 4") and "abc" in messages[1]
    assert services.period_for(MONTH) is None or services.period_for(MONTH).book_source == "stock_book"
    good = b"tank_code,customer_code,product_code,kg,m3\nT-101,SINOCHEM,GASOIL,3340000,3981.000\n"
    assert services.import_figures(MONTH, "pepi", "pepi.csv", good, t.csr) == 1
    [row] = services.variances(MONTH)
    assert row.book_m3 == Decimal("3981.000") and row.variance_m3 == Decimal("-1.000") and not row.over_tolerance
    customs = b"tank_code,customer_code,product_code,kg,m3\nT-101,SINOCHEM,GASOIL,3355600,4000\n"
    services.import_figures(MONTH, "customs", "customs.csv", customs, t.csr)
    [row] = services.variances(MONTH)
    assert row.customs_m3 == Decimal("4000.000") and row.customs_t == Decimal("3355.600")


def test_a_shared_tank_splits_physical_by_book_share(terminal):
    calibrate(terminal.t1)
    book(terminal.sino, terminal.t1, terminal.gasoil, "2516700", "3000.000")
    book(terminal.vitol, terminal.t1, terminal.gasoil, "838900", "1000.000", customs_status="bonded")
    dip(terminal.t1, "4000.0")
    rows = {r.customer_code: r for r in services.variances(MONTH)}
    assert rows["SINOCHEM"].shared and rows["SINOCHEM"].physical_m3 == Decimal("3000.000")
    assert rows["VITOLAP"].physical_m3 == Decimal("1000.000")
    assert rows["VITOLAP"].customs_m3 == Decimal("1000.000") and rows["SINOCHEM"].customs_m3 == Decimal("0.000")


def test_an_undipped_tank_is_over_tolerance(terminal):
    book(terminal.sino, terminal.t2, terminal.gasoil, "838900", "1000.000", at=IN_MONTH)
    [row] = services.variances(MONTH)
    assert not row.dipped and row.physical_m3 == 0 and row.over_tolerance


def test_roles_and_bad_input_on_the_pages(month_over, app, login):
    t = month_over
    client = app.test_client()
    login("staff", client=client)
    assert client.post("/operations/month-end/2026-03/prepare").status_code == 403
    assert client.post("/operations/month-end/2026-03/sign-off").status_code == 403
    client = app.test_client()
    login(t.csr, client=client)
    assert client.post("/operations/month-end/2026-03/prepare").status_code == 302
    assert client.post("/operations/month-end/2026-03/sign-off").status_code == 403
    inv = services.open_investigations()[0]
    bad = client.post(f"/operations/month-end/investigations/{inv.id}/propose", data={"cause": "", "resolution": ""})
    assert bad.status_code == 422
    page = client.post("/operations/month-end/2026-03/import",
                       data={"source": "pepi", "file": (io.BytesIO(b"tank_code,kg\nT-101,1\n"), "pepi.csv")},
                       content_type="multipart/form-data")
    assert page.status_code == 422 and "Missing columns" in page.get_data(as_text=True)
    assert client.post("/operations/month-end/", data={"month": "2026-3x"}).status_code == 200
    assert client.get("/operations/month-end/investigations/99999").status_code == 404


def test_an_xlsx_customs_import_with_a_bad_row_names_its_line(month_over):
    from portal.xlsx import workbook_bytes

    t = month_over
    header = ["tank_code", "customer_code", "product_code", "kg", "m3"]
    bad = workbook_bytes([("customs", header, [["T-101", "SINOCHEM", "GASOIL", 3355600, 4000],
                                               ["T-101", "SINOCHEM", "GASOIL", 1, 1]])])
    with pytest.raises(ImportFailed) as caught:
        services.import_figures(MONTH, "customs", "customs.xlsx", bad, t.csr)
    assert [str(e) for e in caught.value.errors] == [
        "Line 3: the same tank, customer and product as line 2"]
    good = workbook_bytes([("customs", header, [["T-101", "SINOCHEM", "GASOIL", 3355600, 3990.5]])])
    assert services.import_figures(MONTH, "customs", "customs.xlsx", good, t.csr) == 1
    [row] = services.variances(MONTH)
    assert row.customs_m3 == Decimal("3990.500") and row.book_m3 == Decimal("4000.000")
