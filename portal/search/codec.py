"""Whoosh's index files (its W3 codec, read by Whoosh's own readers), written and read in bulk where
Whoosh goes one posting or one record at a time: the steps that dominated a rebuild and a cold query.

Writing (`PortalCodec`):
- Field lengths: writing a segment asks for the length of the document of every posting, one file
  read each through several layers of file objects; `_PerDocReader` reads a field's lengths once.
- Postings: Whoosh hands each posting to three methods in turn (about a dozen Python calls, with
  type checks) and writes every term, even one held by a single record, as a posting block of its
  own. `_FieldWriter` takes a term's postings together and writes the same blocks in one go, and
  keeps the postings of a term held by fewer than `inlinelimit` records in the term table itself
  (Whoosh's format has this; its own writer fails with a limit above 1), in a compact entry where
  they carry no values (`compact_term_info`; read back by `_TermsReader`, whatever the fast path).

- The pool: Whoosh's writer keeps a tuple per posting in one list and sorts them all when it writes the
  segment (past `limitmb`, in sorted run files merged at the end: a rebuild's batch of 12,500 records
  spilled and wrote at two thirds of the rate). `TermPool` keeps each term's documents and weights in
  two arrays as they come, sorts only the terms, and hands `_FieldWriter` a term at a time; past its limit
  it writes its terms to a run file a term at a time and merges the runs by term.
- Merging (`MergingWriter`): Whoosh reads a merged segment through a matcher per term and hands the pool
  a tuple per posting; here each term's postings are read in one go (`read_term`) and pooled together.

Reading: `numbers` and `field_lengths` read a numeric column in one go, `term_infos_from` walks the
term table in large reads, `read_postings` decodes a term's posting blocks from one read, and a term is
looked up in the term table (`_TermsReader.term_info`) and its postings read with one `os.pread` each
(`file_reader`) instead of a seek and a read through four layers of Whoosh's file objects.

All of this mirrors whoosh-reloaded 2.7.5 (fastpath.WRITTEN_FOR) and its private layout. With the fast
path off (another Whoosh release, or SEARCH_FAST_PATH=0), PortalCodec hands out Whoosh's own field
writer and per-document reader, and docsets.py reads through Whoosh's public reader interface only.
"""
from __future__ import annotations

import heapq
import io
import os
import pickle
import struct
import sys
import zlib
from array import array
from hashlib import md5
from itertools import accumulate, chain, groupby, repeat
from operator import itemgetter, sub

import whoosh.writing
from whoosh.writing import SegmentWriter
from whoosh.codec.whoosh3 import (LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3Codec, W3FieldCursor, W3FieldWriter,
                                  W3PerDocReader, W3TermInfo, W3TermsReader, _lenfield)
from whoosh.columns import NumericColumn
from whoosh.compat import dumps
from whoosh.externalsort import SortingPool
from whoosh.filedb.compound import SubFile
from whoosh.filedb.filetables import HashReader, OrderedHashWriter
from whoosh.filedb.structfile import StructFile
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.system import emptybytes, pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from . import fastpath


INLINE_LIMIT = 16  # a term held by fewer records keeps its postings in the term table (compact, below)


class _PerDocReader(W3PerDocReader):
    """Whoosh's per-document reader, with each field's lengths read in one go the first time they are
    asked for. Mirrors whoosh.codec.whoosh3.W3PerDocReader.doc_field_length, which reads one
    document's length per call through the column's file object (a segment's merge asks for every
    posting's)."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._field_lengths: dict[str, list | None] = {}

    def length_column(self, fieldname: str) -> list | None:
        """The field's length in every document (None where it is empty), or None without a column."""
        column = self._field_lengths.get(fieldname, False)
        if column is False:
            found = field_lengths(self, fieldname, self._doccount)
            column = self._field_lengths[fieldname] = None if found is None else [n or None for n in found]
        return column

    def doc_field_length(self, docnum, fieldname, default=0):
        column = self.length_column(fieldname)
        if column is None:  # no lengths kept for the field
            return default
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        return column[docnum]


_FIELD_TERM = itemgetter(0, 1)
_ENTRY = struct.Struct("!ii")  # a term table entry's key and value lengths (Whoosh's hash file)
_TERM_INFO = W3TermInfo._struct


def _md5_hash(key: bytes) -> int:
    """Whoosh's term table hash (the low 32 bits of the key's MD5): mirrors whoosh.filedb.filetables.
    md5_hash, the default hash of HashWriter, so that Whoosh's reader finds the terms."""
    return int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")


