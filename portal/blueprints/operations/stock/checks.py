"""The morning stock check: physical stock per tank (entered, or imported from the terminal management
system's export) against book stock per tank at the end of the day; flagged over the product's
tolerance, a remark per flagged tank, signed and then locked.

The export's columns (CSV with a header row, or the first sheet of an XLSX):

| column | required | meaning |
|---|---|---|
| `tank` | yes | tank code as in the portal (e.g. T-204) |
| `standard_volume_m3` | yes | physical standard volume at 20 °C, m³ |
| `density_20` | no | density at 20 °C, kg/m³ (else the book's, else the product's typical density) |
| `mass_t` | no | physical mass in t (else volume x density) |
| `product` | no | product code; when given it must be the tank's product |
| `date` | no | YYYY-MM-DD; when given it must be the day checked |

Column names are matched without regard to case, spaces or a unit suffix in brackets. Any bad line
(unknown tank, text in a quantity, a tank twice, a wrong product or date) refuses the whole file with
every line's error; nothing is changed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ....extensions import db
from ....timeutil import local_today, utcnow
from ..models import Product, Tank
from .models import StockCheck, StockCheckLine
from .quantities import KG_PER_T, QuantityError, dec, density_of, percent, round_kg, round_m3
from .services import StockError, closing_rows, tank_book_on

DEFAULT_TOLERANCE = Decimal("0.300")
REQUIRED = ("tank", "standard_volume_m3")
OPTIONAL = ("density_20", "mass_t", "product", "date")


class ImportRejected(StockError):
    """The file was refused: ``errors`` lists (line number or None, message)."""

    def __init__(self, errors: list[tuple[int | None, object]]):
        super().__init__(_l("The file was not imported: %(count)s error(s).", count=len(errors)), field="file")
        self.errors = errors


@dataclass
class Entry:
    tank: Tank
    physical_m3: Decimal
    density_20: Decimal | None = None
    physical_kg: Decimal | None = None


# ------------------------------------------------------------------------------------- checks

def check_for(day: date) -> StockCheck | None:
    return db.session.scalar(select(StockCheck).where(StockCheck.day == day))


def open_check(day: date, user, *, today: date | None = None) -> StockCheck:
    """The check of ``day`` (created on first use); only a day that is over can be checked."""
    today = today or local_today()
    if day >= today:
        raise StockError(_l("Only a day that is over can be checked: its closing stock is the morning's figure."))
    check = check_for(day)
    if check is None:
        check = StockCheck(day=day, state="draft", checked_by_id=getattr(user, "id", None))
        db.session.add(check)
        db.session.flush()
    return check


def _ensure_open(check: StockCheck) -> None:
    if check.signed:
        raise StockError(_l("The check of %(day)s is signed and can no longer change.", day=check.day.isoformat()))


def _book_product(tank: Tank, day: date) -> Product | None:
    """The tank's product, else the product with the most book stock in it that day."""
    if tank.product is not None:
        return tank.product
    best = None
    for r in closing_rows(day, tank_id=tank.id):
        if best is None or r.closing_m3 > best.closing_m3:
            best = r
    return db.session.get(Product, best.product_id) if best is not None else None


def _figure(line: StockCheckLine, book: tuple[Decimal, Decimal]) -> None:
    """Book stock, difference and flag of a line (density: given, else the book's, else the product's)."""
    line.book_kg, line.book_m3 = book
    product = line.product
    density = line.density_20 or density_of(*book) or (product.density_typical if product else None)
    if line.physical_kg is None and density:
        line.physical_kg = round_kg(line.physical_m3 * density)
    line.diff_m3 = round_m3(line.physical_m3 - line.book_m3)
    line.diff_kg = round_kg(line.physical_kg - line.book_kg) if line.physical_kg is not None else None
    line.diff_pct = percent(line.diff_m3, line.book_m3)
    line.tolerance_pct = product.stock_tolerance_pct if product and product.stock_tolerance_pct is not None \
        else DEFAULT_TOLERANCE
    if line.diff_pct is None:
        line.flagged = line.diff_m3 != 0
    else:
        line.flagged = abs(line.diff_pct) > line.tolerance_pct


def save_entries(check: StockCheck, entries: list[Entry], user, *, source: str = "") -> list[StockCheckLine]:
    """Enter (or replace) the physical figures of tanks; book stock and differences are worked out."""
    _ensure_open(check)
    book = tank_book_on(check.day, {e.tank.id for e in entries})
    existing = {line.tank_id: line for line in check.lines}
    saved = []
    for entry in entries:
        entry.physical_m3 = round_m3(entry.physical_m3)
        if entry.physical_m3 < 0:
            raise StockError(_l("A physical stock cannot be negative (%(tank)s).", tank=entry.tank.code))
        product = _book_product(entry.tank, check.day)
        line = existing.get(entry.tank.id)
        if line is None:
            line = StockCheckLine(check=check, tank=entry.tank, remark="", physical_m3=entry.physical_m3)
            db.session.add(line)
        line.product = product
        line.physical_m3 = round_m3(entry.physical_m3)
        line.density_20 = entry.density_20
        line.physical_kg = round_kg(entry.physical_kg) if entry.physical_kg is not None else None
        line.entered_by_id = getattr(user, "id", None)
        line.entered_at = utcnow()
        _figure(line, book.get(entry.tank.id, (Decimal(0), Decimal(0))))
        saved.append(line)
    check.checked_by_id = getattr(user, "id", None)
    if source:
        check.source = source[:200]
    db.session.flush()
    return saved


