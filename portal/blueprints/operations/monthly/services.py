"""Monthly operation and safety report and government statistics, computed from the data on the branch.

Flushes, never commits. Figures of a month (local calendar month of the portal's time zone):

- throughput: the stock book's receipt and delivery movements of the month (reversals net them), by
  customer and product, in t and m³ at 20 °C; the mode (ship/truck/pipeline) from the order that posted them.
  It equals the month's receipts and deliveries of the daily balances (``book_totals``).
- vessel calls: calls (not cancelled) berthed in the month (all fast, else the planned berthing time);
  truck loads: truck-loading orders completed in the month.
- berth occupancy: hours berthed per berth (all fast → departed, else the planned times ETB → ETD),
  clipped to the month, ÷ hours in the month.
- average waiting time: NOR tendered (else arrival ETA) → all fast, of calls made fast in the month.
- order on-time rate: orders completed in the month with a planned end, completed by it.
- complaints (acknowledged by the due time) and inquiries (answered by the due time): opened, closed, on time.
- stock variances: the month-end reconciliation's ``variances(month)``; "not reconciled yet" while the month has none.
- safety: the figures the manager entered.
"""
from __future__ import annotations

import calendar
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .... import charts
from ....extensions import db
from ....pdf import render_pdf_anywhere
from ....services import ServiceError, file_record
from ....storage import ContentStore
from ....timeutil import from_local, local_today, to_local, utcnow
from ...complaints.models import Complaint, Inquiry
from ...customers.models import Customer
from ..models import PRODUCT_CLASSES, Order, Product
from ..stock.models import StockDaily, StockMovement, StockPosting
from ..vessels.models import Berth, CallParcel, VesselCall
from .models import GovStatExport, MonthlyReportIssue, MonthlySafety

ZERO = Decimal(0)
T = Decimal("0.001")
_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})")
# Bilingual words of the files (the PDF, the XLSX and the statistics are read by Chinese authorities).
MODE_BILINGUAL = {"ship": "船舶 Ship", "truck": "汽车 Truck", "pipeline": "管道 Pipeline", "other": "其他 Other"}
DIRECTION_BILINGUAL = {"import": "进口 Import", "export": "出口 Export", "domestic": "内贸 Domestic"}
CLASS_ZH = {"crude": "原油", "gasoline": "汽油/石脑油", "jet": "航空煤油", "diesel": "柴油", "fuel_oil": "燃料油",
            "lubricant": "润滑油", "chemical": "化工品", "vegetable_oil": "植物油"}
# Ports in mainland China (a call's last/next port naming one of these, a "CN" UN/LOCODE or "China" is domestic).
CHINESE_PORTS = (
    "ningbo", "zhoushan", "shanghai", "qingdao", "dalian", "tianjin", "guangzhou", "shenzhen", "xiamen", "huizhou",
    "zhanjiang", "quanzhou", "nantong", "zhangjiagang", "taicang", "jiangyin", "rizhao", "yantai", "lianyungang",
    "fuzhou", "dongguan", "zhuhai", "maoming", "caofeidian", "jingtang", "nanjing", "yangpu", "beihai", "qinzhou",
    "宁波", "舟山", "上海", "青岛", "大连", "天津", "广州", "深圳", "厦门", "惠州", "湛江", "泉州", "南通", "张家港",
    "太仓", "江阴", "日照", "烟台", "连云港", "福州", "东莞", "珠海", "茂名", "曹妃甸", "京唐", "南京", "洋浦",
    "北海", "钦州", "中国", "china",
)


class MonthlyError(ServiceError):
    pass


# ------------------------------------------------------------------------------------------- months

