"""Grow a portal's data: its records copied N times, each copy moved back in time so the
copies spread over the years. Two shapes:

- ``--shape records`` (the default): one terminal's years. The records (orders, stock, complaints, inquiries,
  meetings, archived files...) are copied; the master data they are kept against (staff, customers and their
  contacts, tanks and their leases and calibration tables, products, berths, vessels, contracts, the glossary, the
  questionnaire) is not, so five years of records are five years of the same tanks, customers and staff.
- ``--shape departments``: every row copied, master data included, as if N more departments had done the same
  work, each with its own staff, customers and tanks (the shape of the README's figures measured before 2 December
  2026, 16:40 UTC).

    python bench/grow.py --copies 40 --spread-days 1825        # PORTAL_* environment, as `flask` reads it
    python bench/grow.py --database-url postgresql+psycopg:///portal_bench --complaints 5000

Copies are made table by table from the models' metadata (never a hand-kept list, so a new module's
tables grow too): integer keys and foreign keys are moved by a fixed offset per copy (a copied complaint
points at the copied customer, its copied actions at it), unique text gets a suffix (``SINOCHEM-3``,
``csr-3``; a table whose unique key has neither, such as one morning check per day, is left alone with
the tables pointing at it), dates and times move back by ``copy * spread / copies`` days. Roles, departments and the
archive's file plan are reference data and are not copied. Archived files are shared by their copies (the store is content
addressed). The search index is not touched: run `flask search rebuild` afterwards.

Keys pointing at rows that are not copied are kept. In the records shape a unique key over master data and a date
(one stock line a customer, tank and day; one billing run a customer and month) is told apart by its date when the
originals' dates span less than the days between two copies; otherwise the table is left alone with the tables
pointing at it (a running balance of a customer's tank), and the script names them.

``grow(engine, metadata, copies)`` is what the script calls; tests/test_queries.py calls it too.
"""
from __future__ import annotations

import argparse
import math
import sys
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, func, insert, select, text

# Reference data (roles and departments the code names, the archive's file plan): never copied, and keys
# pointing at them are kept (five years of records are filed in the same plan).
SHARED = frozenset({"role", "department", "archive_series"})
# Master data: what a terminal's records are kept against, the same through the years (the records shape).
MASTER = SHARED | frozenset({
    "user", "user_role", "customer", "customer_contact", "cs_review_cadence", "dept_portfolio_assignment",
    "ops_tank", "ops_tank_lease", "ops_product", "ops_berth", "ops_berth_product", "ops_vessel", "ops_contract",
    "ops_rate_item", "ops_application_type", "ops_measure_calibration", "ops_measure_calibration_fraction",
    "ops_measure_calibration_point", "ops_measure_tank", "ops_measure_product",
    "kb_glossary_entry", "kb_authority", "kb_permit", "kb_training_plan", "kb_training_step", "kb_quiz_question",
    "sv_questionnaire", "sv_version", "sv_section", "sv_question",
})
SHAPES = {"records": MASTER, "departments": SHARED}
# Far above any id of a real installation; copy k of row id n gets id n + k * OFFSET (ids stay 32-bit).
OFFSET = 1_000_000
BATCH = 500


