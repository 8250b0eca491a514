"""Import of products, tanks and leases from CSV or XLSX: every row checked first, line by line; one error
and nothing is imported.

Columns (first row, names as below, any order; `*` required):
- products: code*, name_en*, name_zh, product_class*, vcf_group, un_number, hazard_class, density_min*,
  density_max* (kg/m³ at 20 °C), compatibility_group, stock_tolerance_pct
- tanks: code*, area*, nominal_m3*, safe_fill_m3*, heated, bonded (yes/no), product_code, status, notes
- leases: tank_code*, customer_code*, starts_on* (YYYY-MM-DD), ends_on, contract_number

An existing product or tank (same code) is updated; a lease is always new.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import User
from ...services import ServiceError
from ...uploads import check_upload
from ..customers.models import Customer
from . import services
from .models import PRODUCT_CLASSES, TANK_STATUSES, Contract, Product, Tank

MAX_ROWS = 5000

COLUMNS = {
    "products": (("code", "name_en", "product_class", "density_min", "density_max"),
                 ("name_zh", "vcf_group", "un_number", "hazard_class", "compatibility_group", "stock_tolerance_pct")),
    "tanks": (("code", "area", "nominal_m3", "safe_fill_m3"), ("heated", "bonded", "product_code", "status", "notes")),
    "leases": (("tank_code", "customer_code", "starts_on"), ("ends_on", "contract_number")),
}
YES = {"yes", "y", "true", "1", "x", "是"}
NO = {"no", "n", "false", "0", "", "否"}


@dataclass
class LineError:
    line: int
    message: object

    def __str__(self) -> str:
        return str(_l("Line %(line)s: %(message)s", line=self.line, message=str(self.message)))


class ImportFailed(ServiceError):
    def __init__(self, errors: list[LineError]):
        super().__init__(_l("Nothing was imported: %(count)s problem(s) in the file.", count=len(errors)))
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rows: list = field(default_factory=list)


# ------------------------------------------------------------------------------------------ reading

def read_rows(filename: str, data: bytes) -> tuple[list[str], list[tuple[int, dict]]]:
    """(header, [(line number, {column: text})]) of a CSV or XLSX file; blank rows are skipped."""
    _name, mimetype = check_upload(filename, data)
    if mimetype.endswith("spreadsheetml.sheet"):
        table = _xlsx_rows(data)
    elif mimetype in ("text/csv", "text/plain"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030", errors="replace")
        table = list(enumerate(csv.reader(io.StringIO(text)), start=1))
    else:
        raise ServiceError(_l("Give a CSV or XLSX file."), field="file")
    if not table:
        raise ImportFailed([LineError(1, _l("The file is empty."))])
    header = [(h or "").strip().lower().replace(" ", "_") for h in table[0][1]]
    rows = []
    for line, cells in table[1:]:
        if len(rows) >= MAX_ROWS:
            raise ImportFailed([LineError(line, _l("More than %(n)s rows: split the file.", n=MAX_ROWS))])
        values = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
        values = {k: ("" if v is None else str(v)).strip() for k, v in values.items()}
        if any(values.values()):
            rows.append((line, values))
    return header, rows


def _xlsx_rows(data: bytes) -> list[tuple[int, list]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        out = []
        for line, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if line > MAX_ROWS + 1:
                break
            out.append((line, [_cell_text(v) for v in row]))
        return out
    finally:
        wb.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value).rstrip("0").rstrip(".") if "." in repr(value) else repr(value)
    return str(value)


# --------------------------------------------------------------------------------------- conversions

class _Bad(Exception):
    def __init__(self, message):
        self.message = message


def _decimal(values: dict, key: str, required: bool = True) -> Decimal | None:
    text = values.get(key, "").replace(",", "")
    if not text:
        if required:
            raise _Bad(_l("%(column)s is empty.", column=key))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Bad(_l("%(column)s is not a number: “%(value)s”.", column=key, value=values.get(key))) from None
    if not value.is_finite() or value < 0:
        raise _Bad(_l("%(column)s is not a number: “%(value)s”.", column=key, value=values.get(key)))
    return value


def _bool(values: dict, key: str) -> bool:
    text = values.get(key, "").lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise _Bad(_l("%(column)s must be yes or no: “%(value)s”.", column=key, value=values.get(key)))


def _date(values: dict, key: str, required: bool = True) -> date | None:
    text = values.get(key, "")
    if not text:
        if required:
            raise _Bad(_l("%(column)s is empty.", column=key))
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise _Bad(_l("%(column)s is not a date (YYYY-MM-DD): “%(value)s”.", column=key, value=text)) from None


def _required(values: dict, key: str) -> str:
    if not values.get(key):
        raise _Bad(_l("%(column)s is empty.", column=key))
    return values[key]


# ------------------------------------------------------------------------------------------ parsing

def _product(values: dict) -> dict:
    code = _required(values, "code").upper()
    product_class = _required(values, "product_class").lower().replace(" ", "_")
    if product_class not in PRODUCT_CLASSES:
        raise _Bad(_l("Unknown product class “%(value)s”: one of %(choices)s.", value=values["product_class"],
                      choices=", ".join(PRODUCT_CLASSES)))
    out = {"code": code, "name_en": _required(values, "name_en"), "name_zh": values.get("name_zh", ""),
           "product_class": product_class, "vcf_group": values.get("vcf_group", ""),
           "un_number": values.get("un_number", ""), "hazard_class": values.get("hazard_class", ""),
           "density_min": _decimal(values, "density_min"), "density_max": _decimal(values, "density_max"),
           "compatibility_group": values.get("compatibility_group", "")}
    tolerance = _decimal(values, "stock_tolerance_pct", required=False)
    if tolerance is not None:
        out["stock_tolerance_pct"] = tolerance
    if out["density_min"] > out["density_max"]:
        raise _Bad(_l("The lowest density is above the highest."))
    return out


def _tank(values: dict, products: dict[str, Product]) -> dict:
    out = {"code": _required(values, "code").upper(), "area": _required(values, "area"),
           "nominal_m3": _decimal(values, "nominal_m3"), "safe_fill_m3": _decimal(values, "safe_fill_m3"),
           "heated": _bool(values, "heated"), "bonded": _bool(values, "bonded"), "notes": values.get("notes", "")}
    status = values.get("status", "").lower().replace(" ", "_") or "in_service"
    if status not in TANK_STATUSES:
        raise _Bad(_l("Unknown tank status “%(value)s”: one of %(choices)s.", value=values["status"],
                      choices=", ".join(TANK_STATUSES)))
    out["status"] = status
    code = values.get("product_code", "").upper()
    if code:
        if code not in products:
            raise _Bad(_l("Unknown product %(code)s.", code=code))
        out["product_id"] = products[code].id
    else:
        out["product_id"] = None
    if out["safe_fill_m3"] > out["nominal_m3"]:
        raise _Bad(_l("The safe fill cannot exceed the nominal capacity."))
    return out


# ------------------------------------------------------------------------------------------- import

def import_file(what: str, filename: str, data: bytes, user: User) -> ImportResult:
    """Check every row, then apply them all; any problem raises ImportFailed listing each line, and
    nothing is changed (the caller rolls back)."""
    header, rows = read_rows(filename, data)
    required, optional = COLUMNS[what]
    errors: list[LineError] = []
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c and c not in required + optional]
    if missing:
        errors.append(LineError(1, _l("Missing column(s): %(columns)s.", columns=", ".join(missing))))
    if unknown:
        errors.append(LineError(1, _l("Unknown column(s): %(columns)s. Expected: %(expected)s.",
                                      columns=", ".join(unknown), expected=", ".join(required + optional))))
    if errors:
        raise ImportFailed(errors)
    if not rows:
        raise ImportFailed([LineError(2, _l("The file has no rows."))])
    parsed = []
    seen: dict[object, int] = {}
    products = {p.code: p for p in db.session.scalars(db.select(Product))}
    tanks = {t.code: t for t in db.session.scalars(db.select(Tank))}
    customers = {c.code: c for c in db.session.scalars(db.select(Customer))}
    contracts = {c.number: c for c in db.session.scalars(db.select(Contract))}
    for line, values in rows:
        try:
            if what == "products":
                item = _product(values)
                key = item["code"]
            elif what == "tanks":
                item = _tank(values, products)
                key = item["code"]
            else:
                item, key = _lease(values, tanks, customers, contracts)
        except _Bad as bad:
            errors.append(LineError(line, bad.message))
            continue
        if key in seen:
            errors.append(LineError(line, _l("Duplicate of line %(line)s.", line=seen[key])))
            continue
        seen[key] = line
        parsed.append((line, item))
    if errors:
        raise ImportFailed(errors)
    result = ImportResult()
    for line, item in parsed:
        try:
            if what == "products":
                existing = products.get(item["code"])
                services.save_product(item, existing, user)
            elif what == "tanks":
                existing = tanks.get(item["code"])
                services.save_tank(item, existing, user)
            else:
                existing = None
                services.add_lease(item.pop("tank"), user=user, **item)
        except ServiceError as exc:
            errors.append(LineError(line, exc.message if hasattr(exc, "message") else str(exc)))
            continue
        if existing is None:
            result.created += 1
        else:
            result.updated += 1
    if errors:
        raise ImportFailed(errors)
    return result


def _lease(values: dict, tanks, customers, contracts) -> tuple[dict, tuple]:
    tank_code = _required(values, "tank_code").upper()
    customer_code = _required(values, "customer_code").upper()
    if tank_code not in tanks:
        raise _Bad(_l("Unknown tank %(code)s.", code=tank_code))
    if customer_code not in customers:
        raise _Bad(_l("Unknown customer %(code)s.", code=customer_code))
    starts_on = _date(values, "starts_on")
    ends_on = _date(values, "ends_on", required=False)
    if ends_on is not None and ends_on < starts_on:
        raise _Bad(_l("The lease ends before it starts."))
    contract_id = None
    number = values.get("contract_number", "")
    if number:
        contract = contracts.get(number)
        if contract is None:
            raise _Bad(_l("Unknown contract %(number)s.", number=number))
        if contract.customer_id != customers[customer_code].id:
            raise _Bad(_l("The contract is not this customer's."))
        contract_id = contract.id
    item = {"tank": tanks[tank_code], "customer_id": customers[customer_code].id, "starts_on": starts_on,
            "ends_on": ends_on, "contract_id": contract_id}
    return item, (tank_code, customer_code, starts_on, ends_on)