class _TermTable(OrderedHashWriter):
    """Whoosh's ordered hash file of terms, each entry written with one call. Mirrors
    whoosh.filedb.filetables.OrderedHashWriter.add and HashWriter.add (three writes and a hash object
    per entry)."""

    def add(self, key, value):
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        dbfile = self.dbfile
        pos = dbfile.tell()
        self.index.append(pos)
        dbfile.write(_ENTRY.pack(len(key), len(value)) + key + value)
        h = _md5_hash(key)
        self.buckets[h & 255].append((h, pos))
        self.lastkey = key


def _weights(block: array):
    """A block's weights as Whoosh writes them: None when all are 1, one number when all are equal
    (mirrors whoosh.codec.whoosh3.W3PostingsWriter._write_block)."""
    first = block[0]
    if first == 1.0 and block.count(1.0) == len(block):
        return None
    if block.count(first) == len(block):
        return first
    return tuple(block)


def _values(values, fixed):
    """A block's values as Whoosh writes them (empty ones left out), by the format's value size
    (mirrors whoosh.codec.whoosh3.W3PostingsWriter._write_block)."""
    values = [v for v in values if v]
    if fixed is None or fixed < 0:
        return tuple(values)
    if fixed == 0:
        return None
    return emptybytes.join(values)


def _lengths(doclens) -> tuple:
    """The shortest and longest of the documents' lengths (None and 0 when none is known)."""
    found = [n for n in doclens if n] if doclens else ()
    return (min(found), max(found)) if found else (None, 0)


# ---------------------------------------------------------------- compact term infos
# Whoosh's term info of inlined postings is 23 bytes of statistics and the postings pickled (about 49
# bytes for a term of one record); most terms of a segment are pairs of Chinese characters held by one
# record, so the term table was the largest part of the index. A term whose postings carry no values
# (the text fields, ID fields) is kept instead as:
#     flags (1 byte: 4, + 1 for 32-bit document numbers, + 2 for float32 weights)
#     min length, max length (1 byte each, Whoosh's length bytes)
#     count (1 byte)
#     document numbers (count x 2 or 4 bytes, little-endian)
#     weights (count x 1 byte: the weight in halves, or count x 4 bytes: float32, little-endian)
# (7 bytes for a term of one record). Every statistic of Whoosh's term info follows from these: total
# and greatest weight as Whoosh's float32 gives them, document frequency, first and last document.
# Whoosh's flags byte is 0 or 1 (inlined or not), so both kinds of entry can share one table.
_COMPACT = 4
_WIDE_IDS = 1
_FLOAT_WEIGHTS = 2
_F32 = struct.Struct("!f")
_SWAP = sys.byteorder != "little"


def _f32(value: float) -> float:
    """value as Whoosh's term info gives it back (packed as a float32)."""
    return _F32.unpack(_F32.pack(value))[0]


def compact_term_info(ids, weights, minlength: int, maxlength: int) -> bytes | None:
    """The compact term table value of a term's inlined postings (weights: the float32 values the
    postings keep), or None where it does not fit (more than 255 postings)."""
    count = len(ids)
    if not 0 < count < 256:
        return None
    flags = _COMPACT
    idarr = array("H" if ids[-1] < 65536 else "I", ids)  # ids increase
    if idarr.typecode == "I":
        flags |= _WIDE_IDS
        if idarr.itemsize != 4:
            idarr = array("L", ids)
    halves = [w * 2 for w in weights]
    if all(0 <= h < 256 and h == int(h) for h in halves):
        warr = array("B", map(int, halves))
    else:
        flags |= _FLOAT_WEIGHTS
        warr = array("f", weights)
    if _SWAP:
        idarr.byteswap()
        warr.byteswap()
    return bytes((flags, length_to_byte(minlength), length_to_byte(maxlength), count)) + idarr.tobytes() + \
        warr.tobytes()


def file_reader(dbfile):
    """`get(position, length)` of one of a segment's files (a Whoosh StructFile) as a single os.pread on
    the file under it, at the part's offset in the segment's compound file. Mirrors
    whoosh.filedb.structfile.StructFile.get (seek, then read, through StructFile, SubFile and the
    buffered file: a dozen Python calls a read). With the fast path off, or a file that is not on disk
    (Whoosh's RAM storage), Whoosh's own get."""
    inner = dbfile.file if isinstance(dbfile, StructFile) else None
    base, size = 0, None
    if isinstance(inner, SubFile):
        inner, base, size = inner._file, inner._offset, inner._length
    try:
        fd = inner.fileno() if fastpath.enabled() and inner is not None else None
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None
    if fd is None:
        return dbfile.get
    pread = os.pread

    def get(position, length):
        if inner.closed:  # as Whoosh's file: never a read of a descriptor closed (and maybe reused) since
            raise ValueError("I/O operation on closed file")
        if size is not None:
            length = max(0, min(length, size - position))
        return pread(fd, length, base + position)

    return get


