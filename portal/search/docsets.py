"""Sets of document numbers and term weights, kept with a searcher: what makes queries cheap.

A searcher is reused across requests until the index changes (IndexStore.searcher), so what is
computed from it stays valid as long as it does: the documents each user's acl terms allow, the
documents holding a term and the term's weight in each, each facet's value per document. A query's
matches, total and facet counts are then set operations and a count over a list, in C, and its
ranking BM25 over the kept weights, instead of Whoosh's matchers decoding every posting block of
every common term again for each query.
"""
from __future__ import annotations

import bisect
import math
import threading
from collections import Counter, OrderedDict
from datetime import timedelta

from whoosh import query as Q
from whoosh.matching import ListMatcher
from whoosh.matching.wrappers import FilterMatcher

from .analysis import phrase_hint, sequence

CACHE_POSTINGS = 3_000_000  # postings kept per searcher, as doc sets and weights (oldest used go first)
K1, B = 1.2, 0.75  # BM25, as Whoosh's default weighting


class Postings:
    """One term's documents and the weight (term frequency times the field's boost) in each."""

    __slots__ = ("weights", "ids")

    def __init__(self, weights: dict[int, float]):
        self.weights = weights
        self.ids = frozenset(weights)


def _size(value) -> int:
    return len(value.ids) if isinstance(value, Postings) else len(value)


def _read_leaf(m, offset: int, out: dict[int, float]) -> None:
    """A segment's postings of one term into out (docnum + offset -> weight), deleted ones left out.

    Whole posting blocks are taken at once from the codec's block reader (whoosh-reloaded 2.7.5,
    pinned), not posting by posting through the matcher interface; other matchers take the slow way.
    """
    deleted: frozenset = frozenset()
    if isinstance(m, FilterMatcher):
        deleted, m = frozenset(m._ids), m.child
    if all(hasattr(m, name) for name in ("_read_ids", "_read_weights", "_next_block", "_atend")):
        while m.is_active():
            m._read_ids()
            m._read_weights()
            if deleted:
                out.update((i + offset, w) for i, w in zip(m._ids, m._weights) if i not in deleted)
            else:
                out.update(zip([i + offset for i in m._ids] if offset else m._ids, m._weights))
            m._next_block()
    else:
        while m.is_active():
            if m.id() not in deleted:
                out[m.id() + offset] = m.weight()
            m.next()


# A segment never changes once written (a merge writes a new one; deletions are applied to doc sets,
# not to columns), so its column values outlive the searcher: after a save, a new searcher reads only
# the new segment's.
SEGMENT_COLUMNS = 256
_segment_columns: OrderedDict = OrderedDict()
_segment_lock = threading.Lock()


def _segment_column(leaf, name: str, translate: bool) -> list:
    key = (leaf.segment().segment_id(), name, translate)
    with _segment_lock:
        found = _segment_columns.get(key)
        if found is not None:
            _segment_columns.move_to_end(key)
            return found
    found = list(leaf.column_reader(name, translate=translate))
    with _segment_lock:
        _segment_columns[key] = found
        while len(_segment_columns) > SEGMENT_COLUMNS:
            _segment_columns.popitem(last=False)
    return found


