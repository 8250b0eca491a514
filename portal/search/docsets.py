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
import heapq
import math
import pickle
import threading
import zlib
from array import array
from collections import Counter, OrderedDict
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from itertools import islice

from whoosh import query as Q
from whoosh.codec.whoosh3 import STORED_COLUMN, W3Codec
from whoosh.columns import CompressedBytesColumn
from whoosh.fields import ID
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound

from . import fastpath
from .analysis import holds_phrase, phrase_hint, sequence
from .codec import field_lengths, numbers, read_postings, term_infos_from

CACHE_POSTINGS = 2_000_000  # postings kept per searcher, as doc sets and weights (SEARCH_MEMO_POSTINGS)
CACHE_SEGMENT_POSTINGS = 8_000_000  # postings kept per process, segment by segment, in arrays (8 bytes each)
K1, B = 1.2, 0.75  # BM25, as Whoosh's default weighting
_MISSING = 2 ** 64 - 1  # Whoosh's numeric column default for a document without the field


class Postings:
    """One term's documents and the weight (term frequency times the field's boost) in each, and how
    many documents hold it, deleted ones included (the document frequency BM25 uses, as Whoosh's).

    The documents are the weights' keys, a set view of them, not a set of their own: a dict of numbers
    is left out of Python's cycle collector, while a set is walked entry by entry at every full
    collection (with a memo of two million postings in sets, each full collection took 0.2 s)."""

    __slots__ = ("weights", "ids", "df", "dfs")

    def __init__(self, weights: dict[int, float], dfs: tuple[int, ...]):
        self.weights = weights
        self.ids = weights.keys()
        self.dfs = dfs  # the document frequency in each segment of the memo that holds it (carried after a save)
        self.df = sum(dfs)


def _size(value) -> int:
    if isinstance(value, Postings):
        return len(value.ids)
    if isinstance(value, tuple) and value and isinstance(value[0], array):  # a segment's postings: (ids, weights)
        return len(value[0])
    return len(value)


