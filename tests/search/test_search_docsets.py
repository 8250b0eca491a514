"""Counts, facets and ranking from doc sets: checked against Whoosh itself and against brute force."""
import random
from datetime import datetime

import pytest
from whoosh import index as whoosh_index
from whoosh import query as Q

from portal.search.analysis import configure_jieba
from portal.search.docsets import DocList, docsets
from portal.search.query import execute, parse
from portal.search.store import BulkWriter, document_fields, make_schema

ZH = "储罐 仓储费 码头 泊位 阀门 泄漏 加热 计量 罐区 泵房 油品 船舶 靠泊 投诉".split()
EN = "tank heating coil leak jetty berth valve pump survey invoice".split()


def _docs(n=90, seed=3):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(ZH) + rng.choice(ZH) if rng.random() < 0.5 else rng.choice(EN) for _ in range(12)]
        out.append(document_fields(
            key=f"doc:{i}", kind=("complaint", "minutes")[i % 2], title=" ".join(words[:3]),
            body=" ".join(words), customer=("SINO", "PETRO", "VITOL")[i % 3], date=datetime(2020 + i % 5, 1 + i % 12, 1),
            acl=["all"] if i % 4 else ["role:cs_manager"]))
    return out


@pytest.fixture
def searcher(tmp_path):
    """An index of three segments (a rebuild by two processes, then a later save), one deletion."""
    configure_jieba(tmp_path)
    docs = _docs()
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    writer = BulkWriter(ix, procs=2, batch=10)  # three commits of 20
    for doc in docs[:60]:
        writer.add_document(**doc)
    writer.commit()
    writer = ix.writer()
    for doc in docs[60:]:
        writer.add_document(**doc)
    writer.delete_by_term("key", "doc:7")
    writer.commit(merge=False)
    s = ix.searcher()
    assert len(s.reader().leaf_readers()) >= 2
    yield s
    s.close()


def _visible(searcher, acl=("all",)):
    allowed = set(searcher.docs_for_query(Q.Or([Q.Term("acl", t) for t in acl])))
    return {d: searcher.stored_fields(d) for d in allowed}


CASES = {  # a query, and what a record's text must hold for it, checked on the text itself
    "tank": lambda c: "tank" in c,
    "储罐": lambda c: "储罐" in c,
    "罐": lambda c: "罐" in c,
    "阀门泄漏": lambda c: "阀门泄漏" in c,
    "heating 码头": lambda c: "heating" in c and "码头" in c,
    "tank -leak": lambda c: "tank" in c and "leak" not in c,
    '"heating coil"': lambda c: "heating coil" in c,
    '"coil tank"': lambda c: "coil tank" in c,
    "罐 pump": lambda c: "罐" in c and "pump" in c,
}


@pytest.mark.parametrize("text", list(CASES))
def test_totals_and_facets_match_the_text(searcher, text):
    expected = {d for d, f in _visible(searcher).items() if CASES[text](f["content"].lower())}
    found = execute(searcher, parse(text), ["all"], per_page=500)
    assert found.total == len(expected) > 0
    assert {h.docnum for h in found.hits} == expected
    kinds = {}
    for doc in expected:
        kind = searcher.stored_fields(doc)["kind"]
        kinds[kind] = kinds.get(kind, 0) + 1
    assert dict(found.counts["kind"]) == kinds
    assert sum(found.counts["customer"].values()) == len(expected)


def test_deleted_and_restricted_documents_are_not_counted(searcher):
    memo = docsets(searcher)
    keys = {searcher.stored_fields(d)["key"] for d in memo.all_docs()}
    assert "doc:7" not in keys and len(keys) == 89
    staff = execute(searcher, parse("tank"), ["all"]).total
    manager = execute(searcher, parse("tank"), ["all", "role:cs_manager"]).total
    assert manager > staff


def test_bm25_scores_match_whoosh(searcher):
    memo = docsets(searcher)
    q = Q.Or([Q.Term("content", "tank"), Q.Term("content", "heat"), Q.Term("title", "leak")])
    results = searcher.search(q, limit=None)
    whoosh_scores = {h.docnum: h.score for h in results}
    ours = memo.scores([("content", "tank", 1.0), ("content", "heat", 1.0), ("title", "leak", 1.0)], whoosh_scores)
    for doc, score in whoosh_scores.items():
        assert ours[doc] == pytest.approx(score, rel=1e-3)


