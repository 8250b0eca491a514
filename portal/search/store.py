"""The index on disk: schema, generations, the change-log applier, rebuild, check.

Layout of SEARCH_INDEX_DIR:
    CURRENT           name of the live generation directory (replaced atomically on swap)
    SCHEMA_VERSION    the schema version of the live generation
    gen-<stamp>/      a Whoosh index; the document "__meta__" holds the last applied log number
A rebuild builds a new generation aside and swaps CURRENT, so searches keep working meanwhile.
"""
from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from whoosh.analysis import LowercaseFilter, RegexTokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence, Frequency
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from . import fastpath
from .analysis import ANALYZER
from .codec import MergingWriter, PortalCodec
from .models import SearchLog
from .registry import CHILDREN, KINDS, Kind, dependents_of

log = logging.getLogger("portal.search")

SCHEMA_VERSION = "9"  # 9: compact term infos, postings of up to 15 records inlined; 8: no posting values, compressed posting blocks; 7: record context field, customs/customer
# apart, British spellings, numbers unpadded
META_KEY = "__meta__"
GAP_WINDOW = 1000  # only missing numbers this close below the newest are waited for
DEFAULT_GAP_TIMEOUT = 600.0  # seconds a missing number (a transaction still open) is waited for
MAX_BODY = 200_000
CONTEXT_BOOST = 0.5  # the record's context (customer names, category, state, kind) counts below its text
REBUILD_LIMITMB = 384  # postings a writer process holds (by the pool's estimate) before it spills them to a run
REBUILD_BATCH = 12_500  # documents per writer process in one committed batch of a rebuild (a segment each)


def default_rebuild_procs() -> int:
    """Writer processes for a rebuild: one per CPU, at most four (measured by bench/search_bench.py)."""
    return max(1, min(os.cpu_count() or 1, 4))


def open_index(path):
    """The Whoosh index in path, its files read through ordinary file handles. (Through a memory map,
    Whoosh copies each part of a segment into memory as it opens it: every new searcher, after every
    save, copied the whole index.)"""
    return FileStorage(str(path), supports_mmap=False).open_index()


def _rebound(reader, segment, generation):
    """A segment reader of the same segment for a later commit: the same open files (a segment's files
    never change once written), the new commit's segment object, which holds its deletions.
    Mirrors whoosh.reading.SegmentReader (deletions asked of its W3PerDocReader, which asks its
    segment; `deleted_docs_set` is cached on the reader, so it is left behind)."""
    if segment.deleted_count() == reader.segment().deleted_count() and \
            set(segment.deleted_docs()) == set(reader.segment().deleted_docs()):
        return reader
    new = copy.copy(reader)
    new.__dict__.pop("deleted_docs_set", None)
    new._segment, new._gen = segment, generation
    new._perdoc = copy.copy(reader._perdoc)
    new._perdoc._segment = segment
    return new


def index_writer(ix, timeout: float = 0.0):
    """A writer of the index as the portal's saves and merges use it: the portal's codec, and merged
    segments read a term at a time (codec.MergingWriter); with the fast path off, Whoosh's own."""
    if fastpath.enabled():
        return MergingWriter(ix, timeout=timeout, codec=PortalCodec())
    return ix.writer(timeout=timeout)


IDLE_SEARCHERS = 8  # searchers kept between requests for the next thread (IndexStore.release)
SAVE_MERGE_DOCS = 500  # the most documents a save's commit merges (in the request of the user who saved)
COMPACT_SHARE = 0.1  # the nightly compaction merges the segments at the end below this share of the index


def _merge(writer, segments, start: int):
    """Merge segments[start:] into the writer's new segment; the segments before stay as they are."""
    for segment in segments[start:]:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return segments[:start]


def merge_tail(writer, segments, limit: int = SAVE_MERGE_DOCS):
    """The merge policy of a save: small segments at the end of the index merged, never more than limit
    documents, the segments before left in order.

    Walking back from the save's own new documents, each earlier segment joins the merge while it holds
    no more documents than those after it together (sizes then halve towards the end, as the bits of a
    counter: a save mostly merges nothing or a few tiny segments, and each document is merged about
    log2(limit) times in all) and the merge stays within limit. Whoosh's MERGE_SMALL merges every segment
    up to a point found from the sizes sorted, which on an index of many similar segments (a rebuild
    leaves one per batch) is most of the index: minutes of merging in the request of a user who saved.
    It also returns the segments it keeps sorted by size, which renumbers documents and leaves a new
    searcher's memo nothing to carry over (DocSets._delta_from). Larger merges are the nightly
    compaction's (`compact_tail`)."""
    total = max(1, getattr(writer, "docnum", 1))
    start = len(segments)
    while start > 0:
        size = segments[start - 1].doc_count_all()
        if size > total or total + size > limit:
            break
        start -= 1
        total += size
    return _merge(writer, segments, start)