_SLOT = struct.Struct("!Iq")  # whoosh.filedb.filetables._pointer: a hash slot (key hash, entry position)
_LENGTHS = struct.Struct("!ii")  # whoosh.filedb.filetables._lengths: an entry's key and value lengths


def _hash_lookup(table, get, key: bytes):
    """(value position, value length) of a key in a Whoosh hash file, or None. Mirrors
    whoosh.filedb.filetables.HashReader.ranges_for_key (the first match), reading through `get`."""
    keyhash = table.hashfn(key)
    tablestart, numslots = table.tables[keyhash & 255]
    if not numslots:
        return None
    size = _SLOT.size
    end = tablestart + numslots * size
    slotpos = tablestart + ((keyhash >> 8) % numslots) * size
    for _ in range(numslots):
        slothash, itempos = _SLOT.unpack(get(slotpos, size))
        if not itempos:
            return None
        if slothash == keyhash:
            head = get(itempos, _LENGTHS.size + len(key))
            keylen, datalen = _LENGTHS.unpack_from(head)
            if keylen == len(key) and head[_LENGTHS.size:] == key:
                return itempos + _LENGTHS.size + keylen, datalen
        slotpos += size
        if slotpos == end:
            slotpos = tablestart
    return None


class _TermInfo(W3TermInfo):
    """Whoosh's term info, read from either Whoosh's encoding or the compact one above. Mirrors
    whoosh.codec.whoosh3.W3TermInfo.from_bytes."""

    @classmethod
    def from_bytes(cls, s):
        flags = s[0]
        if flags < _COMPACT:
            return super().from_bytes(s)
        count = s[3]
        idarr = array("I" if flags & _WIDE_IDS else "H")
        if idarr.itemsize != (4 if flags & _WIDE_IDS else 2):
            idarr = array("L")
        end = 4 + count * idarr.itemsize
        idarr.frombytes(s[4:end])
        warr = array("f" if flags & _FLOAT_WEIGHTS else "B")
        warr.frombytes(s[end:end + count * warr.itemsize])
        if _SWAP:
            idarr.byteswap()
            warr.byteswap()
        ids = tuple(idarr)
        weights = tuple(warr) if flags & _FLOAT_WEIGHTS else tuple(w / 2 for w in warr)
        info = cls()
        info._weight = _f32(sum(weights))
        info._df = count
        info._minlength = byte_to_length(s[1])
        info._maxlength = byte_to_length(s[2])
        info._maxweight = _f32(max(0, max(weights)))
        info._minid, info._maxid = ids[0], ids[-1]
        info._inlined = (ids, weights, (emptybytes,) * count)
        return info


class _FieldCursor(W3FieldCursor):
    """Whoosh's field cursor, its term infos read by _TermInfo. Mirrors W3FieldCursor.term_info."""

    def term_info(self):
        if self._pos is None:
            return None
        return _TermInfo.from_bytes(self._tindex.dbfile.get(self._datapos, self._datalen))


