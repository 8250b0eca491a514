"""File plan import: CSV rows `series_code,series_title,retention,trigger,disposition,source` (plus optional
`title_zh`, `parent_code`, `description`) into Series. Rows that cannot be understood are reported, never guessed."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...extensions import db
from .models import (
    CALENDAR_YEAR_END, DESTROY, EVENT, FILED, FISCAL_YEAR_END, PERIOD, PERMANENT, RETAIN, REVIEW, TRANSFER,
    UNTIL_EVENT, Series,
)

REQUIRED_COLUMNS = ("series_code", "series_title", "retention", "trigger", "disposition", "source")
STARTER_PLAN = Path(__file__).resolve().parent / "data" / "starter_file_plan.csv"

_PERIOD_RE = re.compile(r"^\s*(\d{1,3})\s*(years?|months?|days?|年|个月|月|天|日)\s*$", re.IGNORECASE)
_UNITS = {"year": "years", "years": "years", "年": "years", "month": "months", "months": "months", "个月": "months",
          "月": "months", "day": "days", "days": "days", "天": "days", "日": "days"}
_CJK_PAIR_RE = re.compile(r"^(?P<zh>[^()（）]*[\u4e00-\u9fff][^()（）]*?)\s*[(（](?P<en>[^()（）]*[A-Za-z][^()（）]*)[)）]\s*$")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, code, reason)

    @property
    def loaded(self) -> int:
        return self.created + self.updated


@dataclass
class ParsedRule:
    retention_kind: str
    retention_amount: int | None
    retention_unit: str
    trigger: str
    trigger_label: str
    disposition: str


def parse_retention(text: str) -> tuple[str, int | None, str] | None:
    value = (text or "").strip()
    low = value.lower()
    if low in {"permanent", "永久", "permanently"}:
        return PERMANENT, None, "years"
    if low in {"until trigger event", "until transfer"}:
        return UNTIL_EVENT, 0, "years"
    match = _PERIOD_RE.match(value)
    if match:
        unit = _UNITS[match.group(2).lower()]
        return PERIOD, int(match.group(1)), unit
    return None


def parse_trigger(text: str) -> tuple[str, str] | None:
    """(trigger kind, label) or None when empty."""
    value = (text or "").strip()
    if not value:
        return None
    low = value.lower()
    if "fiscal year" in low or "会计年度" in value or "财政年度" in value:
        return FISCAL_YEAR_END, value
    if "calendar year" in low or "自然年" in value or "日历年" in value:
        return CALENDAR_YEAR_END, value
    if low in {"filed", "filing", "filed date", "creation", "created", "归档", "归档日期"}:
        return FILED, value
    return EVENT, value


def parse_disposition(text: str) -> str | None:
    value = (text or "").strip()
    low = value.lower()
    if not value:
        return None
    if "permanent" in low or "永久" in value:
        return RETAIN
    if "鉴定" in value or "apprais" in low or "review" in low:
        return REVIEW
    if "transfer" in low or "移交" in value:
        return TRANSFER
    if "destr" in low or "销毁" in value or "shred" in low:
        return DESTROY
    return None


def parse_rule(retention: str, trigger: str, disposition: str) -> ParsedRule | str:
    """The rule of one row, or the reason it cannot be understood."""
    ret = parse_retention(retention)
    if ret is None:
        return f"retention {retention!r} is not understood (expected 'N years', 'N months', 'N days', " \
               f"'Permanent' or 'Until trigger event')"
    kind, amount, unit = ret
    trig = parse_trigger(trigger)
    disp = parse_disposition(disposition)
    if kind == PERMANENT:
        return ParsedRule(PERMANENT, None, "years", trig[0] if trig else FILED, trig[1] if trig else "", RETAIN)
    if disp is None:
        return f"disposition {disposition!r} is not understood (expected destroy, transfer, review or permanent)"
    if disp == RETAIN:
        return f"disposition {disposition!r} is permanent but the retention is {retention!r}"
    if trig is None:
        if retention.strip().lower() == "until transfer":
            return ParsedRule(UNTIL_EVENT, 0, "years", EVENT, "transfer", disp)
        return f"retention {retention!r} has no trigger: the date it counts from is not given"
    return ParsedRule(kind, amount, unit, trig[0], trig[1], disp)


def split_title(title: str) -> tuple[str, str]:
    """'会计凭证 (Accounting vouchers)' -> ('Accounting vouchers', '会计凭证'); otherwise (title, '')."""
    match = _CJK_PAIR_RE.match(title.strip())
    if match:
        return match.group("en").strip(), match.group("zh").strip()
    return title.strip(), ""


def import_plan(source, *, plan_name: str = "") -> ImportResult:
    """Load a plan from a path or a text stream. Flushes; the caller commits."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        plan_name = plan_name or path.name
        text = path.read_text(encoding="utf-8-sig")
    else:
        text = source.read()
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        result.errors.append((1, "", f"missing columns: {', '.join(missing)}"))
        return result
    existing = {s.code: s for s in db.session.scalars(db.select(Series))}
    seen: set[str] = set()
    pending_parents: list[tuple[Series, str]] = []
    for line_no, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        code = row.get("series_code", "")
        title = row.get("series_title", "")
        if not code:
            result.errors.append((line_no, "", "no series code"))
            continue
        if len(code) > 40:
            result.errors.append((line_no, code[:40], "series code longer than 40 characters"))
            continue
        if code in seen:
            result.errors.append((line_no, code, "series code repeated in the file"))
            continue
        if not title:
            result.errors.append((line_no, code, "no series title"))
            continue
        rule = parse_rule(row.get("retention", ""), row.get("trigger", ""), row.get("disposition", ""))
        if isinstance(rule, str):
            result.errors.append((line_no, code, rule))
            continue
        seen.add(code)
        title_en, title_zh = split_title(title)
        if row.get("title_zh"):
            title_zh = row["title_zh"]
        series = existing.get(code)
        if series is None:
            series = Series(code=code)
            db.session.add(series)
            existing[code] = series
            result.created += 1
        else:
            result.updated += 1
        series.title_en = title_en[:300]
        series.title_zh = title_zh[:300]
        if "description" in row:
            series.description = row["description"]
        series.retention_kind = rule.retention_kind
        series.retention_amount = rule.retention_amount
        series.retention_unit = rule.retention_unit
        series.trigger = rule.trigger
        series.trigger_label = rule.trigger_label[:300]
        series.disposition = rule.disposition
        series.disposition_text = row.get("disposition", "")[:300]
        series.legal_basis = row.get("source", "")
        series.plan = plan_name[:80]
        series.active = True
        pending_parents.append((series, row.get("parent_code", "")))
    for series, parent_code in pending_parents:
        parent = existing.get(parent_code) if parent_code else _prefix_parent(series.code, existing)
        if parent_code and parent is None:
            result.errors.append((0, series.code, f"parent {parent_code!r} not found; filed at the top level"))
        if parent is not None and parent is not series:
            series.parent = parent
    db.session.flush()
    return result


def _prefix_parent(code: str, existing: dict[str, Series]) -> Series | None:
    """CS-03-02 -> CS-03 -> CS: the longest existing code that the code extends by '-segment'."""
    parts = code.split("-")
    while len(parts) > 1:
        parts = parts[:-1]
        candidate = existing.get("-".join(parts))
        if candidate is not None:
            return candidate
    return None


def ensure_starter_plan() -> None:
    """Load the shipped starter plan if it has never been loaded (idempotent)."""
    if db.session.scalar(db.select(Series.id).filter_by(plan=STARTER_PLAN.name).limit(1)) is None:
        import_plan(STARTER_PLAN)
