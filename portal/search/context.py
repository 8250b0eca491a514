"""Record context: the words around a record that staff search by but its text may not hold.

A complaint's text rarely names its customer in full, nor says "quality" or "质量" when its category is
quality. Each kind's document builder (blueprints/<domain>/search.py) adds a "context" entry made by
`record_context(...)`: the customer's code, both names and former names or aliases, the category, state
and owner, each label in English and Chinese. The store adds the kind's own name in both languages.
The context is indexed in a field of its own, weighted below title and body, and matched like them.

A customer's records carry its names, so renaming a customer (or adding an alias) re-indexes them:
`customer_dependents(Model, column)` gives the dependents function a kind registers with
`register_dependents("customer", ...)`; it returns the records only when a name actually changed (a
contact added to the customer re-indexes the customer alone).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

CONTEXT = "context"
_ALIAS_SPLIT = re.compile(r"[\n;；,，]+")


@lru_cache(maxsize=1)
def _zh_catalogue():
    """The Simplified Chinese catalogue, read once (documents are built outside any request)."""
    from babel.support import NullTranslations, Translations

    folder = Path(__file__).resolve().parents[1] / "translations"
    try:
        return Translations.load(str(folder), ["zh_Hans"])
    except OSError:  # pragma: no cover - a checkout without compiled catalogues
        return NullTranslations()


def msgid_of(label) -> str:
    """The English text of a label: a lazy string's message id, or the text itself."""
    args = getattr(label, "_args", None)
    if args and isinstance(args[0], str) and not getattr(label, "_kwargs", None):
        return args[0]
    return str(label) if label is not None else ""


def both_languages(label) -> list[str]:
    """A label in English and in Chinese (["Quality", "质量"]); one entry when they are the same."""
    english = msgid_of(label).strip()
    if not english:
        return []
    chinese = _zh_catalogue().gettext(english)
    return [english] if chinese == english else [english, chinese]


def aliases_of(customer) -> list[str]:
    """A customer's former names and other names (one a line, or separated by semicolons)."""
    return [a.strip() for a in _ALIAS_SPLIT.split(getattr(customer, "aliases", "") or "") if a.strip()]


def customer_names(customer) -> list[str]:
    """A customer's code, both names and its former names or aliases."""
    if customer is None:
        return []
    names = [customer.code, customer.name_en, customer.name_zh, *aliases_of(customer)]
    return [n for n in names if n]


def person_name(user) -> str:
    if user is None:
        return ""
    return " ".join(x for x in (getattr(user, "full_name", ""), getattr(user, "username", "")) if x)


def record_context(*, customer=None, category=None, state=None, owner=None, labels=(), words=()) -> str:
    """The context text of a record: its customer (code, names, aliases), category and state labels in
    both languages, its owner's name (a user, or a list of users), other labels and plain words."""
    parts: list[str] = list(customer_names(customer))
    for label in (category, state, *labels):
        if label:
            parts += both_languages(label)
    owners = owner if isinstance(owner, (list, tuple, set)) else [owner]
    parts += [person_name(u) for u in owners if u is not None]
    parts += [str(w) for w in words if w]
    return "\n".join(p for p in parts if p)


# ---------------------------------------------------------------- re-indexing on a rename
NAME_FIELDS = ("code", "name_en", "name_zh", "aliases")


def names_changed(customer) -> bool:
    """Whether this flush changes a customer's code, names or aliases."""
    from sqlalchemy import inspect

    state = inspect(customer)
    for name in NAME_FIELDS:
        if name in state.attrs and state.attrs[name].history.has_changes():
            return True
    return False


def customer_dependents(model, column):
    """The dependents function of a kind whose records carry a customer's names (column: the model's
    customer foreign key): its rows of that customer, when the customer's names change."""

    def rows(customer) -> list:
        from sqlalchemy import select
        from sqlalchemy.orm import object_session

        session = object_session(customer)
        if session is None or getattr(customer, "id", None) is None or not names_changed(customer):
            return []
        return list(session.scalars(select(model).where(column == customer.id)))

    rows.__name__ = f"customer_records_{model.__name__}"
    return rows
