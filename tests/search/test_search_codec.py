"""How segments are written (portal/search/codec.py): Whoosh's own files, written faster; what Whoosh's
own readers get back must not change."""
import random
from itertools import repeat
from datetime import datetime

import pytest
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader

from portal.search.analysis import configure_jieba
from portal.search.codec import PortalCodec, _PerDocReader
from portal.search.store import BulkWriter, document_fields, make_schema

ZH = "储罐 仓储费 码头 泊位 阀门 泄漏 加热 计量 罐区 泵房 油品 船舶 靠泊 投诉 滞期费 商检".split()
EN = "tank heating coil leak jetty berth valve pump survey invoice demurrage ullage".split()


def _docs(n=400, seed=11):
    """Common words (postings over several blocks of 128), rare ones (held by one record), boosted
    records (weights other than whole numbers), empty fields and a record with no body."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        words = [rng.choice(ZH) if rng.random() < 0.5 else rng.choice(EN) for _ in range(rng.randint(5, 40))]
        words.append(f"rare{i}x")  # a term of one record
        doc = document_fields(
            key=f"doc:{i}", kind=("complaint", "minutes", "regulation")[i % 3], title=" ".join(words[:4]),
            body="" if i % 97 == 0 else " ".join(words), refs=f"GB {50000 + i % 7}" if i % 5 == 0 else "",
            tags=["hot", "night"] if i % 6 == 0 else [], customer=("SINO", "PETRO")[i % 2],
            date=datetime(2020 + i % 5, 1 + i % 12, 1), acl=["all"] if i % 4 else ["role:cs_manager"])
        if i % 10 == 3:
            doc["_boost"] = 1.3
            doc["_title_boost"] = 2.7
        docs.append(doc)
    return docs


def _segment_file(ix, ext) -> bytes:
    segment = ix.reader().segment()
    files = segment.open_compound_file(ix.storage) if segment.is_compound() else ix.storage
    f = files.open_file(segment.make_filename(ext))
    try:
        return f.read()
    finally:
        f.close()


def _weights(m):
    """(document, weight) of a matcher, as Whoosh's matchers read them from the posting blocks (the
    text fields keep no per-posting value to decode them from)."""
    while m.is_active():
        yield m.id(), m.weight()
        m.next()


def _everything(ix):
    """Every term with its statistics and postings (by record key), as Whoosh's own reader gives them."""
    reader = ix.reader()
    keys = {d: reader.stored_fields(d)["key"] for d in reader.all_doc_ids()}
    out = {}
    for field, text in reader.all_terms():
        info = reader.term_info(field, text)
        postings = sorted((keys[d], w) for d, w in _weights(reader.postings(field, text)))
        out[(field, text)] = ((info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                               info.max_weight()), postings)
    return out


@pytest.fixture
def docs(tmp_path):
    configure_jieba(tmp_path)
    return _docs()


@pytest.mark.parametrize("compression", [0, 3])
def test_without_inlining_the_files_are_whooshs_byte_for_byte(tmp_path, docs, compression, index_with):
    whooshs = index_with("whoosh", W3Codec(compression=compression), docs)
    ours = index_with("ours", PortalCodec(compression=compression, inlinelimit=1), docs)
    for ext in (".trm", ".pst"):
        theirs = _segment_file(whooshs, ext)
        assert _segment_file(ours, ext) == theirs and len(theirs) > 10_000


def test_inlined_terms_read_back_the_same_through_whoosh(tmp_path, docs, fast_path, index_with):
    whooshs = index_with("whoosh", W3Codec(compression=3), docs)
    ours = index_with("ours", PortalCodec(), docs)  # terms of one record kept in the term table
    expected = _everything(whooshs)
    assert _everything(ours) == expected
    # the cases the writer must get right are all there
    assert any(len(postings) == 1 for _stats, postings in expected.values())
    assert any(len(postings) > 256 for _stats, postings in expected.values())
    assert any(w not in (1.0, 2.0, 3.0) for _stats, postings in expected.values() for _d, w in postings)
    assert len(_segment_file(ours, ".pst")) < len(_segment_file(whooshs, ".pst"))
    with ours.searcher() as s:  # and Whoosh searches it
        assert [hit["key"] for hit in s.search(Q.Term("content", "rare7x"))] == ["doc:7"]
        assert len(s.search(Q.Term("content", "tank"), limit=None)) > 100


