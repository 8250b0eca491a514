"""Bilingual synonyms from the department's glossary, applied when a query runs (never at indexing).

The knowledge base keeps the glossary as a structured list (English terms, Chinese terms,
abbreviations per entry) and registers it here with `register_source(version, load)`: `version()` is a
cheap token that changes whenever the list changes (it is asked for each query), `load()` gives the
entries as lists of terms. A changed glossary is read again on the next query; the index is not
touched, so no rebuild is needed.

A query's words (one or several in a row: `gas oil`, `management of change`) or the words of a
Chinese run (柴油 in 柴油短量) that are a glossary term also match the entry's other terms, scored
below what was typed (`WEIGHT`), and records holding what was typed rank first.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh.analysis import STOP_WORDS

from .analysis import Unit, query_units

log = logging.getLogger("portal.search")

WEIGHT = 0.4  # a synonym's terms count this much of what was typed
MAX_WORDS = 4  # longest glossary term (in words) looked for in a query

_source: tuple[Callable[[], object], Callable[[], list[list[str]]]] | None = None
_lock = threading.Lock()
_cache: dict = {"version": object(), "table": None}


def register_source(version: Callable[[], object], load: Callable[[], list[list[str]]]) -> None:
    """The glossary: version() -> any token that changes with the list; load() -> entries (lists of
    the terms that mean the same, in either language)."""
    global _source
    _source = (version, load)
    _cache["version"] = object()


def signature(text: str) -> tuple[str, ...]:
    """What a term is made of, as the analyzer reads it: English stems (stop words left out), codes
    normalised, Chinese runs as written."""
    out = []
    for u in query_units(text):
        if u.kind == "word":
            if u.text.lower() in STOP_WORDS:
                continue
            out.append(u.terms[0])
        elif u.kind == "code":
            out.append(u.terms[0])
        else:
            out.append(u.text)
    return tuple(out)


@dataclass
class Table:
    """Each term's signature -> the entries' other terms (as typed in the glossary)."""

    alternatives: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: list[list[str]]) -> "Table":
        table = cls()
        for terms in entries:
            terms = list(dict.fromkeys(t.strip() for t in terms if t and t.strip()))
            sigs = [(t, signature(t)) for t in terms]
            for _term, sig in sigs:
                if not sig:
                    continue
                found = table.alternatives.setdefault(sig, [])
                for other, other_sig in sigs:
                    if other_sig and other_sig != sig and other not in found:
                        found.append(other)
        return table


def table() -> Table | None:
    """The glossary's table, read again when its version changed (None: no glossary registered)."""
    if _source is None:
        return None
    version_fn, load = _source
    try:
        version = version_fn()
    except Exception as exc:  # noqa: BLE001 - no glossary table (yet): search without synonyms
        log.info("search: glossary not available (%s)", exc)
        return None
    if version != _cache["version"]:
        with _lock:
            if version != _cache["version"]:
                try:
                    _cache["table"] = Table.build(load())
                except Exception as exc:  # noqa: BLE001
                    log.warning("search: glossary not read (%s)", exc)
                    return None
                _cache["version"] = version
    return _cache["table"]


@dataclass
class Expansion:
    """Where a query's units have synonyms: (start, end) spans of units -> other terms. For a Chinese
    run, its jieba words that are glossary terms: unit index -> [(word, other terms)]."""

    spans: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    inside: dict[int, list[tuple[str, list[str]]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.spans or self.inside)

    @property
    def searched(self) -> list[str]:
        """The other terms searched, in order, once each ("also searched: 柴油, gas oil")."""
        out: list[str] = []
        for alts in self.spans.values():
            out += alts
        for words in self.inside.values():
            for _word, alts in words:
                out += alts
        return list(dict.fromkeys(out))


def _unit_sig(u: Unit) -> str:
    if u.kind == "word":
        return u.terms[0]
    if u.kind == "code":
        return u.terms[0]
    return u.text


def expand(units: list[Unit], tbl: Table | None = None) -> Expansion:
    """The synonyms of a query's units: the longest glossary term at each place first."""
    tbl = tbl if tbl is not None else table()
    out = Expansion()
    if tbl is None or not tbl.alternatives:
        return out
    sigs = [_unit_sig(u) for u in units]
    i = 0
    while i < len(units):
        for length in range(min(MAX_WORDS, len(units) - i), 0, -1):
            alts = tbl.alternatives.get(tuple(sigs[i:i + length]))
            if alts:
                out.spans[(i, i + length)] = alts
                i += length
                break
        else:
            u = units[i]
            if u.kind == "cjk" and len(u.words) > 1:
                words = [(w, tbl.alternatives.get((w,))) for w in u.words if len(w) > 1]
                found = [(w, alts) for w, alts in words if alts]
                if found:
                    out.inside[i] = found
            i += 1
    return out
