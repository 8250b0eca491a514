"""The daily stock report per customer and day, its PDF and XLSX, and "mark sent".

Figures per tank x product x customs status: opening, receipts, deliveries, transfers in and out,
ownership transfers in and out, adjustments and closing, in t and m³ at 20 °C. They come from the daily
balances (the closing of the day before and the day's sums per kind), never from the ledger.

``mark_sent`` is the one call that sends: it renders the PDF, keeps its exact bytes (sha256) in the
content store, files it in the archive's daily-report series and records recipients and time. A report
regenerated after it was sent compares its figures' digest with the version sent; sending again keeps
both versions.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, union
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....pdf import render_pdf_anywhere
from ....services import file_record
from ....storage import ContentStore
from ....i18n import fmt_datetime
from ....timeutil import from_local, to_local, utcnow
from ....xlsx import workbook_bytes
from ...customers.models import Customer
from ..models import Product, Tank
from .models import KIND_COLUMNS, DailyReport, StockDaily, StockMovement, StockPosting
from .quantities import ZERO, kg_to_t
from .services import _BAL, _LATEST, StockError, _q, closing_rows

COLUMNS = ("opening",) + KIND_COLUMNS + ("closing",)
OUT_COLUMNS = frozenset({"delivery", "transfer_out", "ownership_out", "customs_out"})
COLUMN_LABELS = {
    "opening": _l("Opening"),
    "receipt": _l("Receipts"),
    "delivery": _l("Deliveries"),
    "transfer_in": _l("Transfers in"),
    "transfer_out": _l("Transfers out"),
    "ownership_in": _l("Ownership in"),
    "ownership_out": _l("Ownership out"),
    "customs_in": _l("Customs released in"),
    "customs_out": _l("Customs released out"),
    "adjustment": _l("Adjustments"),
    "closing": _l("Closing"),
}
# The PDF and XLSX are bilingual whatever the reader's language.
COLUMN_BILINGUAL = {
    "opening": "期初 Opening",
    "receipt": "进库 Receipts",
    "delivery": "出库 Deliveries",
    "transfer_in": "倒罐转入 Transfers in",
    "transfer_out": "倒罐转出 Transfers out",
    "ownership_in": "货权转入 Ownership in",
    "ownership_out": "货权转出 Ownership out",
    "customs_in": "海关放行转入 Customs released in",
    "customs_out": "海关放行转出 Customs released out",
    "adjustment": "损溢调整 Adjustments",
    "closing": "期末 Closing",
}
CUSTOMS_BILINGUAL = {"bonded": "保税 bonded", "duty_paid": "完税 duty-paid"}
MOVEMENT_BILINGUAL = {
    "receipt": "进库 receipt", "delivery": "出库 delivery", "transfer_in": "倒罐转入 transfer in",
    "transfer_out": "倒罐转出 transfer out", "ownership_in": "货权转入 ownership in",
    "ownership_out": "货权转出 ownership out", "customs_in": "海关放行转入 customs released in",
    "customs_out": "海关放行转出 customs released out", "adjustment": "损溢 adjustment",
}


def file_code(customer: Customer) -> str:
    """The customer's code as it stands in a report's file name (letters, digits, - and _ only)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", customer.code).strip("-") or "customer"


