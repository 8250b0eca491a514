"""What the domains register: searchable kinds, child models that re-index their parents, and the
records whose visibility derives from another record (dependents).

The index layer never imports domain models: each blueprint's search.py calls register_kind /
register_child / register_dependents with its own model class and functions.

Visibility that derives from another record: an MOC raised from a complaint is seen by who may see the
complaint; an archive record filed from a complaint (source_key "complaint:<id>:...") too. Such a
record's acl is computed from the other one's (`acl_of_key`, `combine_acl`), and the other one names it
as a dependent, so that changing it (marking the complaint restricted) re-indexes the dependents in the
same transaction's change log.
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
    dependents: Callable[[Any], Iterable[Any]] | None = None

    def key(self, obj) -> str:
        return f"{self.name}:{obj.id}"

    def acl_terms(self, obj) -> list[str]:
        if self.acl is not None:
            return list(self.acl(obj))
        terms = getattr(obj, "acl_terms", None)
        return list(terms()) if callable(terms) else ["all"]


KINDS: dict[str, Kind] = {}
CHILDREN: dict[type, Callable[[Any], Iterable[Any]]] = {}
# kind name (or "*": every kind) -> functions giving the rows whose acl derives from a row of that kind
DEPENDENTS: dict[str, list[Callable[[Any], Iterable[Any]]]] = {}


def register_kind(name: str, model: type, *, document, url, label=None, acl=None, parents=None, query=None,
                  boost=None, dependents=None) -> Kind:
    """Register a searchable kind.

    document(row) -> dict with any of: title, body, refs, tags, customer, date, lang (strings; date a
    date or datetime). url(row) -> link to the record. acl(row) -> terms such as "all", "role:cs_manager",
    "user:7" (default: row.acl_terms() or ["all"]); it must grant exactly who the record's can_view lets in.
    parents(row) -> rows of other kinds whose document holds this one's text, re-indexed when it changes.
    dependents(row) -> rows of other kinds whose acl derives from this row, re-indexed when it changes.
    """
    kind = Kind(name, model, document, url, label or name, acl, parents, query, boost or {}, dependents)
    KINDS[name] = kind
    return kind


def register_dependents(kind_name: str, dependents: Callable[[Any], Iterable[Any]]) -> None:
    """Rows whose acl derives from a row of kind `kind_name` ("*": of any kind), declared by the package
    that owns them (which need not import the other kind's model). Called at flush time with a changed,
    deleted or re-indexed row of that kind; returns the rows to re-index with it."""
    found = DEPENDENTS.setdefault(kind_name, [])
    if dependents not in found:
        found.append(dependents)


def unregister_dependents(kind_name: str, dependents) -> None:
    found = DEPENDENTS.get(kind_name, [])
    if dependents in found:
        found.remove(dependents)


def dependents_of(kind: Kind, row) -> list:
    """The rows whose acl derives from this row of this kind."""
    out: list = []
    fns = ([kind.dependents] if kind.dependents else []) + DEPENDENTS.get(kind.name, []) + DEPENDENTS.get("*", [])
    for fn in fns:
        out.extend(r for r in (fn(row) or []) if r is not None)
    return out


def combine_acl(*acls) -> list[str]:
    """The acl of a record that one may open only when every one of these acls lets them in.

    Each acl is a list of alternatives ("all", "role:x", "user:n"); "all" stands aside, and of the
    restricted ones what is in all of them remains (a manager role in both, a user named on both).
    """
    lists = [set(a) for a in acls if a is not None]
    narrowing = [a for a in lists if "all" not in a]
    if not narrowing:
        return ["all"]
    out = set.intersection(*narrowing)
    return sorted(out)


def source_of_key(source_key: str | None) -> str | None:
    """The search key ("kind:id") of the record another was made from, by a source key of the form
    "kind:id:what" ("complaint:12:8d-report"), when that kind is registered."""
    if not source_key:
        return None
    name, _, rest = source_key.partition(":")
    ident = rest.partition(":")[0]
    if name not in KINDS or not ident:
        return None
    return f"{name}:{ident}"


def row_for_key(key: str, session=None):
    """The row of a registered kind by its search key (None when gone or of no registered kind)."""
    name, _, ident = key.partition(":")
    kind = KINDS.get(name)
    if kind is None:
        return None
    if session is None:
        from ..extensions import db

        session = db.session
    col = kind.model.__mapper__.primary_key[0]
    try:
        ident = col.type.python_type(ident)
    except (TypeError, ValueError, NotImplementedError):
        pass
    with session.no_autoflush:
        return session.get(kind.model, ident)


def acl_of_key(key: str, session=None) -> list[str] | None:
    """The acl terms of the record with this search key now (None when it is gone)."""
    row = row_for_key(key, session)
    if row is None:
        return None
    return KINDS[key.partition(":")[0]].acl_terms(row)


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
