"""The stock book's demonstration data: a year of completed orders and their movements (bulk inserts,
then the balances rebuilt from the ledger), a few adjustments, a week of morning checks and a daily
report sent (rendering PDFs is what takes time: one is enough to show). Runs after the operations demo
(products, tanks, leases, customers)."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from ....demo import register
from ....extensions import db
from ....models import User
from ....timeutil import from_local, local_today, utcnow
from ...customers.models import Customer
from ..models import Order, Tank, TankLease
from . import checks, reports, services
from .models import StockCheck, StockMovement, StockPosting
from .quantities import round_kg, round_m3

D = Decimal
DAYS = 365
TRUCKS = ["浙B·D3217", "浙B·F0921", "沪A·K5532", "浙B·E7710"]
VESSELS = ["MT Ocean Pioneer", "MT Yangtze Star", "MT Eastern Jade", "MT Ningbo Spirit", "MT Asia Harmony"]


@register(61, "stock book")
def load():
    if db.session.scalar(select(StockCheck.id).limit(1)) is not None:
        return  # loaded before (the operations demo's own completed orders are today's)
    leases = list(db.session.scalars(select(TankLease)))
    if not leases:
        return
    csr = db.session.scalar(select(User).filter_by(username="csr"))
    manager = db.session.scalar(select(User).filter_by(username="manager"))
    rnd = random.Random(14)
    today = local_today()
    first = today - timedelta(days=DAYS)
    _orders_and_movements(rnd, leases, first, today, csr)
    services.rebuild_balances()
    _adjustments(rnd, leases, today, csr, manager)
    _morning_checks(rnd, today, csr)
    _daily_reports(today, csr)
    db.session.flush()


def _orders_and_movements(rnd, leases, first, today, csr):
    tanks = {t.id: t for t in db.session.scalars(select(Tank))}
    share: dict[int, int] = defaultdict(int)
    for lease in leases:
        share[lease.tank_id] += 1
    keys = []  # (customer, tank, capacity share m³)
    for lease in leases:
        tank = tanks[lease.tank_id]
        if tank.product is None or tank.status == "out_of_service":
            continue
        keys.append((lease.customer_id, tank, tank.safe_fill_m3 / share[tank.id]))
    by_tank = defaultdict(list)
    for customer_id, tank, _cap in keys:
        by_tank[tank.id].append(customer_id)
    stock: dict[tuple[int, int], Decimal] = defaultdict(lambda: D(0))  # m³ per (customer, tank)
    numbers: dict[int, int] = {}
    orders, legs = [], []

    def number(year):
        if year not in numbers:
            last = db.session.scalar(select(func.max(Order.number)).where(Order.number.like(f"ORD-{year}-%")))
            numbers[year] = int(last.rsplit("-", 1)[1]) if last else 0
        numbers[year] += 1
        return f"ORD-{year}-{numbers[year]:05d}"

    def order(kind, customer_id, tank, m3, day, *, to_tank=None, counterparty=None):
        density = tank.product.density_typical
        m3 = round_m3(m3)
        kg = round_kg(m3 * density)
        at = from_local(datetime.combine(day, time(rnd.randint(6, 21), rnd.choice((0, 15, 30, 45)))))
        status = "bonded" if tank.bonded else "duty_paid"
        unit = "t"
        orders.append({
            "number": number(day.year), "kind": kind, "customer_id": customer_id, "product_id": tank.product_id,
            "tank_id": tank.id, "to_tank_id": to_tank.id if to_tank else None,
            "counterparty_id": counterparty, "quantity": (kg / 1000).quantize(D("0.001")), "unit": unit,
            "customs_status": status, "customs_released": status == "duty_paid", "state": "completed",
            "planned_start": at - timedelta(hours=4), "planned_end": at, "received_at": at - timedelta(days=2),
            "verified_at": at - timedelta(days=1), "handed_over_at": at - timedelta(hours=20),
            "vessel_name": rnd.choice(VESSELS) if kind in ("ship_discharge", "ship_loading") else "",
            "truck_plates": ", ".join(rnd.sample(TRUCKS, 2)) if kind == "truck_loading" else "",
            "instruction_ref": f"{kind[:4].upper()}-{day:%y%m%d}-{len(orders) % 97:02d}", "remarks": "",
            "version": 1, "acknowledged_version": 1, "closed_reason": "", "actual_kg": kg, "actual_m3": m3,
            "density_20": density, "completed_at": at, "created_by_id": getattr(csr, "id", None),
            "verified_by_id": getattr(csr, "id", None), "handed_over_by_id": getattr(csr, "id", None),
        })
        own = (customer_id, tank.id, tank.product_id, status)
        if kind in ("ship_discharge", "pipeline_receipt"):
            legs.append([("receipt", own, kg, m3)])
        elif kind == "tank_transfer":
            legs.append([("transfer_out", own, -kg, -m3),
                         ("transfer_in", (customer_id, to_tank.id, tank.product_id, status), kg, m3)])
        elif kind == "ownership_transfer":
            legs.append([("ownership_out", own, -kg, -m3),
                         ("ownership_in", (counterparty, tank.id, tank.product_id, status), kg, m3)])
        else:
            legs.append([("delivery", own, -kg, -m3)])
        return at

    day = first
    while day < today:
        for customer_id, tank, cap in keys:
            here = stock[(customer_id, tank.id)]
            roll = rnd.random()
            if roll < 0.05 and here + cap * D("0.3") <= cap:
                m3 = cap * D(rnd.randint(15, 30)) / 100
                order(rnd.choice(("ship_discharge", "pipeline_receipt")), customer_id, tank, m3, day)
                stock[(customer_id, tank.id)] += round_m3(m3)
            elif roll < 0.16 and here > 200:
                m3 = min(here, D(rnd.randint(25, 45)))
                order("truck_loading", customer_id, tank, m3, day)
                stock[(customer_id, tank.id)] -= round_m3(m3)
            elif roll < 0.19 and here > cap * D("0.2"):
                m3 = here * D(rnd.randint(20, 50)) / 100
                order(rnd.choice(("ship_loading", "pipeline_delivery")), customer_id, tank, m3, day)
                stock[(customer_id, tank.id)] -= round_m3(m3)
            elif roll < 0.195 and here > 500 and len(by_tank[tank.id]) > 1:
                buyer = rnd.choice([c for c in by_tank[tank.id] if c != customer_id])
                m3 = here * D(rnd.randint(10, 30)) / 100
                order("ownership_transfer", customer_id, tank, m3, day, counterparty=buyer)
                stock[(customer_id, tank.id)] -= round_m3(m3)
                stock[(buyer, tank.id)] += round_m3(m3)
            elif roll < 0.198 and here > 500:
                others = [t for c, t, cp in keys if c == customer_id and t.id != tank.id
                          and t.product_id == tank.product_id and stock[(c, t.id)] + here / 4 <= cp]
                if others:
                    to_tank = rnd.choice(others)
                    m3 = here / 4
                    order("tank_transfer", customer_id, tank, m3, day, to_tank=to_tank)
                    stock[(customer_id, tank.id)] -= round_m3(m3)
                    stock[(customer_id, to_tank.id)] += round_m3(m3)
        day += timedelta(days=1)
    if not orders:
        return
    ids = list(db.session.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True), orders).scalars())
    postings = [{"kind": "order", "order_id": oid, "occurred_at": o["completed_at"],
                 "day": services.local_day(o["completed_at"]), "note": o["number"], "posted_at": o["completed_at"],
                 "posted_by_id": o["created_by_id"]} for oid, o in zip(ids, orders)]
    posting_ids = list(db.session.execute(insert(StockPosting).returning(StockPosting.id, sort_by_parameter_order=True),
                                          postings).scalars())
    movements = []
    for pid, posting, posting_legs in zip(posting_ids, postings, legs):
        for kind, key, kg, m3 in posting_legs:
            movements.append({"posting_id": pid, "kind": kind, "customer_id": key[0], "tank_id": key[1],
                              "product_id": key[2], "customs_status": key[3], "occurred_at": posting["occurred_at"],
                              "day": posting["day"], "qty_kg": kg, "qty_m3": m3})
    for start in range(0, len(movements), 5000):
        db.session.execute(insert(StockMovement), movements[start:start + 5000])


def _adjustments(rnd, leases, today, csr, manager):
    keys = [k for k, kg, m3 in services.stock_by_key() if kg > 50000]
    rnd.shuffle(keys)
    for n, key in enumerate(keys[:6]):
        tank = db.session.get(Tank, key.tank_id)
        at = from_local(datetime.combine(today - timedelta(days=40 - n * 6), time(10, 0)))
        adj = services.request_adjustment(
            customer_id=key.customer_id, tank_id=key.tank_id, product_id=key.product_id,
            customs_status=key.customs_status, direction="loss" if n % 3 else "gain", quantity=D(rnd.randint(500, 4000)) / 1000,
            unit="t", density_20=tank.product.density_typical, occurred_at=at,
            reason=("Month-end dip: evaporation and sampling losses / 月末检尺：蒸发及取样损耗" if n % 3
                    else "Meter factor corrected after prover run / 流量计系数校准后修正"), user=csr, now=utcnow())
        if n < 4:
            services.decide_adjustment(adj, manager, approve=True, note="Agreed with the dip sheets / 与检尺记录一致")


def _morning_checks(rnd, today, csr):
    tanks = list(db.session.scalars(select(Tank).order_by(Tank.code)))
    for back in range(7, 0, -1):
        day = today - timedelta(days=back)
        book = services.tank_book_on(day)
        check = checks.open_check(day, csr, today=today)
        entries = []
        for tank in tanks:
            kg, m3 = book.get(tank.id, (D(0), D(0)))
            if tank.status == "out_of_service" and not m3:
                continue
            noise = D(rnd.randint(-25, 25)) / 10000  # within ±0.25 %
            if m3 and rnd.random() < 0.04:
                noise = D("0.0075")
            entries.append(checks.Entry(tank, round_m3(m3 * (1 + noise))))
        lines = checks.save_entries(check, entries, csr, source="PEPI export")
        for line in lines:
            if line.flagged:
                checks.set_remark(line, "Re-dipped at 11:00: level confirmed, water draw-off pending / 11:00复尺确认，待排水",
                                  csr)
        if back > 1:
            checks.sign_check(check, csr, now=from_local(datetime.combine(day + timedelta(days=1), time(8, 40))))


def _daily_reports(today, csr):
    day = today - timedelta(days=2)
    for customer in db.session.scalars(select(Customer).where(Customer.code.in_(("SINOCHEM",)))
                                       .order_by(Customer.code)):
        if customer.recipients and customer.daily_report_time:
            due = reports.due_at(customer, day)
            reports.mark_sent(customer, day, csr, now=due - timedelta(minutes=10))
