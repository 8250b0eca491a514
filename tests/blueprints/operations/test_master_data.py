"""Products, tanks with leases, contracts with rate items: CSRs and managers edit them, every change is audited,
a product in use is retired, never deleted."""
from __future__ import annotations

import json
from decimal import Decimal

from portal.audit import AuditEntry
from portal.blueprints.operations.models import Contract, Product, Tank, TankLease
from portal.extensions import db


def audit_of(table: str, ident) -> list[AuditEntry]:
    return db.session.scalars(db.select(AuditEntry).filter_by(entity=table, entity_id=str(ident))
                              .order_by(AuditEntry.id)).all()


PRODUCT = {"code": "styrene", "name_en": "Styrene monomer", "name_zh": "苯乙烯", "product_class": "chemical",
           "vcf_group": "", "un_number": "2055", "hazard_class": "3", "density_min": "902", "density_max": "907",
           "compatibility_group": "aromatics", "stock_tolerance_pct": "0.300"}


def test_csr_creates_and_edits_a_product_audited(client, login, terminal):
    login(terminal.csr)
    response = client.post("/operations/products/new", data=PRODUCT)
    assert response.status_code == 302
    product = db.session.scalar(db.select(Product).filter_by(code="STYRENE"))
    assert product.name_zh == "苯乙烯" and product.density_typical == Decimal("904.5")
    client.post(f"/operations/products/{product.id}/edit", data={**PRODUCT, "density_max": "908"})
    db.session.refresh(product)
    assert product.density_max == Decimal("908")
    entries = audit_of("ops_product", product.id)
    assert [e.action for e in entries] == ["insert", "update"]
    assert entries[-1].change_map["density_max"] == ["907.0000", "908"] or entries[-1].change_map["density_max"][1] == "908"
    page = client.get("/operations/products").get_data(as_text=True)
    assert "STYRENE" in page and "Styrene monomer" in page


def test_density_range_must_be_in_order(client, login, terminal):
    login(terminal.csr)
    page = client.post("/operations/products/new", data={**PRODUCT, "density_min": "910"}).get_data(as_text=True)
    assert "The lowest density is above the highest." in page
    assert db.session.scalar(db.select(Product).filter_by(code="STYRENE")) is None


def test_a_used_code_is_refused_on_the_field_and_nothing_changes(client, login, terminal):
    login(terminal.csr)
    client.post("/operations/products/new", data=PRODUCT)
    page = client.post("/operations/products/new", data={**PRODUCT, "name_en": "Second styrene"}).get_data(as_text=True)
    assert "The code STYRENE is already used." in page
    assert db.session.scalar(db.select(db.func.count(Product.id)).filter_by(code="STYRENE")) == 1
    client.post("/operations/tanks/new", data=TANK)
    page = client.post("/operations/tanks/new", data={**TANK, "area": "B"}).get_data(as_text=True)
    assert "The code T-301 is already used." in page
    assert db.session.scalar(db.select(Tank.area).filter_by(code="T-301")) == "C"


def test_product_in_use_is_retired_not_deleted(client, login, terminal, make_order):
    login(terminal.csr)
    make_order()
    response = client.post(f"/operations/products/{terminal.gasoil.id}/delete", follow_redirects=True)
    assert "used by orders or tanks: retire it instead" in response.get_data(as_text=True)
    assert db.session.get(Product, terminal.gasoil.id) is not None
    client.post(f"/operations/products/{terminal.gasoil.id}/retire")
    db.session.refresh(terminal.gasoil)
    assert terminal.gasoil.retired
    # Retired products are not offered for new orders, and are hidden from the list unless asked.
    form = client.get("/operations/orders/new").get_data(as_text=True)
    assert "Gasoil 10 ppm" not in form
    assert "GASOIL" not in client.get("/operations/products").get_data(as_text=True).split("<tbody>")[1]
    assert "GASOIL" in client.get("/operations/products?retired=1").get_data(as_text=True)


def test_unused_product_can_be_deleted(client, login, terminal):
    login(terminal.csr)
    client.post(f"/operations/products/{terminal.jet.id}/delete")
    assert db.session.get(Product, terminal.jet.id) is None


def test_staff_read_but_do_not_edit(client, login, terminal):
    login("staff")
    assert client.get("/operations/products").status_code == 200
    assert client.get(f"/operations/tanks/{terminal.t1.id}").status_code == 200
    assert client.post("/operations/products/new", data=PRODUCT).status_code == 403
    assert client.post(f"/operations/tanks/{terminal.t1.id}/edit", data={}).status_code == 403


