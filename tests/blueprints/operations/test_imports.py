"""Import of products, tanks and leases from CSV and XLSX: bad files report their lines and change nothing."""
from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from portal.blueprints.operations import imports
from portal.blueprints.operations.models import Product, Tank, TankLease
from portal.extensions import db

PRODUCTS_CSV = """code,name_en,name_zh,product_class,density_min,density_max,compatibility_group,un_number
MEG,Monoethylene glycol,乙二醇,chemical,1113,1116,glycols,
XYLENE,Mixed xylenes,二甲苯,chemical,860,870,aromatics,1307
"""
TANKS_CSV = """code,area,nominal_m3,safe_fill_m3,heated,bonded,product_code,status
T-401,D,3000,2850,no,yes,MEG,in_service
T-402,D,3000,2850,yes,no,,cleaning
"""


def counts():
    return tuple(db.session.scalar(db.select(db.func.count(m.id))) for m in (Product, Tank, TankLease))


def upload(client, what: str, name: str, data: bytes):
    return client.post("/operations/import", data={"what": what, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_products_tanks_and_leases_from_csv_and_xlsx(client, login, terminal):
    login(terminal.csr)
    r = upload(client, "products", "products.csv", PRODUCTS_CSV.encode())
    assert r.status_code == 302
    assert "2 new, 0 updated" in client.get(r.location).get_data(as_text=True)
    meg = db.session.scalar(db.select(Product).filter_by(code="MEG"))
    assert meg.name_zh == "乙二醇" and meg.density_max == Decimal("1116")
    assert upload(client, "tanks", "tanks.csv", TANKS_CSV.encode()).status_code == 302
    t401 = db.session.scalar(db.select(Tank).filter_by(code="T-401"))
    assert t401.bonded and t401.product_id == meg.id and t401.safe_fill_m3 == Decimal("2850")
    data = xlsx([["tank_code", "customer_code", "starts_on", "ends_on", "contract_number"],
                 ["T-401", "SINOCHEM", "2026-01-01", None, "SC-2020-001"],
                 ["T-401", "VITOLAP", "2026-02-01", "2026-12-31", None]])
    assert upload(client, "leases", "leases.xlsx", data).status_code == 302
    db.session.refresh(t401)
    assert [(lease.customer.code, str(lease.ends_on)) for lease in t401.leases] == [("SINOCHEM", "None"),
                                                                                   ("VITOLAP", "2026-12-31")]
    # A second import of the same products updates them.
    r = upload(client, "products", "products.csv", PRODUCTS_CSV.replace("Mixed xylenes", "Xylenes").encode())
    assert "0 new, 2 updated" in client.get(r.location).get_data(as_text=True)


@pytest.mark.parametrize("what,text,line,message", [
    ("tanks", "code,area,nominal,safe_fill_m3\nT-9,A,100,90\n", 1, "Missing column(s): nominal_m3"),
    ("products", "code,name_en,product_class,density_min,density_max,colour\nX,X,chemical,800,900,red\n", 1,
     "Unknown column(s): colour"),
    ("leases", "tank_code,customer_code,starts_on\nT-101,VITOLAP,2026-01-01\nT-999,SINOCHEM,2026-01-01\n", 3,
     "Unknown tank T-999"),
    ("tanks", "code,area,nominal_m3,safe_fill_m3\nT-501,E,5000,4750\nT-502,E,5 000 m3,4750\n", 3,
     "nominal_m3 is not a number"),
    ("products", PRODUCTS_CSV + "MEG,Monoethylene glycol,乙二醇,chemical,1113,1116,glycols,\n", 4, "Duplicate of line 2"),
    ("leases", "tank_code,customer_code,starts_on\nT-201,SINOCHEM,2026-01-01\n", 2, "already leases T-201"),
])
def test_bad_files_report_the_line_and_import_nothing(client, login, terminal, what, text, line, message):
    login(terminal.csr)
    before = counts()
    page = upload(client, what, f"{what}.csv", text.encode()).get_data(as_text=True)
    assert "Nothing was imported" in page
    assert f'data-line="{line}"' in page
    assert f"Line {line}: " in page and message in page, page[page.find("import-errors"):][:600]
    assert counts() == before


def test_text_in_a_quantity_in_xlsx(client, login, terminal):
    login(terminal.csr)
    before = counts()
    data = xlsx([["code", "area", "nominal_m3", "safe_fill_m3"], ["T-601", "F", 1000, 950], ["T-602", "F", "lots", 950]])
    page = upload(client, "tanks", "tanks.xlsx", data).get_data(as_text=True)
    assert "Line 3: nominal_m3 is not a number" in page
    assert counts() == before


def test_service_raises_with_every_line(app, terminal):
    text = "tank_code,customer_code,starts_on\nT-999,SINOCHEM,2026-01-01\nT-101,NOBODY,2026-01-01\nT-101,VITOLAP,1.1.2026\n"
    with app.test_request_context(), pytest.raises(imports.ImportFailed) as failed:
        imports.import_file("leases", "leases.csv", text.encode(), terminal.csr)
    with app.test_request_context():
        assert [e.line for e in failed.value.errors] == [2, 3, 4]
        assert "Unknown customer NOBODY" in str(failed.value.errors[1])
        assert "is not a date" in str(failed.value.errors[2])


def test_a_program_is_refused(client, login, terminal):
    login(terminal.csr)
    page = upload(client, "tanks", "tanks.csv", b"MZ\x90\x00" + b"\x00" * 100).get_data(as_text=True)
    assert counts()[1] == 4
    assert "Imported" not in page