def parse_month(text) -> date | None:
    """``YYYY-MM`` (years 2000-2999) as the first day of the month, else None."""
    match = _MONTH_RE.fullmatch((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def days_in(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def month_end(month: date) -> date:
    return month + timedelta(days=days_in(month) - 1)


def next_month(month: date) -> date:
    return month_end(month) + timedelta(days=1)


def last_closed_month(today: date | None = None) -> date:
    return ((today or local_today()).replace(day=1) - timedelta(days=1)).replace(day=1)


def bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's first instant (aware UTC)."""
    return from_local(datetime.combine(month, datetime.min.time())), \
        from_local(datetime.combine(next_month(month), datetime.min.time()))


def _check_closed(month: date) -> None:
    if month >= local_today().replace(day=1):
        raise MonthlyError(_l("The month %(month)s has not ended yet.", month=f"{month:%Y-%m}"))


def _q(value) -> Decimal:
    return Decimal(value or 0).quantize(T, rounding=ROUND_HALF_UP)


def _t(kg) -> Decimal:
    return _q(Decimal(kg or 0) / 1000)


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------- throughput

def mode_of(order_kind: str | None) -> str:
    if order_kind in ("ship_discharge", "ship_loading"):
        return "ship"
    if order_kind == "truck_loading":
        return "truck"
    if order_kind in ("pipeline_receipt", "pipeline_delivery"):
        return "pipeline"
    return "other"


def is_foreign_port(port: str | None) -> bool:
    """A port outside mainland China: not blank, not a "CN" UN/LOCODE, not naming China or a Chinese port."""
    text = (port or "").strip().lower()
    if not text:
        return False
    if re.fullmatch(r"cn\s?[a-z0-9]{3}", text) or text.endswith((", cn", " cn", "(cn)")):
        return False
    return not any(name in text for name in CHINESE_PORTS)


def _movements(month: date, customer_id: int | None = None):
    """The month's receipt and delivery movements with their order's kind, customs status and call ports."""
    start, end = month, month_end(month)
    stmt = (select(StockMovement.customer_id, StockMovement.product_id, StockMovement.kind, StockMovement.qty_kg,
                   StockMovement.qty_m3, Order.kind, Order.customs_status, Order.id)
            .join(StockPosting, StockPosting.id == StockMovement.posting_id)
            .outerjoin(Order, Order.id == StockPosting.order_id)
            .where(StockMovement.kind.in_(("receipt", "delivery")), StockMovement.day >= start,
                   StockMovement.day <= end))
    if customer_id:
        stmt = stmt.where(StockMovement.customer_id == customer_id)
    return db.session.execute(stmt).all()


def _ports(order_ids) -> dict[int, tuple[str, str]]:
    """(last port, next port) of the call each order is a parcel of."""
    ids = [i for i in set(order_ids) if i]
    if not ids:
        return {}
    rows = db.session.execute(select(CallParcel.order_id, VesselCall.last_port, VesselCall.next_port)
                              .join(VesselCall, VesselCall.id == CallParcel.call_id)
                              .where(CallParcel.order_id.in_(ids))).all()
    return {order_id: (last or "", nxt or "") for order_id, last, nxt in rows}


def direction_of(movement_kind: str, mode: str, customs_status: str | None, port: str | None) -> str:
    """import / export / domestic (the rule documented in the README)."""
    if mode != "ship":
        return "domestic"
    foreign = is_foreign_port(port) if port else customs_status == "bonded"
    if not foreign:
        return "domestic"
    return "import" if movement_kind == "receipt" else "export"


@dataclass
class Flow:
    receipt_kg: Decimal = ZERO
    receipt_m3: Decimal = ZERO
    delivery_kg: Decimal = ZERO
    delivery_m3: Decimal = ZERO

    def add(self, kind: str, kg, m3) -> None:
        if kind == "receipt":
            self.receipt_kg += Decimal(kg)
            self.receipt_m3 += Decimal(m3)
        else:  # deliveries are negative in the book: shown as positive quantities out
            self.delivery_kg -= Decimal(kg)
            self.delivery_m3 -= Decimal(m3)

    @property
    def receipt_t(self) -> Decimal:
        return _t(self.receipt_kg)

    @property
    def delivery_t(self) -> Decimal:
        return _t(self.delivery_kg)

    @property
    def total_t(self) -> Decimal:
        return _t(self.receipt_kg + self.delivery_kg)


def throughput(month: date, customer_id: int | None = None) -> dict:
    """Throughput by (customer, product), and the month's totals."""
    flows: dict[tuple[int, int], Flow] = defaultdict(Flow)
    total = Flow()
    for cust, product, kind, kg, m3, _okind, _cs, _oid in _movements(month, customer_id):
        flows[(cust, product)].add(kind, kg, m3)
        total.add(kind, kg, m3)
    customers = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_({k[0] for k in flows})))}
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_({k[1] for k in flows})))}
    rows = [{"customer": customers[c], "product": products[p], "flow": f} for (c, p), f in flows.items()]
    rows.sort(key=lambda r: (r["customer"].code, r["product"].code))
    return {"rows": rows, "total": total}


