"""The demonstration terminal: eleven products, 40 tanks in three areas, twelve customers with contracts and
leases, and a few open orders in every state (the stock book's demo adds a year of completed orders)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from ...demo import register
from ...extensions import db
from ...models import User
from ...timeutil import local_today, utcnow
from ..customers.models import Customer
from . import services
from .models import Contract, OrderEvent, Product, RateItem, Tank, TankLease

D = Decimal

# code, English, Chinese, class, VCF group, UN, hazard class, density from-to (kg/m³ at 20 °C), compatibility group, tolerance %
PRODUCTS = [
    ("GASOIL", "Gasoil 10 ppm (diesel)", "柴油（硫含量10 ppm）", "diesel", "54B", "1202", "3", "820", "845", "middle_distillates", "0.300"),
    ("GASOLINE", "Gasoline 92 RON", "92号汽油", "gasoline", "54B", "1203", "3", "720", "775", "light_distillates", "0.400"),
    ("NAPHTHA", "Naphtha (full range)", "石脑油", "gasoline", "54B", "1268", "3", "660", "720", "light_distillates", "0.400"),
    ("JET", "Jet fuel Jet A-1", "航煤（3号喷气燃料）", "jet", "54B", "1863", "3", "775", "840", "middle_distillates", "0.300"),
    ("FO380", "Fuel oil 380 cSt", "燃料油（380厘斯）", "fuel_oil", "54B", "3082", "9", "960", "991", "residues", "0.500"),
    ("METHANOL", "Methanol", "甲醇", "chemical", "", "1230", "3", "791", "793", "alcohols", "0.200"),
    ("ETHANOL", "Ethanol (fuel grade)", "乙醇（燃料级）", "chemical", "", "1170", "3", "789", "794", "alcohols", "0.200"),
    ("MEG", "Monoethylene glycol", "乙二醇", "chemical", "", "", "", "1113", "1116", "glycols", "0.200"),
    ("STYRENE", "Styrene monomer", "苯乙烯", "chemical", "", "2055", "3", "902", "907", "aromatics", "0.200"),
    ("XYLENE", "Mixed xylenes", "混合二甲苯", "chemical", "", "1307", "3", "860", "870", "aromatics", "0.200"),
    ("PALMOIL", "RBD palm olein", "精炼棕榈液油", "vegetable_oil", "", "", "", "905", "915", "vegetable_oils", "0.300"),
]

# Two more customers for the operations register (the customers demo has ten).
EXTRA_CUSTOMERS = [
    ("SHELLCN", "Shell (China) Trading Co., Ltd.", "壳牌（中国）贸易有限公司"),
    ("ZHOUSHAN", "Zhoushan Bunker Supply Co., Ltd.", "舟山船供油有限公司"),
]

# area, tank codes, nominal m³, heated, bonded, product codes (cycled)
AREAS = [
    ("A", [f"T-1{n:02d}" for n in range(1, 15)], D("20000"), False, (1, 2, 5, 9), ["GASOIL", "GASOLINE", "JET", "NAPHTHA"]),
    ("B", [f"T-2{n:02d}" for n in range(1, 15)], D("5000"), False, (3, 7), ["METHANOL", "ETHANOL", "MEG", "STYRENE", "XYLENE"]),
    ("C", [f"T-3{n:02d}" for n in range(1, 13)], D("10000"), True, (2,), ["FO380", "PALMOIL", "FO380"]),
]
# customer code -> (currency, tanks); tanks are leased over the contract's period (some are shared)
LEASES = {
    "SINOCHEM": ("CNY", ["T-101", "T-102", "T-103", "T-104", "T-201"]),
    "VITOLAP": ("USD", ["T-105", "T-106", "T-107", "T-301", "T-302"]),
    "TRAFIG": ("USD", ["T-108", "T-109", "T-303"]),
    "ZJPETRO": ("CNY", ["T-110", "T-111", "T-112"]),
    "HMCHEM": ("CNY", ["T-202", "T-203", "T-204", "T-205"]),
    "WILMAR": ("CNY", ["T-304", "T-305", "T-306"]),
    "GLENCN": ("USD", ["T-113", "T-307", "T-308"]),
    "DGMETH": ("CNY", ["T-206", "T-207", "T-201"]),
    "OCTSTY": ("CNY", ["T-208", "T-209", "T-210"]),
    "NBPORT": ("CNY", ["T-309", "T-310", "T-114"]),
    "SHELLCN": ("USD", ["T-211", "T-212", "T-101"]),
    "ZHOUSHAN": ("CNY", ["T-311", "T-312"]),
}
RATES = [("storage", "Storage, leased capacity", "m3_month"), ("throughput", "Throughput above the free allowance", "t"),
         ("heating", "Heating above 40 °C", "t_day"), ("tank_cleaning", "Tank cleaning on product change", "job")]
RATE_VALUES = {"CNY": (D("28.50"), D("12.00"), D("1.80"), D("38000")), "USD": (D("4.10"), D("1.75"), D("0.26"), D("5500"))}
VESSELS = ["MT Ocean Pioneer", "MT Yangtze Star", "MT Eastern Jade", "MT Ningbo Spirit", "MT Asia Harmony"]


@register(60, "operations")
def load():
    if db.session.scalar(db.select(Product).filter_by(code="GASOIL")) is not None:
        return
    csr = db.session.scalar(db.select(User).filter_by(username="csr"))
    csr2 = db.session.scalar(db.select(User).filter_by(username="csr2")) or csr
    for code, en, zh in EXTRA_CUSTOMERS:
        if db.session.scalar(db.select(Customer).filter_by(code=code)) is None:
            db.session.add(Customer(code=code, name_en=en, name_zh=zh, daily_report_time=None, csr=csr2,
                                    report_recipients=f"stock@{code.lower()}.example"))
    products = {}
    for code, en, zh, cls, vcf, un, hz, lo, hi, group, tol in PRODUCTS:
        products[code] = Product(code=code, name_en=en, name_zh=zh, product_class=cls, vcf_group=vcf, un_number=un,
                                 hazard_class=hz, density_min=D(lo), density_max=D(hi), compatibility_group=group,
                                 stock_tolerance_pct=D(tol), created_by=csr)
    products["OLDBASE"] = Product(code="BASEOIL", name_en="Base oil SN150 (no longer stored)", name_zh="基础油SN150（已停储）",
                                  product_class="lubricant", vcf_group="54D", density_min=D("855"), density_max=D("870"),
                                  compatibility_group="lubricants", retired=True, created_by=csr)
    db.session.add_all(products.values())
    tanks = {}
    for area, codes, nominal, heated, bonded_numbers, cycle in AREAS:
        for i, code in enumerate(codes):
            size = nominal if i % 3 else nominal / 2
            status = "in_service"
            if code in ("T-114", "T-214"):
                status = "maintenance"
            elif code == "T-213":
                status = "cleaning"
            elif code == "T-312":
                status = "out_of_service"
            tanks[code] = Tank(code=code, area=area, nominal_m3=size, safe_fill_m3=(size * D("0.95")).quantize(D("0.001")),
                               heated=heated, bonded=(i + 1) in bonded_numbers, status=status,
                               product=products[cycle[i % len(cycle)]], created_by=csr)
    tanks["T-101"].bonded = True
    db.session.add_all(tanks.values())
    db.session.flush()
    year_start = date(local_today().year - 1, 1, 1)
    for code, (currency, tank_codes) in LEASES.items():
        customer = db.session.scalar(db.select(Customer).filter_by(code=code))
        if customer is None:
            continue
        contract = Contract(customer=customer, number=f"SA-{year_start.year}-{code[:4]}", starts_on=year_start,
                            ends_on=date(year_start.year + 2, 12, 31), currency=currency, created_by=csr,
                            notes="Storage agreement, leased capacity with throughput allowance of 6 turns a year.")
        for (kind, text, unit), rate in zip(RATES, RATE_VALUES[currency]):
            contract.rate_items.append(RateItem(kind=kind, description=text, rate=rate, unit=unit))
        db.session.add(contract)
        db.session.flush()
        for tank_code in tank_codes:
            db.session.add(TankLease(tank=tanks[tank_code], customer=customer, contract=contract, starts_on=year_start))
    db.session.flush()
    _open_orders(csr, tanks, products)


def _open_orders(csr: User, tanks: dict, products: dict) -> None:
    """A few orders in every state, receipts for the most part (their tanks have room), planned this week."""
    now = utcnow()

    def customer(code):
        return db.session.scalar(db.select(Customer).filter_by(code=code))

    plans = [
        # state, kind, customer, tank, product, qty, unit, vessel, customs
        ("received", "ship_discharge", "VITOLAP", "T-105", "GASOIL", "18000", "t", VESSELS[0], "duty_paid"),
        ("received", "pipeline_receipt", "HMCHEM", "T-202", "MEG", "1500", "t", "", "duty_paid"),
        ("received", "truck_loading", "SINOCHEM", "T-102", "GASOLINE", "60", "t", "", "duty_paid"),
        ("verified", "ship_discharge", "SINOCHEM", "T-101", "GASOIL", "9000", "t", VESSELS[1], "bonded"),
        ("verified", "pipeline_receipt", "WILMAR", "T-304", "PALMOIL", "2000", "t", "", "duty_paid"),
        ("handed_over", "ship_discharge", "OCTSTY", "T-208", "STYRENE", "2500", "t", VESSELS[2], "duty_paid"),
        ("handed_over", "pipeline_receipt", "ZJPETRO", "T-110", "GASOIL", "5000", "m3", "", "duty_paid"),
        ("in_execution", "ship_discharge", "TRAFIG", "T-303", "FO380", "4000", "t", VESSELS[3], "duty_paid"),
        ("in_execution", "pipeline_receipt", "DGMETH", "T-206", "METHANOL", "1200", "t", "", "duty_paid"),
        ("completed", "pipeline_receipt", "GLENCN", "T-113", "GASOIL", "3000", "t", "", "duty_paid"),
        ("completed", "ship_discharge", "NBPORT", "T-309", "FO380", "3500", "t", VESSELS[4], "duty_paid"),
        ("cancelled", "truck_loading", "ZHOUSHAN", "T-311", "FO380", "30", "t", "", "duty_paid"),
        ("rejected", "ship_loading", "SHELLCN", "T-211", "METHANOL", "800", "t", "", "duty_paid"),
    ]
    for i, (state, kind, cust, tank, product, qty, unit, vessel, customs) in enumerate(plans):
        c = customer(cust)
        if c is None:
            continue
        start = now + timedelta(days=(i % 5) - 1, hours=8 + i)
        order = services.create_order({
            "kind": kind, "customer_id": c.id, "product_id": products[product].id, "tank_id": tanks[tank].id,
            "quantity": D(qty), "unit": unit, "customs_status": customs, "customs_released": False,
            "planned_start": start, "planned_end": start + timedelta(hours=18), "vessel_name": vessel,
            "truck_plates": "浙B·D3271" if kind == "truck_loading" else "",
            "instruction_ref": f"{cust}/INSTR/{2600 + i}", "remarks": "",
        }, csr, received_at=now - timedelta(days=2, hours=i))
        if state == "received":
            continue
        if state in ("cancelled", "rejected"):
            services.close_order(order, state, "Customer withdrew the nomination by e-mail." if state == "cancelled"
                                 else "Ship loading without a nominated vessel and no stock of this product in the tank.", csr)
            continue
        services.verify_order(order, csr, warning_reason="Demo: tank cleaned and inspected, certificate on file.")
        order.state = "verified"  # demo orders stand for verified ones whatever today's stock is
        if state == "verified":
            continue
        services.hand_over(order, csr)
        if state == "handed_over":
            if i == 6:  # an amendment operations have not yet acknowledged
                services.acknowledge(order, csr)
                values = {k: getattr(order, k) for k in services.ORDER_FIELDS}
                values["quantity"] = D("5200")
                services.amend_order(order, values, csr, reason="Customer's e-mail: pipeline nomination raised to 5,200 m³.")
            continue
        services.start_execution(order, csr)
        if state == "in_execution":
            if kind == "ship_discharge":
                db.session.add(OrderEvent(order=order, kind="weather", occurred_at=now - timedelta(hours=3),
                                          description="Wind above 15 m/s: discharge stopped at the berth by the harbour master.",
                                          impact="About 6 hours' delay; completion expected tomorrow morning.",
                                          informed_at=now - timedelta(hours=2), informed_by_id=csr.id,
                                          informed_how="phone", created_by=csr))
            continue
        density = products[product].density_typical
        services.complete_order(order, D(qty) - D("7.215"), unit, density, now - timedelta(hours=2), csr)
        if kind == "ship_discharge":
            db.session.add(OrderEvent(order=order, kind="quantity_deviation", occurred_at=now - timedelta(hours=3),
                                      description="Shore figure 7.215 t below the bill of lading (0.21 %).",
                                      impact="Within the 0.3 % tolerance; ship's figures requested.",
                                      created_by=csr))
    db.session.flush()