@pytest.mark.parametrize("text", ["heating", "储罐 tank", "阀门", "码头泊位"])
def test_relevance_order_is_whoosh_scoring_of_the_same_query(searcher, text):
    found = execute(searcher, parse(text), ["all"], per_page=500)
    whoosh_scores = {h.docnum: h.score for h in searcher.search(found.query, limit=None)}
    ours = [h.score for h in found.hits]  # Ranked(docnum, fields, score)
    assert ours == sorted(ours, reverse=True) and len(ours) > 1
    for hit in found.hits:
        assert hit.score == pytest.approx(whoosh_scores[hit.docnum], rel=1e-3)


def test_date_sort_is_newest_first(searcher):
    found = execute(searcher, parse("tank"), ["all"], sort="date", per_page=100)
    dates = [h.fields["date"] for h in found.hits]
    assert dates == sorted(dates, reverse=True) and len(dates) == found.total


def test_doc_list_gives_each_segment_its_own_numbers(searcher):
    memo = docsets(searcher)
    wanted = sorted(memo.term("content", "tank"))[-3:]  # from the last segments
    results = searcher.search(DocList(wanted, "content", "t"), limit=None)
    assert sorted(h.docnum for h in results) == wanted


def test_empty_allowed_set_never_means_everything(searcher):
    assert execute(searcher, parse("tank"), ["nobody"]).total == 0
    assert execute(searcher, parse("tank"), ["nobody"]).hits == []



def test_many_matches_rank_a_shortlist_of_title_hits_and_recent_records(searcher, monkeypatch):
    from portal.search import query

    monkeypatch.setattr(query, "RANK_ALL", 6)
    found = execute(searcher, parse("tank"), ["all"], per_page=6)
    assert found.total == sum("tank" in f["content"] for f in _visible(searcher).values()) > 6  # exact
    titled = [h for h in found.hits if "tank" in searcher.stored_fields(h.docnum)["title"]]
    assert len(titled) == len(found.hits) == 6  # enough records hold the word in their title


def test_one_character_query_is_highlighted(searcher):
    from portal.search.highlight import Marks, snippet

    p = parse("罐")
    found = execute(searcher, p, ["all"], per_page=5)
    assert found.hits
    for hit in found.hits:
        assert "<mark>罐</mark>" in snippet(hit.fields["content"], Marks.from_query(p.text))


def test_pages_past_the_shortlist_list_every_remaining_match(searcher, monkeypatch):
    from portal.search import query

    monkeypatch.setattr(query, "RANK_ALL", 6)
    found = execute(searcher, parse("tank"), ["all"], per_page=500)
    assert len({h.docnum for h in found.hits}) == found.total


def test_field_lengths_read_per_segment_are_whoosh_lengths(searcher):
    memo = docsets(searcher)
    for field in ("content", "title"):
        lengths = memo.lengths(field)
        assert len(lengths) == searcher.reader().doc_count_all()
        for doc in memo.all_docs():
            assert lengths[doc] == (searcher.reader().doc_field_length(doc, field, 0) or 0)


@pytest.mark.parametrize("scan_factor", [0, 4, 10 ** 9])  # heapq.nlargest always, by the set's size, the order always
def test_newest_is_by_date_then_the_later_record(searcher, monkeypatch, scan_factor):
    from portal.search import docsets as ds

    monkeypatch.setattr(ds, "SCAN_FACTOR", scan_factor)
    memo = docsets(searcher)
    dates = memo.sort_keys("date")
    every = memo.all_docs()
    few = frozenset(sorted(every)[::9])
    assert memo.order() == tuple(sorted(range(len(dates)), key=lambda d: (dates[d], d), reverse=True))
    for ids in (every, few, memo.term("content", "tank")):
        for count in (1, 5, len(ids), len(ids) + 3):
            expected = sorted(ids, key=lambda d: (dates[d], d), reverse=True)[:count]
            assert memo.newest(ids, count) == expected