TANK = {"code": "t-301", "area": "C", "nominal_m3": "20000", "safe_fill_m3": "19000", "status": "in_service",
        "product_id": "0", "bonded": "y", "notes": ""}


def test_tank_with_shared_leases(client, login, terminal):
    login(terminal.csr)
    assert client.post("/operations/tanks/new", data=TANK).status_code == 302
    tank = db.session.scalar(db.select(Tank).filter_by(code="T-301"))
    assert tank.bonded and not tank.heated and tank.safe_fill_m3 == Decimal("19000")
    for customer, start in ((terminal.sino, "2026-01-01"), (terminal.vitol, "2026-03-01")):
        r = client.post(f"/operations/tanks/{tank.id}/leases", data={
            "lease-customer_id": customer.id, "lease-contract_id": "0", "lease-starts_on": start, "lease-ends_on": ""})
        assert r.status_code == 302
    # The same customer twice in overlapping periods is refused.
    page = client.post(f"/operations/tanks/{tank.id}/leases", data={
        "lease-customer_id": terminal.sino.id, "lease-contract_id": "0", "lease-starts_on": "2026-06-01",
        "lease-ends_on": "2026-12-31"}).get_data(as_text=True)
    assert "already leases T-301" in page
    db.session.refresh(tank)
    assert sorted(lease.customer.code for lease in tank.leases) == ["SINOCHEM", "VITOLAP"]
    page = client.get(f"/operations/tanks/{tank.id}").get_data(as_text=True)
    assert "SINOCHEM" in page and "VITOLAP" in page
    lease = tank.leases[0]
    assert audit_of("ops_tank_lease", lease.id)[0].action == "insert"
    client.post(f"/operations/tanks/{tank.id}/leases/{lease.id}/delete")
    assert db.session.get(TankLease, lease.id) is None


def test_safe_fill_cannot_exceed_nominal(client, login, terminal):
    login(terminal.csr)
    page = client.post("/operations/tanks/new", data={**TANK, "safe_fill_m3": "21000"}).get_data(as_text=True)
    assert "The safe fill cannot exceed the nominal capacity." in page


def test_tank_status_change_is_audited(client, login, terminal):
    login(terminal.csr)
    t = terminal.t1
    client.post(f"/operations/tanks/{t.id}/edit", data={**TANK, "code": "T-101", "status": "cleaning",
                                                       "product_id": str(terminal.gasoil.id)})
    db.session.refresh(t)
    assert t.status == "cleaning"
    changes = audit_of("ops_tank", t.id)[-1].change_map
    assert changes["status"] == ["in_service", "cleaning"]


def test_lease_of_another_tank_is_404(client, login, terminal):
    login(terminal.csr)
    lease = terminal.t1.leases[0]
    assert client.post(f"/operations/tanks/{terminal.t3.id}/leases/{lease.id}/delete").status_code == 404


def test_contract_with_rate_items(client, login, terminal):
    login(terminal.csr)
    r = client.post("/operations/contracts/new", data={"customer_id": terminal.vitol.id, "number": "VA-2026-007",
                                                       "starts_on": "2026-01-01", "ends_on": "2026-12-31",
                                                       "currency": "USD", "notes": ""})
    assert r.status_code == 302
    contract = db.session.scalar(db.select(Contract).filter_by(number="VA-2026-007"))
    for kind, rate, unit in (("storage", "3.25", "m3_month"), ("throughput", "1.10", "t"), ("heating", "0.35", "t_day")):
        client.post(f"/operations/contracts/{contract.id}/rates",
                    data={"rate-kind": kind, "rate-description": "", "rate-rate": rate, "rate-unit": unit})
    db.session.refresh(contract)
    assert [(i.kind, i.rate, i.unit) for i in contract.rate_items] == [
        ("storage", Decimal("3.2500"), "m3_month"), ("throughput", Decimal("1.1000"), "t"),
        ("heating", Decimal("0.3500"), "t_day")]
    page = client.get(f"/operations/contracts/{contract.id}").get_data(as_text=True)
    assert "3.25 USD" in page and "per m³ per month" in page
    bad = client.post(f"/operations/contracts/{contract.id}/rates",
                      data={"rate-kind": "storage", "rate-rate": "abc", "rate-unit": "m3_month"}).get_data(as_text=True)
    assert "Not a valid decimal value" in bad
    item = contract.rate_items[0]
    assert json.loads(audit_of("ops_rate_item", item.id)[0].changes)["rate"][1] == "3.25"