@dataclass
class Line:
    """One row of a stock report: a tank, product and customs status with (kg, m³) per column (outs positive).

    ``columns`` run from "opening" through the flows to "closing"; the flows in ``out_columns`` take stock
    away. These are the daily report's; a report with other columns subclasses this naming its own (the
    customs statement).
    """

    columns: ClassVar[tuple[str, ...]] = COLUMNS
    out_columns: ClassVar[frozenset[str]] = OUT_COLUMNS

    tank: Tank | None
    product: Product | None
    customs_status: str
    kg: dict[str, Decimal] = field(default_factory=dict)
    m3: dict[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for c in self.columns:
            self.kg.setdefault(c, ZERO)
            self.m3.setdefault(c, ZERO)

    def t(self, column: str) -> Decimal:
        return kg_to_t(self.kg[column])

    @property
    def tank_code(self) -> str:
        return self.tank.code if self.tank else ""

    @property
    def product_code(self) -> str:
        return self.product.code if self.product else ""

    def add(self, other: "Line") -> None:
        for c in self.columns:
            self.kg[c] += other.kg[c]
            self.m3[c] += other.m3[c]

    def ties_out(self) -> bool:
        """Opening plus the flows (outs subtracted) equals closing, in kg and in m³."""
        for values in (self.kg, self.m3):
            total = values["opening"] + sum(-values[c] if c in self.out_columns else values[c]
                                            for c in self.columns[1:-1])
            if _q(total) != _q(values["closing"]):
                return False
        return True

    def values(self, unit: str) -> list[Decimal]:
        """The row's figures in ``unit`` ("t" or "m3"), one per column."""
        return [self.t(c) if unit == "t" else _q(self.m3[c]) for c in self.columns]


@dataclass
class DailyStockReport:
    customer: Customer
    day: date
    lines: list[Line]
    product_totals: list[Line]
    total: Line
    movements: list[StockMovement]
    generated_at: datetime

    @property
    def digest(self) -> str:
        """A digest of the figures (not of a file): equal figures give equal digests."""
        data = [[ln.tank_code, ln.product_code, ln.customs_status, [str(_q(ln.kg[c])) for c in COLUMNS],
                 [str(_q(ln.m3[c])) for c in COLUMNS]] for ln in self.lines]
        return hashlib.sha256(json.dumps(data, separators=(",", ":")).encode()).hexdigest()

    @property
    def filename(self) -> str:
        return f"daily-stock-report-{file_code(self.customer)}-{self.day.isoformat()}"


def build(customer: Customer, day: date, *, now: datetime | None = None) -> DailyStockReport:
    """The daily stock report of ``customer`` for local ``day``."""
    opening = {tuple(r[1:4]): (r.closing_kg, r.closing_m3) for r in closing_rows(day, before=True, customer_id=customer.id)}
    flows = {(r.tank_id, r.product_id, r.customs_status): r for r in db.session.scalars(
        select(StockDaily).where(StockDaily.customer_id == customer.id, StockDaily.day == day))}
    tanks = {t.id: t for t in db.session.scalars(select(Tank).where(Tank.id.in_({k[0] for k in opening} | {k[0] for k in flows})))}
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_({k[1] for k in opening} | {k[1] for k in flows})))}
    lines = []
    for key in set(opening) | set(flows):
        line = Line(tanks.get(key[0]), products.get(key[1]), key[2])
        open_kg, open_m3 = opening.get(key, (ZERO, ZERO))
        line.kg["opening"], line.m3["opening"] = _q(open_kg), _q(open_m3)
        row = flows.get(key)
        for c in KIND_COLUMNS:
            sign = -1 if c in OUT_COLUMNS else 1
            line.kg[c] = _q(sign * getattr(row, f"{c}_kg")) if row is not None else ZERO
            line.m3[c] = _q(sign * getattr(row, f"{c}_m3")) if row is not None else ZERO
        if row is not None:
            line.kg["closing"], line.m3["closing"] = _q(row.closing_kg), _q(row.closing_m3)
        else:
            line.kg["closing"], line.m3["closing"] = line.kg["opening"], line.m3["opening"]
        if any(line.kg[c] or line.m3[c] for c in COLUMNS):
            lines.append(line)
    lines.sort(key=lambda ln: (ln.tank_code, ln.product_code, ln.customs_status))
    by_product: dict[int | None, Line] = {}
    total = Line(None, None, "")
    for line in lines:
        pid = line.product.id if line.product else None
        by_product.setdefault(pid, Line(None, line.product, "")).add(line)
        total.add(line)
    movements = list(db.session.scalars(
        select(StockMovement).where(StockMovement.customer_id == customer.id, StockMovement.day == day)
        .options(selectinload(StockMovement.posting).selectinload(StockPosting.order),
                 selectinload(StockMovement.tank), selectinload(StockMovement.product),
                 selectinload(StockMovement.customer))
        .order_by(StockMovement.occurred_at, StockMovement.id)))
    return DailyStockReport(customer, day, lines, sorted(by_product.values(), key=lambda ln: ln.product_code), total,
                            movements, now or utcnow())