def book_totals(month: date, customer_id: int | None = None) -> Flow:
    """The stock book's receipts and deliveries of the month (the daily balances), for the tie-out."""
    stmt = select(func.coalesce(func.sum(StockDaily.receipt_kg), 0), func.coalesce(func.sum(StockDaily.receipt_m3), 0),
                  func.coalesce(func.sum(StockDaily.delivery_kg), 0), func.coalesce(func.sum(StockDaily.delivery_m3), 0)
                  ).where(StockDaily.day >= month, StockDaily.day <= month_end(month))
    if customer_id:
        stmt = stmt.where(StockDaily.customer_id == customer_id)
    rkg, rm3, dkg, dm3 = db.session.execute(stmt).one()
    return Flow(Decimal(rkg), Decimal(rm3), -Decimal(dkg), -Decimal(dm3))


# ------------------------------------------------------------------------------------ calls and berths

def _calls(month: date, customer_id: int | None = None) -> list[VesselCall]:
    start, end = bounds(month)
    berthed = func.coalesce(VesselCall.all_fast_at, VesselCall.etb, VesselCall.eta)
    stmt = select(VesselCall).where(VesselCall.status != "cancelled", berthed >= start, berthed < end)
    if customer_id:
        stmt = stmt.where(VesselCall.id.in_(select(CallParcel.call_id).where(CallParcel.customer_id == customer_id)))
    stmt = stmt.options(selectinload(VesselCall.vessel), selectinload(VesselCall.berth))
    return list(db.session.scalars(stmt.order_by(berthed)))


def _berthed_interval(call: VesselCall) -> tuple[datetime, datetime] | None:
    begin = call.all_fast_at or call.etb
    finish = call.departed_at or call.hoses_off_at or call.etd or call.etc
    if begin is None or finish is None or finish <= begin:
        return None
    return begin, finish


def berth_occupancy(month: date) -> list[dict]:
    """Per active berth: hours berthed in the month and that as % of the month's hours."""
    start, end = bounds(month)
    month_hours = Decimal((end - start).total_seconds()) / 3600
    hours: dict[int, Decimal] = defaultdict(lambda: ZERO)
    # calls that began before the month's end and may end after its start (a superset of _berthed_interval's:
    # its end is one of these columns), not every call of the past
    stmt = select(VesselCall).where(VesselCall.status != "cancelled", VesselCall.berth_id.is_not(None),
                                    or_(VesselCall.all_fast_at < end, VesselCall.etb < end),
                                    or_(VesselCall.departed_at > start, VesselCall.hoses_off_at > start,
                                        VesselCall.etd > start, VesselCall.etc > start))
    for call in db.session.scalars(stmt):
        interval = _berthed_interval(call)
        if interval is None:
            continue
        a, b = max(interval[0], start), min(interval[1], end)
        if b > a:
            hours[call.berth_id] += Decimal((b - a).total_seconds()) / 3600
    berths = db.session.scalars(select(Berth).order_by(Berth.code)).all()
    return [{"berth": b, "hours": hours[b.id].quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
             "pct": _pct(hours[b.id], month_hours)} for b in berths if b.active or hours[b.id]]