class DocSets:
    """Memo of doc sets, term weights and facet columns for one searcher (one state of the index)."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.reader = searcher.reader()
        self._terms: OrderedDict = OrderedDict()
        self._held = 0
        self._allowed: dict[tuple[str, ...], frozenset] = {}
        self._columns: dict[str, list] = {}
        self._lengths: dict[str, dict[int, int]] = {}
        self._avg: dict[str, float] = {}
        self._all: frozenset | None = None
        self._lock = threading.Lock()

    # ---- building blocks
    def _remember(self, key, compute):
        with self._lock:
            found = self._terms.get(key)
            if found is not None:
                self._terms.move_to_end(key)
                return found
        value = compute()
        with self._lock:
            if key not in self._terms:
                self._terms[key] = value
                self._held += _size(value)
            while self._held > CACHE_POSTINGS and len(self._terms) > 1:
                _, old = self._terms.popitem(last=False)
                self._held -= _size(old)
        return value

    def _read(self, field: str, text) -> Postings:
        weights: dict[int, float] = {}
        for leaf, offset in self.reader.leaf_readers():
            if (field, text) in leaf:
                _read_leaf(leaf.postings(field, text), offset, weights)
        return Postings(weights)

    def postings(self, field: str, text) -> Postings:
        return self._remember(("t", field, text), lambda: self._read(field, text))

    def term(self, field: str, text) -> frozenset:
        return self.postings(field, text).ids

    def prefix(self, field: str, text: str) -> frozenset:
        """Documents holding any term that starts with text (one Chinese character: every pair
        starting with it, and the character alone)."""
        def union():
            ids: set[int] = set()
            for term in self.reader.expand_prefix(field, text):
                ids.update(self._read(field, term).ids)
            return frozenset(ids)

        return self._remember(("p", field, text), union)

    def prefix_sorted(self, field: str, text: str) -> list[int]:
        return self._remember(("ps", field, text), lambda: sorted(self.prefix(field, text)))

    def all_docs(self) -> frozenset:
        if self._all is None:
            self._all = frozenset(self.reader.all_doc_ids())
        return self._all

    def column(self, name: str) -> list:
        """The value of a sortable field for every document number."""
        col = self._columns.get(name)
        if col is None:
            col = self._columns[name] = self._column_values(name, translate=True)
        return col

    def _column_values(self, name: str, *, translate: bool) -> list:
        # segment by segment: a segment without the column gives its default for each document
        # (Whoosh's multi-segment column reader leaves such segments out and shifts the rest)
        values: list = []
        for leaf, offset in self.reader.leaf_readers():
            assert offset == len(values)
            values.extend(_segment_column(leaf, name, translate))
        return values

    def sort_keys(self, name: str) -> list[int]:
        """A numeric sortable field (a date) as raw integers per document; a missing value is -1."""
        key = f"{name}#raw"
        col = self._columns.get(key)
        if col is None:
            missing = 2 ** 64 - 1  # Whoosh's column default for a document without the field
            col = self._columns[key] = [-1 if v == missing else v
                                        for v in self._column_values(name, translate=False)]
        return col

    # ---- ranking
    def length(self, field: str, doc: int) -> int:
        lengths = self._lengths.setdefault(field, {})
        n = lengths.get(doc)
        if n is None:
            n = lengths[doc] = self.reader.doc_field_length(doc, field, 0)
        return n

    def average_length(self, field: str) -> float:
        avg = self._avg.get(field)
        if avg is None:
            avg = self._avg[field] = self.searcher.avg_field_length(field) or 1.0
        return avg

    def scores(self, terms, docs) -> dict[int, float]:
        """BM25 (Whoosh's formula and constants) of the documents over (field, text, boost) terms."""
        n = self.reader.doc_count_all() or 1
        out = dict.fromkeys(docs, 0.0)
        for field, text, boost in terms:
            post = self.postings(field, text)
            if not post.ids or not boost:
                continue
            df = self.reader.doc_frequency(field, text)  # as Whoosh: deleted documents still count
            idf = math.log(n / (df + 1)) + 1.0
            avg = self.average_length(field)
            weights = post.weights
            for doc in post.ids.intersection(out):
                tf = weights[doc]
                norm = K1 * ((1 - B) + B * self.length(field, doc) / avg)
                out[doc] += boost * idf * ((tf * (K1 + 1)) / (tf + norm))
        return out

    # ---- queries as sets
    def docs(self, q) -> frozenset:
        """The documents a query matches (not deleted), by set operations where the shape allows."""
        if q is Q.NullQuery or isinstance(q, Q.NullQuery.__class__):
            return frozenset()
        if isinstance(q, Q.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, Q.Prefix):
            return self.prefix(q.fieldname, q.text)
        if isinstance(q, Q.Every):
            return self.all_docs()
        if isinstance(q, Q.AndMaybe):
            return self.docs(q.a)
        if isinstance(q, Q.AndNot):
            return self.docs(q.a) - self.docs(q.b)
        if isinstance(q, Q.And):
            sets = sorted((self.docs(sub) for sub in q.subqueries), key=len)
            if not sets:
                return frozenset()
            out = sets[0]
            for other in sets[1:]:
                if not out:
                    break
                out = out & other
            return out
        if isinstance(q, Q.Or):
            # phrases last, checking only the documents the other alternatives have not matched
            out: set[int] = set()
            subs = sorted(q.subqueries, key=lambda sub: isinstance(sub, PhraseText))
            for sub in subs:
                out.update(self._phrase(sub, skip=out) if isinstance(sub, PhraseText) else self.docs(sub))
            return frozenset(out)
        if isinstance(q, PhraseText):
            return self._remember(("ph", q.fieldname, q.text), lambda: self._phrase(q))
        return frozenset(q.docs(self.searcher))  # date ranges and the like: Whoosh's own matcher

    def _phrase(self, q: "PhraseText", skip=frozenset()) -> frozenset:
        """A phrase: the documents holding all its terms (set operations), then the phrase looked for
        in the stored text of those candidates only."""
        candidates = self.docs(q.required) - skip
        wanted = sequence(q.text)
        if not candidates or wanted == "\0":
            return frozenset()
        hint = phrase_hint(q.text).search
        stored = self.reader.stored_fields
        out = []
        for doc in candidates:
            text = stored(doc).get(q.fieldname) or ""
            if hint(text) and wanted in sequence(text):
                out.append(doc)
        return frozenset(out)

    def allowed(self, acl_terms) -> frozenset:
        """Documents whose acl holds any of these terms."""
        key = tuple(sorted(set(acl_terms)))
        found = self._allowed.get(key)
        if found is None:
            ids: set[int] = set()
            for term in key:
                ids.update(self.term("acl", term))
            found = self._allowed[key] = frozenset(ids)
        return found

    def filter(self, acl_terms, *, kinds=None, customers=None, start=None, end=None) -> frozenset:
        """What a user may see, narrowed to kinds, customers and a date span (end exclusive)."""
        ids = self.allowed(acl_terms)
        kinds = [k for k in (kinds or []) if k]
        if kinds and ids:
            ids = ids & frozenset().union(*(self.term("kind", k) for k in kinds))
        customers = [c for c in (customers or []) if c]
        if customers and ids:
            ids = ids & frozenset().union(*(self.term("customer", c) for c in customers))
        if (start or end) and ids:
            span = Q.DateRange("date", start, end - timedelta(microseconds=1) if end else None)
            ids = ids & self.docs(span)
        return ids

    def counts(self, name: str, ids) -> Counter:
        """Facet counts: how many of these documents hold each value of a sortable field."""
        col = self.column(name)
        return Counter(map(col.__getitem__, ids))


def as_filter(ids) -> set:
    """A doc set as Whoosh's filter argument. Whoosh reads an empty filter as "no filter", so an empty
    set must never get here: callers return no results instead."""
    if not ids:
        raise ValueError("an empty filter would allow everything")
    return set(ids)


def docsets(searcher) -> DocSets:
    """The memo that lives as long as this searcher."""
    memo = getattr(searcher, "_portal_docsets", None)
    if memo is None:
        memo = DocSets(searcher)
        searcher._portal_docsets = memo
    return memo


class DocList(Q.Query):
    """A constant-score query over a sorted list of document numbers.

    Whoosh ranks a prefix that expands to hundreds of terms (a single Chinese character: every pair
    starting with it) through a deep tree of unions, seconds at 50,000 records; the memo already
    holds the documents, so ranking uses them as a list instead.
    """

    def __init__(self, ids: list[int], fieldname: str, text: str, boost: float = 1.0):
        self.ids = ids
        self.fieldname = fieldname
        self.text = text
        self.boost = boost

    def __repr__(self):
        return f"DocList({self.fieldname!r}, {self.text!r}, {len(self.ids)} docs)"

    def __eq__(self, other):
        return (other.__class__ is self.__class__ and other.fieldname == self.fieldname
                and other.text == self.text and other.ids is self.ids)

    def __hash__(self):
        return hash((self.__class__.__name__, self.fieldname, self.text, len(self.ids)))

    def is_leaf(self):
        return True

    def field(self):
        return self.fieldname

    def estimate_size(self, ixreader):
        return len(self.ids)

    def docs(self, searcher, deleting=False):
        return iter(self.ids)

    def matcher(self, searcher, context=None):
        # Whoosh runs a query segment by segment: give each segment its own numbers
        if searcher.has_parent():
            offset = searcher.get_parent()._offset_for_subsearcher(searcher)
            end = offset + searcher.reader().doc_count_all()
            lo, hi = bisect.bisect_left(self.ids, offset), bisect.bisect_left(self.ids, end)
            ids = [d - offset for d in self.ids[lo:hi]]
        else:
            ids = list(self.ids)
        return ListMatcher(ids, all_weights=self.boost)


class PhraseText(Q.Query):
    """Words that must stand together in this order in a stored field (a quoted phrase, or a code
    typed in parts). `required` holds the terms every match must contain; the order is checked in the
    stored text, as the index keeps no positions for `content`."""

    def __init__(self, fieldname: str, text: str, required, boost: float = 1.0):
        self.fieldname = fieldname
        self.text = text
        self.required = required
        self.boost = boost

    def __repr__(self):
        return f"PhraseText({self.fieldname!r}, {self.text!r})"

    def __eq__(self, other):
        return (other.__class__ is self.__class__ and other.fieldname == self.fieldname
                and other.text == self.text)

    def __hash__(self):
        return hash((self.__class__.__name__, self.fieldname, self.text))

    def is_leaf(self):
        return True

    def field(self):
        return self.fieldname


def for_ranking(q, memo: DocSets):
    """The query as Whoosh can run it: each prefix and each phrase replaced by the memo's list of
    their documents."""
    if isinstance(q, Q.Prefix):
        return DocList(memo.prefix_sorted(q.fieldname, q.text), q.fieldname, q.text, q.boost)
    if isinstance(q, PhraseText):
        return DocList(sorted(memo.docs(q)), q.fieldname, q.text, q.boost)
    return q.apply(lambda sub: for_ranking(sub, memo))