# ---------------------------------------------------------------------------------------- files

def _pdf_context(report: DailyStockReport, version: int | None = None) -> dict:
    return {"report": report, "columns": COLUMNS, "labels": COLUMN_BILINGUAL, "customs": CUSTOMS_BILINGUAL,
            "movement_labels": MOVEMENT_BILINGUAL, "version": version,
            "generated_at": fmt_datetime(report.generated_at), "lang": "zh-Hans"}


def render_pdf(report: DailyStockReport, version: int | None = None) -> bytes:
    return render_pdf_anywhere("operations/stock/pdf_daily_report.html", **_pdf_context(report, version))


def xlsx_sheets(report: DailyStockReport) -> list:
    header = ["油罐 Tank", "产品 Product", "海关状态 Customs status", "单位 Unit"] + [COLUMN_BILINGUAL[c] for c in COLUMNS]
    rows = []
    for line in report.lines:
        for unit in ("t", "m3"):
            rows.append([line.tank_code, line.product_code, CUSTOMS_BILINGUAL.get(line.customs_status, line.customs_status),
                         unit_label(unit)] + line.values(unit))
    for line in report.product_totals:
        for unit in ("t", "m3"):
            rows.append(["合计 Total", line.product_code, "", unit_label(unit)] + line.values(unit))
    facts = [["客户 Customer", report.customer.code, report.customer.name_zh, report.customer.name_en],
             ["日期 Date", report.day, "", ""],
             ["生成时间 Generated", report.generated_at, "", ""],
             ["数据摘要 Figures digest", report.digest, "", ""]]
    moves = [[to_local(m.occurred_at).replace(tzinfo=None), m.posting.order.number if m.posting.order else "",
              MOVEMENT_BILINGUAL.get(m.kind, m.kind), m.tank.code, m.product.code,
              CUSTOMS_BILINGUAL.get(m.customs_status, m.customs_status), kg_to_t(m.qty_kg), _q(m.qty_m3)]
             for m in report.movements]
    return [
        ("库存日报 Daily stock report", header, rows),
        ("作业 Movements", ["时间 Time", "订单 Order", "类型 Kind", "油罐 Tank", "产品 Product", "海关状态 Customs status",
                          "数量 t", "数量 m³ (20 °C)"], moves),
        ("报表 Report", ["项目 Item", "", "", ""], facts),
    ]


def unit_label(unit: str) -> str:
    """The bilingual heading of a unit ("t" or "m3") in the PDF and XLSX."""
    return "吨 t" if unit == "t" else "立方米 m³ (20 °C)"


def render_xlsx(report: DailyStockReport) -> bytes:
    return workbook_bytes(xlsx_sheets(report))


# ------------------------------------------------------------------------------ due, sent, store

def report_store() -> ContentStore:
    return ContentStore(str(current_app.config["ARCHIVE_DIR"]) + "/operations")


def read_sent(sent: DailyReport) -> bytes:
    with report_store().open(sent.sha256) as fh:
        return fh.read()


def due_at(customer: Customer, day: date) -> datetime | None:
    """When the report of ``day`` is due: the customer's agreed time on the next local day (aware UTC)."""
    if customer.daily_report_time is None:
        return None
    return from_local(datetime.combine(day + timedelta(days=1), customer.daily_report_time))


def sent_versions(customer: Customer, day: date) -> list[DailyReport]:
    return list(db.session.scalars(select(DailyReport).where(DailyReport.customer_id == customer.id,
                                                             DailyReport.day == day).order_by(DailyReport.version)))