class _TermsReader(W3TermsReader):
    """Whoosh's terms reader, its term infos read by _TermInfo (either encoding). Mirrors
    whoosh.codec.whoosh3.W3TermsReader (term_info, items, items_from, frequency, doc_frequency, cursor),
    which decode with W3TermInfo and read frequencies at fixed offsets of its encoding."""

    def cursor(self, fieldname, fieldobj):
        return _FieldCursor(self._tindex, fieldname, self._keycoder, self._keydecoder, fieldobj)

    def items(self):
        decode, keydecoder = _TermInfo.from_bytes, self._keydecoder
        return ((keydecoder(k), decode(v)) for k, v in self._tindex.items())

    def items_from(self, fieldname, prefix):
        decode, keydecoder = _TermInfo.from_bytes, self._keydecoder
        return ((keydecoder(k), decode(v)) for k, v in self._tindex.items_from(self._keycoder(fieldname, prefix)))

    def term_info(self, fieldname, tbytes):
        key = self._keycoder(fieldname, tbytes)
        get = self._reader()
        if get is None:
            try:
                return _TermInfo.from_bytes(self._tindex[key])
            except KeyError:
                raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None
        found = _hash_lookup(self._tindex, get, key)
        if found is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return _TermInfo.from_bytes(get(*found))

    def _reader(self):
        """The term table's file_reader, or None where Whoosh's own lookup is used (the fast path off)."""
        try:
            return self._get
        except AttributeError:
            table = self._tindex
            fast = fastpath.enabled() and type(table).ranges_for_key is HashReader.ranges_for_key
            self._get = file_reader(table.dbfile) if fast else None
            return self._get

    def postings_reader_get(self):
        """The postings file's file_reader (read_postings reads a term's blocks through it)."""
        try:
            return self._postget
        except AttributeError:
            self._postget = file_reader(self._postfile)
            return self._postget

    def _info_at(self, fieldname, tbytes) -> _TermInfo:
        get = self._reader()
        if get is None:
            datapos, datalen = self._range_for_key(fieldname, tbytes)  # KeyError for a missing term, as Whoosh's
            return _TermInfo.from_bytes(self._dbfile.get(datapos, datalen))
        found = _hash_lookup(self._tindex, get, self._keycoder(fieldname, tbytes))
        if found is None:
            raise KeyError((fieldname, tbytes))
        return _TermInfo.from_bytes(get(*found))

    def frequency(self, fieldname, tbytes):
        return self._info_at(fieldname, tbytes).weight()

    def doc_frequency(self, fieldname, tbytes):
        return self._info_at(fieldname, tbytes).doc_frequency()


WHOOSH_POOL = whoosh.writing.PostingPool  # Whoosh's own (tests compare the two)


class TermPool(WHOOSH_POOL):
    """A segment writer's postings, grouped by term as they are added. Mirrors whoosh.writing.PostingPool
    (one tuple per posting in a list, sorted when the segment is written; past `limitmb`, sorted run files
    merged at the end): here each term keeps its documents and weights in two arrays, only the terms are
    sorted, and `items()` gives a `TermStream`, which `_FieldWriter.add_postings` reads a term at a time.
    Past the limit the postings go to Whoosh's run files and are merged as Whoosh merges them. With the
    fast path off, Whoosh's pool. Whoosh's SegmentWriter builds its pool from the name PostingPool in
    whoosh.writing (its `poolclass` argument is unused), so `install_term_pool` puts this class there."""

    TERM_BYTES = 360  # what a new term costs in memory: its key, its entry and two arrays
    POSTING_BYTES = 12  # a document number (4 bytes) and a weight (8)
    VALUE_BYTES = 41  # a value (positions, character offsets) besides its length: a bytes object and its slot

    def __init__(self, tempstore, segment, limitmb=128, **kwargs):
        super().__init__(tempstore, segment, limitmb=limitmb, **kwargs)
        self._grouped = fastpath.enabled()
        self._fields: dict[str, dict[bytes, list]] = {}  # field -> term -> [ids, weights, values, in order]

    def _entry(self, fieldname, tbytes) -> list:
        """The term's [documents, weights, values, in order], made (and counted) when new."""
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        entry = terms.get(tbytes)
        if entry is None:
            entry = terms[tbytes] = [array("i"), array("d"), None, True]
            self.currentsize += self.TERM_BYTES + len(tbytes)
        return entry

    def add(self, item):
        if not self._grouped:
            return super().add(item)
        fieldname, tbytes, docnum, weight, vbytes = item
        entry = self._entry(fieldname, tbytes)
        ids = entry[0]
        if ids and docnum <= ids[-1]:
            entry[3] = False  # sorted with its weights and values when written, as Whoosh's pool sorts
        ids.append(docnum)
        entry[1].append(weight)
        if vbytes or entry[2] is not None:
            if entry[2] is None:
                entry[2] = [None] * (len(ids) - 1)
            entry[2].append(vbytes)
            if vbytes:  # counted as Whoosh's pool counts them, else a schema with values outgrows the limit
                self.currentsize += self.VALUE_BYTES + len(vbytes)
        self.currentsize += self.POSTING_BYTES
        if self.currentsize > self.limit:
            self.save()

    def add_term(self, fieldname, tbytes, ids, weights, values=None):
        """A term's postings added together (documents in increasing order, their weights and values or
        None): what `add` does for each of them."""
        if not self._grouped:
            for doc, weight, value in zip(ids, weights, values or repeat(None)):
                super().add((fieldname, tbytes, doc, weight, value))
            return
        entry = self._entry(fieldname, tbytes)
        held = entry[0]
        if held and ids[0] <= held[-1]:
            entry[3] = False
        before = len(held)
        held.extend(ids)
        entry[1].extend(array("d", weights))
        if values is not None and any(values):
            self.currentsize += sum(self.VALUE_BYTES + len(v) for v in values if v)
        if entry[2] is not None or (values is not None and any(values)):
            if entry[2] is None:
                entry[2] = [None] * before
            entry[2].extend(values if values is not None else repeat(None, len(held) - before))
        self.currentsize += self.POSTING_BYTES * (len(held) - before)
        if self.currentsize > self.limit:
            self.save()

    def save(self):
        """Past the limit: the grouped postings written out as a sorted run, a term at a time (its
        documents, weights and values as they are held), and the pool emptied."""
        if self._fields:
            path, f = self._new_run()
            try:
                for term in TermStream(self._fields).terms():
                    pickle.dump(term, f, pickle.HIGHEST_PROTOCOL)
            finally:
                f.close()
            self._add_run(path)
            self._fields = {}
        super().save()

    def items(self, maxfiles=128):
        if not self._grouped:
            return SortingPool.items(self, maxfiles)
        stream, self._fields = TermStream(self._fields), {}
        if not self.runs:
            return stream
        while len(self.runs) >= maxfiles:  # merged in groups, as Whoosh's reduce_to, into fewer runs
            group, self.runs = self.runs[:maxfiles - 1], self.runs[maxfiles - 1:]
            path, f = self._new_run()
            try:
                for term in _merged([self._read_terms(p) for p in group]):
                    pickle.dump(term, f, pickle.HIGHEST_PROTOCOL)
            finally:
                f.close()
            self.runs.insert(0, path)
        runs, self.runs = self.runs, []
        return TermStream(None, _merged([*(self._read_terms(p) for p in runs), stream.terms()]))

    def _read_terms(self, path):
        """A run's terms in order; the run file is removed once read (as Whoosh's _read_run)."""
        f = self._open_run(path)
        try:
            while True:
                try:
                    yield pickle.load(f)
                except EOFError:
                    return
        finally:
            f.close()
            self._remove_run(path)