def test_a_rebuild_in_several_processes_merged_gives_back_what_whoosh_wrote(tmp_path, docs, index_with):
    """The segments of a rebuild, merged into one (as `flask search optimize` does), hold what
    Whoosh's own writer wrote from the same records."""
    (tmp_path / "bulk").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "bulk"), make_schema())
    bulk = BulkWriter(ix, procs=2, batch=60)
    for doc in docs:
        bulk.add_document(**doc)
    bulk.commit()
    assert len(ix.reader().leaf_readers()) > 2
    writer = ix.writer(codec=PortalCodec())
    writer.commit(optimize=True)
    assert len(ix.reader().leaf_readers()) == 1
    single = index_with("one", W3Codec(), docs)
    assert _everything(ix) == _everything(single)


def test_the_portal_codec_reads_whooshs_own_lengths(tmp_path, docs, index_with):
    ix = index_with("ours", PortalCodec(), docs)
    segment = ix.reader().segment()
    ours = _PerDocReader(ix.storage if not segment.is_compound() else segment.open_compound_file(ix.storage),
                         segment)
    plain = W3PerDocReader(ours._storage, segment)
    for field in ("content", "title", "refs", "spell", "key"):
        for doc in range(segment.doc_count_all()):
            assert ours.doc_field_length(doc, field) == plain.doc_field_length(doc, field)
    assert ours.length_column("key") is None  # no lengths kept for the field
    plain.close()
    ours.close()


@pytest.mark.parametrize("compression,inline", [(0, 1), (3, 1), (0, 2), (3, 2)])
def test_postings_and_prefixes_read_in_bulk_are_whooshs(tmp_path, docs, compression, inline, index_with):
    from portal.search.codec import read_postings, term_infos_from

    ix = index_with("ours", PortalCodec(compression=compression, inlinelimit=inline), docs)
    reader = ix.reader()
    terms = reader._terms
    for field, text in reader.all_terms():
        ids, weights = read_postings(terms._postfile, reader.term_info(field, text))
        m = reader.postings(field, text)  # the ids and weights of Whoosh's matcher
        expected = []
        while m.is_active():
            expected.append((m.id(), m.weight()))
            m.next()
        assert list(zip(ids, weights)) == expected, (field, text)
    for field, prefix in (("content", "储"), ("content", "罐"), ("content", "t"), ("key", "doc:1"), ("refs", "gb"),
                          ("content", "zzz"), ("nosuchfield", "a")):
        start = prefix.encode()
        found = [(t, info.doc_frequency()) for t, info in term_infos_from(terms, field, start)]
        expected = [(t, reader.doc_frequency(field, t)) for t in reader.expand_prefix(field, prefix)] \
            if field in ix.schema else []
        assert found == expected
        assert bool(found) == (prefix not in ("zzz", "a"))


def _written(path, docs, *, limitmb=128):
    """A segment of the documents written with PortalCodec, its term table and postings; and whether its
    pool spilled to run files before the segment was written."""
    path.mkdir()
    ix = whoosh_index.create_in(str(path), make_schema())
    writer = ix.writer(codec=PortalCodec(), limitmb=limitmb)
    for doc in docs:
        writer.add_document(**doc)
    spilled = bool(writer.pool.runs)
    writer.commit(merge=False)
    return {ext: _segment_file(ix, ext) for ext in (".trm", ".pst")}, spilled, type(writer.pool)


@pytest.mark.parametrize("limitmb", [128, 0.05])
def test_the_term_pool_writes_what_whooshs_pool_writes(tmp_path, docs, fast_path, monkeypatch, limitmb):
    """Postings grouped by term as they come (codec.TermPool) give the same segment files, byte for byte,
    as Whoosh's pool (a tuple per posting, all sorted); past the memory limit too, where both spill to
    sorted run files."""
    import whoosh.writing

    from portal.search.codec import WHOOSH_POOL, TermPool

    ours, ours_spilled, pool = _written(tmp_path / "ours", docs, limitmb=limitmb)
    assert pool is TermPool
    monkeypatch.setattr(whoosh.writing, "PostingPool", WHOOSH_POOL)
    theirs, theirs_spilled, pool = _written(tmp_path / "whoosh", docs, limitmb=limitmb)
    assert pool is WHOOSH_POOL
    assert ours == theirs and len(theirs[".pst"]) > 10_000
    assert ours_spilled == theirs_spilled == (limitmb < 1)


def test_the_term_pool_gives_a_terms_postings_in_document_order(search_mode):
    """Postings added out of document order (segments merged) come out as Whoosh's pool sorts them."""
    from whoosh.filedb.filestore import RamStorage

    from portal.search.codec import TermPool

    items = [("title", b"tank", 7, 1.0, None), ("content", b"tank", 5, 1.0, None), ("content", b"tank", 2, 2.5, None),
             ("content", b"alpha", 9, 1.0, None), ("key", b"doc:1", 1, 1.0, b"\x01"), ("content", b"tank", 3, 1.0, None)]
    pool = TermPool(RamStorage(), None)
    for item in items:
        pool.add(item)
    assert list(pool.items()) == sorted(items)