def _segment_count(ix) -> int:
    with ix.reader() as reader:  # an index without segments reads as one empty reader
        return 0 if isinstance(reader, EmptyReader) else len(reader.leaf_readers())


def compact_tail(writer, segments, share: float = COMPACT_SHARE, floor: int = SAVE_MERGE_DOCS + 1):
    """The nightly compaction's merge policy: the segments at the end of the index that each hold less than
    share of its documents, or fewer than floor (every segment a save's merge made), merged into one, in
    order; the large segments before them left as they are. Run outside requests (the search.compact job)."""
    bound = max(floor, share * sum(segment.doc_count_all() for segment in segments))
    start = len(segments)
    while start > 0 and segments[start - 1].doc_count_all() < bound:
        start -= 1
    return _merge(writer, segments, start) if len(segments) - start >= 2 else segments


def refreshed_searcher(ix, old):
    """A searcher of the index's latest commit that keeps old's readers of the segments still in it
    (closing those of segments merged away), or None where that cannot be done (the fast path off:
    then a new searcher is opened, with Whoosh's public interface only).

    Whoosh's own Searcher.refresh() / FileIndex.reader(reuse=...) keeps a reused reader's deletions
    as they were when it was opened (a record deleted or updated by the save would still be found)
    and adds back the segments a merge has removed; this takes the segments and their deletions
    from the new commit's table of contents."""
    if not fastpath.enabled():
        return None
    toc = ix._read_toc()
    leaves = [r for r, _ in old.reader().leaf_readers()]
    if not all(type(r) is SegmentReader and not r.is_closed for r in leaves):
        return None
    by_id = {r.segment().segment_id(): r for r in leaves}
    memo = getattr(old, "_portal_docsets", None)
    if memo is not None:  # while every segment it read is still open
        memo.settle()
    readers = []
    for segment in toc.segments:
        found = by_id.pop(segment.segment_id(), None)
        readers.append(SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation) if found is None
                       else _rebound(found, segment, toc.generation))
    for r in by_id.values():  # segments merged away
        r.close()
    if not readers:
        reader = EmptyReader(toc.schema)
    elif len(readers) == 1:
        reader = readers[0]
        reader._gen = toc.generation
    else:
        reader = MultiReader(readers, generation=toc.generation)
    fresh = Searcher(reader, fromindex=ix)
    fresh._portal_previous = getattr(old, "_portal_docsets", None)  # the memo to start from
    return fresh


class BulkWriter:
    """What a rebuild fills: documents go out in batches, each committed as new segments, unmerged.

    With several processes, each writes its own segment of a batch (Whoosh's multi-process writer).
    Batches keep each writer's postings in memory (`codec.TermPool`, grouped by term; past the pool's
    limit they spill to run files merged at the end: Whoosh's own pool did at 12,500 records a process,
    and the rebuild ran at two thirds of the rate). A segment per 12,500 records: a query reads each of
    its terms once per segment, so a cold pass of queries over 50,000 records in 4 segments took 12-28 %
    less time than over 14 segments of 4,000, and the term table repeats fewer terms (291 MB against
    377). Posting blocks are compressed (zlib level 3, as every later save writes them): uncompressed,
    the index was half as large again.
    """

    def __init__(self, ix, *, procs: int = 1, limitmb: int = REBUILD_LIMITMB, batch: int | None = None):
        self.ix, self.procs, self.limitmb = ix, procs, limitmb
        self.batch = (REBUILD_BATCH if batch is None else batch) * procs
        self.writer = None
        self.pending = 0

    def _open(self):
        kwargs = {"limitmb": self.limitmb}
        if fastpath.enabled():
            kwargs["codec"] = PortalCodec()
        if self.procs > 1:
            kwargs.update(procs=self.procs, multisegment=True)
        self.writer = self.ix.writer(**kwargs)
        self.pending = 0

    def add_document(self, **fields) -> None:
        if self.writer is None:
            self._open()
        self.writer.add_document(**fields)
        self.pending += 1
        if self.pending >= self.batch:
            self.writer.commit(merge=False)
            self.writer = None

    def commit(self) -> None:
        if self.writer is not None:
            self.writer.commit(merge=False)
            self.writer = None

    def cancel(self) -> None:
        if self.writer is not None:
            self.writer.cancel()
            self.writer = None