class _Plan:
    """What a copy moves, suffixes and leaves alone, for one shape: ``shared`` tables are not copied (keys pointing at
    them are kept); ``safe_dates`` are the date columns of unique keys whose originals span less than two copies are
    apart (they tell the copies apart by themselves). With ``master`` (the records shape) a unique key over master data
    is never told apart by a suffix: ``customs_status`` of one customer's tank is a state, not a name."""

    def __init__(self, shared: frozenset, safe_dates: frozenset = frozenset(), master: bool = False):
        self.shared, self.safe_dates, self.master = shared, safe_dates, master

    def moved(self, table) -> set[str]:
        """Integer keys and integer foreign keys to copied tables: moved by the copy's offset."""
        moved = set()
        for column in table.columns:
            if not isinstance(column.type, Integer):
                continue
            if column.primary_key and not column.foreign_keys:
                moved.add(column.name)
            elif any(fk.column.table.name not in self.shared for fk in column.foreign_keys):
                moved.add(column.name)
        return moved

    def apart(self, table, cols: set[str]) -> bool:
        """Whether copies of a unique key's rows differ without a suffix (a moved key, or a date far enough back)."""
        return bool(cols & self.moved(table)) or any((table.name, n) in self.safe_dates for n in cols)

    def unique_text(self, table) -> set[str]:
        """Text columns of unique keys that nothing else tells apart: these get the copy's suffix."""
        return {n for cols in _unique_sets(table) if not self.apart(table, cols) and not self._over_master(table, cols)
                for n in cols if _is_text(table.c[n])}

    def _over_master(self, table, cols: set[str]) -> bool:
        return self.master and any(fk.column.table.name in self.shared for n in cols for fk in table.c[n].foreign_keys)

    def uncopyable(self, tables) -> set:
        """Tables a copy would collide in (a unique key of neither moved keys, dates far enough back nor text, such
        as a running balance per customer and tank), and every copied table pointing at them: left alone."""
        out = {t for t in tables if any(not (self.apart(t, cols) or cols & self.unique_text(t))
                                        for cols in _unique_sets(t))}
        grew = True
        while grew:
            grew = False
            for t in tables:
                if t not in out and any(fk.column.table in out for c in t.columns for fk in c.foreign_keys):
                    out.add(t)
                    grew = True
        return out


def _suffixed(column, value: str, k: int) -> str:
    suffix = f"-{k}"
    length = getattr(column.type, "length", None)
    return (value[:length - len(suffix)] if length else value) + suffix


def _unique_sets(table) -> list[set[str]]:
    sets = [{c.name} for c in table.columns if c.unique and not c.primary_key]
    sets += [{c.name for c in k.columns} for k in table.constraints if k.__class__.__name__ == "UniqueConstraint"]
    sets += [{c.name for c in i.columns} for i in table.indexes if i.unique]
    return sets


def _is_text(column) -> bool:
    return _python_type(column) is str


def _safe_dates(connection, tables, plan: _Plan, step_days: int) -> frozenset:
    """Date columns of unique keys (not told apart otherwise) whose original rows span fewer days than ``step_days``."""
    safe = set()
    for table in tables:
        for cols in _unique_sets(table):
            if plan.apart(table, cols):
                continue
            for name in cols:
                if _python_type(table.c[name]) not in (date, datetime):
                    continue
                low, high = connection.execute(select(func.min(table.c[name]), func.max(table.c[name]))).one()
                if low is None or (high - low).days < step_days:
                    safe.add((table.name, name))
    return frozenset(safe)


def _move_time(value, days: float):
    if not days or value is None:
        return value
    if isinstance(value, datetime):
        return value - timedelta(days=days)
    if isinstance(value, date):
        return value - timedelta(days=round(days))
    return value