def test_the_term_pool_counts_the_values_it_holds_against_its_limit(fast_path):
    """Positions or character offsets (a value per posting) take memory as Whoosh's pool counts them: a
    pool of postings with values reaches its limit, and spills, where the same postings without do not."""
    from whoosh.filedb.filestore import RamStorage

    from portal.search.codec import TermPool

    def spilled(value):
        pool = TermPool(RamStorage(), None, limitmb=0.05)  # 52,428 bytes
        for doc in range(1000):
            pool.add(("content", b"tank", doc, 1.0, value))
        return bool(pool.runs)

    assert spilled(b"\x00" * 60) and not spilled(None)


def test_the_term_pool_merges_its_spilled_runs_a_term_at_a_time(tmp_path, fast_path):
    """Past its limit the pool writes runs of whole terms; merged, a term held by several runs (and by the
    postings still in memory) comes out once, its postings in document order, values kept; the run files
    are removed once read."""
    from whoosh.filedb.filestore import FileStorage

    from portal.search.codec import TermPool

    rng = random.Random(5)
    items = []
    for doc in range(3000):
        for word in rng.sample(["tank", "valve", "leak", "jetty", "pump", f"rare{doc}"], 3):
            items.append(("content", word.encode(), doc, float(rng.randint(1, 4)), None))
        items.append(("tags", b"hot", doc, 1.0, b"\x00\x00\x00\x01"))
    for order in ("as written", "shuffled"):  # shuffled: a term's documents out of order within and across runs
        if order == "shuffled":
            rng.shuffle(items)
        pool = TermPool(FileStorage(str(tmp_path)), None, limitmb=0.05)
        for item in items:
            pool.add(item)
        assert len(pool.runs) > 3 and len(list(tmp_path.glob("*.run"))) == len(pool.runs)
        terms = list(pool.items().terms())
        assert [t[:2] for t in terms] == sorted({t[:2] for t in terms})  # each term once, in order
        assert [p for f, t, ids, ws, vs in terms for p in zip(repeat(f), repeat(t), ids, ws, vs or repeat(None))] \
            == sorted(items), order
        assert not list(tmp_path.glob("*.run"))


def _merged_files(path, docs, writer_of, limitmb):
    """Three segments of the documents (some deleted), merged into one by writer_of(ix, limitmb): the
    merged segment's term table and postings, and every posting as Whoosh's own reader gives it."""
    path.mkdir()
    ix = whoosh_index.create_in(str(path), make_schema())
    for part in (docs[:150], docs[150:300], docs[300:]):
        writer = ix.writer(codec=PortalCodec())
        for doc in part:
            writer.add_document(**doc)
        writer.commit(merge=False)
    writer = ix.writer(codec=PortalCodec())
    for i in range(0, len(docs), 7):
        writer.delete_by_term("key", f"doc:{i}")
    writer.commit(merge=False)
    assert len(ix._segments()) == 3
    writer_of(ix, limitmb).commit(optimize=True)
    assert len(ix._segments()) == 1
    reader = ix.reader()
    postings = list(reader.iter_postings())
    return {ext: _segment_file(ix, ext) for ext in (".trm", ".pst")}, postings


@pytest.mark.parametrize("limitmb", [128, 0.05])
def test_a_merge_reads_a_term_at_a_time_and_writes_what_whooshs_merge_writes(tmp_path, docs, fast_path,
                                                                               monkeypatch, limitmb):
    """Segments merged by the store's writer (codec.MergingWriter: a term's postings read in one go and
    pooled together) give the same files, byte for byte, as Whoosh's merge (a matcher per term, a tuple
    per posting into Whoosh's pool), deleted records left out; past the pool's limit too."""
    import whoosh.writing

    from portal.search.codec import WHOOSH_POOL, MergingWriter

    ours, ours_postings = _merged_files(
        tmp_path / "ours", docs, lambda ix, mb: MergingWriter(ix, codec=PortalCodec(), limitmb=mb), limitmb)
    monkeypatch.setattr(whoosh.writing, "PostingPool", WHOOSH_POOL)
    theirs, their_postings = _merged_files(
        tmp_path / "whoosh", docs, lambda ix, mb: whoosh.writing.SegmentWriter(ix, codec=PortalCodec(), limitmb=mb),
        limitmb)
    assert ours == theirs and len(theirs[".pst"]) > 10_000
    assert ours_postings == their_postings
    assert {f for f, *_ in ours_postings} >= {"content", "title", "tags", "key"}  # tags: postings with values
    assert not any(t == b"doc:7" for f, t, *_ in ours_postings if f == "key")  # deleted before the merge