def _merged(sources):
    """Terms (field, term bytes, documents, weights, values) from sorted sources merged in order, the
    postings of a term held by several sources joined in the order of the sources (their documents in
    order, as the pool received them)."""
    for _key, group in groupby(heapq.merge(*sources, key=_FIELD_TERM), _FIELD_TERM):
        parts = list(group)
        if len(parts) == 1:
            yield parts[0]
            continue
        fieldname, tbytes, ids, weights, values = parts[0]
        ids, weights = array("i", ids), array("d", weights)
        joined = None if values is None else list(values)
        ordered = True
        for _f, _t, more_ids, more_weights, more_values in parts[1:]:
            if joined is not None or more_values is not None:
                if joined is None:
                    joined = [None] * len(ids)
                joined.extend(more_values if more_values is not None else repeat(None, len(more_ids)))
            ordered = ordered and more_ids[0] > ids[-1]  # each source's documents are in order
            ids.extend(more_ids)
            weights.extend(more_weights)
        if not ordered:  # sorted as the pool sorts a term
            rows = sorted(zip(ids, weights, joined or repeat(None)))
            ids, weights = array("i", [r[0] for r in rows]), array("d", [r[1] for r in rows])
            joined = [r[2] for r in rows] if joined is not None else None
        yield fieldname, tbytes, ids, weights, joined


class TermStream:
    """A TermPool's postings in Whoosh's order (by field, term, document). Iterated: Whoosh's
    (field, term bytes, document, weight, value) tuples; `terms()`: (field, term bytes, documents, weights,
    values or None) a term at a time. From the pool's terms in memory (fields), or from its merged runs
    (terms)."""

    def __init__(self, fields: dict | None, terms=None):
        self._fields, self._terms = fields, terms

    def terms(self):
        if self._terms is not None:
            yield from self._terms
            return
        for fieldname in sorted(self._fields):
            terms = self._fields[fieldname]
            for tbytes in sorted(terms):
                ids, weights, values, ordered = terms[tbytes]
                if not ordered:
                    rows = sorted(zip(ids, weights, values or repeat(None)))
                    ids, weights = array("i", [r[0] for r in rows]), array("d", [r[1] for r in rows])
                    values = [r[2] for r in rows] if values is not None else None
                yield fieldname, tbytes, ids, weights, values

    def __iter__(self):
        for fieldname, tbytes, ids, weights, values in self.terms():
            for doc, weight, value in zip(ids, weights, values or repeat(None)):
                yield fieldname, tbytes, doc, weight, value


