"""The customs statement of one customer for a period: per tank, product and customs status the opening
stock, what came in, what customs released, what changed owner, what was delivered and the closing stock
(opening + in - out = closing), with the customs entries of the period. Bilingual PDF and XLSX."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....pdf import render_pdf_anywhere
from ....i18n import fmt_datetime
from ....timeutil import to_local, utcnow
from ....xlsx import workbook_bytes
from ...customers.models import Customer
from ..models import Product, Tank
from ..stock.models import StockMovement
from ..stock.quantities import ZERO, kg_to_t
from ..stock.reports import CUSTOMS_BILINGUAL, file_code, unit_label
from ..stock.reports import Line as StockLine
from ..stock.services import _q, closing_rows
from .models import KIND_BILINGUAL, STATUS_BILINGUAL, CustomsEntry

COLUMNS = ("opening", "receipt", "customs_out", "customs_in", "ownership_in", "ownership_out", "delivery", "other",
           "closing")
OUT_COLUMNS = frozenset({"customs_out", "ownership_out", "delivery"})
KIND_TO_COLUMN = {"receipt": "receipt", "delivery": "delivery", "customs_out": "customs_out",
                  "customs_in": "customs_in", "ownership_in": "ownership_in", "ownership_out": "ownership_out"}
COLUMN_LABELS = {
    "opening": _l("Opening"),
    "receipt": _l("Receipts"),
    "customs_out": _l("Released out of bond"),
    "customs_in": _l("Released duty-paid"),
    "ownership_in": _l("Ownership in"),
    "ownership_out": _l("Ownership out"),
    "delivery": _l("Deliveries"),
    "other": _l("Tank transfers and adjustments"),
    "closing": _l("Closing"),
}
COLUMN_BILINGUAL = {
    "opening": "期初 Opening",
    "receipt": "入库 Receipts",
    "customs_out": "放行转出 Released out of bond",
    "customs_in": "放行转入 Released duty-paid",
    "ownership_in": "货权转入 Ownership in",
    "ownership_out": "货权转出 Ownership out",
    "delivery": "出库 Deliveries",
    "other": "倒罐及损溢 Tank transfers and adjustments",
    "closing": "期末 Closing",
}


class Line(StockLine):
    """One row of the statement: the daily report's row over the statement's columns."""

    columns = COLUMNS
    out_columns = OUT_COLUMNS


@dataclass
class Statement:
    customer: Customer
    start: date
    end: date
    lines: list[Line]
    status_totals: list[Line]
    entries: list[CustomsEntry]
    generated_at: datetime

    @property
    def ties_out(self) -> bool:
        return all(line.ties_out() for line in self.lines + self.status_totals)

    @property
    def filename(self) -> str:
        return f"customs-statement-{file_code(self.customer)}-{self.start.isoformat()}-{self.end.isoformat()}"

    @property
    def digest(self) -> str:
        data = [[ln.tank_code, ln.product_code, ln.customs_status, [str(_q(ln.kg[c])) for c in COLUMNS]]
                for ln in self.lines]
        return hashlib.sha256(json.dumps(data, separators=(",", ":")).encode()).hexdigest()[:16]


def build(customer: Customer, start: date, end: date, *, now: datetime | None = None) -> Statement:
    """The customs statement of ``customer`` from the start of local day ``start`` to the end of ``end``."""
    opening = {tuple(r[1:4]): (r.closing_kg, r.closing_m3)
               for r in closing_rows(start, before=True, customer_id=customer.id)}
    closing = {tuple(r[1:4]): (r.closing_kg, r.closing_m3) for r in closing_rows(end, customer_id=customer.id)}
    m = StockMovement
    flows = list(db.session.execute(
        select(m.tank_id, m.product_id, m.customs_status, m.kind, func.sum(m.qty_kg), func.sum(m.qty_m3))
        .where(m.customer_id == customer.id, m.day >= start, m.day <= end)
        .group_by(m.tank_id, m.product_id, m.customs_status, m.kind)))
    keys = set(opening) | set(closing) | {tuple(r[:3]) for r in flows}
    tanks = {t.id: t for t in db.session.scalars(select(Tank).where(Tank.id.in_({k[0] for k in keys})))} if keys else {}
    products = ({p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_({k[1] for k in keys})))}
                if keys else {})
    lines: dict[tuple, Line] = {}
    for key in keys:
        line = lines[key] = Line(tanks.get(key[0]), products.get(key[1]), key[2])
        line.kg["opening"], line.m3["opening"] = (_q(v) for v in opening.get(key, (ZERO, ZERO)))
        line.kg["closing"], line.m3["closing"] = (_q(v) for v in closing.get(key, (ZERO, ZERO)))
    for tank_id, product_id, status, kind, kg, m3 in flows:
        line = lines[(tank_id, product_id, status)]
        column = KIND_TO_COLUMN.get(kind, "other")
        sign = -1 if column in OUT_COLUMNS else 1
        line.kg[column] = _q(line.kg[column] + sign * (kg or ZERO))
        line.m3[column] = _q(line.m3[column] + sign * (m3 or ZERO))
    shown = [ln for ln in lines.values() if any(ln.kg[c] or ln.m3[c] for c in COLUMNS)]
    shown.sort(key=lambda ln: (ln.customs_status, ln.tank_code, ln.product_code))
    totals = {s: Line(None, None, s) for s in ("bonded", "duty_paid")}
    for line in shown:
        totals[line.customs_status].add(line)
    entries = list(db.session.scalars(
        select(CustomsEntry)
        .where(or_(CustomsEntry.customer_id == customer.id, CustomsEntry.to_customer_id == customer.id),
               CustomsEntry.lodged_on <= end,
               or_(CustomsEntry.lodged_on >= start, CustomsEntry.status != "closed", CustomsEntry.closed_on >= start))
        .options(selectinload(CustomsEntry.tank), selectinload(CustomsEntry.product), selectinload(CustomsEntry.order))
        .order_by(CustomsEntry.lodged_on, CustomsEntry.id)))
    return Statement(customer, start, end, shown, list(totals.values()), entries, now or utcnow())


# ---------------------------------------------------------------------------------------- files

def render_pdf(statement: Statement) -> bytes:
    return render_pdf_anywhere(
        "operations/customs/pdf_statement.html", s=statement, columns=COLUMNS, labels=COLUMN_BILINGUAL,
        customs=CUSTOMS_BILINGUAL, kinds=KIND_BILINGUAL, statuses=STATUS_BILINGUAL,
        generated_at=fmt_datetime(statement.generated_at), lang="zh-Hans")


def xlsx_sheets(statement: Statement) -> list:
    header = ["海关状态 Customs status", "油罐 Tank", "产品 Product", "单位 Unit"] + [COLUMN_BILINGUAL[c] for c in COLUMNS]
    rows = []
    for line in statement.lines:
        for unit in ("t", "m3"):
            rows.append([CUSTOMS_BILINGUAL.get(line.customs_status, line.customs_status), line.tank_code,
                         line.product_code, unit_label(unit)] + line.values(unit))
    for line in statement.status_totals:
        for unit in ("t", "m3"):
            rows.append([CUSTOMS_BILINGUAL[line.customs_status], "合计 Total", "", unit_label(unit)] + line.values(unit))
    entries = [[e.declaration_no, KIND_BILINGUAL.get(e.kind, e.kind), STATUS_BILINGUAL.get(e.status, e.status),
                e.order.number if e.order else "", e.tank.code, e.product.code, e.quantity, e.unit,
                kg_to_t(e.qty_kg), _q(e.qty_m3), e.lodged_on,
                to_local(e.released_at).replace(tzinfo=None) if e.released_at else None, e.closed_on]
               for e in statement.entries]
    c = statement.customer
    facts = [["客户 Customer", c.code, c.name_zh, c.name_en],
             ["期间 Period", statement.start, statement.end, ""],
             ["生成时间 Generated", statement.generated_at, "", ""]]
    return [
        ("海关对账单 Customs statement", header, rows),
        ("报关单 Customs entries", ["报关单号 Declaration", "类型 Kind", "状态 Status", "订单 Order", "油罐 Tank",
                                  "产品 Product", "数量 Quantity", "单位 Unit", "t", "m³ (20 °C)", "申报 Lodged",
                                  "放行 Released", "结关 Closed"], entries),
        ("报表 Report", ["项目 Item", "", "", ""], facts),
    ]


def render_xlsx(statement: Statement) -> bytes:
    return workbook_bytes(xlsx_sheets(statement))
