"""Operations benchmark: the stock book and the daily stock reports on a seeded terminal.

    python bench/operations_bench.py [--customers 50] [--tanks 200] [--years 5] [--movements 400000] [--seed 14]

Seeds a temporary SQLite database (deleted afterwards) with customers, products, tanks and leases, and
``--years`` of completed orders with their postings and movements (bulk inserts, then the daily
balances rebuilt from the ledger, as `flask operations` would), then measures:

  * book stock of a random customer x tank at a random time (``stock.book_stock``): p50/p95/p99;
  * the daily stock reports of every customer for one day: the HTML page and the XLSX through the
    portal (a signed-in test client), in total, and each report's PDF;
  * the orders list with filters (customer, state, kind, dates) through the portal: p50/p95/p99;
  * the berth plan over ``--years`` of vessel calls (``--calls-per-year``, four berths): the plan page
    for a 7-day and a 90-day window through the portal (targets p95 <= 80 ms and <= 300 ms).
    ``--only-berth-plan`` seeds the calls on a small terminal and measures the berth plan alone;
  * the monthly management report PDF of the last closed month (build + render, ``--report-pdfs`` times;
    target <= 3 s for ~20 pages), with its pages, wall and CPU seconds. ``--only-monthly-report`` seeds one
    year and measures it alone; a 20-page report: ``--only-monthly-report --customers 150 --tanks 600
    --berths 16 --calls-per-year 6000`` (more berths take more calls a month: four berths fill at ~100);
  * the month-end reconciliation page of last month with every tank dipped on the month's last day
    (target p95 <= 200 ms); ``--only-monthend`` seeds a small ledger and measures that page alone.

PDF figures give wall-clock and CPU seconds of the rendering process (``time.process_time``): on a shared
machine the CPU time is the steadier figure. Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

D = Decimal
PRODUCTS = [("GASOIL", "柴油", D("832.5")), ("GASOLINE", "汽油", D("747.5")), ("JET", "航煤", D("807.5")),
            ("NAPHTHA", "石脑油", D("690")), ("FO380", "燃料油", D("975.5")), ("METHANOL", "甲醇", D("792")),
            ("ETHANOL", "乙醇", D("791.5")), ("MEG", "乙二醇", D("1114.5")), ("STYRENE", "苯乙烯", D("904.5")),
            ("PALMOIL", "棕榈液油", D("910"))]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def ms(values):
    return (f"p50 {statistics.median(values) * 1000:.1f} ms, p95 {pct(values, 95) * 1000:.1f} ms, "
            f"p99 {pct(values, 99) * 1000:.1f} ms (n={len(values)})")


def seed(args, db, rnd):
    from sqlalchemy import insert

    from portal.blueprints.customers.models import Customer
    from portal.blueprints.operations.models import Order, Product, Tank, TankLease
    from portal.blueprints.operations.stock import services
    from portal.blueprints.operations.stock.models import StockMovement, StockPosting
    from portal.models import User

    admin = User(username="bench", full_name="Bench", email="bench@example.invalid")
    admin.set_password("bench-password-123")
    admin.set_roles(["admin", "cs_manager"])
    db.session.add(admin)
    products = [Product(code=c, name_en=c.title(), name_zh=zh, product_class="chemical", density_min=d - 2,
                        density_max=d + 2) for c, zh, d in PRODUCTS]
    customers = [Customer(code=f"C{n:03d}", name_en=f"Customer {n:03d} Trading Co., Ltd.", name_zh=f"客户{n:03d}贸易有限公司",
                          daily_report_time=datetime(2000, 1, 1, 9, 0).time(), report_recipients=f"stock@c{n:03d}.example")
                 for n in range(args.customers)]
    db.session.add_all(products + customers)
    db.session.flush()
    tanks = [Tank(code=f"T-{n + 1:03d}", area="ABCD"[n % 4], nominal_m3=D(rnd.choice((5000, 10000, 20000))),
                  safe_fill_m3=D(0), product_id=products[n % len(products)].id, bonded=n % 7 == 0)
             for n in range(args.tanks)]
    for t in tanks:
        t.safe_fill_m3 = t.nominal_m3 * D("0.95")
    db.session.add_all(tanks)
    db.session.flush()
    start = date.today() - timedelta(days=365 * args.years)
    keys = []  # (customer, tank, share m³)
    for n, tank in enumerate(tanks):
        lessees = [customers[n % len(customers)]] + ([customers[(n * 7 + 3) % len(customers)]] if n % 5 == 0 else [])
        for c in dict.fromkeys(lessees):
            db.session.add(TankLease(tank_id=tank.id, customer_id=c.id, starts_on=start))
            keys.append((c.id, tank, tank.safe_fill_m3 / len(set(lessees))))
    db.session.commit()
    density = {p.id: d for p, (_c, _zh, d) in zip(products, PRODUCTS)}

    days = 365 * args.years
    per_day = args.movements / days
    stock = defaultdict(lambda: D(0))
    orders, legs = [], []
    number = 0
    t0 = time.perf_counter()
    for offset in range(days):
        day = start + timedelta(days=offset)
        for _ in range(int(per_day) + (1 if rnd.random() < per_day % 1 else 0)):
            customer_id, tank, cap = rnd.choice(keys)
            here = stock[(customer_id, tank.id)]
            at = datetime(day.year, day.month, day.day, rnd.randint(0, 15), rnd.randint(0, 59), tzinfo=UTC)
            if here < cap * D("0.3") or rnd.random() < 0.25:
                m3, kind, sign = (cap * D(rnd.randint(5, 25)) / 100).quantize(D("0.001")), "pipeline_receipt", 1
                if here + m3 > cap:
                    continue
                leg_kind = "receipt"
            else:
                m3 = min(here, D(rnd.randint(20, 900))).quantize(D("0.001"))
                kind, sign, leg_kind = ("truck_loading" if m3 < 60 else "ship_loading"), -1, "delivery"
            kg = (m3 * density[tank.product_id]).quantize(D("1"))
            stock[(customer_id, tank.id)] += sign * m3
            number += 1
            status = "bonded" if tank.bonded else "duty_paid"
            orders.append({"number": f"ORD-{day.year}-{number:07d}", "kind": kind, "customer_id": customer_id,
                           "product_id": tank.product_id, "tank_id": tank.id, "quantity": kg / 1000, "unit": "t",
                           "customs_status": status, "customs_released": True, "state": "completed",
                           "planned_start": at, "received_at": at, "vessel_name": "", "truck_plates": "",
                           "instruction_ref": "", "remarks": "", "version": 1, "closed_reason": "", "actual_kg": kg,
                           "actual_m3": m3, "density_20": density[tank.product_id], "completed_at": at})
            legs.append((leg_kind, (customer_id, tank.id, tank.product_id, status), sign * kg, sign * m3))
    print(f"generated {len(orders):,} orders in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    chunk = 20000
    for begin in range(0, len(orders), chunk):
        part = orders[begin:begin + chunk]
        ids = list(db.session.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True), part).scalars())
        postings = [{"kind": "order", "order_id": oid, "occurred_at": o["completed_at"],
                     "day": services.local_day(o["completed_at"]), "note": o["number"], "posted_at": o["completed_at"]}
                    for oid, o in zip(ids, part)]
        pids = list(db.session.execute(insert(StockPosting).returning(StockPosting.id, sort_by_parameter_order=True),
                                       postings).scalars())
        db.session.execute(insert(StockMovement), [
            {"posting_id": pid, "kind": kind, "customer_id": key[0], "tank_id": key[1], "product_id": key[2],
             "customs_status": key[3], "occurred_at": p["occurred_at"], "day": p["day"], "qty_kg": kg, "qty_m3": m3}
            for pid, p, (kind, key, kg, m3) in zip(pids, postings, legs[begin:begin + chunk])])
    db.session.commit()
    print(f"inserted orders, postings and movements in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    rows = services.rebuild_balances()
    db.session.commit()
    print(f"rebuilt {rows:,} daily balance rows from the ledger in {time.perf_counter() - t0:.1f} s")
    return customers, tanks, keys, start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--tanks", type=int, default=200)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--movements", type=int, default=400_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--pdfs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--calls-per-year", type=int, default=1000)
    parser.add_argument("--plan-queries", type=int, default=100)
    parser.add_argument("--berths", type=int, default=4, help="berths for the vessel calls (four or more)")
    parser.add_argument("--only-berth-plan", action="store_true")
    parser.add_argument("--report-pdfs", type=int, default=3)
    parser.add_argument("--only-monthly-report", action="store_true",
                        help="seed one year and measure the monthly management report PDF alone")
    parser.add_argument("--only-monthend", action="store_true")
    parser.add_argument("--monthend-queries", type=int, default=50)
    args = parser.parse_args()
    if args.only_berth_plan or args.only_monthend:
        args.movements = min(args.movements, 2000)
    if args.only_monthly_report:
        args.years, args.movements = 1, min(args.movements, 60_000)
    rnd = random.Random(args.seed)

    from portal import create_app
    from portal.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="operations-bench-"))
    try:
        for sub in ("archive", "knowledge"):
            (folder / sub).mkdir()
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                          "SEARCH_INDEX_DIR": str(folder / "index"), "ARCHIVE_DIR": str(folder / "archive"),
                          "KNOWLEDGE_DIR": str(folder / "knowledge"), "WTF_CSRF_ENABLED": False,
                          "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "SEARCH_SYNC_ON_COMMIT": False})
        with app.app_context():
            db.create_all()
            customers, tanks, keys, start = seed(args, db, rnd)
            # As wsgi.py does for a worker: what lives as long as the process (here also the seeding's leftovers)
            # is kept out of the cycle collector's full collections, which would otherwise walk it all during the
            # measured requests.
            gc.collect()
            gc.freeze()
            if args.only_monthly_report:
                seed_calls(db, rnd, args, customers)
                monthly_report(app, args)
                return
            if args.only_monthend:
                monthend(app, db, rnd, args, tanks)
                return
            if not args.only_berth_plan:
                run(app, db, rnd, args, customers, keys, start)
            berth_plan(app, db, rnd, args, customers)
            monthly_report(app, args)
            monthend(app, db, rnd, args, tanks)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(app, db, rnd, args, customers, keys, start):
    from portal.blueprints.operations.stock import reports, services
    from portal.blueprints.operations.stock.models import StockMovement

    count = db.session.scalar(db.select(db.func.count(StockMovement.id)))
    print(f"\nledger: {count:,} movements, {len(keys)} customer x tank positions, {len(customers)} customers")
    end = date.today()
    span = (end - start).days
    times = []
    for _ in range(args.queries):
        customer_id, tank, _cap = rnd.choice(keys)
        at = datetime.combine(start + timedelta(days=rnd.randrange(span)), datetime.min.time(), UTC) + \
            timedelta(minutes=rnd.randrange(1440))
        t0 = time.perf_counter()
        services.book_stock(customer_id=customer_id, tank_id=tank.id, at=at)
        times.append(time.perf_counter() - t0)
    print(f"book stock of a customer x tank at a random time: {ms(times)}")

    day = end - timedelta(days=2)
    client = app.test_client()
    client.post("/auth/login", data={"username": "bench", "password": "bench-password-123"})
    t0 = time.perf_counter()
    html_times, xlsx_times = [], []
    for c in customers:
        t1 = time.perf_counter()
        page = client.get(f"/operations/stock/reports/{c.id}/{day.isoformat()}")
        html_times.append(time.perf_counter() - t1)
        assert page.status_code == 200, page.status_code
        t1 = time.perf_counter()
        xlsx = client.get(f"/operations/stock/reports/{c.id}/{day.isoformat()}/report.xlsx")
        xlsx_times.append(time.perf_counter() - t1)
        assert xlsx.status_code == 200, xlsx.status_code
    total = time.perf_counter() - t0
    print(f"daily reports of all {len(customers)} customers for {day} (HTML page and XLSX): {total:.2f} s in total "
          f"(HTML {ms(html_times)}; XLSX {ms(xlsx_times)})")
    from portal.pdf import warm_up

    warm_up()  # as each gunicorn worker does when it starts (deploy/gunicorn.conf.py): the fonts are loaded
    pdf_times, pdf_cpu, lines = [], [], []
    for c in customers[:args.pdfs]:
        report = reports.build(c, day)
        lines.append(len(report.lines) + len(report.movements))
        t1, c1 = time.perf_counter(), time.process_time()
        reports.render_pdf(report)
        pdf_times.append(time.perf_counter() - t1)
        pdf_cpu.append(time.process_time() - c1)
    slowest = max(range(len(pdf_cpu)), key=pdf_cpu.__getitem__)
    print(f"daily report PDF: wall {ms(pdf_times)}, max {max(pdf_times) * 1000:.0f} ms; "
          f"CPU {ms(pdf_cpu)}, max {max(pdf_cpu) * 1000:.0f} ms (the slowest: {lines[slowest]} stock lines and "
          f"movements; the most: {max(lines)})")

    if "operations.orders" in app.view_functions:
        times = []
        states = ["", "completed", "open"]
        kinds = ["", "truck_loading", "ship_loading", "pipeline_receipt"]
        for _ in range(100):
            c = rnd.choice(customers)
            d1 = start + timedelta(days=rnd.randrange(span))
            query = {"customer": c.id, "state": rnd.choice(states), "kind": rnd.choice(kinds),
                     "from": d1.isoformat(), "to": (d1 + timedelta(days=30)).isoformat()}
            if rnd.random() < 0.3:
                query = {"state": rnd.choice(states[1:])}
            t0 = time.perf_counter()
            response = client.get("/operations/orders", query_string=query)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.status_code
        print(f"orders list with filters (first page): {ms(times)}")
    else:
        print("orders list: the operations.orders page is not there")



# ------------------------------------------------------------------------------------------ berth plan

BERTHS = [("B1", D("250"), D("14.5"), ["GASOIL", "GASOLINE", "JET", "NAPHTHA"]),
          ("B2", D("200"), D("12.0"), ["GASOIL", "JET", "FO380", "PALMOIL"]),
          ("B3", D("160"), D("10.0"), ["METHANOL", "ETHANOL", "MEG", "STYRENE"]),
          ("B4", D("110"), D("7.0"), ["GASOIL", "FO380", "METHANOL", "PALMOIL"])]


def seed_calls(db, rnd, args, customers):
    """``--years`` of calls, about ``--calls-per-year`` a year over four berths, each with one or two parcels
    (bulk inserts; the plan window columns filled as the model's listener would)."""
    from sqlalchemy import insert, select

    from portal.blueprints.operations.models import Product
    from portal.blueprints.operations.vessels.models import Berth, CallParcel, Vessel, VesselCall
    from portal.blueprints.operations.vessels.services import imo_valid

    products = {p.code: p for p in db.session.scalars(select(Product))}
    berths = []
    extra = [(f"B{n + 1}", *BERTHS[n % len(BERTHS)][1:]) for n in range(len(BERTHS), getattr(args, "berths", 4))]
    for code, loa, draught, served in BERTHS + extra:
        berth = Berth(code=code, name_en=f"Berth {code}", name_zh=f"{code}泊位", max_loa_m=loa, max_draught_m=draught)
        berth.products = [products[c] for c in served if c in products]
        berths.append(berth)
    db.session.add_all(berths)
    vessels, number = [], 9100000
    while len(vessels) < 200:
        number += 1
        imo = str(number)
        if imo_valid(imo):
            vessels.append(Vessel(name=f"MT Bench {len(vessels):03d}", imo=imo, flag="Panama",
                                  loa_m=D(rnd.randint(80, 240)), draught_m=D(rnd.randint(50, 140)) / 10,
                                  dwt=rnd.randint(3000, 100000)))
    db.session.add_all(vessels)
    db.session.flush()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(days=365 * args.years)
    total = args.calls_per_year * args.years
    step = (now + timedelta(days=60) - first) / total
    calls, parcels = [], []
    next_free = {b.id: first for b in berths}
    for n in range(total):
        berth = berths[n % len(berths)]
        eta = max(first + step * n, next_free[berth.id] - timedelta(hours=4))
        etb = max(eta + timedelta(hours=rnd.choice((2, 4, 8))), next_free[berth.id] + timedelta(hours=1))
        # now and then one berths too early: a conflict on the plan
        if rnd.random() < 0.03:
            etb = next_free[berth.id] - timedelta(hours=5)
            eta = min(eta, etb)
        etd = etb + timedelta(hours=rnd.choice((18, 24, 30, 36)))
        next_free[berth.id] = max(next_free[berth.id], etd)
        status = "departed" if etd < now else ("berthed" if etb < now else "announced")
        calls.append({"number": f"VC-{eta.year}-{n + 1:05d}", "vessel_id": rnd.choice(vessels).id,
                      "berth_id": berth.id, "status": status, "eta": eta, "etb": etb, "etc": etd - timedelta(hours=3),
                      "etd": etd, "last_port": "Singapore", "next_port": "Qingdao", "remarks": "", "cancel_reason": "",
                      "plan_start": etb, "plan_end": etd, "created_at": eta, "updated_at": eta})
    ids = list(db.session.execute(insert(VesselCall).returning(VesselCall.id, sort_by_parameter_order=True),
                                  calls).scalars())
    served = {b.id: [p.id for p in b.products] for b in berths}
    for cid, call in zip(ids, calls):
        for _ in range(rnd.choice((1, 1, 2))):
            parcels.append({"call_id": cid, "customer_id": rnd.choice(customers).id,
                            "product_id": rnd.choice(served[call["berth_id"]]), "quantity": D(rnd.randrange(500, 30000)),
                            "unit": "t", "created_at": call["eta"], "updated_at": call["eta"]})
    db.session.execute(insert(CallParcel), parcels)
    db.session.commit()
    return len(calls), len(parcels), first, now


def berth_plan(app, db, rnd, args, customers):
    if "operations.vessels.plan" not in app.view_functions:
        print("berth plan: the operations.vessels.plan page is not there")
        return
    t0 = time.perf_counter()
    count, parcels, first, now = seed_calls(db, rnd, args, customers)
    gc.collect()
    gc.freeze()  # the seeding's leftovers, as after the first seeding
    print(f"\nberth plan: {count:,} calls with {parcels:,} parcels over {args.years} years on 4 berths "
          f"(seeded in {time.perf_counter() - t0:.1f} s)")
    client = app.test_client()
    client.post("/auth/login", data={"username": "bench", "password": "bench-password-123"})
    span = (now.date() - first.date()).days
    for days, target in ((7, 80), (90, 300)):
        times = []
        for _ in range(args.plan_queries):
            d1 = first.date() + timedelta(days=rnd.randrange(span - days))
            query = {"from": d1.isoformat(), "to": (d1 + timedelta(days=days - 1)).isoformat()}
            t1 = time.perf_counter()
            response = client.get("/operations/vessels/plan", query_string=query)
            times.append(time.perf_counter() - t1)
            assert response.status_code == 200, response.status_code
        print(f"berth plan, {days}-day window (target p95 <= {target} ms): {ms(times)}")


def monthly_report(app, args):
    """The monthly management report PDF of the last closed month (every customer x product's throughput,
    the month's vessel calls, berth occupancy, the charts): target <= 3 s for a report of ~20 pages."""
    import io

    import pypdf

    from portal.blueprints.operations.monthly import services as monthly

    from portal.pdf import warm_up

    month = monthly.last_closed_month()
    times, cpu, builds, pages = [], [], [], 0
    with app.test_request_context():
        warm_up()  # as each gunicorn worker does when it starts
        for _ in range(max(args.report_pdfs, 1)):
            t0, c0 = time.perf_counter(), time.process_time()
            report = monthly.build_report(month)
            builds.append(time.perf_counter() - t0)
            data = monthly.render_pdf(report)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    print(f"\nmonthly management report {month:%Y-%m}: {len(report.throughput['rows'])} customer x product rows, "
          f"{len(report.calls)} calls, {pages} pages")
    print(f"monthly report figures alone: {ms(builds)}")
    print(f"monthly report PDF, {pages} pages (figures + PDF, target <= 3 s for ~20 pages): "
          f"wall {ms(times)}; CPU p50 {statistics.median(cpu):.2f} s, max {max(cpu):.2f} s")
# ------------------------------------------------------------------------------------------ month end

def monthend(app, db, rnd, args, tanks):
    """Every tank dipped on the last day of last month (one calibration table each, bulk inserts), then the
    month-end reconciliation page of that month through the portal."""
    if "operations.monthend.month" not in app.view_functions:
        print("month-end reconciliation: the operations.monthend.month page is not there")
        return
    from sqlalchemy import insert, select

    from portal.blueprints.operations.measure.models import CalibrationTable, Dip
    from portal.blueprints.operations.monthend import services as monthend_services
    from portal.models import User
    from portal.timeutil import from_local, local_today

    month = monthend_services.month_of(monthend_services.month_of(local_today()) - timedelta(days=1))
    day = monthend_services.last_day(month)
    user_id = db.session.scalar(select(User.id).filter_by(username="bench"))
    db.session.execute(insert(CalibrationTable), [
        {"tank_id": t.id, "certificate_number": f"C-{t.code}", "certificate_date": date(2020, 1, 1), "body": "bench",
         "valid_from": date(2020, 1, 1), "roof_correction": False, "point_count": 2, "source_filename": "",
         "created_by_id": user_id} for t in tanks])
    tables = {r[0]: r[1] for r in db.session.execute(select(CalibrationTable.tank_id, CalibrationTable.id))}
    book = monthend_services.book_figures(month)[0]
    per_tank = defaultdict(lambda: [D(0), D(0)])
    for (tank_id, _c, _p), (kg, m3) in book.items():
        per_tank[tank_id][0] += kg
        per_tank[tank_id][1] += m3
    at = from_local(datetime.combine(day, datetime.min.time()) + timedelta(hours=16, minutes=30))
    rows = []
    for t in tanks:
        kg, m3 = per_tank[t.id]
        factor = D(1) + D(rnd.randint(-60, 60)) / 10000  # within ±0.6 %: some lines over tolerance
        v20, mass = (m3 * factor).quantize(D("0.001")), (kg * factor).quantize(D(1))
        density = (mass / v20).quantize(D("0.1")) if v20 else D("840.0")
        rows.append({"tank_id": t.id, "product_id": t.product_id, "calibration_id": tables[t.id], "taken_at": at,
                     "day": day, "method": "innage", "reading_mm": D(1000), "innage_mm": D(1000), "water_mm": D(0),
                     "temperatures": "20.0", "temperature": D(20), "density_mode": "lab20", "density_input": density,
                     "standard": "gbt", "vcf_group": "products", "density_base": density, "tov_m3": v20,
                     "water_m3": D(0), "roof_m3": D(0), "gov_m3": v20, "vcf": D(1), "gsv_m3": v20,
                     "mass_vacuum_kg": mass, "mass_air_kg": mass, "density_20": density, "v20_m3": v20, "remarks": "",
                     "created_by_id": user_id})
    db.session.execute(insert(Dip), rows)
    db.session.commit()
    client = app.test_client()
    client.post("/auth/login", data={"username": "bench", "password": "bench-password-123"})
    times = []
    for _ in range(args.monthend_queries):
        t0 = time.perf_counter()
        response = client.get(f"/operations/month-end/{month:%Y-%m}")
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.status_code
    lines = len(monthend_services.variances(month))
    print(f"\nmonth-end reconciliation page, {len(tanks)} tanks dipped, {lines} lines "
          f"(target p95 <= 200 ms): {ms(times)}")


if __name__ == "__main__":
    main()