class SizedCache:
    """Values computed once and kept, bounded by the postings they hold; the least recently used go
    first. Serves both the per-process segment cache and each searcher's memo."""

    def __init__(self, limit: int):
        self.limit = limit
        self._items: OrderedDict = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(self, key, compute):
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        value = compute()
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self._held += _size(value)
            while self._held > self.limit and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._held -= _size(old)
        return value

    def __contains__(self, key) -> bool:
        return key in self._items

    def pop(self, key):
        """The value kept under key, no longer kept (None: none)."""
        with self._lock:
            found = self._items.pop(key, None)
            if found is not None:
                self._held -= _size(found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held = 0

    @property
    def held(self) -> int:
        """The postings kept."""
        return self._held


# What was read from a segment, kept across searchers: a segment's files never change once written (a
# merge writes a new segment), so its postings, columns and lengths outlive the searcher that read
# them. Deletions change, so they are applied per searcher and never kept here. After a save, a new
# searcher reads only the new segment.
_segments = SizedCache(CACHE_SEGMENT_POSTINGS)
_NONE = (array("i"), array("f"))  # a term a segment does not hold


def clear_segment_cache() -> None:
    """Forget what was read from segments (the benchmark measures a cold start with it)."""
    _segments.clear()


def _segment_key(leaf):
    """A leaf reader's segment id, or None for a reader that is not one plain segment's, or with the
    fast path off (what it gives is then read every time, through Whoosh's public reader interface:
    postings, expand_prefix, doc_frequency, column_reader, doc_field_length, stored_fields).

    Everything below that reads a segment's files itself (codec.read_postings, term_infos_from,
    numbers, field_lengths, _segment_stored) is reached only with a key."""
    if not fastpath.enabled():
        return None
    if not all(hasattr(leaf, name) for name in ("segment", "_terms", "_perdoc", "_text_to_bytes")):
        return None
    return leaf.segment().segment_id()


def _read_matcher(m) -> tuple:
    """A matcher's postings as (ids, weights), compact arrays, through the matcher interface (for
    readers that are not one plain segment's; those are read by codec.read_postings)."""
    ids = array("i")
    weights = array("f")  # as Whoosh keeps them
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


def _term_postings(leaf, field: str, tbytes: bytes, info) -> tuple:
    """A term's postings in one segment, from its term info: (segment doc numbers, weights).

    Mirrors whoosh.codec.whoosh3.W3TermsReader.matcher / W3LeafMatcher (decoding each posting block as
    the matcher reaches it): read_postings decodes all the blocks of the term from one read."""
    if isinstance(leaf._terms._codec, W3Codec):  # Whoosh's posting format, decoded in one go
        reader = getattr(leaf._terms, "postings_reader_get", None)  # a segment PortalCodec reads
        return read_postings(leaf._terms._postfile, info, reader() if reader is not None else None)
    m = leaf._terms._codec.postings_reader(leaf._terms._postfile, info, leaf.schema[field].format,
                                           term=(field, tbytes))
    return _read_matcher(m)


def _raw_postings(leaf, field: str, text) -> tuple:
    """One segment's postings of a term, deleted documents included: (segment doc numbers, weights).
    Mirrors whoosh.reading.SegmentReader.postings (term info from the segment's W3TermsReader, without
    the FilterMatcher of deletions: those are applied per searcher)."""
    try:
        tbytes = leaf._text_to_bytes(field, text)
        info = leaf._terms.term_info(field, tbytes)
    except (TermNotFound, KeyError):
        return _NONE
    return _term_postings(leaf, field, tbytes, info)


def _segment_postings(leaf, key, field: str, text) -> tuple:
    """(segment doc numbers, weights): with a key, deleted documents included (they are taken out per
    searcher); without one, through Whoosh's matcher, which leaves them out."""
    if key is None:
        try:
            return _read_matcher(leaf.postings(field, text))
        except TermNotFound:
            return _NONE
    return _segments.get((key, "t", field, text), lambda: _raw_postings(leaf, field, text))


def _segment_prefix(leaf, key, field: str, prefix: str) -> tuple:
    """A segment's documents holding any term that starts with prefix, deleted ones included. The
    terms and their term infos are read in one walk through the term table. Mirrors
    whoosh.reading.IndexReader.expand_prefix with SegmentReader.postings per term (walks the table for
    the terms, then looks each term up again)."""
    def union():
        if key is None:
            postings = (_segment_postings(leaf, key, field, text)[0] for text in leaf.expand_prefix(field, prefix))
        else:
            postings = (_term_postings(leaf, field, tbytes, info)[0]
                        for tbytes, info in term_infos_from(leaf._terms, field, leaf._text_to_bytes(field, prefix)))
        ids: set[int] = set()
        for found in postings:
            ids.update(found)
        return array("i", sorted(ids))

    return union() if key is None else _segments.get((key, "p", field, prefix), union)


def _segment_column(leaf, name: str, translate: bool) -> tuple:
    """A segment's column, as a tuple: a tuple of numbers and strings is left out of Python's cycle
    collector once it has survived a collection; a list is walked entry by entry at every full one."""
    key = _segment_key(leaf)

    def read():
        if not translate and key is not None:
            column = leaf.column_reader(name, translate=False)
            found = numbers(column, leaf.doc_count_all())
            if found is not None:
                return tuple(found)
        if not translate:
            return tuple(leaf.column_reader(name, translate=False))
        elif key is not None and isinstance(leaf.schema[name], ID):
            return _id_column(leaf, name)
        return tuple(leaf.column_reader(name, translate=translate))

    return read() if key is None else _segments.get((key, "c", name, translate), read)


def _id_column(leaf, name: str) -> tuple:
    """The column of an ID field (kind, customer, year), from the field's postings: a record holds one
    term of such a field, the value itself. Mirrors whoosh.columns.VarBytesColumn.Reader (through
    SegmentReader.column_reader), which decodes the values one record at a time, a few times slower."""
    field = leaf.schema[name]
    values = [field.from_column_value(field.column_type.default_value(False))] * leaf.doc_count_all()
    for tbytes, info in term_infos_from(leaf._terms, name, b""):
        text = field.from_bytes(tbytes)
        for doc in _term_postings(leaf, name, tbytes, info)[0]:
            values[doc] = text
    return tuple(values)


def _segment_lengths(leaf, field: str) -> array:
    """The length of a field in every document of a segment. Mirrors whoosh.reading.SegmentReader.
    doc_field_length (one document at a time), which is what runs without a segment key."""
    key = _segment_key(leaf)
    if key is None:
        return array("i", [leaf.doc_field_length(d, field, 0) or 0 for d in range(leaf.doc_count_all())])

    def read():
        found = field_lengths(leaf._perdoc, field, leaf.doc_count_all())
        return array("i", bytes(4 * leaf.doc_count_all()) if found is None else found)

    return _segments.get((key, "l", field), read)


STORED_GAP = 65536  # bytes between two wanted records' stored fields still read in one go


def _segment_stored(leaf, docs: list[int]):
    """(doc, stored fields) for sorted documents of one segment. Records close together in the file are
    read in one go. Mirrors whoosh.codec.whoosh3.W3PerDocReader.stored_fields (through
    whoosh.columns.CompressedBytesColumn.Reader), which reads each through several layers of file
    objects; anything but that column, zlib-compressed, is read by Whoosh's stored_fields."""
    child = getattr(leaf._perdoc._cached_reader("_stored", STORED_COLUMN), "_child", None)
    if not isinstance(child, CompressedBytesColumn.Reader) or child._decompress is not zlib.decompress:
        for d in docs:
            yield d, leaf.stored_fields(d)
        return
    offsets, lengths, base, get = child._offsets, child._lengths, child._basepos, child._dbfile.get
    i = 0
    while i < len(docs):
        j, start = i, offsets[docs[i]]
        end = start + lengths[docs[i]]
        while j + 1 < len(docs) and offsets[docs[j + 1]] - end < STORED_GAP:
            j += 1
            end = offsets[docs[j]] + lengths[docs[j]]
        blob = get(base + start, end - start)
        for d in docs[i:j + 1]:
            at, size = offsets[d] - start, lengths[d]
            yield d, (pickle.loads(zlib.decompress(blob[at:at + size])) if size else None) or {}
        i = j + 1


RECENCY_SCALE = 2 ** 31  # above any document number: date * scale + doc orders newest first
ORDER_INSERTS = 256  # up to this many new documents are put into the earlier searcher's order one by one
SCAN_FACTOR = 4  # newest(): ids picked from the order when count * documents < factor * len(ids) ** 2
CARRY_SHARE = 0.25  # a memo is carried to the next searcher when at most this share of documents changed


class _Source:
    """The memo of an earlier searcher, kept so that what it holds is carried to a later searcher when
    that one asks for it: the memo's kept values, its segments without their readers ((None, first doc
    number, segment key, deleted segment doc numbers)), its size, and the changes from it to the
    searcher that carries (DocSets._delta_from, worked out when first needed)."""

    __slots__ = ("memo", "leaves", "size", "_delta", "_known")

    def __init__(self, memo: SizedCache, leaves: list, size: int, delta=None):
        self.memo, self.leaves, self.size = memo, leaves, size
        self._delta, self._known = delta, delta is not None

    def delta_for(self, memo: "DocSets"):
        if not self._known:  # two threads may both work it out: the same value
            self._delta, self._known = memo._delta_from(self.leaves, self.size), True
        return self._delta


class DocSets:
    """Memo of doc sets, term weights and facet columns for one searcher (one state of the index).

    `previous`: the memo of the searcher this one replaces after a save (store.refreshed_searcher).
    What it holds is carried over and patched instead of computed again: the segments before the
    first one that changed are the same files at the same document numbers, so only the documents
    the save deleted (an update deletes the record's old version) are taken out and the documents of
    the new segments are added (read from their small segments).

    Per-document tables (columns, lengths, acl sets) come from the previous memo (`settle` patches in
    all it held). Postings, prefixes and phrases come from the memos of the searchers before it as
    well (`_sources`, newest first, holding together at most a memo's worth of postings): a value is
    taken out of the newest memo holding it and patched with the changes from that memo's searcher to
    this one. Staff save all day, so a searcher mostly serves a few queries before the next save; each
    would otherwise read anew every term the queries before the last save had asked for."""

    def __init__(self, searcher, previous: "DocSets | None" = None):
        self.searcher = searcher
        self.reader = searcher.reader()
        self._leaves = []  # (reader, first doc number, segment key, deleted segment doc numbers)
        for leaf, offset in self.reader.leaf_readers():
            key = _segment_key(leaf)
            self._leaves.append((leaf, offset, key, leaf.deleted_docs_set if key else frozenset()))
        self._size = self.reader.doc_count_all()  # documents, deleted ones included
        self._memo = SizedCache(CACHE_POSTINGS)
        self._allowed: dict[tuple[str, ...], frozenset] = {}
        self._columns: dict[str, tuple] = {}  # tuples, for the cycle collector (_segment_column)
        self._lengths: dict[str, array] = {}
        self._avg: dict[str, float] = {}
        self._all: frozenset | None = None
        self._recent: tuple[int, ...] | None = None
        self._order: tuple[int, ...] | None = None  # every document number, newest first (order())
        self._phrases: dict[tuple, "PhraseText"] = {}  # the phrase of each ("ph", ...) memo key
        self._prev: DocSets | None = None  # the memo this one patches its per-document tables from
        self._delta = None  # (boundary, removed, removed as a set, added leaves, added documents)
        self._sources: list[_Source] = []  # earlier memos, newest first, postings are carried from
        if previous is not None:
            self._start_from(previous)

    # ---- after a save: start from the previous searcher's memo
    def settle(self) -> None:
        """Before a searcher after this one is opened (its predecessor is then let go, and the readers of
        segments merged away are closed): patch in every per-document table (columns, sort keys,
        recency, field lengths, the documents and the acl sets) the predecessor held and this one was not
        asked for. Each is a copy of the unchanged part and the new segments' values; left to the next
        searcher that needs it, it would be read again from every segment (after each save, one query of
        another kind than the last one's paid for the whole index)."""
        prev = self._prev
        if prev is None:
            return
        for name in list(prev._columns):
            if name.endswith("#raw"):
                self.sort_keys(name[:-len("#raw")])
            else:
                self.column(name)
        for field in list(prev._lengths):
            self.lengths(field)
        if prev._recent is not None:
            self.recency()
        if prev._order is not None:
            self.order()
        if prev._all is not None:
            self.all_docs()
        for key in list(prev._allowed):
            self.allowed(key)

    def _delta_from(self, leaves: list, size: int):
        """The changes from an earlier searcher's segments (leaves, size) to this memo's, or None when
        too much changed or a leaf is not one plain segment's: (boundary, removed, removed as a set,
        added leaves, added documents). boundary: documents below it are in unchanged segments;
        removed: document numbers (below boundary: newly deleted; at or above: the earlier searcher's
        changed segments); added: this memo's leaves from boundary on, and their documents."""
        if any(key is None for _l, _o, key, _d in self._leaves + leaves):
            return None
        same = 0
        for (_, o1, k1, _), (_, o2, k2, _) in zip(self._leaves, leaves):
            if (o1, k1) != (o2, k2):
                break
            same += 1
        boundary = self._leaves[same][1] if same < len(self._leaves) else self._size
        total = max(self._size, 1)
        if (size - boundary) + (total - boundary) > CARRY_SHARE * total:  # before counting deletions
            return None
        removed: set[int] = set()
        for (_leaf, offset, _key, deleted), (_, _, _, before) in zip(self._leaves[:same], leaves[:same]):
            if deleted != before:
                if not before <= deleted:  # deletions never go away in a segment: something else happened
                    return None
                removed.update(d + offset for d in deleted - before)
        removed.update(range(boundary, size))  # the earlier segments from the first changed one on
        added = self._leaves[same:]
        if len(removed) + (total - boundary) > CARRY_SHARE * total:
            return None
        added_docs = frozenset(i + offset for leaf, offset, _k, deleted in added
                               for i in range(leaf.doc_count_all()) if i not in deleted)
        return boundary, removed, frozenset(removed), added, added_docs

    def _added_postings(self, added, field: str, text, out: dict[int, float] | None = None):
        """The postings of a term in the added segments, into out: (out, each segment's document frequency)."""
        out = {} if out is None else out
        dfs = []
        for leaf, offset, key, deleted in added:
            ids, ws = _segment_postings(leaf, key, field, text)
            dfs.append(len(ids))
            out.update(zip([i + offset for i in ids], ws))
            for d in deleted:
                out.pop(d + offset, None)
        return out, tuple(dfs)

    def _start_from(self, prev: "DocSets") -> None:
        """Keep prev (retired: its own predecessor is let go) to patch what it holds when asked, and the
        memos of the searchers before it, newest first, while they hold a memo's worth of postings."""
        older, prev._sources = prev._sources, []
        prev._prev = prev._delta = None
        delta = self._delta_from(prev._leaves, prev._size)
        if delta is None:
            return
        self._prev, self._delta = prev, delta
        sources = [_Source(prev._memo, [(None, *leaf[1:]) for leaf in prev._leaves], prev._size, delta)]
        held = prev._memo.held
        for source in older:
            if held >= CACHE_POSTINGS:
                break
            if source.memo.held:
                sources.append(_Source(source.memo, source.leaves, source.size))
                held += source.memo.held
        self._sources = sources

    def _carried(self, mkey):
        """(value, changes since) from the newest earlier memo holding mkey (None: none), taken out of
        it: the memos together hold about what one does."""
        for source in list(self._sources):
            if mkey not in source.memo:  # the changes since a memo are worked out only for one that can help
                continue
            delta = source.delta_for(self)
            if delta is None:  # too much changed since: nothing of it can be carried
                self._sources = [kept for kept in self._sources if kept is not source]
                continue
            found = source.memo.pop(mkey)
            if found is not None:
                return found, delta
        return None

    def _patched_postings(self, field: str, text) -> Postings | None:
        """A term's postings carried from an earlier memo and changed in place: taken out of that memo, they
        are this searcher's alone (a searcher serves one thread at a time, IndexStore.searcher, and the one
        it replaced is no longer used), so a common term's weights are not copied at every save. The document
        frequency of the unchanged segments is carried too; the added segments' is counted."""
        carried = self._carried(("t", field, text))
        if carried is None:
            return None
        old, (_boundary, removed, _gone, added, _docs) = carried
        weights = old.weights
        for d in removed:
            weights.pop(d, None)
        weights, dfs = self._added_postings(added, field, text, weights)
        return Postings(weights, old.dfs[:len(self._leaves) - len(added)] + dfs)

    def _patched_prefix(self, field: str, text: str) -> frozenset | None:
        carried = self._carried(("p", field, text))
        if carried is None:
            return None
        old, (_boundary, _removed, gone, added, _docs) = carried
        return (old - gone).union([i + offset for leaf, offset, key, deleted in added
                                   for i in _segment_prefix(leaf, key, field, text) if i not in deleted])

    def _patched_phrase(self, mkey, q: "PhraseText") -> frozenset | None:
        carried = self._carried(mkey)
        if carried is None:
            return None
        old, (_boundary, _removed, gone, _added, added_docs) = carried
        return (old - gone) | (self._phrase(q, only=added_docs) if added_docs else frozenset())

    def _patched_column(self, name: str, raw: bool):
        """A column (facet values, or raw numbers) carried over: unchanged segments' part, then the new."""
        prev = self._prev
        old = None if prev is None else prev._columns.get(f"{name}#raw" if raw else name)
        if old is None:
            return None
        boundary, _removed, _gone, added, _docs = self._delta
        more = []
        for leaf, _offset, _key, _deleted in added:
            more.extend(_segment_column(leaf, name, not raw))
        if raw:
            more = [-1 if v == _MISSING else v for v in more]
        return old[:boundary] + tuple(more)

    # ---- building blocks
    def _remember(self, key, compute):
        return self._memo.get(key, compute)

    def _read(self, field: str, text) -> Postings:
        """A term's postings over all segments. Mirrors whoosh.reading.MultiReader.postings (a matcher
        per segment, deleted documents filtered) with the whole list read at once."""
        weights: dict[int, float] = {}
        dfs = []
        for leaf, offset, key, deleted in self._leaves:
            ids, ws = _segment_postings(leaf, key, field, text)
            # the document frequency counts deleted documents, as Whoosh's term info does (BM25's idf)
            dfs.append(len(ids) if key is not None else leaf.doc_frequency(field, text))
            if not ids:
                continue
            if offset:
                weights.update(zip(map(offset.__add__, ids), ws))
            else:
                weights.update(zip(ids, ws))
            for d in deleted:  # a few, where a save deleted or updated records: taken out again
                weights.pop(d + offset, None)
        return Postings(weights, tuple(dfs))

    def postings(self, field: str, text) -> Postings:
        return self._remember(("t", field, text),
                              lambda: self._patched_postings(field, text) or self._read(field, text))

    def term(self, field: str, text) -> AbstractSet[int]:
        return self.postings(field, text).ids

    def prefix(self, field: str, text: str) -> frozenset:
        """Documents holding any term that starts with text (one Chinese character: every pair
        starting with it, and the character alone)."""
        def union():
            out: set[int] = set()
            for leaf, offset, key, deleted in self._leaves:
                ids = _segment_prefix(leaf, key, field, text)
                out.update([i + offset for i in ids] if offset else ids)
                if deleted:
                    out.difference_update([d + offset for d in deleted])
            return frozenset(out)

        def compute():
            found = self._patched_prefix(field, text)
            return union() if found is None else found

        return self._remember(("p", field, text), compute)

    def prefix_sorted(self, field: str, text: str) -> list[int]:
        return self._remember(("ps", field, text), lambda: sorted(self.prefix(field, text)))

    def all_docs(self) -> frozenset:
        if self._all is None:
            prev = self._prev
            if prev is not None and prev._all is not None:
                _boundary, _removed, gone, _added, added_docs = self._delta
                self._all = (prev._all - gone) | added_docs
            else:
                self._all = frozenset(self.reader.all_doc_ids())
        return self._all

    def column(self, name: str) -> tuple:
        """The value of a sortable field for every document number."""
        col = self._columns.get(name)
        if col is None:
            col = self._patched_column(name, raw=False)
            if col is None:
                col = self._column_values(name, translate=True)
            self._columns[name] = col
        return col

    def _column_values(self, name: str, *, translate: bool) -> tuple:
        # segment by segment: a segment without the column gives its default for each document
        # (Whoosh's multi-segment column reader leaves such segments out and shifts the rest)
        values: list = []
        for leaf, offset, _key, _deleted in self._leaves:
            assert offset == len(values)
            values.extend(_segment_column(leaf, name, translate))
        return tuple(values)

    def sort_keys(self, name: str) -> tuple[int, ...]:
        """A numeric sortable field (a date) as raw integers per document; a missing value is -1."""
        key = f"{name}#raw"
        col = self._columns.get(key)
        if col is None:
            col = self._patched_column(name, raw=True)
            if col is None:
                col = tuple(-1 if v == _MISSING else v for v in self._column_values(name, translate=False))
            self._columns[key] = col
        return col

    def recency(self) -> tuple[int, ...]:
        """One number per document that orders documents newest first: by date (none is oldest), then
        the later document number."""
        if self._recent is None:
            dates = self.sort_keys("date")
            prev = self._prev
            start = 0
            if prev is not None and prev._recent is not None:  # the unchanged segments' part
                start = self._delta[0]
                self._recent = prev._recent[:start]
            else:
                self._recent = ()
            self._recent += tuple(dates[d] * RECENCY_SCALE + d for d in range(start, len(dates)))
        return self._recent

    def order(self) -> tuple[int, ...]:
        """Every document number, newest first (as recency orders them). After a save, the earlier
        searcher's order with the few new documents put in place; else sorted anew (about 10 ms at 50,000
        documents, once per process: warm_up asks for it)."""
        if self._order is None:
            recency = self.recency()
            prev, found = self._prev, None
            if prev is not None and prev._order is not None:
                boundary = self._delta[0]
                if self._size - boundary <= ORDER_INSERTS:
                    kept = prev._order if boundary == prev._size else [d for d in prev._order if d < boundary]
                    found = list(kept)
                    for doc in range(boundary, self._size):
                        bisect.insort(found, doc, key=lambda d: -recency[d])
            if found is None:
                found = sorted(range(len(recency)), key=recency.__getitem__, reverse=True)
            self._order = tuple(found)
        return self._order

    def newest(self, ids, count: int) -> list[int]:
        """Up to count of these documents, newest first. A set that holds a good share of the index is
        picked out of order() from the front (as many membership tests as documents passed over, each a
        fraction of a key and heap step); a small one is ranked by heapq.nlargest."""
        if not ids or count <= 0:
            return []
        size = len(ids)
        if count * self._size < SCAN_FACTOR * size * size:
            return list(islice(filter(ids.__contains__, self.order()), count))
        return heapq.nlargest(count, ids, key=self.recency().__getitem__)

    # ---- ranking
    def lengths(self, field: str) -> array:
        """The field's length in every document."""
        found = self._lengths.get(field)
        if found is None:
            prev = self._prev
            old = None if prev is None else prev._lengths.get(field)
            leaves = self._leaves
            if old is not None:  # the unchanged segments' part, then the new segments'
                boundary, _removed, _gone, leaves, _docs = self._delta
                found = old[:boundary]
            else:
                found = array("i")
            for leaf, _offset, _key, _deleted in leaves:
                found.extend(_segment_lengths(leaf, field))
            self._lengths[field] = found
        return found

    def average_length(self, field: str) -> float:
        avg = self._avg.get(field)
        if avg is None:
            avg = self._avg[field] = self.searcher.avg_field_length(field) or 1.0
        return avg

    def scores(self, terms, docs) -> dict[int, float]:
        """BM25 (Whoosh's formula and constants) of the documents over (field, text, boost) terms.
        Mirrors whoosh.scoring.BM25F / bm25() and whoosh.scoring.WeightScorer (idf with deleted
        documents counted, as whoosh.scoring.idf), summed as Whoosh's And/Or matchers sum their
        children's scores; tests/search/test_search_docsets.py compares with Whoosh's scores."""
        n = self.reader.doc_count_all() or 1
        out = dict.fromkeys(docs, 0.0)
        norms: dict[str, dict[int, float]] = {}  # per field: each candidate's length norm, worked out once
        for field, text, boost in terms:
            post = self.postings(field, text)
            if not post.ids or not boost:
                continue
            idf = math.log(n / (post.df + 1)) + 1.0  # as Whoosh: deleted documents still count
            weights = post.weights
            held = post.ids & out.keys()
            norm = norms.get(field)
            if norm is None:
                avg, lengths = self.average_length(field), self.lengths(field)
                fixed, per_length = K1 * (1 - B), K1 * B / avg  # K1 * ((1 - B) + B * length / avg)
                if 4 * len(held) < len(out):  # a rare term: only its documents
                    norm = {doc: fixed + per_length * lengths[doc] for doc in held}
                else:
                    norm = norms[field] = {doc: fixed + per_length * lengths[doc] for doc in out}
            scale = boost * idf * (K1 + 1)
            for doc in held:
                tf = weights[doc]
                out[doc] += scale * tf / (tf + norm[doc])
        return out

    # ---- queries as sets
    def docs(self, q) -> frozenset:
        """The documents a query matches (not deleted), by set operations where the shape allows.
        Mirrors whoosh.query.Query.docs (Term, Prefix, Every, And, Or, AndNot, AndMaybe: the matchers
        of whoosh.matching) for the shapes query.py builds; anything else goes to Whoosh."""
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
            return self._or(q)
        if isinstance(q, PhraseText):
            key = ("ph", q.fieldname, q.text, q.exact)
            self._phrases[key] = q

            def compute():
                found = self._patched_phrase(key, q)
                return self._phrase(q) if found is None else found

            return self._remember(key, compute)
        return frozenset(q.docs(self.searcher))  # date ranges and the like: Whoosh's own matcher

    def _or(self, q) -> frozenset:
        """Alternatives (a word and its synonyms): phrases last, checked only in the documents the others
        have not matched. Not kept: a first query pays for no phrase check of documents it already has,
        and a set per query would take the memo's room from the postings a search after a save carries."""
        out: set[int] = set()
        for sub in sorted(q.subqueries, key=lambda sub: isinstance(sub, PhraseText)):
            out.update(self._phrase(sub, skip=out) if isinstance(sub, PhraseText) else self.docs(sub))
        return frozenset(out)

    def _phrase(self, q: "PhraseText", skip=frozenset(), only=None) -> frozenset:
        """A phrase: the documents holding all its terms (set operations), then the phrase looked for
        in the stored text of those candidates only.

        Which of a segment's documents hold the phrase never changes (its files never do), so it is kept
        per process with the segment's postings (`_segments`) and looked for again only in new segments:
        a synonym such as "gas oil" or "management of change" costs its check once in a process, not at
        every query. Documents deleted when a segment's share was found are not in it (deletions never
        go away). In a segment not looked at yet, only the candidates outside `skip` (matched by the
        query's other alternatives) and in `only` (where given) could add anything: none, and the segment
        is left out; fewer than half, and only they are read, nothing kept (reading every candidate to keep
        the segment's share would cost many times what the query needs: "gas oil" among the synonyms of
        "diesel" has thousands of candidates, most of them matched by "diesel"); else the segment's share
        is found and kept. Without segment keys (the fast path off), only the candidates outside `skip`
        (and in `only`) are checked, every time."""
        candidates = self.docs(q.required)
        wanted = sequence(q.text, exact=q.exact)
        if not candidates or not wanted.strip("\0"):
            return frozenset()
        hint = phrase_hint(q.text)

        def holding(docs: list[int]) -> list[int]:
            return [doc for doc, fields in self.stored_many(docs)
                    if holds_phrase(fields.get(q.fieldname) or "", wanted, hint, exact=q.exact)]

        if any(key is None for _leaf, _offset, key, _deleted in self._leaves):
            candidates = candidates - skip if only is None else (candidates - skip) & only
            return frozenset(holding(sorted(candidates)))
        ordered = sorted(candidates)
        out: list[int] = []
        for leaf, offset, key, deleted in self._leaves:
            lo = bisect.bisect_left(ordered, offset)
            hi = bisect.bisect_left(ordered, offset + leaf.doc_count_all())
            if lo == hi:
                continue
            mkey, part = (key, "ph", q.fieldname, q.text, q.exact), ordered[lo:hi]
            if mkey not in _segments and (skip or only is not None):
                rest = [d for d in part if d not in skip and (only is None or d in only)]
                if not rest:
                    continue  # what it could add is matched already (a Chinese run by its words)
                if 2 * len(rest) < len(part):  # mostly matched already: only the rest read, nothing kept
                    out.extend(holding(rest))
                    continue
            found = _segments.get(mkey, lambda o=offset, part=part: array("i", [d - o for d in holding(part)]))
            out.extend(i + offset for i in found if i not in deleted)
        return frozenset(out)

    def stored_many(self, docs: list[int]):
        """(doc, stored fields) for sorted document numbers, read segment by segment, neighbouring
        records in one read."""
        for leaf, offset, key, _deleted in self._leaves:
            lo = bisect.bisect_left(docs, offset)
            hi = bisect.bisect_left(docs, offset + leaf.doc_count_all())
            if lo == hi:
                continue
            local = [d - offset for d in docs[lo:hi]]
            if key is None:
                for d in local:
                    yield d + offset, leaf.stored_fields(d)
            else:
                for d, fields in _segment_stored(leaf, local):
                    yield d + offset, fields

    def allowed(self, acl_terms) -> frozenset:
        """Documents whose acl holds any of these terms."""
        key = tuple(sorted(set(acl_terms)))
        found = self._allowed.get(key)
        if found is None:
            prev = self._prev
            old = None if prev is None else prev._allowed.get(key)
            if old is not None:  # carried over: less the numbers of segments a save replaced, plus its new
                # documents (each step a copy of the whole set, so only where it changes something). Documents
                # the save deleted in the unchanged segments may stay: no doc set of a query holds a deleted one.
                boundary, _removed, gone, added, _docs = self._delta
                stale = [d for d in gone if d >= boundary]
                found = old - frozenset(stale) if stale and not old.isdisjoint(stale) else old
                more = set()
                for term in key:
                    more.update(self._added_postings(added, "acl", term)[0])
                if more and not more <= found:
                    found = found | more
            else:
                ids = set()
                for term in key:
                    ids.update(self.term("acl", term))
                found = frozenset(ids)
            self._allowed[key] = found
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
            if end is not None and end <= datetime.min + timedelta(microseconds=1):
                return frozenset()  # before the first day there is
            span = Q.DateRange("date", start, end - timedelta(microseconds=1) if end else None)
            ids = ids & self.docs(span)
        return ids

    def counts(self, name: str, ids) -> Counter:
        """Facet counts: how many of these documents hold each value of a sortable field. Mirrors
        whoosh.sorting.FieldFacet with Results.groups(), over a set instead of a result list."""
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
        previous = searcher.__dict__.pop("_portal_previous", None)
        memo = DocSets(searcher, previous)
        searcher._portal_docsets = memo
    return memo


class _MemoQuery(Q.Query):
    """A leaf query on one field that the memo answers as a doc set (Whoosh never expands it)."""

    fieldname: str
    text: str

    def _identity(self) -> tuple:
        return (self.fieldname, self.text)

    def __eq__(self, other):
        return other.__class__ is self.__class__ and other._identity() == self._identity()

    def __hash__(self):
        return hash((self.__class__.__name__,) + self._identity())

    def is_leaf(self):
        return True

    def field(self):
        return self.fieldname


class DocList(_MemoQuery):
    """A constant-score query over a sorted list of document numbers (a whoosh.query.Query with
    whoosh.matching.ListMatcher; its matcher follows whoosh.searching.Searcher's subsearchers).

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

    def _identity(self) -> tuple:
        return (self.fieldname, self.text, id(self.ids))

    def estimate_size(self, ixreader):
        return len(self.ids)

    def docs(self, searcher, deleting=False):
        return iter(self.ids)

    def matcher(self, searcher, context=None):
        # Whoosh runs a query segment by segment: give each segment its own numbers
        if searcher.has_parent():
            offset = next(o for sub, o in searcher.get_parent().subsearchers if sub is searcher)
            end = offset + searcher.reader().doc_count_all()
            lo, hi = bisect.bisect_left(self.ids, offset), bisect.bisect_left(self.ids, end)
            ids = [d - offset for d in self.ids[lo:hi]]
        else:
            ids = list(self.ids)
        return ListMatcher(ids, all_weights=self.boost)


class PhraseText(_MemoQuery):
    """Words that must stand together in this order in a stored field (a quoted phrase, or a code
    typed in parts). `required` holds the terms every match must contain; the order is checked in the
    stored text, as the index keeps no positions. Takes the place of whoosh.query.Phrase, which needs
    positions; only DocSets runs it (`runnable` turns it into a DocList for Whoosh)."""

    def __init__(self, fieldname: str, text: str, required, boost: float = 1.0, exact: bool = False):
        self.fieldname = fieldname
        self.text = text
        self.required = required
        self.boost = boost
        self.exact = exact  # a quoted phrase: its words as typed (not by their stems)

    def __repr__(self):
        return f"PhraseText({self.fieldname!r}, {self.text!r})"


def runnable(q, memo: DocSets):
    """The query as Whoosh can run it: each prefix and each phrase replaced by the memo's list of
    their documents."""
    if isinstance(q, Q.Prefix):
        return DocList(memo.prefix_sorted(q.fieldname, q.text), q.fieldname, q.text, q.boost)
    if isinstance(q, PhraseText):
        return DocList(sorted(memo.docs(q)), q.fieldname, q.text, q.boost)
    return q.apply(lambda sub: runnable(sub, memo))