def install_term_pool() -> None:
    """Whoosh's segment writers (every writer of this process and of the writer processes it starts) pool
    their postings in TermPool."""
    whoosh.writing.PostingPool = TermPool


def _grouped(items):
    """(field, term bytes, documents, weights, values) a term at a time: a TermStream's own, else from
    Whoosh's stream of posting tuples."""
    terms = getattr(items, "terms", None)
    if terms is not None:
        yield from terms()
        return
    for (fieldname, btext), group in groupby(items, _FIELD_TERM):
        _, _, ids, raw, values = zip(*group)
        yield fieldname, btext, ids, raw, values


class _FieldWriter(W3FieldWriter):
    """Whoosh's field writer; `add_postings` writes each term's postings in one go, in Whoosh's format:
    the same posting blocks and term statistics, read back by Whoosh's own readers.

    Mirrors whoosh.codec.base.FieldWriter.add_postings with W3FieldWriter.start_term / add / finish_term
    and W3PostingsWriter (_write_block, _write_inline): a dozen calls per posting there, and a block of
    its own for a term of one record (Whoosh's inline postings fail with an inlinelimit above 1)."""

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        # Whoosh's own table has written the file's header; the faster one continues the same file
        table = _TermTable.__new__(_TermTable)
        table.__dict__.update(self._tindex.__dict__)
        self._tindex = table

    def add_postings(self, schema, lengths, items):
        codec = self._codec
        limit, compression, inline = codec._blocklimit, codec._compression, codec._inlinelimit
        postfile, add_term = self._postfile, self._tindex.add
        column_of = getattr(lengths, "length_column", None)
        lastfn = None
        for fieldname, btext, ids, raw, values in _grouped(items):
            if fieldname != lastfn:
                if lastfn is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                lastfn = fieldname
                fixed = self._format.fixed_value_size()
                column = column_of(fieldname) if column_of else None
                dfl = lengths.doc_field_length if lengths and not column_of else None
                prefix = pack_ushort(self._fieldid)
            if ids[0] == -1:  # Whoosh's marker for a spelling word, not a posting
                kept = [i for i, doc in enumerate(ids) if doc != -1]
                if not kept:
                    continue
                ids, raw = [ids[i] for i in kept], [raw[i] for i in kept]
                values = [values[i] for i in kept] if values is not None else None
            if values is None:
                values = (None,) * len(ids)
            if column is not None:
                doclens = [column[d] for d in ids]
            elif dfl is not None:
                doclens = [dfl(d, fieldname) for d in ids]
            else:
                doclens = None
            count = len(ids)
            if count < inline:  # kept in the term table
                weights = array("f", raw)
                minlength, maxlength = _lengths(doclens)
                value = compact_term_info(ids, weights, minlength, maxlength) if fixed == 0 else None
                if value is not None:
                    add_term(prefix + btext, value)
                    continue
                head = (True, sum(weights), count, length_to_byte(minlength), length_to_byte(maxlength),
                        max(0, max(raw)), ids[0], ids[-1])
                # a value for every posting, empty ones too: Whoosh's reader of inlined postings gives
                # a str, not bytes, where there are none, which its merge then refuses
                # (pickle protocol 4: protocol 2 writes each bytes value as a call of _codecs.encode, about
                # 35 bytes for a term of one record; Whoosh's reader unpickles any protocol)
                kept = tuple(v or emptybytes for v in values) if fixed != 0 else (emptybytes,) * count
                tail = dumps((tuple(ids), tuple(weights), kept), 4)
            else:
                start = postfile.tell()
                chunks = [WHOOSH3_HEADER_MAGIC]
                total, termmin, termmax, termmaxweight = 0.0, None, 0, 0
                for s in range(0, count, limit):
                    bids = ids[s:s + limit]
                    weights = array("f", raw[s:s + limit])
                    maxweight = max(0, max(raw[s:s + limit]))
                    minlength, maxlength = _lengths(doclens[s:s + limit] if doclens else None)
                    total += sum(weights)
                    if termmin is None:
                        termmin = minlength
                    elif minlength is not None:
                        termmin = min(termmin, minlength)
                    termmax = max(termmax, maxlength)
                    termmaxweight = max(termmaxweight, maxweight)
                    data = dumps((tuple(map(sub, bids, chain((0,), bids))), _weights(weights),
                                  _values(values[s:s + limit], fixed)), 2)
                    if compression:
                        data = zlib.compress(data, compression)
                    infobytes = dumps((len(bids), bids[-1], maxweight, compression,
                                       length_to_byte(minlength), length_to_byte(maxlength)), 2)
                    size = len(infobytes) + len(data)
                    chunks += (pack_int(-size if s + limit >= count else size), infobytes, data)
                block = b"".join(chunks)
                postfile.write(block)
                head = (False, total, count, length_to_byte(termmin), length_to_byte(termmax), termmaxweight,
                        ids[0], ids[-1])
                tail = pack_long(start) + pack_int(len(block))
            add_term(prefix + btext, _TERM_INFO.pack(*head) + tail)
        if lastfn is not None:
            self.finish_field()


