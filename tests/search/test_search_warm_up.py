"""A new process (a gunicorn worker, deploy/gunicorn.conf.py) reads the index's common parts before it takes
requests: its first search then reads only the postings of the words asked for."""
from searchkit import in_a_thread

from portal import search
from portal.search import docsets


def test_after_the_warm_up_a_first_search_reads_no_column_acl_or_length(app, add_doc, make_user, monkeypatch):
    for n in range(3):
        add_doc(f"Heating coil of tank T-10{n}", "盘管泄漏 heating coil leak", customer="SINOCHEM")
    add_doc("Restricted note", "heating coil", restricted=True)
    reader = make_user("reader", "staff")
    # as a new process: a store with no searcher yet, and no segment read before
    app.extensions["portal_search"].pop("store").close()
    docsets.clear_segment_cache()

    def warm():
        with app.app_context():
            return search.warm_up()

    assert in_a_thread(warm) >= 4  # the documents of the index (the log's mark among them)

    reads = []
    for name in ("_segment_column", "_segment_lengths"):
        real = getattr(docsets, name)
        monkeypatch.setattr(docsets, name, lambda leaf, field, *rest, _real=real, _name=name:
                            reads.append((_name, field)) or _real(leaf, field, *rest))
    real_postings = docsets._segment_postings  # a term's postings in a segment, whether the fast path is on or off
    monkeypatch.setattr(docsets, "_segment_postings", lambda leaf, key, field, text:
                        reads.append(("postings", field, text)) or real_postings(leaf, key, field, text))

    def first_search():
        with app.test_request_context():
            return search.search("heating coil", user=reader)

    found = in_a_thread(first_search)
    assert sorted(h.title for h in found.hits) == [f"Heating coil of tank T-10{n}" for n in range(3)]
    assert {f.value: f.count for f in found.facets["customer"]} == {"SINOCHEM": 3}
    assert not [r for r in reads if r[0] != "postings"], reads  # columns and lengths were read by the warm-up
    with search.get_store().open().searcher() as s:
        indexed = {t.decode() for t in s.lexicon("acl")}
    assert "all" in indexed
    # so were the documents of every acl term of the index (a user's terms that none holds are looked up)
    assert not [r for r in reads if r[1] == "acl" and r[2] in indexed], reads
    assert ("postings", "content", "heat") in reads  # the words asked for are read now