def waiting_hours(calls: list[VesselCall]) -> Decimal | None:
    waits = [(c.all_fast_at - (c.nor_at or c.eta)).total_seconds() / 3600 for c in calls
             if c.all_fast_at and (c.nor_at or c.eta) and c.all_fast_at >= (c.nor_at or c.eta)]
    if not waits:
        return None
    return (Decimal(str(sum(waits))) / len(waits)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------------------ orders

def order_figures(month: date, customer_id: int | None = None) -> dict:
    start, end = bounds(month)
    stmt = select(Order.kind, Order.planned_end, Order.completed_at, Order.actual_kg).where(
        Order.state == "completed", Order.completed_at >= start, Order.completed_at < end)
    if customer_id:
        stmt = stmt.where(Order.customer_id == customer_id)
    orders = db.session.execute(stmt).all()
    planned = [o for o in orders if o.planned_end is not None]
    on_time = [o for o in planned if o.completed_at <= o.planned_end]
    trucks = [o for o in orders if o.kind == "truck_loading"]
    return {"completed": len(orders), "planned": len(planned), "on_time": len(on_time),
            "on_time_pct": _pct(len(on_time), len(planned)), "truck_loads": len(trucks),
            "truck_t": _t(sum((o.actual_kg or ZERO for o in trucks), ZERO))}


# -------------------------------------------------------------------------------- complaints, inquiries

def service_figures(month: date, customer_id: int | None = None) -> dict:
    start, end = bounds(month)

    def count(model, *where):
        stmt = select(func.count()).select_from(model).where(*where)
        if customer_id:
            stmt = stmt.where(model.customer_id == customer_id)
        return db.session.scalar(stmt) or 0

    c_acked = count(Complaint, Complaint.acknowledged_at >= start, Complaint.acknowledged_at < end)
    c_ontime = count(Complaint, Complaint.acknowledged_at >= start, Complaint.acknowledged_at < end,
                     Complaint.acknowledged_at <= Complaint.ack_due_at)
    i_answered = count(Inquiry, Inquiry.answered_at >= start, Inquiry.answered_at < end)
    i_ontime = count(Inquiry, Inquiry.answered_at >= start, Inquiry.answered_at < end, Inquiry.answered_at <= Inquiry.due_at)
    return {
        "complaints": {"opened": count(Complaint, Complaint.received_at >= start, Complaint.received_at < end),
                       "closed": count(Complaint, Complaint.closed_at >= start, Complaint.closed_at < end),
                       "answered": c_acked, "on_time": c_ontime, "on_time_pct": _pct(c_ontime, c_acked)},
        "inquiries": {"opened": count(Inquiry, Inquiry.received_at >= start, Inquiry.received_at < end),
                      "closed": i_answered, "answered": i_answered, "on_time": i_ontime,
                      "on_time_pct": _pct(i_ontime, i_answered)},
    }


# ------------------------------------------------------------------------------------ stock variances

def stock_variances(month: date, customer_id: int | None = None) -> list | None:
    """The month-end reconciliation's variances (per tank x customer x product), or None while the month has
    no reconciliation (shown as "not reconciled yet")."""
    from ..monthend import services as monthend

    if monthend.period_for(month) is None:
        return None
    rows = monthend.variances(month)
    if customer_id:
        rows = [r for r in rows if r.customer_id == customer_id]
    return sorted(rows, key=lambda r: (r.tank_code, r.customer_code or "", r.product_code))


# --------------------------------------------------------------------------------------------- safety

def safety_for(month: date) -> MonthlySafety | None:
    return db.session.scalar(select(MonthlySafety).where(MonthlySafety.month == month))


def save_safety(month: date, user, *, days_without_lti: int, incidents: int, near_misses: int,
                remarks: str = "") -> MonthlySafety:
    if days_without_lti is None or days_without_lti < 0:
        raise MonthlyError(_l("Give the days without lost-time injury."), field="days_without_lti")
    if month > local_today().replace(day=1):
        raise MonthlyError(_l("The month %(month)s has not begun yet.", month=f"{month:%Y-%m}"))
    row = safety_for(month)
    if row is None:
        row = MonthlySafety(month=month)
        db.session.add(row)
    row.days_without_lti, row.incidents, row.near_misses = days_without_lti, incidents or 0, near_misses or 0
    row.remarks = (remarks or "").strip()
    row.entered_at, row.entered_by_id = utcnow(), getattr(user, "id", None)
    db.session.flush()
    return row


# --------------------------------------------------------------------------------------------- report

@dataclass
class Report:
    month: date
    customer: Customer | None
    throughput: dict
    book: Flow
    calls: list
    berths: list
    waiting_hours: Decimal | None
    orders: dict
    service: dict
    variances: list | None
    safety: MonthlySafety | None
    issues: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def ties_out(self) -> bool:
        t = self.throughput["total"]
        return (_q(t.receipt_kg), _q(t.delivery_kg), _q(t.receipt_m3), _q(t.delivery_m3)) == \
            (_q(self.book.receipt_kg), _q(self.book.delivery_kg), _q(self.book.receipt_m3), _q(self.book.delivery_m3))

    def charts(self):
        by_product: dict[str, Flow] = defaultdict(Flow)
        for row in self.throughput["rows"]:
            p, f = row["product"], row["flow"]
            name = f"{p.name_zh or p.code} {p.code}" if p.name_zh else p.code
            by_product[name].receipt_kg += f.receipt_kg
            by_product[name].delivery_kg += f.delivery_kg
        return {
            "throughput": charts.grouped_bars([(n, [f.receipt_t, f.delivery_t]) for n, f in sorted(by_product.items())],
                               "吞吐量（吨）Throughput (t)", ["收货 Receipts", "发货 Deliveries"]),
            "berths": charts.grouped_bars([(f"{b['berth'].name_zh or b['berth'].code} {b['berth'].code}", [b["pct"] or 0])
                            for b in self.berths], "泊位占用率（%）Berth occupancy (%)", ["%"]),
        }


def build_report(month: date, customer: Customer | None = None) -> Report:
    cid = customer.id if customer else None
    calls = _calls(month, cid)
    issues = list(db.session.scalars(select(MonthlyReportIssue).where(
        MonthlyReportIssue.month == month,
        MonthlyReportIssue.customer_id == cid if cid else MonthlyReportIssue.customer_id.is_(None))
        .order_by(MonthlyReportIssue.version.desc())))
    return Report(month=month, customer=customer, throughput=throughput(month, cid), book=book_totals(month, cid),
                  calls=calls, berths=berth_occupancy(month) if customer is None else [],
                  waiting_hours=waiting_hours(calls), orders=order_figures(month, cid),
                  service=service_figures(month, cid), variances=stock_variances(month, cid),
                  safety=safety_for(month), issues=issues)


def render_pdf(report: Report, version: int | None = None) -> bytes:
    return render_pdf_anywhere("operations/monthly/pdf_report.html", r=report, charts=report.charts(),
                               version=version, printed_at=to_local(utcnow()), classes=PRODUCT_CLASSES)


def xlsx_sheets(report: Report) -> list:
    thr = [[r["customer"].code, r["product"].code, r["product"].name_zh, r["flow"].receipt_t, _q(r["flow"].receipt_m3),
            r["flow"].delivery_t, _q(r["flow"].delivery_m3)] for r in report.throughput["rows"]]
    t = report.throughput["total"]
    thr.append(["合计 Total", "", "", t.receipt_t, _q(t.receipt_m3), t.delivery_t, _q(t.delivery_m3)])
    calls = [[c.number, c.vessel.name if c.vessel else "", c.berth.code if c.berth else "", c.last_port,
              c.nor_at, c.all_fast_at, c.departed_at] for c in report.calls]
    o, s = report.orders, report.service
    kpis = [["月份 Month", report.label],
            ["船舶靠泊 Vessel calls", len(report.calls)],
            ["汽车装车 Truck loads", o["truck_loads"]], ["汽车装车吨 Truck loads (t)", o["truck_t"]],
            ["平均等泊小时 Average waiting time (h)", report.waiting_hours],
            ["完成指令 Orders completed", o["completed"]], ["按计划完成 Completed on time", o["on_time"]],
            ["准时率 On-time rate (%)", o["on_time_pct"]],
            ["投诉新收 Complaints opened", s["complaints"]["opened"]], ["投诉关闭 Complaints closed", s["complaints"]["closed"]],
            ["投诉按时确认 Complaints acknowledged on time", s["complaints"]["on_time"]],
            ["咨询新收 Inquiries opened", s["inquiries"]["opened"]], ["咨询答复 Inquiries answered", s["inquiries"]["closed"]],
            ["咨询按时答复 Inquiries answered on time", s["inquiries"]["on_time"]]]
    if report.safety:
        kpis += [["无损工天数 Days without lost-time injury", report.safety.days_without_lti],
                 ["事故 Incidents", report.safety.incidents], ["未遂事件 Near misses", report.safety.near_misses]]
    sheets = [
        ("吞吐量 Throughput", ["客户 Customer", "产品 Product", "产品名称 Product name", "收货吨 Receipts (t)",
                             "收货立方米 Receipts (m³)", "发货吨 Deliveries (t)", "发货立方米 Deliveries (m³)"], thr),
        ("指标 Figures", ["项目 Item", "值 Value"], kpis),
        ("船舶 Vessel calls", ["船期 Call", "船名 Vessel", "泊位 Berth", "上一港 Last port", "NOR",
                              "靠妥 All fast", "离泊 Departed"], calls),
    ]
    if report.variances is not None:
        sheets.append(("库存差异 Stock variances", ["油罐 Tank", "客户 Customer", "产品 Product", "实测吨 Physical (t)",
                                                 "账面吨 Book (t)", "差异吨 Variance (t)", "差异 Variance (%)", "超差 Over tolerance"],
                       [[v.tank_code, v.customer_code or "", v.product_code, v.physical_t, v.book_t, v.variance_t,
                         v.variance_pct, "是 yes" if v.over_tolerance else "否 no"] for v in report.variances]))
    if report.customer is None:
        sheets.append(("泊位 Berths", ["泊位 Berth", "小时 Hours", "占用率 Occupancy (%)"],
                       [[b["berth"].code, b["hours"], b["pct"]] for b in report.berths]))
    return sheets


def report_xlsx(report: Report) -> bytes:
    from ....xlsx import workbook_bytes

    return workbook_bytes(xlsx_sheets(report))


def report_filename(report: Report, version: int | None, ext: str) -> str:
    who = report.customer.code if report.customer else "management"
    return f"monthly-report-{report.label}-{who}{f'-v{version}' if version else ''}.{ext}"


def issue_report(month: date, customer: Customer | None, user, note: str = "") -> MonthlyReportIssue:
    """Issue the month's report: a new version (PDF and XLSX) filed in the archive under one record."""
    _check_closed(month)
    report = build_report(month, customer)
    version = max((i.version for i in report.issues), default=0) + 1
    pdf, xlsx = render_pdf(report, version), report_xlsx(report)
    pdf_name = report_filename(report, version, "pdf")
    who = customer.code if customer else "management"
    record = file_record(
        kind="monthly_report", title=f"Monthly report {report.label} {who} / 月度报告",
        files=[(pdf_name, pdf), (report_filename(report, version, "xlsx"), xlsx)], user=user,
        customer_id=customer.id if customer else None, event_date=month_end(month),
        source_key=f"ops-monthly-report:{report.label}:{who}",
        description=f"Version {version}. {(note or '').strip()}"[:500])
    issue = MonthlyReportIssue(month=month, customer_id=customer.id if customer else None, version=version,
                               filename=pdf_name, note=(note or "").strip(), issued_at=utcnow(),
                               issued_by_id=getattr(user, "id", None), archive_record_id=getattr(record, "id", None))
    db.session.add(issue)
    db.session.flush()
    return issue


# ------------------------------------------------------------------------------- government statistics

STAT_HEADER = ["月份 Month", "类型 Type", "更正月份 Corrected month", "产品类别代码 Product class code",
               "产品类别 Product class", "流向 Direction", "运输方式 Mode", "吨 Tonnes", "立方米(20°C) m³ at 20 °C"]


def stat_figures(month: date) -> list[dict]:
    """Throughput by product class × direction × mode, in t and m³ (strings of Decimals, sorted)."""
    rows = _movements(month)
    ports = _ports([r[7] for r in rows])
    products = {p.id: p.product_class for p in db.session.scalars(select(Product))}
    sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for _cust, product_id, kind, kg, m3, order_kind, customs_status, order_id in rows:
        mode = mode_of(order_kind)
        last, nxt = ports.get(order_id, ("", ""))
        direction = direction_of(kind, mode, customs_status, last if kind == "receipt" else nxt)
        sign = 1 if kind == "receipt" else -1
        key = (products.get(product_id, ""), direction, mode)
        sums[key][0] += sign * Decimal(kg)
        sums[key][1] += sign * Decimal(m3)
    return [{"class": c, "direction": d, "mode": m, "t": str(_t(kg)), "m3": str(_q(m3))}
            for (c, d, m), (kg, m3) in sorted(sums.items()) if kg or m3]


def _index(figures: list[dict]) -> dict[tuple, tuple[Decimal, Decimal]]:
    return {(f["class"], f["direction"], f["mode"]): (Decimal(f["t"]), Decimal(f["m3"])) for f in figures}


def stat_export_for(month: date) -> GovStatExport | None:
    return db.session.scalar(select(GovStatExport).where(GovStatExport.month == month))


def pending_corrections(month: date) -> list[dict]:
    """Differences between the figures of exported months before ``month`` as they are now and as they were
    exported (less corrections already reported): what the export of ``month`` reports as corrections."""
    out = []
    exports = list(db.session.scalars(select(GovStatExport).order_by(GovStatExport.month)))
    for past in [e for e in exports if e.month < month]:
        reported = _index(past.figures)
        for later in exports:
            if later.month > past.month:
                for c in later.corrections:
                    if c["corrected"] == f"{past.month:%Y-%m}":
                        key = (c["class"], c["direction"], c["mode"])
                        t, m3 = reported.get(key, (ZERO, ZERO))
                        reported[key] = (t + Decimal(c["t"]), m3 + Decimal(c["m3"]))
        now = _index(stat_figures(past.month))
        for key in sorted(set(now) | set(reported)):
            t_now, m3_now = now.get(key, (ZERO, ZERO))
            t_was, m3_was = reported.get(key, (ZERO, ZERO))
            if t_now != t_was or m3_now != m3_was:
                out.append({"corrected": f"{past.month:%Y-%m}", "class": key[0], "direction": key[1], "mode": key[2],
                            "t": str(t_now - t_was), "m3": str(m3_now - m3_was)})
    return out


def stat_rows(month: date, figures: list[dict], corrections: list[dict]) -> list[list]:
    def row(kind, corrected, f):
        return [f"{month:%Y-%m}", kind, corrected, f["class"], f"{CLASS_ZH.get(f['class'], '')} {PRODUCT_CLASSES.get(f['class'], f['class'])}".strip(),
                DIRECTION_BILINGUAL.get(f["direction"], f["direction"]), MODE_BILINGUAL.get(f["mode"], f["mode"]),
                Decimal(f["t"]), Decimal(f["m3"])]

    return [row("本期 Period", "", f) for f in figures] + [row("更正 Correction", c["corrected"], c) for c in corrections]


def stat_store() -> ContentStore:
    return ContentStore(str(current_app.config["ARCHIVE_DIR"]) + "/govstats")


def read_stat_export(export: GovStatExport) -> bytes:
    with stat_store().open(export.sha256) as fh:
        return fh.read()


def export_statistics(month: date, user) -> tuple[GovStatExport, bool]:
    """Export (and lock) the month's statistics; a locked month answers its stored export unchanged.
    Returns (export, created)."""
    from ....xlsx import workbook_bytes

    existing = stat_export_for(month)
    if existing is not None:
        return existing, False
    _check_closed(month)
    figures, corrections = stat_figures(month), pending_corrections(month)
    data = workbook_bytes([("统计 Statistics", STAT_HEADER, stat_rows(month, figures, corrections))])
    sha = stat_store().put(data)
    filename = f"throughput-statistics-{month:%Y-%m}.xlsx"
    record = file_record(kind="monthly_report", title=f"Throughput statistics {month:%Y-%m} / 吞吐量统计",
                         files=[(filename, data)], user=user, event_date=month_end(month),
                         source_key=f"ops-gov-statistics:{month:%Y-%m}")
    export = GovStatExport(month=month, figures=figures, corrections=corrections, filename=filename, sha256=sha,
                           size=len(data), exported_at=utcnow(), exported_by_id=getattr(user, "id", None),
                           archive_record_id=getattr(record, "id", None))
    db.session.add(export)
    db.session.flush()
    return export, True
