"""A test-only searchable record (its own metadata, so the portal schema stays untouched)."""
from __future__ import annotations

import os
import threading
from datetime import date
from pathlib import Path
from typing import Optional

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portal.models import RestrictedMixin
from portal.search.registry import CHILDREN, KINDS, register_child, register_kind

# shared/corpus beside the checkout (PORTAL_CORPUS_DIR to point elsewhere); tests take it from the
# corpus_dir fixture (tests/conftest.py), which skips when it is absent
CORPUS = Path(os.environ.get("PORTAL_CORPUS_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "corpus")
KIND = "testdoc"


class Base(DeclarativeBase):
    pass


class Doc(RestrictedMixin, Base):
    __tablename__ = "search_test_doc"
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    refs: Mapped[str] = mapped_column(String(300), default="")
    customer: Mapped[str] = mapped_column(String(20), default="")
    day: Mapped[Optional[date]] = mapped_column(Date, nullable=True)
    owner_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[list["Note"]] = relationship(back_populates="doc", cascade="all, delete-orphan")


class Note(Base):
    """A child record: not indexed itself, its text belongs to its doc."""

    __tablename__ = "search_test_note"
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_id: Mapped[int] = mapped_column(ForeignKey("search_test_doc.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    doc: Mapped[Doc] = relationship(back_populates="notes")


def _document(d: Doc) -> dict:
    return {
        "title": d.title,
        "body": d.body + "\n" + "\n".join(n.text for n in d.notes),
        "refs": d.refs,
        "customer": d.customer,
        "date": d.day,
    }


def register() -> None:
    register_kind(KIND, Doc, document=_document, url=lambda d: f"/testdoc/{d.id}", label="Test document")
    register_child(Note, parents=lambda n: [n.doc])


def unregister() -> None:
    KINDS.pop(KIND, None)
    CHILDREN.pop(Note, None)


def create_tables(engine) -> None:
    Base.metadata.create_all(engine)


def drop_tables(engine) -> None:
    Base.metadata.drop_all(engine)


def corpus_text(name, corpus: Path = CORPUS) -> tuple[str, str]:
    """(title, body) of a corpus file (a path, or a name inside the corpus): the first heading line and
    the text."""
    path = corpus / name
    text = path.read_text(encoding="utf-8")
    title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.strip()), path.stem)
    return title, text


def in_a_thread(fn):
    """fn's value, run in a new thread (as a server runs a request); what it raises is raised here, so that a failed
    check in the thread fails the test."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")