def mark_sent(customer: Customer, day: date, user, *, recipients: list[str] | None = None,
              now: datetime | None = None) -> DailyReport:
    """Send (record as sent) the daily report: the exact PDF kept and filed, recipients and time recorded."""
    now = now or utcnow()
    if day >= to_local(now).date():
        raise StockError(_l("The report of a day is sent once the day is over."))
    recipients = [r.strip() for r in (customer.recipients if recipients is None else recipients) if r.strip()]
    if not recipients:
        raise StockError(_l("The customer has no report recipients: add them on the customer's record."),
                         field="recipients")
    previous = sent_versions(customer, day)
    version = len(previous) + 1
    report = build(customer, day, now=now)
    data = render_pdf(report, version)
    sha = report_store().put(data)
    filename = f"{report.filename}-v{version}.pdf"
    record = file_record(
        kind="daily_report", title=f"Daily stock report {customer.code} {day.isoformat()} / 库存日报",
        files=[(filename, data)], user=user, customer_id=customer.id, event_date=day,
        source_key=f"ops-daily-report:{customer.id}:{day.isoformat()}",
        description=f"Version {version}, sent to {', '.join(recipients)}",
    )
    sent = DailyReport(customer_id=customer.id, day=day, version=version, due_at=due_at(customer, day), sent_at=now,
                       sent_by_id=getattr(user, "id", None), recipients="\n".join(recipients), filename=filename,
                       sha256=sha, size=len(data), figures_digest=report.digest,
                       archive_record_id=getattr(record, "id", None))
    db.session.add(sent)
    db.session.flush()
    return sent


def report_dedupe_key(customer: Customer, day: date, version: int = 1) -> str:
    """The outbox key of a report's e-mail: one per customer and day (a later version has its own)."""
    key = f"daily-report:{customer.id}:{day.isoformat()}"
    return key if version == 1 else f"{key}:v{version}"


