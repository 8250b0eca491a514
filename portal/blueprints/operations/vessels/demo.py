"""Vessel calls demonstration data: four berths (master data with their limits and products), a dozen
tankers, about 15 calls a month from three months back to a month ahead (departed, at the berth,
announced), cargo parcels linked to the ship orders of the operations demo, some ETA changes (a few not
yet told to the customers), one conflict on the plan, and two published plan versions."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from ....demo import register
from ....extensions import db
from ....models import User
from ....timeutil import utcnow
from ...customers.models import Customer, CustomerContact
from ..models import OPEN_STATES, SHIP_KINDS, Order, Product, TankLease
from . import services
from .models import Berth, Vessel

D = Decimal
DAYS_BACK = 90
DAYS_AHEAD = 30
PER_MONTH = 15

# code, English, Chinese, max LOA m, max draught m, products
BERTHS = [
    ("B1", "Berth 1 (oil products)", "1号泊位（成品油）", "250", "14.5", ["GASOIL", "GASOLINE", "NAPHTHA", "JET"]),
    ("B2", "Berth 2 (fuel oil, vegetable oil)", "2号泊位（燃料油、植物油）", "200", "12.0",
     ["GASOIL", "JET", "FO380", "PALMOIL"]),
    ("B3", "Berth 3 (chemicals)", "3号泊位（化工品）", "160", "10.0", ["METHANOL", "ETHANOL", "MEG", "STYRENE", "XYLENE"]),
    ("B4", "Berth 4 (barges)", "4号泊位（驳船）", "110", "7.0", ["GASOIL", "FO380", "METHANOL", "PALMOIL"]),
]
# name, IMO (valid check digit), flag, LOA m, draught m, DWT t
VESSELS = [
    ("MT Ocean Pioneer", "9074729", "Panama", "228.0", "13.6", 73400),
    ("MT Yangtze Star", "9321483", "China", "183.0", "11.2", 47000),
    ("MT Eastern Jade", "9415167", "Singapore", "144.0", "9.4", 19900),
    ("MT Ningbo Spirit", "9253911", "China", "182.5", "11.0", 45900),
    ("MT Asia Harmony", "9388352", "Hong Kong", "176.0", "10.9", 40100),
    ("MT Golden Crane", "9143518", "Liberia", "244.0", "14.2", 105000),
    ("MT Zhoushan Trader", "9565314", "China", "99.8", "6.4", 4900),
    ("MT Pacific Glory", "9294264", "Marshall Islands", "183.0", "12.1", 49999),
    ("MT Xiamen Pearl", "9439125", "China", "128.6", "8.7", 12800),
    ("MT Nordic Breeze", "9308675", "Norway", "159.9", "9.8", 25400),
    ("MT Donghai 7", "9717412", "China", "88.0", "5.8", 3200),
    ("MT Bright Future", "9372561", "Malta", "183.0", "11.5", 50300),
]
PORTS = ["Singapore", "Ulsan", "Kaohsiung", "Qingdao", "Dalian", "Port Klang", "Fujairah", "Rotterdam", "Yokohama"]


def _vessel_fits(vessel: Vessel, berth: Berth) -> bool:
    return vessel.loa_m <= berth.max_loa_m and vessel.draught_m <= berth.max_draught_m


def _window(call):
    return call.all_fast_at or call.etb or call.eta, call.departed_at or call.etd or call.etc


def _free(calls, berth_id, start, end, but=None) -> bool:
    """No other call on the berth overlaps [start, end)."""
    for other in calls:
        if other is but or other.berth_id != berth_id or other.status == "cancelled":
            continue
        a, b = _window(other)
        if start < b and a < end:
            return False
    return True


@register(62, "vessel calls")
def load():
    if db.session.scalar(select(Berth.id).limit(1)) is not None:
        return
    products = {p.code: p for p in db.session.scalars(select(Product))}
    if not products:
        return
    csr = db.session.scalar(select(User).filter_by(username="csr"))
    rnd = random.Random(15)
    berths = []
    for code, en, zh, loa, draught, codes in BERTHS:
        berths.append(services.save_berth(None, {"code": code, "name_en": en, "name_zh": zh, "max_loa_m": D(loa),
                                                 "max_draught_m": D(draught), "active": True, "notes": ""},
                                          [products[c] for c in codes if c in products], csr))
    vessels = [services.save_vessel(None, {"name": n, "imo": imo, "flag": f, "loa_m": D(loa), "draught_m": D(dr),
                                           "dwt": dwt}, csr)
               for n, imo, f, loa, dr, dwt in VESSELS]
    agents = list(db.session.scalars(select(CustomerContact).order_by(CustomerContact.id).limit(4)))
    # Who may ship what: (customer, product) pairs from the leased tanks.
    holders: dict[int, list[tuple[Customer, object]]] = {}
    for lease in db.session.scalars(select(TankLease)):
        tank = lease.tank
        if tank.product_id is not None:
            holders.setdefault(tank.product_id, []).append((lease.customer, tank))
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=DAYS_BACK)
    count = (DAYS_BACK + DAYS_AHEAD) * PER_MONTH // 30
    spacing = timedelta(days=DAYS_BACK + DAYS_AHEAD) / count
    next_free = {b.id: start for b in berths}
    calls = []
    for i in range(count):
        berth = berths[i % len(berths)]
        fitting = [v for v in vessels if _vessel_fits(v, berth)]
        vessel = rnd.choice(fitting)
        eta = max(start + spacing * i + timedelta(hours=rnd.randint(0, 10)), next_free[berth.id] - timedelta(hours=6))
        etb = max(eta + timedelta(hours=rnd.choice((2, 4, 6, 10))), next_free[berth.id] + timedelta(hours=2))
        stay = timedelta(hours=rnd.choice((20, 26, 30, 36, 44)))
        etc, etd = etb + stay, etb + stay + timedelta(hours=3)
        next_free[berth.id] = etd
        call = services.create_call(vessel, eta=eta, etb=etb, etc=etc, etd=etd, berth=berth,
                                    agent=agents[i % len(agents)] if agents else None,
                                    last_port=rnd.choice(PORTS), next_port=rnd.choice(PORTS), owner=csr, user=csr)
        served = [p for p in berth.products if p.id in holders]
        for product in rnd.sample(served, k=min(len(served), rnd.choice((1, 1, 2)))):
            customer, tank = rnd.choice(holders[product.id])
            services.add_parcel(call, customer=customer, product=product, quantity=D(rnd.randrange(800, 20000, 100)),
                                tank=tank)
        if etd < now:  # history: the actual times as they happened, then departed
            services.change_times(call, user=csr, at=etd, nor_at=eta, all_fast_at=etb + timedelta(minutes=40),
                                  hoses_on_at=etb + timedelta(hours=2), hoses_off_at=etc,
                                  departed_at=etd + timedelta(minutes=rnd.randint(0, 90)))
            for status in ("arrived", "berthed", "operating", "completed", "departed"):
                services.set_status(call, status, user=csr)
        elif etb < now:  # at the berth now
            services.change_times(call, user=csr, at=etb, nor_at=eta, all_fast_at=etb + timedelta(minutes=30),
                                  hoses_on_at=etb + timedelta(hours=2) if etb + timedelta(hours=2) < now else None)
            for status in ("arrived", "berthed") + (("operating",) if call.hoses_on_at else ()):
                services.set_status(call, status, user=csr)
        elif eta < now:
            services.change_times(call, user=csr, at=eta, nor_at=eta)
            services.set_status(call, "arrived", user=csr)
        calls.append(call)
    _link_orders(calls, now, csr)
    future = [c for c in calls if c.status == "announced" and c.eta > now + timedelta(days=2)]
    _eta_changes(future, calls, csr, now)
    db.session.flush()
    _conflict(future, calls, csr)
    db.session.flush()
    _plan_versions(csr, now)
    db.session.flush()


def _link_orders(calls, now, csr):
    """The operations demo's open ship orders ride on announced calls of their vessel's name (placed where the
    berth is free)."""
    orders = db.session.scalars(select(Order).where(Order.kind.in_(SHIP_KINDS), Order.vessel_name != "",
                                                    Order.state.in_(OPEN_STATES)).order_by(Order.id)).all()
    for order in orders:
        vessel = db.session.scalar(select(Vessel).where(Vessel.name == order.vessel_name))
        if vessel is None:
            continue
        berth = next((b for b in services.berths() if b.serves(order.product_id) and _vessel_fits(vessel, b)), None)
        if berth is None:
            continue
        etb = (order.planned_start or now) - timedelta(hours=2)
        stay = timedelta(hours=30)
        while not _free(calls, berth.id, etb, etb + stay):
            etb += timedelta(hours=6)
        call = services.create_call(vessel, eta=etb - timedelta(hours=4), etb=etb, etc=etb + stay - timedelta(hours=3),
                                    etd=etb + stay, berth=berth, last_port="Singapore", next_port="Qingdao",
                                    owner=csr, user=csr)
        services.add_parcel(call, customer=order.customer, product=order.product, quantity=order.quantity,
                            unit=order.unit, order=order)
        calls.append(call)


def _eta_changes(future, calls, csr, now):
    """A few ETAs moved by the agents (where the berth stays free); the first two told to the customers."""
    moved = 0
    for call in future:
        delay = timedelta(hours=(6, 14, -4, 20, 9)[moved])
        start, end = _window(call)
        if not call.customers or not _free(calls, call.berth_id, start + delay, end + delay, but=call):
            continue
        times = services.call_times(call)
        services.change_times(call, user=csr, note="Agent's ETA notice by e-mail",
                              **{k: v + delay for k, v in times.items() if v is not None})
        if moved < 2:
            for customer in call.customers:
                services.mark_informed(call, customer, how="phone" if moved else "email", user=csr)
        moved += 1
        if moved == 5:
            return


def _conflict(future, calls, csr):
    """One clash on the plan: the next call on a berth asks to berth while the one before is still alongside."""
    for a in future[8:]:
        later = [c for c in calls if c.berth_id == a.berth_id and c is not a and c.etb > a.etb]
        b = min(later, key=lambda c: c.etb, default=None)
        if b is None or b.status != "announced" or not b.customers:
            continue
        new_etb = a.etd - timedelta(hours=8)
        services.change_times(b, user=csr, note="Agent asked for earlier berthing", eta=min(b.eta, new_etb),
                              etb=new_etb)
        return


def _plan_versions(csr, now):
    from ....timeutil import to_local

    today = to_local(now).date()
    operations_only = ["operations", "port"]
    services.publish_plan(today - timedelta(days=1), today + timedelta(days=6), party_keys=operations_only,
                          how="phone", user=csr, note="Morning line-up", now=now - timedelta(hours=20))
    services.publish_plan(today, today + timedelta(days=6), party_keys=["operations"], how="other", user=csr,
                          note="ETA changes of the day", now=now - timedelta(hours=1))