def test_a_new_searcher_reads_only_new_segments_and_applies_new_deletions(tmp_path, monkeypatch, fast_path):
    from portal.search import docsets as ds

    configure_jieba(tmp_path)
    docs = _docs(40)
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    with ix.writer() as writer:
        for doc in docs[:30]:
            writer.add_document(**doc)
    with ix.searcher() as s:
        before = execute(s, parse("tank"), ["all", "role:cs_manager"], per_page=100)
        first_segment = ds._segment_key(s.reader().leaf_readers()[0][0])
    gone = before.hits[0].fields["key"]
    reads = []
    real = ds._raw_postings
    monkeypatch.setattr(ds, "_raw_postings", lambda leaf, f, t: reads.append(ds._segment_key(leaf)) or real(leaf, f, t))
    writer = ix.writer()
    writer.delete_by_term("key", gone)
    writer.add_document(**document_fields(key="doc:new", kind="complaint", title="tank", body="tank heating",
                                          date=datetime(2026, 1, 1), acl=["all"]))
    writer.commit(merge=False)
    with ix.searcher() as s:
        after = execute(s, parse("tank"), ["all", "role:cs_manager"], per_page=100)
        keys = [h.fields["key"] for h in after.hits]
        assert after.total == before.total and gone not in keys and "doc:new" in keys
        assert reads and first_segment not in reads  # the first segment's postings were kept
        whoosh = {h.docnum: h.score for h in s.search(after.query, limit=None)}
        for hit in after.hits:
            assert hit.score == pytest.approx(whoosh[hit.docnum], rel=1e-3)


def test_columns_read_in_one_go_are_whooshs_values(tmp_path):
    from portal.search import docsets as ds

    configure_jieba(tmp_path)
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    with ix.writer() as writer:
        for i, doc in enumerate(_docs(12)):
            if i % 5 == 0 or i == 11:  # some records without a date or customer, the last one too
                doc = dict(doc)
                doc.pop("date", None)
                doc["customer"] = ""
            writer.add_document(**doc)
    with ix.searcher() as s:
        leaf = s.reader().leaf_readers()[0][0]
        raw = list(leaf.column_reader("date", translate=False))
        assert list(ds._segment_column(leaf, "date", False)) == raw
        assert len(set(raw)) > 2
        lengths = ds._segment_lengths(leaf, "content")
        assert list(lengths) == [leaf.doc_field_length(d, "content", 0) or 0 for d in range(12)]
        assert docsets(s).sort_keys("date")[0] == -1
        for name in ("kind", "customer", "year"):  # ID columns, from the field's postings
            assert list(ds._segment_column(leaf, name, True)) == list(leaf.column_reader(name, translate=True))
        assert ds._segment_column(leaf, "customer", True)[0] == "" and ds._segment_column(leaf, "customer", True)[1]


def test_stored_fields_read_together_are_each_records_own(searcher, monkeypatch):
    from portal.search import docsets as ds

    memo = docsets(searcher)
    every = sorted(memo.all_docs())
    some = every[::7]
    for gap in (ds.STORED_GAP, 0):  # neighbours read in one go, and each record alone
        monkeypatch.setattr(ds, "STORED_GAP", gap)
        for docs in (every, some):
            assert list(memo.stored_many(docs)) == [(d, searcher.stored_fields(d)) for d in docs]


def test_kept_postings_are_left_out_of_the_cycle_collector(searcher):
    """A memo holds millions of document numbers; kept in sets, every full collection walked them."""
    import gc

    memo = docsets(searcher)
    post = memo.postings("content", "tank")
    assert len(post.ids) > 10
    assert not gc.is_tracked(post.weights)
    assert not isinstance(post.ids, (set, frozenset))  # a set of its own would be walked entry by entry
    assert set(post.ids) == set(post.weights)
    columns = [memo.column("kind"), memo.column("customer"), memo.sort_keys("date"), memo.recency()]
    gc.collect()  # a tuple of numbers and strings is untracked once it has survived a collection
    assert not any(gc.is_tracked(column) for column in columns)
    assert len(columns[0]) == searcher.doc_count_all() and set(columns[0]) == {"complaint", "minutes"}