__all__ = ["LockError", "IndexStore", "SCHEMA_VERSION", "make_schema", "build_document"]


# English words for "did you mean": only the word list matters (and how many records hold each word,
# which ranks suggestions), so no term frequencies and no field lengths are written.
SPELL = FieldType(Existence(), RegexTokenizer(r"[A-Za-z]{3,}") | LowercaseFilter())


class TermCounts(Frequency):
    """Whoosh's term-frequency format, counting the terms of an analyzer that can list them
    (`BilingualTokenizer.terms`) in one go instead of a token at a time. Mirrors
    whoosh.formats.Frequency.word_values (one Token object per word); with the fast path off, that.

    No value is written with a posting (Frequency writes the count again, four bytes, beside the weight,
    which is the count times the field's boost): only weights are read, by BM25 and the memo. So no value
    is handed to the writer either (the pool would keep one per posting until the segment is written)."""

    posting_size = 0

    def word_values(self, value, analyzer, **kwargs):
        terms = getattr(analyzer, "terms", None)
        if terms is None or not isinstance(value, str) or not fastpath.enabled():
            return super().word_values(value, analyzer, **kwargs)
        boost = self.field_boost
        return ((term, n, n * boost, None) for term, n in Counter(terms(value)).items())


def _text_field(*, stored: bool = False, field_boost: float = 1.0) -> TEXT:
    """A text field of the bilingual analyzer, without positions."""
    field = TEXT(analyzer=ANALYZER, stored=stored, phrase=False, field_boost=field_boost)
    field.format = TermCounts(field_boost=field_boost)
    return field


def make_schema() -> Schema:
    """One schema for every kind.

    content (title + body + refs, stored for snippets and phrase checks, no positions) is what queries
    must match; title and refs are indexed again, small, to lift records that match there. No field
    keeps positions: phrases are checked in the stored text (docsets.PhraseText).
    """
    return Schema(
        key=ID(stored=True, unique=True),
        kind=ID(stored=True, sortable=True),
        title=_text_field(stored=True, field_boost=3.0),
        content=_text_field(stored=True),
        context=_text_field(stored=True, field_boost=CONTEXT_BOOST),
        refs=_text_field(field_boost=4.0),
        tags=KEYWORD(lowercase=True, commas=True, scorable=True, field_boost=2.0),
        customer=ID(stored=True, sortable=True),
        date=DATETIME(stored=True, sortable=True),
        year=ID(stored=True, sortable=True),
        acl=KEYWORD(stored=True),  # stored: `check` compares it with what the record gives now
        lang=ID(stored=True),
        spell=SPELL,
        digest=STORED,
        seq=STORED,
        gaps=STORED,
    )


