"""Retention report: per series, records held, due this quarter, overdue, on hold; XLSX export."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale

from ...extensions import db
from ...xlsx import workbook_bytes
from . import services
from .models import ACTIVE, ArchiveRecord, Series, disposition_words, retention_words, trigger_words


@dataclass
class Row:
    series: Series
    total: int = 0
    due_quarter: int = 0
    overdue: int = 0
    on_hold: int = 0
    permanent: int = 0
    disposed: int = 0


def quarter_bounds(d: date) -> tuple[date, date]:
    start_month = 3 * ((d.month - 1) // 3) + 1
    start = date(d.year, start_month, 1)
    end = services.add_period(start, 3, "months")
    return start, date.fromordinal(end.toordinal() - 1)


def retention_report(as_of: date) -> tuple[list[Row], Row]:
    q_start, q_end = quarter_bounds(as_of)
    rows: dict[int, Row] = {s.id: Row(s) for s in db.session.scalars(db.select(Series).order_by(Series.code))}
    holds = services.HoldIndex()
    for record in db.session.scalars(db.select(ArchiveRecord)):
        row = rows.get(record.series_id)
        if row is None:
            continue
        if record.status != ACTIVE:
            row.disposed += 1
            continue
        row.total += 1
        held = bool(holds.holds_for(record))
        if held:
            row.on_hold += 1
        due = services.due_date(record)
        if due is None:
            if record.series.retention_kind == "permanent":
                row.permanent += 1
            continue
        if held:
            continue
        if due < as_of:
            row.overdue += 1
        if q_start <= due <= q_end:
            row.due_quarter += 1
    out = [r for r in rows.values() if r.total or r.disposed]
    totals = Row(Series(code="", title_en=""))
    for r in out:
        for key in ("total", "due_quarter", "overdue", "on_hold", "permanent", "disposed"):
            setattr(totals, key, getattr(totals, key) + getattr(r, key))
    return out, totals


REPORT_HEADER = ("Series / 类别", "Title", "标题", "Retention / 保管期限", "Trigger / 起算", "Disposition / 处置",
                 "Records / 在库", "Due this quarter / 本季到期", "Overdue / 逾期", "On hold / 冻结",
                 "Permanent / 永久", "Disposed / 已处置")


def _both(words, value) -> str:
    """A label in both languages ("the end of the fiscal year / 会计年度结束"), as the report's header is."""
    with force_locale("en"):
        en = words(value)
    with force_locale("zh_Hans"):
        zh = words(value)
    return en if en == zh else f"{en} / {zh}"


def retention_report_sheets(as_of: date) -> list[tuple[str, tuple, list]]:
    """The retention report as sheets for portal.xlsx (the one XLSX writer: text is never a formula)."""
    rows, totals = retention_report(as_of)
    body = []
    for r in rows:
        s = r.series
        body.append([s.code, s.title_en, s.title_zh, _both(retention_words, s), _both(trigger_words, s),
                     _both(disposition_words, s.disposition),
                     r.total, r.due_quarter, r.overdue, r.on_hold, r.permanent, r.disposed])
    body.append(["Total / 合计", "", "", "", "", "", totals.total, totals.due_quarter, totals.overdue, totals.on_hold,
                 totals.permanent, totals.disposed])
    return [(f"Retention {as_of.isoformat()}", REPORT_HEADER, body)]


def retention_report_xlsx(as_of: date) -> bytes:
    return workbook_bytes(retention_report_sheets(as_of))
