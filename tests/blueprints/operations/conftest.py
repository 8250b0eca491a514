"""A small terminal for the operations tests: products, tanks, two customers with contracts and leases, and a
helper that puts stock in the book by completing a receipt (the way stock gets there in real life)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from portal.blueprints.customers.models import Customer
from portal.blueprints.operations import services
from portal.blueprints.operations.models import Contract, Product, RateItem, Tank, TankLease
from portal.extensions import db
from portal.timeutil import utcnow


@pytest.fixture
def terminal(app, people):
    csr = people["csr"]
    gasoil = Product(code="GASOIL", name_en="Gasoil 10 ppm", name_zh="柴油", product_class="diesel", vcf_group="54B",
                     density_min=Decimal("820"), density_max=Decimal("845"), compatibility_group="middle_distillates")
    jet = Product(code="JET", name_en="Jet fuel", name_zh="航煤", product_class="jet", vcf_group="54B",
                  density_min=Decimal("775"), density_max=Decimal("840"), compatibility_group="middle_distillates")
    methanol = Product(code="METHANOL", name_en="Methanol", name_zh="甲醇", product_class="chemical", un_number="1230",
                       hazard_class="3", density_min=Decimal("791"), density_max=Decimal("793"), compatibility_group="alcohols")
    old = Product(code="OLDFUEL", name_en="Old fuel", name_zh="旧燃料", product_class="fuel_oil",
                  density_min=Decimal("950"), density_max=Decimal("990"), retired=True)
    t1 = Tank(code="T-101", area="A", nominal_m3=Decimal("10000"), safe_fill_m3=Decimal("9500"), product=gasoil)
    t2 = Tank(code="T-102", area="A", nominal_m3=Decimal("10000"), safe_fill_m3=Decimal("9500"), product=gasoil, bonded=True)
    t3 = Tank(code="T-201", area="B", nominal_m3=Decimal("5000"), safe_fill_m3=Decimal("4750"), product=methanol)
    t4 = Tank(code="T-202", area="B", nominal_m3=Decimal("5000"), safe_fill_m3=Decimal("4750"), status="maintenance")
    sino = Customer(code="SINOCHEM", name_en="Sinochem Energy Trading Co., Ltd.", name_zh="中化能源贸易有限公司")
    vitol = Customer(code="VITOLAP", name_en="Vitol Asia Pte Ltd", name_zh="维多亚洲有限公司")
    gone = Customer(code="GONE", name_en="Gone Trading", name_zh="", active=False)
    db.session.add_all([gasoil, jet, methanol, old, t1, t2, t3, t4, sino, vitol, gone])
    db.session.flush()
    start = date(2020, 1, 1)
    c1 = Contract(customer=sino, number="SC-2020-001", starts_on=start, currency="CNY")
    c1.rate_items.append(RateItem(kind="storage", rate=Decimal("28.50"), unit="m3_month"))
    c2 = Contract(customer=vitol, number="VA-2020-001", starts_on=start, currency="USD")
    c3 = Contract(customer=gone, number="GO-2020-001", starts_on=start, ends_on=date(2021, 12, 31))
    db.session.add_all([c1, c2, c3])
    db.session.flush()
    for tank in (t1, t2, t3):
        db.session.add(TankLease(tank=tank, customer=sino, contract=c1, starts_on=start))
    db.session.add(TankLease(tank=t1, customer=vitol, contract=c2, starts_on=start))
    db.session.add(TankLease(tank=t4, customer=sino, contract=c1, starts_on=start))
    db.session.commit()
    return SimpleNamespace(gasoil=gasoil, jet=jet, methanol=methanol, old=old, t1=t1, t2=t2, t3=t3, t4=t4,
                           sino=sino, vitol=vitol, gone=gone, c1=c1, csr=csr, people=people)


def _order_values(t, **over) -> dict:
    values = dict(kind="truck_loading", customer_id=t.sino.id, product_id=t.gasoil.id, tank_id=t.t1.id,
                  quantity=Decimal("100"), unit="t", customs_status="duty_paid", customs_released=False,
                  planned_start=utcnow() + timedelta(days=1), planned_end=None, vessel_name="", truck_plates="浙B12345",
                  instruction_ref="E-mail 12 May", remarks="")
    values.update(over)
    return values


@pytest.fixture
def order_values(terminal):
    """order_values(**changes): the values of a truck loading of 100 t of gasoil from T-101 for SINOCHEM."""
    return lambda **over: _order_values(terminal, **over)


@pytest.fixture
def make_order(terminal):
    def factory(**over):
        order = services.create_order(_order_values(terminal, **over), terminal.csr)
        db.session.commit()
        return order

    return factory


@pytest.fixture
def receive(terminal, make_order):
    """Put `qty` t of a product into a tank for a customer: a pipeline receipt walked to completion."""

    def do(qty="1000", *, customer=None, tank=None, product=None, customs_status="duty_paid", density="840"):
        tank = tank or terminal.t1
        order = make_order(kind="pipeline_receipt", customer_id=(customer or terminal.sino).id,
                           tank_id=tank.id, product_id=(product or terminal.gasoil).id, quantity=Decimal(qty),
                           customs_status=customs_status, truck_plates="")
        for step in (services.hand_over,):
            order.state = "verified"
            step(order, terminal.csr)
        services.start_execution(order, terminal.csr)
        services.complete_order(order, Decimal(qty), "t", Decimal(density), datetime.now(UTC) - timedelta(hours=1),
                                terminal.csr)
        db.session.commit()
        return order

    return do