# ---------------------------------------------------------------- documents
def _as_datetime(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return " ".join(str(v) for v in value if v)
    return str(value)


def build_document(kind: Kind, row) -> dict:
    """The Whoosh document for a row of a registered kind."""
    from .context import both_languages

    d = kind.document(row) or {}
    context = "\n".join(x for x in (_text(d.get("context")), " ".join(both_languages(kind.label))) if x)
    doc = document_fields(
        key=kind.key(row), kind=kind.name, title=d.get("title"), body=d.get("body"), refs=d.get("refs"),
        tags=d.get("tags"), customer=d.get("customer"), date=d.get("date"), acl=kind.acl_terms(row),
        lang=d.get("lang"), context=context,
    )
    for field, boost in (kind.boost or {}).items():
        if field == "doc":
            doc["_boost"] = float(boost)
        elif field in ("title", "content", "refs", "tags"):
            doc[f"_{field}_boost"] = float(boost)
    return doc


def document_fields(*, key, kind, title=None, body=None, refs=None, tags=None, customer=None, date=None,
                    acl=("all",), lang=None, context=None) -> dict:
    title = _text(title).strip()
    context = _text(context).strip()
    body = _text(body)[:MAX_BODY]
    refs = _text(refs)
    tags = tags or ""
    tags = ",".join(str(t) for t in tags) if isinstance(tags, (list, tuple, set)) else str(tags)
    customer = _text(customer).strip()
    when = _as_datetime(date)
    acl = " ".join(sorted(set(acl)))
    lang = _text(lang)
    doc = {
        "key": key,
        "kind": kind,
        "title": title,
        "content": f"{title}\n{body}\n{refs}".strip(),
        "refs": refs,
        "tags": tags,
        "customer": customer,
        "year": str(when.year) if when else "",
        "acl": acl,
        "lang": lang,
        "context": context,
        "spell": f"{title} {refs} {tags} {context} {body[:600]}",
    }
    if when is not None:
        doc["date"] = when
    doc["digest"] = hashlib.sha1(json.dumps([title, body, refs, tags, customer, when.isoformat() if when else "",
                                             acl, lang, context], ensure_ascii=False).encode()).hexdigest()
    return doc


def split_key(key: str) -> tuple[str, str]:
    name, _, ident = key.partition(":")
    return name, ident


def _ident(kind: Kind, ident: str):
    col = kind.model.__mapper__.primary_key[0]
    try:
        return col.type.python_type(ident)
    except (TypeError, ValueError, NotImplementedError):
        return ident


def _rows_stmt(kind: Kind):
    return kind.query() if kind.query is not None else select(kind.model)


def load_documents(session: Session, keys: Iterable[str]) -> dict[str, dict | None]:
    """Current documents for keys (None: the record is gone or no longer indexed)."""
    out: dict[str, dict | None] = {}
    by_kind: dict[str, list[str]] = {}
    for key in keys:
        name, ident = split_key(key)
        out[key] = None
        if name in KINDS:
            by_kind.setdefault(name, []).append(ident)
    for name, idents in by_kind.items():
        kind = KINDS[name]
        pk = kind.model.__mapper__.primary_key[0]
        values = [_ident(kind, i) for i in idents]
        for start in range(0, len(values), 500):
            stmt = _rows_stmt(kind).where(pk.in_(values[start:start + 500]))
            for row in session.scalars(stmt):
                doc = build_document(kind, row)
                out[doc["key"]] = doc
    return out


# ---------------------------------------------------------------- change log (session side)
def log_rows_for_flush(session) -> list[dict]:
    """SearchLog rows for the objects of a flush: registered kinds and children's parents."""
    from ..timeutil import utcnow

    keys: dict[str, str] = {}
    followed: set[str] = set()
    inserted = {id(obj) for obj in session.new}  # no record can derive from these before this flush

    def follow(kind: Kind, obj) -> None:
        """Re-index the rows whose acl derives from this one (and theirs, once each)."""
        if getattr(obj, "id", None) is None or id(obj) in inserted or kind.key(obj) in followed:
            return
        followed.add(kind.key(obj))
        _parents(lambda o: dependents_of(kind, o), obj, upsert)

    def upsert(obj):
        kind = _kind_of(obj)
        if kind is not None and getattr(obj, "id", None) is not None:
            keys.setdefault(kind.key(obj), "upsert")
            follow(kind, obj)

    for obj in list(session.new) + list(session.dirty):
        kind = _kind_of(obj)
        if kind is not None:
            if obj in session.dirty and not session.is_modified(obj, include_collections=True):
                continue
            upsert(obj)
            _parents(kind.parents, obj, upsert)
            continue
        parents = _child_parents(obj)
        if parents is not None:
            _parents(parents, obj, upsert)
    for obj in session.deleted:
        kind = _kind_of(obj)
        if kind is not None:
            if getattr(obj, "id", None) is not None:
                keys[kind.key(obj)] = "delete"
                follow(kind, obj)
            _parents(kind.parents, obj, upsert)
            continue
        parents = _child_parents(obj)
        if parents is not None:
            _parents(parents, obj, upsert)
    now = utcnow()
    return [{"key": k[:120], "op": op, "at": now} for k, op in keys.items()]


def _kind_of(obj) -> Kind | None:
    cls = type(obj)
    for kind in KINDS.values():
        if cls is kind.model:
            return kind
    return None


def _child_parents(obj):
    cls = type(obj)
    for model, parents in CHILDREN.items():
        if cls is model:
            return parents
    return None


def _parents(fn, obj, add) -> None:
    if fn is None:
        return
    try:
        parents = list(fn(obj) or [])
    except Exception:  # a half-loaded deleted child: its parent cannot be found
        log.warning("search: could not find the parents of %r", obj, exc_info=True)
        return
    for parent in parents:
        if parent is not None:
            add(parent)


def _empty_entry() -> dict[str, list[str]]:
    return {"missing": [], "stale": [], "orphaned": [], "acl": []}


def _collect_leaked_files() -> None:
    """Whoosh leaves files open when it fails to read a corrupt index; close them quietly now."""
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


# ---------------------------------------------------------------- the index store
class IndexStore:
    def __init__(self, root: str | os.PathLike, engine, *, writer_timeout: float = 2.0,
                 gap_timeout: float = DEFAULT_GAP_TIMEOUT):
        self.root = Path(root)
        self.engine = engine
        self.writer_timeout = writer_timeout
        self.gap_timeout = gap_timeout
        self._local = threading.local()
        self._open_searchers: list = []
        self._idle: list = []  # (index, generation dir, searcher) released by threads that are done with them
        self._lock = threading.Lock()

    # ---- generations
    def current_dir(self) -> Path | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return self.root / name if name else None

    def stored_version(self) -> str | None:
        try:
            return (self.root / "SCHEMA_VERSION").read_text().strip()
        except FileNotFoundError:
            return None

    def _swap(self, gen: Path) -> None:
        previous = self.current_dir()
        for name, value in (("SCHEMA_VERSION", SCHEMA_VERSION), ("CURRENT", gen.name)):
            tmp = self.root / f".{name}.{uuid.uuid4().hex}"
            tmp.write_text(value + "\n")
            os.replace(tmp, self.root / name)
        # keep the previous generation (open searchers may still read it); remove older ones
        keep = {gen.name, previous.name if previous else ""}
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name not in keep:
                if time.time() - child.stat().st_mtime > 5 or not (child / "_MAIN_WRITELOCK").exists():
                    shutil.rmtree(child, ignore_errors=True)

    @contextmanager
    def rebuild_lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".rebuild.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _open_checked(self):
        path = self.current_dir()
        if path is None or not path.is_dir():
            raise FileNotFoundError("no search index")
        ix = open_index(path)
        with ix.searcher() as s:
            s.doc_count()
            meta = s.document(key=META_KEY)
        if meta is None:
            raise ValueError("search index has no __meta__ document")
        return ix

    def _try_open(self):
        """(index, None) or (None, (problem, missing)); whoosh's leaked files on a corrupt index are
        closed quietly."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                return self._open_checked(), None
            except Exception as exc:  # noqa: BLE001 - any failure to open means: rebuild
                missing = isinstance(exc, FileNotFoundError) and self.current_dir() is None
                failure = (f"{type(exc).__name__}: {exc}", missing)
            _collect_leaked_files()
        return None, failure

    def open(self, *, repair: bool = True):
        """The live index; a missing or corrupt one is rebuilt from the database (loudly)."""
        ix, failure = self._try_open()
        if ix is not None:
            return ix
        if not repair:
            raise RuntimeError(f"search index unusable: {failure[0]}")
        with self.rebuild_lock():
            ix, _ = self._try_open()  # another process may have rebuilt it while we waited
            if ix is not None:
                return ix
            problem, missing = failure
            if missing:
                log.warning("search index %s does not exist: building it from the database", self.root)
            else:
                log.error("SEARCH INDEX %s IS CORRUPT OR UNREADABLE (%s): REBUILDING FROM THE DATABASE",
                          self.root, problem)
            self._rebuild_locked()
        return self._open_checked()

    # ---- searcher reuse (per thread while in use, pooled between requests)
    def searcher(self):
        """A searcher reused across calls in this thread, renewed when the index changed.

        After a save (a later commit of the same generation) the new searcher keeps the readers of the
        segments that did not change, with the new commit's deletions (`refreshed_searcher`), and its
        memo starts from the previous one (docsets.DocSets). A new generation (a rebuild) or a read
        error opens everything again.

        A thread that has none takes one that another thread released (`release`, at the end of each
        request): a server that runs each request in a new thread (the development server, the browser
        tests' live server) then keeps as many searchers as requests run at once, each with its memo,
        instead of opening the index anew for every request and keeping every searcher open.
        """
        local = self._local
        if getattr(local, "searcher", None) is None:
            with self._lock:
                taken = self._idle.pop() if self._idle else None
            if taken is not None:
                local.ix, local.gen, local.searcher = taken
        current = self.current_dir()
        s = getattr(local, "searcher", None)
        if s is not None and current is not None and getattr(local, "gen", None) == current:
            try:
                if local.ix.latest_generation() == s.reader().generation():
                    return s
                fresh = refreshed_searcher(local.ix, s)
            except Exception:  # noqa: BLE001
                log.warning("search: reopening the index after a read error", exc_info=True)
                fresh = None
            if fresh is not None:
                with self._lock:  # not closed: the new searcher reads through its segment readers
                    if s in self._open_searchers:
                        self._open_searchers.remove(s)
                    self._open_searchers.append(fresh)
                local.searcher = fresh
                return fresh
        self.reset_searcher()
        ix = self.open()
        local.ix = ix
        local.searcher = ix.searcher()
        local.gen = self.current_dir()
        with self._lock:
            self._open_searchers.append(local.searcher)
        return local.searcher

    def release(self) -> None:
        """This thread is done searching for now (a request has ended): its searcher goes back to the
        pool for the next thread that searches. At most IDLE_SEARCHERS are kept; the others are closed."""
        local = self._local
        s = getattr(local, "searcher", None)
        if s is None:
            return
        local.searcher = None
        extra = None
        with self._lock:
            self._idle.append((local.ix, local.gen, s))
            if len(self._idle) > IDLE_SEARCHERS:
                extra = self._idle.pop(0)[2]
        if extra is not None:
            self._close(extra)

    def reset_searcher(self) -> None:
        s = getattr(self._local, "searcher", None)
        if s is not None:
            self._close(s)
        self._local.searcher = None
        self._local.gen = None

    def _close(self, s) -> None:
        with self._lock:
            if s in self._open_searchers:
                self._open_searchers.remove(s)
        try:
            s.close()
        except Exception:  # noqa: BLE001
            pass

    def close(self) -> None:
        """Close every searcher this store opened (all threads)."""
        with self._lock:
            searchers, self._open_searchers = self._open_searchers, []
            self._idle = []
        for s in searchers:
            try:
                s.close()
            except Exception:  # noqa: BLE001
                pass

    # ---- metadata
    @staticmethod
    def read_meta(searcher) -> tuple[int, dict[int, float]]:
        """The mark of the log applied and its gaps, as the searcher's commit holds them (read once per searcher:
        a search asks for the mark before each query, and the lookup reads every segment)."""
        held = getattr(searcher, "_portal_meta", None)
        if held is None:
            meta = searcher.document(key=META_KEY) or {}
            gaps = {int(k): float(v) for k, v in json.loads(meta.get("gaps") or "{}").items()}
            held = searcher._portal_meta = (int(meta.get("seq") or 0), gaps)
        return held[0], dict(held[1])

    @staticmethod
    def _meta_doc(seq: int, gaps: dict[int, float]) -> dict:
        return {"key": META_KEY, "kind": META_KEY, "seq": int(seq),
                "gaps": json.dumps({str(k): v for k, v in sorted(gaps.items())})}

    def applied_seq(self) -> int:
        return self.read_meta(self.searcher())[0]

    def log_head(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.max(SearchLog.id))) or 0)

    # ---- writing
    def _live_index(self):
        """The index this thread's searcher reads (opened and checked once), for a writer."""
        self.searcher()
        return self._local.ix

    @contextmanager
    def _reading(self, writer):
        """A searcher of exactly the commit the writer starts from, to find the documents it replaces: this
        thread's own, renewed to that commit (its segment readers are open already), or where it reads
        another index or state, one opened for the writer and closed afterwards. (Whoosh's
        update_document and delete_by_term open a reader of every segment for each call: with a few dozen
        segments, a tenth of a second or more for each document a save writes.)"""
        local, s = self._local, None
        try:
            if getattr(local, "searcher", None) is not None and local.gen == self.current_dir() and \
                    Path(local.ix.storage.folder) == Path(writer.storage.folder):  # (not a rebuild's new index)
                s = self.searcher()
                ids = [r.segment().segment_id() for r, _ in s.reader().leaf_readers()]
                if s.reader().generation() != writer.generation - 1 or \
                        ids != [segment.segment_id() for segment in writer.segments]:
                    s = None
        except Exception:  # noqa: BLE001 - an index without segments, or one being replaced: read it afresh
            s = None
        if s is not None:
            yield s
            return
        with writer.searcher() as own:
            yield own

    @staticmethod
    def _put(writer, s, key: str, doc: dict | None) -> None:
        """The record's document replaced (deleted where doc is None); s: a searcher of the writer's commit."""
        writer.delete_by_term("key", key, searcher=s)
        if doc is not None:
            writer.add_document(**doc)

    # ---- applying the log
    def sync(self, *, timeout: float | None = None, ix=None) -> int:
        """Apply log rows after the index's mark, in one writer. Returns how many keys were applied.

        Raises LockError when the writer cannot be had within the timeout.
        """
        ix = ix or self._live_index()
        writer = self._writer(ix, timeout)
        try:
            with self._reading(writer) as s:
                seq, gaps = self.read_meta(s)
                applied = self._apply(writer, s, seq, gaps)
            if applied is None:
                writer.cancel()
                return 0
            writer.commit(mergetype=merge_tail)
            return applied
        except BaseException:
            writer.cancel()
            raise

    def _apply(self, writer, s, seq: int, gaps: dict[int, float]) -> int | None:
        now = time.time()
        with Session(self.engine) as session:
            stmt = select(SearchLog.id, SearchLog.key).where(SearchLog.id > seq)
            rows = list(session.execute(stmt.order_by(SearchLog.id)))
            if gaps:
                wanted = sorted(gaps)
                for start in range(0, len(wanted), 500):
                    rows += list(session.execute(
                        select(SearchLog.id, SearchLog.key).where(SearchLog.id.in_(wanted[start:start + 500]))))
            expired = {g for g, first in gaps.items() if now - first > self.gap_timeout}
            if not rows and not expired:
                return None
            ids = {r.id for r in rows}
            new_seq = max([seq, *ids])
            new_gaps = {g: t for g, t in gaps.items() if g not in ids and g not in expired}
            for missing in range(max(seq + 1, new_seq - GAP_WINDOW), new_seq):
                if missing not in ids:
                    new_gaps.setdefault(missing, now)
            keys = list(dict.fromkeys(r.key for r in sorted(rows, key=lambda r: r.id)))
            docs = load_documents(session, keys)
        for key in keys:
            self._put(writer, s, key, docs.get(key))
        self._put(writer, s, META_KEY, self._meta_doc(new_seq, new_gaps))
        return len(keys)

    # ---- direct writes (index_keys / remove_keys)
    def index_keys(self, keys: Iterable[str], *, timeout: float | None = None) -> int:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return 0
        ix = self._live_index()
        with Session(self.engine) as session:
            docs = load_documents(session, keys)
        writer = self._writer(ix, timeout)
        try:
            with self._reading(writer) as s:
                for key in keys:
                    self._put(writer, s, key, docs.get(key))
            writer.commit(mergetype=merge_tail)
        except BaseException:
            writer.cancel()
            raise
        return len(keys)

    def remove_keys(self, keys: Iterable[str], *, timeout: float | None = None) -> int:
        keys = [k for k in dict.fromkeys(keys) if k != META_KEY]
        if not keys:
            return 0
        ix = self._live_index()
        writer = self._writer(ix, timeout)
        try:
            with self._reading(writer) as s:
                for key in keys:
                    self._put(writer, s, key, None)
            writer.commit(mergetype=merge_tail)
        except BaseException:
            writer.cancel()
            raise
        return len(keys)

    # ---- rebuild
    def needs_rebuild(self) -> bool:
        if self.stored_version() != SCHEMA_VERSION:
            return True
        try:
            self._open_checked()
        except Exception:  # noqa: BLE001
            return True
        return False

    def rebuild(self, *, progress: Callable[[str, int, int], None] | None = None, chunk: int = 500,
                procs: int = 1, limitmb: int = REBUILD_LIMITMB) -> int:
        with self.rebuild_lock():
            return self._rebuild_locked(progress=progress, chunk=chunk, procs=procs, limitmb=limitmb)

    def _rebuild_locked(self, *, progress=None, chunk: int = 500, procs: int = 1,
                        limitmb: int = REBUILD_LIMITMB) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        gen = self.root / f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
        gen.mkdir()
        ix = FileStorage(str(gen), supports_mmap=False).create_index(make_schema())
        start_seq = self.log_head()
        now = time.time()
        with Session(self.engine) as session:
            present = set(session.scalars(select(SearchLog.id).where(SearchLog.id > start_seq - GAP_WINDOW)))
        gaps = {i: now for i in range(max(1, start_seq - GAP_WINDOW), start_seq) if i not in present}
        writer = BulkWriter(ix, procs=procs, limitmb=limitmb)
        count = 0
        try:
            for kind in list(KINDS.values()):
                count += self._stream_kind(writer, kind, chunk, progress)
            writer.add_document(**self._meta_doc(start_seq, gaps))
            writer.commit()
        except BaseException:
            writer.cancel()
            shutil.rmtree(gen, ignore_errors=True)
            raise
        ix = open_index(gen)
        self.sync(ix=ix, timeout=30)  # what came in meanwhile, before the swap
        self._swap(gen)
        try:
            self.sync(ix=ix, timeout=self.writer_timeout)  # and what came in during the swap
        except LockError:
            pass
        self.reset_searcher()
        log.info("search index rebuilt: %d records in %s", count, gen.name)
        return count

    def _stream_kind(self, writer, kind: Kind, chunk: int, progress) -> int:
        pk = kind.model.__mapper__.primary_key[0]
        done = 0
        with Session(self.engine) as session:
            total = session.scalar(select(func.count()).select_from(_rows_stmt(kind).subquery())) or 0
            last = None
            while True:
                stmt = _rows_stmt(kind)
                if last is not None:
                    stmt = stmt.where(pk > last)
                rows = list(session.scalars(stmt.order_by(pk).limit(chunk)))
                if not rows:
                    break
                for row in rows:
                    writer.add_document(**build_document(kind, row))
                done += len(rows)
                last = getattr(rows[-1], pk.key)
                session.expunge_all()
                if progress:
                    progress(kind.name, done, total)
        return done

    # ---- check
    def check(self, *, fix: bool = False) -> dict[str, dict[str, list[str]]]:
        """Compare database and index per kind: missing, stale and orphaned keys, and acl drift (a
        record indexed with an access list other than the one it gives now: listed under "acl", not
        again under "stale")."""
        ix = self.open()
        report: dict[str, dict[str, list[str]]] = {}
        with ix.searcher() as s:
            indexed: dict[str, dict[str, str]] = {}
            acls: dict[str, str] = {}
            for fields in s.all_stored_fields():
                key = fields.get("key")
                if not key or key == META_KEY:
                    continue
                indexed.setdefault(fields.get("kind", ""), {})[key] = fields.get("digest", "")
                acls[key] = fields.get("acl", "")
        with Session(self.engine) as session:
            for kind in KINDS.values():
                entry = report.setdefault(kind.name, _empty_entry())
                have = indexed.pop(kind.name, {})
                pk = kind.model.__mapper__.primary_key[0]
                last = None
                seen = set()
                while True:
                    stmt = _rows_stmt(kind)
                    if last is not None:
                        stmt = stmt.where(pk > last)
                    rows = list(session.scalars(stmt.order_by(pk).limit(500)))
                    if not rows:
                        break
                    for row in rows:
                        doc = build_document(kind, row)
                        seen.add(doc["key"])
                        if doc["key"] not in have:
                            entry["missing"].append(doc["key"])
                        elif acls.get(doc["key"]) != doc["acl"]:
                            entry["acl"].append(doc["key"])
                        elif have[doc["key"]] != doc["digest"]:
                            entry["stale"].append(doc["key"])
                    last = getattr(rows[-1], pk.key)
                    session.expunge_all()
                entry["orphaned"] = sorted(set(have) - seen)
        for name, keys in indexed.items():  # kinds no longer registered
            report.setdefault(name or "?", _empty_entry())["orphaned"] += sorted(keys)
        if fix:
            refresh = [k for e in report.values() for k in e["acl"] + e["missing"] + e["stale"]]
            orphans = [k for e in report.values() for k in e["orphaned"]]
            if refresh:
                self.index_keys(refresh, timeout=30)
            if orphans:
                self.remove_keys(orphans, timeout=30)
        return report

    def _writer(self, ix, timeout: float | None = None):
        """A writer of the index (through the portal's codec), waiting at most timeout seconds for the
        lock (the store's writer timeout by default)."""
        return index_writer(ix, self.writer_timeout if timeout is None else timeout)

    def optimize(self) -> None:
        """Merge the index's segments into one."""
        self._writer(self.open()).commit(optimize=True)

    def compact(self, *, timeout: float | None = None) -> tuple[int, int]:
        """Merge the small segments at the end of the index (compact_tail), outside any request: (segments
        before, after)."""
        ix = self.open()
        before = _segment_count(ix)
        writer = self._writer(ix, timeout)
        try:
            writer.commit(mergetype=compact_tail)
        except BaseException:
            writer.cancel()
            raise
        return before, _segment_count(self.open())

    def prune_log(self, days: int) -> int:
        """Delete log rows older than days (every replica must sync more often than that)."""
        cutoff = datetime.now(UTC) - timedelta(days=days)
        with Session(self.engine) as session:
            head = session.scalar(select(func.max(SearchLog.id))) or 0
            result = session.execute(delete(SearchLog).where(SearchLog.at < cutoff, SearchLog.id < head))
            session.commit()
            return result.rowcount or 0

    def doc_count(self) -> int:
        with self.open().searcher() as s:
            return s.doc_count() - 1
