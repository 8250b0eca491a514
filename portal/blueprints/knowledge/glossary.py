"""The glossary as a structured list: what editors maintain (CSV import and export) and what search
expands queries with (registered in search.py as the search layer's synonym source).

CSV columns: english, chinese, abbreviations, note; several terms in one cell separated by `;`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from ...extensions import db
from ...services import ServiceError
from .models import GlossaryEntry

COLUMNS = ("english", "chinese", "abbreviations", "note")
MAX_ROWS = 5000
DEMO_CSV = Path(__file__).resolve().parents[3] / "knowledge" / "glossary.csv"


def entries():
    return db.session.scalars(select(GlossaryEntry).order_by(GlossaryEntry.english, GlossaryEntry.id)).all()


def version(session=None) -> tuple:
    """Changes whenever an entry is added, changed or removed (asked for by every search)."""
    session = session or db.session
    row = session.execute(select(func.count(GlossaryEntry.id), func.max(GlossaryEntry.id),
                                 func.max(GlossaryEntry.updated_at))).one()
    return tuple(row)


def synonym_groups(session=None) -> list[list[str]]:
    session = session or db.session
    return [e.terms for e in session.scalars(select(GlossaryEntry)) if len(e.terms) > 1]


def export_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for e in entries():
        writer.writerow([_cell(getattr(e, c)) for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens the Chinese as UTF-8


def _cell(value: str) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ would be read as a formula."""
    return "'" + value if value and value[0] in "=+-@\t\r" else value


def import_csv(data: bytes) -> int:
    """Replace the glossary with the rows of a CSV file (header: english, chinese, abbreviations, note).
    Raises ServiceError (nothing changed) when the file is not such a CSV."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceError(_l("The file is not UTF-8 text."), field="file") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["english", "chinese"]:
        raise ServiceError(_l("The first line must be the header: english, chinese, abbreviations, note."),
                           field="file")
    header = [c.strip().lower() for c in rows[0]]
    found = []
    for number, row in enumerate(rows[1:], start=2):
        values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header) if name in COLUMNS}
        values = {k: v[1:] if v.startswith("'") and len(v) > 1 and v[1] in "=+-@" else v for k, v in values.items()}
        if not any(values.values()):
            continue
        if not (values.get("english") or values.get("chinese")):
            raise ServiceError(_l("Line %(number)s has neither an English nor a Chinese term.", number=number),
                               field="file")
        for name, limit in (("english", 500), ("chinese", 500), ("abbreviations", 200), ("note", 500)):
            if len(values.get(name, "")) > limit:
                raise ServiceError(_l("Line %(number)s is too long.", number=number), field="file")
        found.append(values)
    if len(found) > MAX_ROWS:
        raise ServiceError(_l("At most %(count)s entries.", count=MAX_ROWS), field="file")
    db.session.execute(delete(GlossaryEntry))
    db.session.add_all(GlossaryEntry(**{c: v.get(c, "") for c in COLUMNS}) for v in found)
    db.session.flush()
    return len(found)


def add_entry(*, english: str, chinese: str, abbreviations: str = "", note: str = "") -> GlossaryEntry:
    entry = GlossaryEntry(english=english.strip(), chinese=chinese.strip(), abbreviations=abbreviations.strip(),
                          note=note.strip())
    if not (entry.english or entry.chinese):
        raise ServiceError(_l("Give an English or a Chinese term."), field="english")
    db.session.add(entry)
    db.session.flush()
    return entry


def delete_entry(entry: GlossaryEntry) -> None:
    db.session.delete(entry)
    db.session.flush()


def load_demo() -> int:
    """The department's starter glossary (knowledge/glossary.csv), when the list is empty."""
    if db.session.scalar(select(func.count(GlossaryEntry.id))) or not DEMO_CSV.is_file():
        return 0
    return import_csv(DEMO_CSV.read_bytes())