# ---------------------------------------------------------------- reading in bulk
def numbers(column, doccount: int) -> list | None:
    """Every value of a numeric column (dates, field lengths) in one read, or None for another kind
    of column. Mirrors whoosh.columns.NumericColumn.Reader.__getitem__ / __iter__, which read such a
    column one document at a time."""
    if not isinstance(column, NumericColumn.Reader):
        return None
    values = array(column._typecode)
    if values.itemsize != column._fixedlen:
        return None
    values.frombytes(column._dbfile.get(column._basepos, column._count * column._fixedlen))
    if column._fixedlen > 1 and sys.byteorder == "little":
        values.byteswap()  # written big-endian
    return values.tolist() + [column._default] * (doccount - column._count)


_BYTE_LENGTHS = [byte_to_length(b) for b in range(256)]


def field_lengths(perdoc, field: str, doccount: int) -> list[int] | None:
    """A field's length in every document of a segment (0 where it is empty), from the segment's
    length column in one read, or None where there is no such column. Mirrors
    whoosh.codec.whoosh3.W3PerDocReader.doc_field_length (one document a call)."""
    column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return None
    codes = numbers(column, doccount)
    return [_BYTE_LENGTHS[b] for b in (column if codes is None else codes)]


_BLOCK_SIZE = struct.Struct("!i")
_CHUNK = 1 << 16


def term_infos_from(terms, fieldname: str, prefix: bytes):
    """(term bytes, term info) of a segment's terms of the field that start with prefix, in order,
    read from the term table in large reads. Mirrors whoosh.codec.whoosh3.W3TermsReader.terms_from with
    term_info (OrderedHashReader.keys_from / items_from: each entry read with two seeks, and looking
    each term up again costs a hash probe). terms: a segment's W3TermsReader."""
    fieldid = terms._fieldmap.get(fieldname)
    if fieldid is None:
        return
    table = terms._tindex
    start = pack_ushort(fieldid) + prefix
    pos = table.closest_key_pos(start)
    if pos is None:
        return
    eod, get = table.endofdata, table.dbfile.get
    buf, at = b"", 0  # buf holds the file from pos on
    while pos + at < eod:
        if at + _ENTRY.size > len(buf) or at + _ENTRY.size + sum(_ENTRY.unpack_from(buf, at)) > len(buf):
            more = min(max(_CHUNK, 2 * (len(buf) - at)), eod - pos - len(buf))
            if more <= 0:
                return
            buf, pos, at = buf[at:] + get(pos + len(buf), more), pos + at, 0
            continue
        keylen, vallen = _ENTRY.unpack_from(buf, at)
        keystart = at + _ENTRY.size
        key = buf[keystart:keystart + keylen]
        if not key.startswith(start):
            return
        at = keystart + keylen + vallen
        yield key[2:], _TermInfo.from_bytes(buf[keystart + keylen:at])


def read_postings(postfile, info, get=None) -> tuple[array, array]:
    """A term's postings (document numbers and weights) from its term info, its blocks read in one go
    (through `get`, postfile.get by default) and decoded here. Mirrors whoosh.codec.whoosh3.W3LeafMatcher
    (_read_block, _read_ids, _read_weights), which builds a matcher and reads block by block."""
    ids, weights, _values = read_term(postfile, info, get)
    return ids, weights