def grow(connection, metadata, copies: int, *, first: int = 1, spread_days: float = 0.0,
         shape: str = "departments") -> dict:
    """Add copies ``first`` .. ``first + copies - 1`` of every row present now (of the records only, master data
    shared, with ``shape="records"``); returns rows per table after, and the tables left alone as ``left_alone``."""
    shared = SHAPES[shape]
    tables = [t for t in metadata.sorted_tables if t.name not in shared]
    master = shape == "records"
    plan = _Plan(shared, master=master)
    if master and spread_days and copies:
        plan = _Plan(shared, _safe_dates(connection, tables, plan, math.floor(spread_days / (first + copies - 1))),
                     master=master)
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    elif dialect == "postgresql":
        connection.execute(text("SET session_replication_role = replica"))  # foreign keys checked at the end
    originals = {}
    skipped = plan.uncopyable(tables)
    for table in tables:
        moved = plan.moved(table)
        if not moved or table in skipped:
            continue  # no integer key of its own (nothing this copier can tell apart): left alone
        originals[table] = [dict(row._mapping) for row in connection.execute(select(table).where(
            *[table.c[name] < OFFSET for name in moved if table.c[name].primary_key]))]
    for k in range(first, first + copies):
        days = spread_days * k / (first + copies - 1) if spread_days else 0.0
        for table, rows in originals.items():
            moved, unique = plan.moved(table), plan.unique_text(table)
            dated = {c.name for c in table.columns if _python_type(c) in (date, datetime)}
            batch = []
            for row in rows:
                new = dict(row)
                for name in moved:
                    if new[name] is not None:
                        new[name] = new[name] + k * OFFSET
                for name in unique:
                    if new[name] is not None:
                        new[name] = _suffixed(table.c[name], new[name], k)
                for name in dated:
                    new[name] = _move_time(new[name], days)
                batch.append(new)
                if len(batch) >= BATCH:
                    connection.execute(insert(table), batch)
                    batch = []
            if batch:
                connection.execute(insert(table), batch)
    if dialect == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    elif dialect == "postgresql":
        connection.execute(text("SET session_replication_role = DEFAULT"))
        for table in tables:
            for column in table.primary_key.columns:
                if isinstance(column.type, Integer) and column.autoincrement is not False and len(
                        table.primary_key.columns) == 1:
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
                        f"(SELECT COALESCE(MAX(\"{column.name}\"), 1) FROM \"{table.name}\"))"))
    counts = {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
    counts["left_alone"] = sorted(t.name for t in tables if t not in originals)
    return counts


def _python_type(column):
    """The Python type a column holds; a TypeDecorator's (the portal's UTCDateTime) is its underlying type's, as a
    TypeDecorator itself answers ``object``."""
    kind = getattr(column.type, "impl_instance", column.type)
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: the portal's own (PORTAL_DATABASE_URL or instance/portal.db)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--copies", type=int, help="copies of today's records to add")
    group.add_argument("--complaints", type=int,
                       help="grow until complaints and inquiries together number about this many")
    parser.add_argument("--spread-days", type=float, default=5 * 365,
                        help="the oldest copy is this many days older than today's records (default five years)")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="records",
                        help="records: one terminal's years over the same master data (default); departments: "
                             "master data copied too")
    args = parser.parse_args(argv)

    from portal import create_app
    from portal.extensions import db

    app = create_app({"DATABASE_URL": args.database_url} if args.database_url else None)
    with app.app_context():
        metadata = db.metadata
        with db.engine.begin() as conn:
            def originals(name):
                table = metadata.tables[name]
                return conn.execute(select(func.count()).select_from(table).where(table.c.id < OFFSET)).scalar_one()

            existing = conn.execute(select(func.max(metadata.tables["cs_complaint"].c.id))).scalar() or 0
            first = existing // OFFSET + 1  # copies made by an earlier run are kept
            if first > 1 and args.shape == "records":
                parser.error("this installation has grown already: the records shape grows a fresh one (its copies'"
                             " dates are spread once, so that two copies never fall on the same day)")
            copies = args.copies
            if copies is None:
                wanted = math.ceil(args.complaints / max(originals("cs_complaint") + originals("cs_inquiry"), 1)) - 1
                copies = max(0, wanted - (first - 1))
            counts = grow(conn, metadata, copies, first=first, spread_days=args.spread_days, shape=args.shape)
            for name in ("customer", "user", "ops_tank"):
                counts.setdefault(name, conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one())
    for name in ("cs_complaint", "cs_inquiry", "archive_record", "archive_record_file", "kb_page", "ops_order",
                 "ops_stock_daily", "customer", "user", "ops_tank"):
        print(f"{name:24} {counts.get(name, 0):8}")
    print("not copied (a unique key the copies would share):", ", ".join(counts["left_alone"]) or "none")
    print("now run: flask search rebuild", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
