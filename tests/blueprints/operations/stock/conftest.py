"""Fixtures of the stock book tests: a small terminal (customers, products, tanks) and completed orders.

Orders are made directly in the state opsmaster's services leave them on completion (actual kg/m³,
density and time set) and posted with ``stock.post_order``.
"""
from __future__ import annotations

import itertools
from datetime import time
from decimal import Decimal

import pytest

from portal.blueprints.customers.models import Customer
from portal.blueprints.operations.models import Order, Product, Tank
from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.quantities import to_kg_m3
from portal.extensions import db

_numbers = itertools.count(1)


class Terminal:
    """Customers A (SINOCHEM), B (VITOL); products diesel and methanol; tanks T-101, T-102, T-201."""

    def __init__(self):
        self.a = Customer(code="SINOCHEM", name_en="Sinochem Energy Trading Co., Ltd.", name_zh="中化能源贸易有限公司",
                          report_recipients="stock@sinochem.example\nops@sinochem.example",
                          daily_report_time=time(9, 0))
        self.b = Customer(code="VITOL", name_en="Vitol Asia Pte Ltd", name_zh="维多亚洲有限公司",
                          report_recipients="tanks@vitol.example", daily_report_time=time(10, 30))
        self.diesel = Product(code="GO", name_en="Gasoil / diesel", name_zh="柴油", product_class="diesel",
                              density_min=Decimal("820"), density_max=Decimal("860"),
                              stock_tolerance_pct=Decimal("0.300"))
        self.methanol = Product(code="MEOH", name_en="Methanol", name_zh="甲醇", product_class="chemical",
                                density_min=Decimal("791"), density_max=Decimal("793"),
                                stock_tolerance_pct=Decimal("0.200"))
        db.session.add_all([self.a, self.b, self.diesel, self.methanol])
        db.session.flush()
        self.t101 = Tank(code="T-101", area="A", nominal_m3=Decimal("10000"), safe_fill_m3=Decimal("9500"),
                         product_id=self.diesel.id)
        self.t102 = Tank(code="T-102", area="A", nominal_m3=Decimal("10000"), safe_fill_m3=Decimal("9500"),
                         product_id=self.diesel.id)
        self.t201 = Tank(code="T-201", area="B", nominal_m3=Decimal("5000"), safe_fill_m3=Decimal("4750"),
                         product_id=self.methanol.id, bonded=True)
        db.session.add_all([self.t101, self.t102, self.t201])
        db.session.commit()

    def order(self, kind, customer, tank, tonnes, at, *, product=None, to_tank=None, counterparty=None,
              customs_status="duty_paid", density=Decimal("845.0"), unit="t", post=True, user=None):
        """A completed order of ``tonnes`` (in ``unit``) at ``at``, posted to the book unless ``post`` is False."""
        product = product or self.diesel
        kg, m3 = to_kg_m3(Decimal(str(tonnes)), unit, density)
        order = Order(number=f"ORD-T-{next(_numbers):05d}", kind=kind, customer_id=customer.id, product_id=product.id,
                      tank_id=tank.id, to_tank_id=to_tank.id if to_tank else None,
                      counterparty_id=counterparty.id if counterparty else None, quantity=Decimal(str(tonnes)), unit=unit,
                      customs_status=customs_status, state="completed", actual_kg=kg, actual_m3=m3, density_20=density,
                      completed_at=at)
        db.session.add(order)
        db.session.flush()
        if post:
            stock.post_order(order, user)
        return order




@pytest.fixture
def terminal(app):
    return Terminal()
