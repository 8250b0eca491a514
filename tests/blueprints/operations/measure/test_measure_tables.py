"""Calibration (strapping) tables: import from CSV/XLSX, every bad line reported and nothing written, versions by
certificate with the certificate filed in the archive, interpolation and the fraction table."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from portal.blueprints.operations.imports import ImportFailed
from portal.blueprints.operations.measure import services
from portal.blueprints.operations.measure.models import CalibrationPoint, CalibrationTable
from portal.extensions import db
from portal.xlsx import workbook_bytes

from measure_helpers import ready_tank, straight_rows, table_csv


def test_interpolates_linearly_between_rows(terminal):
    rows = [(0, "0.000"), (100, "50.000"), (200, "110.000"), (300, "180.500")]
    table = ready_tank(terminal.t1, rows=rows)
    db.session.commit()
    assert table.point_count == 4
    assert services.volume_at(table, Decimal("100")) == Decimal("50.000")
    assert services.volume_at(table, Decimal("150")) == Decimal("80.000")
    assert services.volume_at(table, Decimal("250.5")) == Decimal("145.603")  # 110 + 70.5 x 0.355 = 145.6025
    with pytest.raises(services.MeasureError, match="outside"):
        services.volume_at(table, Decimal("300.1"))


def test_fraction_table_adds_the_millimetres_of_its_band(terminal, people):
    services.save_gauging(terminal.t1, reference_height_mm=None, floating_roof=False, roof_mass_kg=None,
                          roof_floats_mm=None, standard="gbt", max_step_mm=10)
    main = table_csv([(h, Decimal(h) * 2) for h in range(0, 101, 10)])
    fractions = "from_mm,to_mm,mm,volume_m3\n" + "".join(f"50,100,{mm},{Decimal('0.25') * mm}\n" for mm in range(1, 10))
    table = services.import_calibration(
        terminal.t1, certificate_number="F-1", certificate_date=date(2024, 1, 1), body="Body", valid_from=date(2024, 1, 1),
        roof_correction=False, table_file=("t.csv", main), fraction_file=("f.csv", fractions.encode()))
    assert services.volume_at(table, Decimal("63")) == Decimal("120.750")  # 60 mm -> 120, plus 3 mm of the band
    assert services.volume_at(table, Decimal("63.5")) == Decimal("120.875")
    assert services.volume_at(table, Decimal("23")) == Decimal("46.000")  # no band under 50 mm: linear


@pytest.mark.parametrize("rows,line,message", [
    ([(0, 0), (100, 10), (100, 20)], 4, "not above the previous row's 100"),
    ([(0, 0), (100, 10), (200, 10), (300, 30)], 4, "Volume 10 m³ is not above"),
    ([(0, 0), (100, 10), (250, 30)], 4, "A gap of 150 mm"),
    ([(0, 0), ("abc", 10)], 3, "must be numbers"),
    ([(0, 0), (100, -5)], 3, "cannot be negative"),
])
def test_bad_tables_report_their_line_and_write_nothing(terminal, rows, line, message):
    with pytest.raises(ImportFailed) as failed:
        ready_tank(terminal.t1, rows=rows)
    db.session.rollback()
    errors = failed.value.errors
    assert [e.line for e in errors] == [line]
    assert message in str(errors[0])
    assert db.session.scalar(db.select(db.func.count(CalibrationTable.id))) == 0
    assert db.session.scalar(db.select(db.func.count(CalibrationPoint.id))) == 0


def test_the_import_page_lists_every_bad_line_and_keeps_nothing(terminal, client, login):
    login("csr")
    data = table_csv([(0, 0), (100, 10), (90, 20), (200, 15), (300, 40)])
    response = client.post(f"/operations/measure/tanks/{terminal.t1.id}/calibrations/new", data={
        "certificate_number": "C-9", "certificate_date": "2024-03-01", "body": "NIM", "valid_from": "2024-03-01",
        "table_file": (io.BytesIO(data), "t101.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-line="4"' in page and 'data-line="5"' in page and "Nothing was imported" in page
    assert db.session.scalar(db.select(db.func.count(CalibrationTable.id))) == 0


def test_xlsx_import_files_the_certificate_in_the_archive(terminal, client, login):
    from portal.blueprints.archive.models import ArchiveRecord

    login("csr")
    xlsx = workbook_bytes([("Table", ["height_mm", "volume_m3"], [[h, float(v)] for h, v in straight_rows(1000)])])
    certificate = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(f"/operations/measure/tanks/{terminal.t1.id}/calibrations/new", data={
        "certificate_number": "NBMI-2024-101", "certificate_date": "2024-03-01", "body": "Ningbo Institute of Measurement",
        "valid_from": "2024-03-02", "table_file": (io.BytesIO(xlsx), "T-101.xlsx"),
        "certificate_file": (io.BytesIO(certificate), "certificate.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    table = db.session.scalar(db.select(CalibrationTable))
    assert table.point_count == 11 and table.archive_record_id
    record = db.session.get(ArchiveRecord, table.archive_record_id)
    assert "NBMI-2024-101" in record.title
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "NBMI-2024-101" in page and "1,000.000" in page
    again = client.post(f"/operations/measure/tanks/{terminal.t1.id}/calibrations/new", data={
        "certificate_number": "NBMI-2024-101", "certificate_date": "2024-03-01", "body": "NIM", "valid_from": "2024-03-02",
        "table_file": (io.BytesIO(xlsx), "T-101.xlsx")}, content_type="multipart/form-data")
    assert "already imported" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(CalibrationTable.id))) == 1


def test_the_table_in_force_is_the_newest_certificate_of_the_day(terminal):
    old = ready_tank(terminal.t1, number="OLD", valid_from=date(2022, 1, 1))
    new = services.import_calibration(
        terminal.t1, certificate_number="NEW", certificate_date=date(2024, 6, 1), body="NIM", valid_from=date(2024, 6, 1),
        roof_correction=False, table_file=("t.csv", table_csv(straight_rows(m3_per_mm=Decimal("1.001")))))
    assert services.table_in_force(terminal.t1, date(2024, 5, 31)) == old
    assert services.table_in_force(terminal.t1, date(2024, 6, 1)) == new
    assert services.table_in_force(terminal.t1, date(2021, 1, 1)) is None


def test_only_csrs_and_managers_import(terminal, client, login):
    login("staff")
    assert client.get(f"/operations/measure/tanks/{terminal.t1.id}/calibrations/new").status_code == 403
    assert client.get(f"/operations/measure/tanks/{terminal.t1.id}").status_code == 200


def test_a_file_that_is_no_table_is_refused_on_its_field(terminal, client, login):
    login("csr")
    response = client.post(f"/operations/measure/tanks/{terminal.t1.id}/calibrations/new", data={
        "certificate_number": "C-9", "certificate_date": "2024-03-01", "body": "NIM", "valid_from": "2024-03-01",
        "table_file": (io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "table.pdf")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Give a CSV or XLSX file." in page
    assert db.session.scalar(db.select(db.func.count(CalibrationTable.id))) == 0
    response = client.post(f"/operations/measure/tanks/{terminal.t1.id}/calibrations/new", data={
        "certificate_number": "C-9", "certificate_date": "2024-03-01", "body": "NIM", "valid_from": "2024-02-01",
        "table_file": (io.BytesIO(table_csv(straight_rows(500))), "t.csv")}, content_type="multipart/form-data")
    assert "cannot be in force before its certificate date" in response.get_data(as_text=True)