def read_term(postfile, info, get=None, fixed=0) -> tuple[array, array, list | None]:
    """read_postings with each posting's value too, by the format's value size `fixed` (None: values of
    any size; 0: none, and None is returned for them). Mirrors W3LeafMatcher._read_values."""
    if info.is_inlined():
        ids, weights, values = info.inlined_postings()
        return array("i", ids), array("f", weights), (list(values) if fixed != 0 else None)
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh's term info reads the length back as a 1-tuple
        length = length[0]
    buf = (get or postfile.get)(offset, length)
    if not buf.startswith(WHOOSH3_HEADER_MAGIC):
        raise ValueError("not a Whoosh posting list")
    ids, weights = array("i"), array("f")
    values = [] if fixed != 0 else None
    stream = io.BytesIO(buf)
    at = len(WHOOSH3_HEADER_MAGIC)
    while at < len(buf):
        end = at + _BLOCK_SIZE.size + abs(_BLOCK_SIZE.unpack_from(buf, at)[0])
        stream.seek(at + _BLOCK_SIZE.size)
        count, _last, _maxweight, compression, _minlength, _maxlength = pickle.load(stream)
        data = buf[stream.tell():end]
        block_ids, block_weights, block_values = pickle.loads(zlib.decompress(data) if compression else data)
        ids.extend(accumulate(block_ids))
        if block_weights is None:
            weights.extend(array("f", [1.0]) * count)
        elif isinstance(block_weights, float):
            weights.extend(array("f", [block_weights]) * count)
        else:
            weights.extend(block_weights)
        if fixed is None or fixed < 0:
            values.extend(block_values)
        elif fixed > 0:
            values.extend(block_values[i:i + fixed] for i in range(0, len(block_values), fixed))
        at = end
    return ids, weights, values


class MergingWriter(SegmentWriter):
    """Whoosh's segment writer; a segment merged into it (a save's merge of small segments, the nightly
    compaction, `flask search optimize`) has its postings read a term at a time (`read_term`: one read
    per term) and added to the pool a term at a time (`TermPool.add_term`). Mirrors
    whoosh.writing.SegmentWriter.add_postings_to_pool, which walks the segment through a matcher per
    term and hands the pool a tuple per posting (three quarters of a merge's time). With the fast path
    off, or a reader that is not one segment of Whoosh's W3 files, Whoosh's own."""

    def add_postings_to_pool(self, reader, startdoc, docmap):
        pool, terms = self.pool, getattr(reader, "_terms", None)
        if not (fastpath.enabled() and isinstance(pool, TermPool) and pool._grouped
                and isinstance(reader, SegmentReader) and isinstance(terms, W3TermsReader)):
            return super().add_postings_to_pool(reader, startdoc, docmap)
        schema, get = self.schema, file_reader(terms._postfile)
        deleted = reader.deleted_docs_set
        for fieldname in sorted(reader.indexed_field_names()):
            if fieldname not in schema:
                continue
            fixed = schema[fieldname].format.fixed_value_size()
            for tbytes, info in term_infos_from(terms, fieldname, b""):
                ids, weights, values = read_term(terms._postfile, info, get, fixed)
                if deleted:
                    kept = [i for i, doc in enumerate(ids) if doc not in deleted]
                    if not kept:
                        continue
                    if len(kept) < len(ids):
                        ids = [ids[i] for i in kept]
                        weights = [weights[i] for i in kept]
                        values = [values[i] for i in kept] if values is not None else None
                ids = [docmap[d] for d in ids] if docmap is not None else [startdoc + d for d in ids]
                pool.add_term(fieldname, tbytes, ids, weights, values)


class PortalCodec(W3Codec):
    """Whoosh's codec (the same files), written through _FieldWriter and read through _PerDocReader;
    with the fast path off, through Whoosh's W3FieldWriter and W3PerDocReader. (A segment keeps the
    codec that wrote it, so segments written by this class are read through it even by Whoosh.)"""

    def __init__(self, blocklimit=128, compression=3, inlinelimit=INLINE_LIMIT):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def field_writer(self, storage, segment):
        if not fastpath.enabled():  # Whoosh's own writer, with the inline limit it supports
            return W3Codec(blocklimit=self._blocklimit, compression=self._compression).field_writer(storage, segment)
        return _FieldWriter(self, storage, segment)

    def terms_reader(self, storage, segment):
        """Whoosh's terms reader reading compact term infos too (whatever the fast path: a segment this
        codec wrote may hold them). Mirrors whoosh.codec.whoosh3.W3Codec.terms_reader."""
        tiname = segment.make_filename(self.TERMS_EXT)
        tilen = storage.file_length(tiname)
        tifile = storage.open_file(tiname)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return _TermsReader(self, tifile, tilen, postfile)

    def per_document_reader(self, storage, segment):
        if not fastpath.enabled():
            return W3PerDocReader(storage, segment)
        return _PerDocReader(storage, segment)


install_term_pool()  # at import: the writer processes a rebuild starts are forked from this one
