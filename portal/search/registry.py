"""What the domains register: searchable kinds and child models that re-index their parents.

The index layer never imports domain models: each blueprint's search.py calls register_kind /
register_child with its own model class and functions.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Kind:
    name: str
    model: type
    document: Callable[[Any], dict]
    url: Callable[[Any], str]
    label: Any = None
    acl: Callable[[Any], list[str]] | None = None
    parents: Callable[[Any], Iterable[Any]] | None = None
    query: Callable[[], Any] | None = None  # select() of the rows to index; default: all rows
    boost: dict[str, float] = field(default_factory=dict)

    def key(self, obj) -> str:
        return f"{self.name}:{obj.id}"

    def acl_terms(self, obj) -> list[str]:
        if self.acl is not None:
            return list(self.acl(obj))
        terms = getattr(obj, "acl_terms", None)
        return list(terms()) if callable(terms) else ["all"]


KINDS: dict[str, Kind] = {}
CHILDREN: dict[type, Callable[[Any], Iterable[Any]]] = {}


def register_kind(name: str, model: type, *, document, url, label=None, acl=None, parents=None, query=None,
                  boost=None) -> Kind:
    """Register a searchable kind.

    document(row) -> dict with any of: title, body, refs, tags, customer, date, lang (strings; date a
    date or datetime). url(row) -> link to the record. acl(row) -> terms such as "all", "role:cs_manager",
    "user:7" (default: row.acl_terms() or ["all"]). parents(row) -> rows of other kinds to re-index when
    this one changes.
    """
    kind = Kind(name, model, document, url, label or name, acl, parents, query, boost or {})
    KINDS[name] = kind
    return kind


def register_child(model: type, *, parents: Callable[[Any], Iterable[Any]]) -> None:
    """A model that is not indexed itself but whose changes re-index its parent records."""
    CHILDREN[model] = parents


def kind_for_model(model: type) -> Kind | None:
    for kind in KINDS.values():
        if kind.model is model:
            return kind
    return None


def kind_for_object(obj) -> Kind | None:
    return kind_for_model(type(obj))
