"""A small terminal for the billing tests (a module of its own name: test modules import it directly).

March 2026 (31 days) is the month billed. SINOCHEM leases T-101 (10,000 m³) and the heated T-301
(5,000 m³) under a CNY contract with every kind of rate item; VITOL shares T-101 from 17 March and pays
storage on its average book stock (per t per month). Hand-computed figures are in the tests.
"""
from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal

from portal.blueprints.customers.models import Customer
from portal.blueprints.operations.models import Contract, Order, Product, RateItem, Tank, TankLease
from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.quantities import to_kg_m3
from portal.extensions import db
from portal.timeutil import from_local

D = Decimal
MARCH = date(2026, 3, 1)
DENSITY = D("845.0")
_numbers = itertools.count(1)


def local(day: str, hh: int = 10, mm: int = 0) -> datetime:
    """An aware UTC time of a local (Shanghai) wall-clock time."""
    y, m, d = (int(p) for p in day.split("-"))
    return from_local(datetime(y, m, d, hh, mm))


class BillingTerminal:
    def __init__(self):
        self.a = Customer(code="SINOCHEM", name_en="Sinochem Energy Trading Co., Ltd.", name_zh="中化能源贸易有限公司")
        self.b = Customer(code="VITOL", name_en="Vitol Asia Pte Ltd", name_zh="维多亚洲有限公司")
        self.diesel = Product(code="GO", name_en="Gasoil / diesel", name_zh="柴油", product_class="diesel",
                              density_min=D("820"), density_max=D("860"))
        self.fuel = Product(code="FO380", name_en="Fuel oil 380", name_zh="燃料油", product_class="fuel_oil",
                            density_min=D("960"), density_max=D("991"))
        db.session.add_all([self.a, self.b, self.diesel, self.fuel])
        db.session.flush()
        self.t101 = Tank(code="T-101", area="A", nominal_m3=D("10000"), safe_fill_m3=D("9500"), product_id=self.diesel.id)
        self.t301 = Tank(code="T-301", area="C", nominal_m3=D("5000"), safe_fill_m3=D("4750"), product_id=self.fuel.id,
                         heated=True)
        self.t102 = Tank(code="T-102", area="A", nominal_m3=D("10000"), safe_fill_m3=D("9500"), product_id=self.diesel.id)
        db.session.add_all([self.t101, self.t102, self.t301])
        db.session.flush()
        self.ca = Contract(customer_id=self.a.id, number="SA-2026-SINO", starts_on=date(2026, 1, 1), currency="CNY")
        for kind, rate, unit in (("storage", "28.50", "m3_month"), ("throughput", "12.00", "t"),
                                 ("heating", "1.80", "t_day"), ("tank_cleaning", "38000", "job"),
                                 ("blending", "15.00", "t"), ("extra", "500", "job")):
            self.ca.rate_items.append(RateItem(kind=kind, rate=D(rate), unit=unit))
        self.cb = Contract(customer_id=self.b.id, number="SA-2026-VITO", starts_on=date(2026, 1, 1), currency="USD")
        self.cb.rate_items.append(RateItem(kind="storage", rate=D("30.00"), unit="t_month"))
        db.session.add_all([self.ca, self.cb])
        db.session.flush()
        db.session.add_all([
            TankLease(tank_id=self.t101.id, customer_id=self.a.id, contract_id=self.ca.id, starts_on=date(2026, 1, 1)),
            TankLease(tank_id=self.t301.id, customer_id=self.a.id, contract_id=self.ca.id, starts_on=date(2026, 1, 1)),
            TankLease(tank_id=self.t101.id, customer_id=self.b.id, contract_id=self.cb.id, starts_on=date(2026, 3, 17)),
        ])
        db.session.commit()

    def order(self, kind, customer, tank, tonnes, at, *, product=None, counterparty=None, to_tank=None,
              density=DENSITY, unit="t"):
        """A completed order of ``tonnes`` at ``at`` (aware UTC), posted to the stock book."""
        product = product or (self.fuel if tank.id == self.t301.id else self.diesel)
        kg, m3 = to_kg_m3(D(str(tonnes)), unit, density)
        order = Order(number=f"ORD-B-{next(_numbers):05d}", kind=kind, customer_id=customer.id, product_id=product.id,
                      tank_id=tank.id, to_tank_id=to_tank.id if to_tank else None,
                      counterparty_id=counterparty.id if counterparty else None, quantity=D(str(tonnes)), unit=unit,
                      customs_status="duty_paid", state="completed", actual_kg=kg, actual_m3=m3, density_20=density,
                      completed_at=at)
        db.session.add(order)
        db.session.flush()
        stock.post_order(order, None)
        return order

    def march(self):
        """The month's movements the hand-computed figures are based on."""
        a, b = self.a, self.b
        self.order("pipeline_receipt", a, self.t101, "3000", local("2026-02-20"))       # before the month
        self.order("pipeline_receipt", b, self.t101, "100", local("2026-02-10"))        # VITOL's opening stock
        self.order("ship_discharge", a, self.t101, "5000", local("2026-03-02"))
        self.order("truck_loading", a, self.t101, "1200.555", local("2026-03-10"))
        self.order("ship_discharge", a, self.t301, "2000", local("2026-03-05"))
        self.order("ship_loading", a, self.t301, "500", local("2026-03-20"))
        self.order("pipeline_receipt", b, self.t101, "1000", local("2026-03-17"))
        self.order("truck_loading", a, self.t101, "10", local("2026-03-31", 23, 30))     # last evening: March
        self.order("truck_loading", a, self.t101, "20", local("2026-04-01", 0, 30))      # April
        self.order("tank_transfer", a, self.t101, "100", local("2026-03-12"), to_tank=self.t102)  # not throughput
        db.session.commit()