def test_ranking_by_tiers_in_parts_is_the_ranking_by_flags_score_and_recency():
    import heapq
    import random

    from portal.search.query import _ranked

    rng = random.Random(5)
    for _ in range(200):
        candidates = frozenset(rng.sample(range(5000), rng.randint(0, 400)))
        tiers = [frozenset(d for d in candidates if rng.random() < rng.random()) for _ in range(rng.randint(0, 4))]
        scores = {d: rng.choice([0.0, 1.5, 2.25, rng.random()]) for d in candidates}  # ties broken by recency
        recency = {d: rng.randint(0, 50) * 2 ** 31 + d for d in candidates}
        count = rng.randint(1, 60)
        expected = heapq.nlargest(count, candidates, key=lambda d: (*(d in t for t in tiers), scores[d], recency[d]))
        assert _ranked(candidates, tiers, scores, recency, count) == expected


def test_a_phrase_is_looked_for_once_per_segment_and_process(tmp_path, monkeypatch, fast_path):
    from portal.search import docsets as ds

    configure_jieba(tmp_path)
    ds.clear_segment_cache()
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    with ix.writer() as writer:
        for i, body in enumerate(["the heating coil leaked", "a coil for heating", "heating coil renewed", "pump"] * 3):
            writer.add_document(**document_fields(key=f"doc:{i}", kind="complaint", title="", body=body,
                                                  date=datetime(2025, 1, 1 + i), acl=["all"]))
    checked = []
    real = ds.holds_phrase
    monkeypatch.setattr(ds, "holds_phrase", lambda text, *a, **k: checked.append(text) or real(text, *a, **k))
    acl = ["all", "role:cs_manager"]

    def found(s):
        return {h.fields["key"] for h in execute(s, parse('"heating coil"'), acl, per_page=100).hits}

    with ix.searcher() as s:
        first = found(s)
    assert first and checked  # the candidates' text was read once
    checked.clear()
    with ix.searcher() as s:  # another searcher of the same segment: nothing read again
        assert found(s) == first and not checked
    gone = sorted(first)[0]
    writer = ix.writer()
    writer.delete_by_term("key", gone)
    writer.add_document(**document_fields(key="doc:new", kind="complaint", title="coil", body="a new heating coil",
                                          date=datetime(2026, 1, 1), acl=["all"]))
    writer.commit(merge=False)
    with ix.searcher() as s:  # a save: only the new segment's candidate is read; the deleted one is gone
        assert found(s) == (first - {gone}) | {"doc:new"}
        assert len(checked) == 1 and checked[0].endswith("a new heating coil")


def test_a_phrase_whose_candidates_other_alternatives_matched_is_not_read(tmp_path, monkeypatch, fast_path):
    from portal.search import docsets as ds
    from portal.search.query import build_query

    configure_jieba(tmp_path)
    ds.clear_segment_cache()
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    with ix.writer() as writer:
        for i, body in enumerate(["the heating coil leaked", "a coil for heating", "coil, heating", "pump"]):
            writer.add_document(**document_fields(key=f"doc:{i}", kind="complaint", title="", body=body,
                                                  date=datetime(2025, 1, 1 + i), acl=["all"]))
    checked = []
    real = ds.holds_phrase
    monkeypatch.setattr(ds, "holds_phrase", lambda text, *a, **k: checked.append(text) or real(text, *a, **k))
    phrase = next(leaf for leaf in build_query(parse('"heating coil"')).leaves() if isinstance(leaf, ds.PhraseText))
    with ix.searcher() as s:
        memo = docsets(s)
        candidates = memo.docs(phrase.required)
        assert len(candidates) == 3
        assert memo._phrase(phrase, skip=candidates) == frozenset() and not checked  # nothing it could add
        first = min(candidates)  # "the heating coil leaked"
        assert memo._phrase(phrase, skip=candidates - {first}) == {first} and len(checked) == 1  # only the rest
        checked.clear()
        assert len(memo._phrase(phrase)) == 1 and len(checked) == 3  # asked for itself: every one read, and kept
        checked.clear()
        assert len(memo._phrase(phrase, skip=candidates)) == 1 and not checked