def set_remark(line: StockCheckLine, remark: str, user) -> StockCheckLine:
    _ensure_open(line.check)
    line.remark = (remark or "").strip()
    db.session.flush()
    return line


def missing_tanks(check: StockCheck) -> list[Tank]:
    """Tanks with book stock at the end of the day and no physical figure in the check."""
    entered = {line.tank_id for line in check.lines}
    book = tank_book_on(check.day)
    ids = [t for t, (kg, m3) in book.items() if (kg or m3) and t not in entered]
    if not ids:
        return []
    return list(db.session.scalars(select(Tank).where(Tank.id.in_(ids)).order_by(Tank.code)))


def sign_check(check: StockCheck, user, *, now: datetime | None = None) -> StockCheck:
    """Sign the check: book figures worked out again, every flagged tank explained, every tank with
    stock counted. Signed, it is locked."""
    _ensure_open(check)
    if not check.lines:
        raise StockError(_l("Enter the physical stock of the tanks first."))
    book = tank_book_on(check.day)
    for line in check.lines:
        _figure(line, book.get(line.tank_id, (Decimal(0), Decimal(0))))
    missing = missing_tanks(check)
    if missing:
        raise StockError(_l("These tanks have book stock but no physical figure: %(tanks)s.",
                            tanks=", ".join(t.code for t in missing)))
    unexplained = [line.tank.code for line in check.lines if line.flagged and not line.remark.strip()]
    if unexplained:
        raise StockError(_l("Give a remark for every tank over its tolerance: %(tanks)s.", tanks=", ".join(unexplained)))
    check.state = "signed"
    check.signed_by_id = user.id
    check.signed_at = now or utcnow()
    db.session.flush()
    return check


# ------------------------------------------------------------------------------------- import

def _header_name(text) -> str:
    name = re.sub(r"[\(\[].*?[\)\]]", "", str(text or "")).strip().lower()
    return re.sub(r"[\s\-_]+", "_", name).strip("_")


def read_rows(filename: str, data: bytes) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header and (line number, {column: text}) of a CSV or XLSX (the register's one reader); column
    names without case, spaces or a bracketed unit."""
    from ..imports import ImportFailed, read_rows as read_table  # the register's reader (imports it at call time)

    try:
        header, rows = read_table(filename, data)
    except ImportFailed as exc:
        raise ImportRejected([(e.line, e.message) for e in exc.errors]) from exc
    names = {h: _header_name(h) for h in header}
    return ([names[h] for h in header],
            [(line, {names.get(k, k): v for k, v in values.items()}) for line, values in rows])


def parse_export(check: StockCheck, filename: str, data: bytes) -> list[Entry]:
    """The entries of a terminal management system export, or ImportRejected with every line's error."""
    header, rows = read_rows(filename, data)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportRejected([(1, _l("Missing column(s): %(columns)s. Expected: %(expected)s.",
                                     columns=", ".join(missing), expected=", ".join(REQUIRED + OPTIONAL)))])
    unknown = [c for c in header if c and c not in REQUIRED + OPTIONAL]
    if unknown:
        raise ImportRejected([(1, _l("Unknown column(s): %(columns)s.", columns=", ".join(unknown)))])
    tanks = {t.code.upper(): t for t in db.session.scalars(select(Tank))}
    errors: list[tuple[int | None, object]] = []
    seen: dict[int, int] = {}
    entries = []
    for number, values in rows:
        tank = tanks.get(values.get("tank", "").upper())
        if tank is None:
            errors.append((number, _l("Unknown tank %(value)s.", value=values.get("tank", ""))))
            continue
        if tank.id in seen:
            errors.append((number, _l("Tank %(tank)s is already on line %(line)s.", tank=tank.code, line=seen[tank.id])))
            continue
        seen[tank.id] = number
        numbers = {}
        for column in ("standard_volume_m3", "density_20", "mass_t"):
            raw = values.get(column, "").replace(",", "")
            if not raw and column != "standard_volume_m3":
                numbers[column] = None
                continue
            try:
                numbers[column] = dec(raw)
            except QuantityError:
                errors.append((number, _l("%(column)s is not a number: %(value)s.", column=column,
                                          value=values.get(column, ""))))
                break
            if numbers[column] < 0 or (column == "density_20" and numbers[column] == 0):
                errors.append((number, _l("%(column)s must be positive: %(value)s.", column=column, value=raw)))
                break
        else:
            product = values.get("product", "")
            if product and (tank.product is None or tank.product.code.upper() != product.upper()):
                errors.append((number, _l("Tank %(tank)s does not hold product %(value)s.", tank=tank.code, value=product)))
                continue
            when = values.get("date", "")[:10]
            if when and when != check.day.isoformat():
                errors.append((number, _l("The date %(value)s is not the day checked (%(day)s).", value=when,
                                          day=check.day.isoformat())))
                continue
            mass = numbers["mass_t"]
            entries.append(Entry(tank, numbers["standard_volume_m3"], numbers["density_20"],
                                 mass * KG_PER_T if mass is not None else None))
    if errors:
        raise ImportRejected(errors)
    if not entries:
        raise ImportRejected([(None, _l("The file has no tank lines."))])
    return entries


def import_export(check: StockCheck, filename: str, data: bytes, user) -> list[StockCheckLine]:
    """Import the export into the check: all lines or none."""
    _ensure_open(check)
    entries = parse_export(check, filename, data)
    return save_entries(check, entries, user, source=filename)
