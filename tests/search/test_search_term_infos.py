"""The term table's compact entries (portal/search/codec.py, schema 9): what Whoosh's readers get back
must not change, and the index must be smaller for it."""
import random
from datetime import datetime

import pytest
from whoosh import query
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo, W3TermsReader

from portal.search.analysis import configure_jieba
from portal.search.codec import PortalCodec, _TermInfo, compact_term_info
from portal.search.store import document_fields

STATS = ("weight", "doc_frequency", "min_length", "max_length", "max_weight", "min_id", "max_id")


def _whooshs(ids, weights, minlength, maxlength) -> W3TermInfo:
    """The same postings as Whoosh's own term info encodes and decodes them."""
    info = W3TermInfo(weight=sum(weights), df=len(ids), minlength=minlength, maxlength=maxlength,
                      maxweight=max(weights), minid=ids[0], maxid=ids[-1])
    info.set_inlined(ids, weights, (b"",) * len(ids))
    return W3TermInfo.from_bytes(info.to_bytes())


@pytest.mark.parametrize("ids,weights", [
    ((7,), (1.0,)),  # a term of one record
    ((0, 3, 65535), (0.5, 3.0, 127.5)),  # context, title weights; the largest short number
    ((12, 65536, 900_000), (1.0, 1.0, 2.0)),  # a merged segment beyond 65,535 records
    ((5, 6), (1.2999999523162842, 2.700000047683716)),  # a boosted record: float32 weights
    (tuple(range(0, 300, 20)), (128.0,) * 15),  # a weight past a byte's halves
])
def test_a_compact_term_info_reads_back_as_whooshs_own(ids, weights):
    value = compact_term_info(ids, weights, 3, 250)
    ours, theirs = _TermInfo.from_bytes(value), _whooshs(ids, weights, 3, 250)
    assert [getattr(ours, s)() for s in STATS] == [getattr(theirs, s)() for s in STATS]
    assert ours.inlined_postings() == theirs.inlined_postings()
    assert len(value) < len(theirs.to_bytes()) / 2


def test_a_term_of_one_record_takes_seven_bytes():
    assert len(compact_term_info((1234,), (1.0,), 40, 40)) == 7
    assert compact_term_info(tuple(range(256)), (1.0,) * 256, 1, 1) is None  # kept in posting blocks


def _docs(n=300, seed=5):
    rng = random.Random(seed)
    words = "储罐 仓储费 码头 泊位 阀门 泄漏 加热 tank heating coil leak jetty berth valve".split()
    return [document_fields(key=f"doc:{i}", kind="complaint", title=f"{rng.choice(words)} {i}",
                            body=" ".join(rng.choice(words) for _ in range(30)) + f" 单号{i}号罐体 rare{i}x",
                            tags=["hot"] if i % 3 == 0 else [], customer="SINO", date=datetime(2024, 1, 1),
                            acl=["all"]) for i in range(n)]


def _postings(m) -> list:
    """(document, weight) of a matcher (the text fields keep no per-posting values)."""
    out = []
    while m.is_active():
        out.append((m.id(), m.weight()))
        m.next()
    return out


def _files_size(path) -> int:
    return sum(f.stat().st_size for f in path.iterdir())


def test_the_portal_codec_writes_a_smaller_index_that_whoosh_reads_the_same(tmp_path, fast_path, index_with):
    configure_jieba(tmp_path)
    docs = _docs()
    whooshs = index_with("whoosh", W3Codec(compression=3), docs)
    ours = index_with("ours", PortalCodec(), docs)
    assert _files_size(tmp_path / "ours") < 0.7 * _files_size(tmp_path / "whoosh")
    a, b = whooshs.reader(), ours.reader()
    assert list(a.all_terms()) == list(b.all_terms())
    for field, text in a.all_terms():
        assert [getattr(b.term_info(field, text), s)() for s in STATS] == \
            [getattr(a.term_info(field, text), s)() for s in STATS], (field, text)
        assert (b.frequency(field, text), b.doc_frequency(field, text)) == \
            (a.frequency(field, text), a.doc_frequency(field, text))
        assert _postings(b.postings(field, text)) == _postings(a.postings(field, text)), (field, text)
    cursor = b.cursor("content")
    assert cursor.term_info().doc_frequency() == a.doc_frequency("content", cursor.text())
    with ours.searcher() as s:  # and Whoosh searches it
        assert [hit["key"] for hit in s.search(query.Term("content", "rare17x"))] == ["doc:17"]


def test_segments_written_before_schema_9_still_read(tmp_path, index_with):
    """A segment of Whoosh's own term infos (as schema 8 and Whoosh's writer wrote them) reads the same
    through the portal codec's terms reader."""
    configure_jieba(tmp_path)
    ix = index_with("whoosh", W3Codec(compression=3), _docs(80))
    segment = ix.reader().segment()
    storage = segment.open_compound_file(ix.storage) if segment.is_compound() else ix.storage
    theirs = W3Codec().terms_reader(storage, segment)
    ours = PortalCodec().terms_reader(storage, segment)
    assert type(theirs) is W3TermsReader and type(ours) is not W3TermsReader
    items = list(theirs.items())
    assert len(items) > 100
    for ((field, text), info), ((field2, text2), info2) in zip(items, ours.items(), strict=True):
        assert (field, text) == (field2, text2)
        assert [getattr(info2, s)() for s in STATS] == [getattr(info, s)() for s in STATS]
        assert info2.is_inlined() == info.is_inlined()
