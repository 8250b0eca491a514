"""The search change log: one row per changed searchable key, written in the changing transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime
from ..timeutil import utcnow


class SearchLog(db.Model):
    """Read by position (id), never consumed: every index replica applies rows after its own mark."""

    __tablename__ = "search_log"
    __audit__ = False
    # AUTOINCREMENT on SQLite: numbers are never reused, even after pruning empties the table.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120), nullable=False)
    op: Mapped[str] = mapped_column(String(10), nullable=False)  # "upsert" | "delete"
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    def __repr__(self) -> str:  # pragma: no cover
        return f"<SearchLog {self.id} {self.op} {self.key}>"