def send_report(customer: Customer, day: date, user, *, recipients: list[str] | None = None,
                now: datetime | None = None) -> tuple[DailyReport, list]:
    """Send the daily report: ``mark_sent`` records and files it, then one e-mail per recipient is queued.

    Each message is in its recipient's language (a customer contact's, else the portal's) with the exact PDF
    ``mark_sent`` kept and the XLSX of the same report attached; recipients who switched daily reports off
    are left out (and not recorded). Flushes only; the caller commits both together.
    """
    from ....outbox import Attachment, queue_message, recipient_of, with_contacts

    now = now or utcnow()
    addresses = [r.strip() for r in (customer.recipients if recipients is None else recipients) if r.strip()]
    contacts = list(customer.contacts)
    wanted = [a for a, r in zip(addresses, with_contacts(addresses, contacts))
              if "daily_report" not in recipient_of(r).notices_off]
    if addresses and not wanted:
        raise StockError(_l("Every recipient has switched daily stock reports off."), field="recipients")
    sent = mark_sent(customer, day, user, recipients=wanted, now=now)
    report = build(customer, day, now=now)
    attachments = [Attachment.archived(sent.filename, sent.sha256, store="archive", mimetype="application/pdf"),
                   Attachment.generated(f"{report.filename}-v{sent.version}.xlsx", render_xlsx(report),
                                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    queued = queue_message(with_contacts(sent.recipient_list, contacts), "daily_report",
                           {"customer": customer, "day": day, "report": report, "version": sent.version},
                           kind="daily_report", record=sent, user=user, attachments=attachments,
                           dedupe_key=report_dedupe_key(customer, day, sent.version))
    return sent, queued


@dataclass
class Status:
    customer: Customer
    day: date
    due_at: datetime | None
    sent: DailyReport | None
    changed: bool = False

    @property
    def state(self) -> str:
        if self.sent is not None:
            return "changed" if self.changed else "sent"
        if self.due_at is None:
            return "no_time"
        return "overdue" if utcnow() >= self.due_at else "due"


def state_labels() -> dict[str, str]:
    """The states' labels translated once for a page listing many reports."""
    return {key: str(label) for key, label in STATE_LABELS.items()}


STATE_LABELS = {"sent": _l("sent"), "changed": _l("sent, figures changed since"), "due": _l("due"),
                "overdue": _l("overdue"), "no_time": _l("no agreed time")}


def _with_stock(day: date, among=None):
    """The ids of the customers with book stock at the end of ``day`` or movements on it (a query); ``among``:
    a query of the customer ids to look at (each stock key costs a lookup of its latest daily row)."""
    d, b = _LATEST.c, _BAL.c
    # Each key's closing at the end of the day, not zero: its balance where nothing moved after the day (the
    # balance is the closing of its last day), else its latest daily row on or before the day (read from the
    # key's index; only keys that moved since, such as today's, for the usual day of yesterday).
    closing = case((b.last_day <= day, func.abs(b.kg) + func.abs(b.m3)),
                   else_=select(func.abs(d.closing_kg) + func.abs(d.closing_m3))
                   .where(d.customer_id == b.customer_id, d.tank_id == b.tank_id, d.product_id == b.product_id,
                          d.customs_status == b.customs_status, d.day <= day)
                   .order_by(d.day.desc()).limit(1).correlate(_BAL).scalar_subquery())
    held = select(b.customer_id).where(b.first_day <= day, closing != 0)
    moved = select(StockDaily.customer_id).where(StockDaily.day == day)
    if among is not None:
        held, moved = held.where(b.customer_id.in_(among)), moved.where(StockDaily.customer_id.in_(among))
    return union(held, moved)


def customers_with_stock(day: date, *, customer_ids=None, csr_id: int | None = None,
                         unsent_with_time: bool = False) -> list[Customer]:
    """Active customers with book stock at the end of ``day`` or movements on it (their report is due), by code.
    Narrowed to ``customer_ids``, to a CSR's customers, or (``unsent_with_time``) to those with an agreed time
    whose report of the day has not been sent."""
    among = select(Customer.id).where(Customer.active.is_(True))
    if customer_ids is not None:
        among = among.where(Customer.id.in_(list(customer_ids)))
    if csr_id is not None:
        among = among.where(Customer.csr_id == csr_id)
    if unsent_with_time:
        among = among.where(Customer.daily_report_time.isnot(None),
                            ~select(DailyReport.id).where(DailyReport.customer_id == Customer.id,
                                                          DailyReport.day == day).exists())
    query = select(Customer).where(Customer.id.in_(_with_stock(day, among)), Customer.id.in_(among))
    return list(db.session.scalars(query.order_by(Customer.code)))


def unsent_due(day: date, **filters) -> list["Status"]:
    """The reports of ``day`` with an agreed time not sent yet (``statuses`` of those, without reading reports)."""
    return [Status(c, day, due_at(c, day), None) for c in customers_with_stock(day, unsent_with_time=True, **filters)]


def statuses(day: date, customers=None, *, with_changes: bool = False) -> list[Status]:
    customers = customers_with_stock(day) if customers is None else customers
    latest = {}
    if customers:
        for sent in db.session.scalars(select(DailyReport).where(
                DailyReport.day == day, DailyReport.customer_id.in_([c.id for c in customers]))
                .order_by(DailyReport.version)):
            latest[sent.customer_id] = sent
    out = []
    for customer in customers:
        sent = latest.get(customer.id)
        status = Status(customer, day, due_at(customer, day), sent)
        if with_changes and sent is not None:
            status.changed = build(customer, day).digest != sent.figures_digest
        out.append(status)
    return out


def due_today(user, now: datetime | None = None) -> list[Status]:
    """Yesterday's reports not sent yet, due today or overdue (a CSR's own customers; managers all)."""
    now = now or utcnow()
    day = to_local(now).date() - timedelta(days=1)
    return unsent_due(day, csr_id=None if user.has_role("cs_manager", "admin") else user.id)
