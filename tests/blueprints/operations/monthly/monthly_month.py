"""A hand-built March 2026 for the monthly report tests (a module of its own name: tests import it directly).

SINOCHEM: a ship discharge of 2,000 t from Singapore (a call at berth B1 with NOR 3 March 08:00,
all fast 3 March 14:00, departed 5 March 14:00: 6 h waiting, 48 h berthed) and a truck loading of 300 t
(completed after its planned end: late); VITOL: a pipeline receipt of 500 t completed on time. One
complaint received and acknowledged on time in March, one inquiry answered late.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from portal.blueprints.complaints.models import Complaint, Inquiry
from portal.blueprints.customers.models import Customer
from portal.blueprints.operations.models import Order, Product, Tank
from portal.blueprints.operations.stock import services as stock
from portal.blueprints.operations.stock.quantities import to_kg_m3
from portal.blueprints.operations.vessels.models import Berth, CallParcel, Vessel, VesselCall
from portal.extensions import db
from portal.timeutil import from_local

D = Decimal
MARCH = date(2026, 3, 1)
DENSITY = D("845.0")


def local(day: int, hh: int = 10, month: int = 3) -> datetime:
    return from_local(datetime(2026, month, day, hh, 0))


class Month:
    def __init__(self):
        self.a = Customer(code="SINOCHEM", name_en="Sinochem Energy Trading", name_zh="中化能源贸易有限公司")
        self.b = Customer(code="VITOL", name_en="Vitol Asia", name_zh="维多亚洲")
        self.diesel = Product(code="GO", name_en="Gasoil", name_zh="柴油", product_class="diesel",
                              density_min=D("820"), density_max=D("860"))
        db.session.add_all([self.a, self.b, self.diesel])
        db.session.flush()
        self.tank = Tank(code="T-101", area="A", nominal_m3=D("20000"), safe_fill_m3=D("19000"), product_id=self.diesel.id)
        self.berth = Berth(code="B1", name_en="Berth 1", name_zh="一号泊位", max_loa_m=D("250"), max_draught_m=D("14"))
        self.vessel = Vessel(name="OCEAN PEARL", imo="9123456", flag="SG")
        db.session.add_all([self.tank, self.berth, self.vessel])
        db.session.flush()
        self.n = 0

    def order(self, kind, customer, tonnes, completed_at, *, planned_end=None, customs_status="duty_paid"):
        self.n += 1
        kg, m3 = to_kg_m3(D(str(tonnes)), "t", DENSITY)
        order = Order(number=f"ORD-M-{self.n:04d}", kind=kind, customer_id=customer.id, product_id=self.diesel.id,
                      tank_id=self.tank.id, quantity=D(str(tonnes)), unit="t", customs_status=customs_status,
                      state="completed", actual_kg=kg, actual_m3=m3, density_20=DENSITY, completed_at=completed_at,
                      planned_end=planned_end)
        db.session.add(order)
        db.session.flush()
        stock.post_order(order, None)
        return order

    def march(self):
        self.discharge = self.order("ship_discharge", self.a, 2000, local(5, 12), planned_end=local(6))
        self.call = VesselCall(number="VC-2026-0001", vessel_id=self.vessel.id, berth_id=self.berth.id,
                               last_port="Singapore", next_port="Ningbo", status="departed", eta=local(3, 6),
                               nor_at=local(3, 8), all_fast_at=local(3, 14), hoses_on_at=local(3, 16),
                               hoses_off_at=local(5, 10), departed_at=local(5, 14))
        db.session.add(self.call)
        db.session.flush()
        db.session.add(CallParcel(call_id=self.call.id, order_id=self.discharge.id, customer_id=self.a.id,
                                  product_id=self.diesel.id, quantity=D("2000"), unit="t"))
        self.truck = self.order("truck_loading", self.a, 300, local(20, 18), planned_end=local(20, 12))
        self.pipe = self.order("pipeline_receipt", self.b, 500, local(25), planned_end=local(26))
        db.session.add(Complaint(customer_id=self.a.id, title="投诉：延误", category="delay", received_at=local(10),
                                 ack_due_at=local(11), acknowledged_at=local(10, 15)))
        db.session.add(Inquiry(customer_id=self.a.id, subject="库存查询", received_at=local(12), due_at=local(13),
                               answered_at=local(14)))
        db.session.commit()
        return self
