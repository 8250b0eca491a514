"""The guarded fast path (portal/search/fastpath.py): it runs only on the Whoosh release it mirrors and
with SEARCH_FAST_PATH on; otherwise Whoosh's own writer and readers give the same hits, in the same
order, with the same counts."""
from __future__ import annotations

import logging
import random
from datetime import date

import pytest
from whoosh.codec.whoosh3 import W3Codec

from portal import search
from portal.extensions import db
from portal.search import fastpath
from portal.search.codec import PortalCodec
from portal.search.docsets import clear_segment_cache

ZH = "储罐 仓储费 码头 泊位 阀门 泄漏 加热 计量 罐区 泵房 油品 船舶 靠泊 投诉".split()
EN = "tank heating coil leak jetty berth valve pump survey invoice demurrage ullage".split()
QUERIES = ["tank", "储罐", "罐", "tank heating", '"heating coil"', "leak -valve", "customer:SINO pump",
           "date:2023 jetty", "仓储费 invoice", "GB 50160", "tnak", "customer:PETRO"]


def test_another_whoosh_release_turns_the_fast_path_off(caplog):
    with caplog.at_level(logging.WARNING, logger="portal.search"):
        assert fastpath.configure(True, installed=("whoosh-reloaded", "2.7.6")) is False
    assert "2.7.6" in caplog.text and "Whoosh's own writer and readers" in caplog.text
    assert not fastpath.enabled()
    assert fastpath.configure(True, installed=fastpath.WRITTEN_FOR) is True


@pytest.mark.parametrize("setting", ["0", "false", "off", False, 0])
def test_the_setting_turns_it_off(setting):
    assert fastpath.configure(setting, installed=fastpath.WRITTEN_FOR) is False
    assert fastpath.reason() == "SEARCH_FAST_PATH is off"


def test_the_installed_release_is_the_one_it_was_written_for():
    # when this fails, Whoosh was upgraded: the portal still works (slower) until the fast path is
    # checked against the new release and fastpath.WRITTEN_FOR is updated
    assert fastpath.installed_whoosh() == fastpath.WRITTEN_FOR


class TestSetting:
    @pytest.fixture
    def app_config(self):
        return {"SEARCH_FAST_PATH": "0"}

    def test_off_in_the_app_means_whoosh_own_writer(self, app):
        assert not fastpath.enabled()
        store = search.get_store()
        writer = store._writer(store.open(), timeout=5)
        try:
            assert type(writer.codec) is W3Codec
        finally:
            writer.cancel()


def _corpus(kit, people):
    """Records over several segments, with deletions and updates, restricted ones among them."""
    rng = random.Random(5)
    docs = []
    for batch in range(4):
        for i in range(25):
            words = [rng.choice(ZH) if rng.random() < 0.5 else rng.choice(EN) for _ in range(rng.randint(4, 30))]
            n = batch * 25 + i
            doc = kit.Doc(title=" ".join(words[:3]), body=" ".join(words) + (" GB 50160" if n % 9 == 0 else ""),
                          customer=("SINO", "PETRO", "VITOL")[n % 3], day=date(2020 + n % 5, 1 + n % 12, 1),
                          restricted=n % 7 == 0, owner_id=people["owner"].id if n % 14 == 0 else None)
            db.session.add(doc)
            docs.append(doc)
        db.session.commit()  # one segment per commit
    for doc in docs[::11]:
        db.session.delete(doc)
    for doc in docs[5::13]:
        doc.body += " heating coil leak"
    db.session.commit()
    return docs


def _answers(people) -> list:
    out = []
    for who in ("owner", "other"):
        user = people[who]
        for q in QUERIES:
            r = search.search(q, user=user, per_page=10)
            out.append((who, q, r.total, [(h.key, round(h.score, 4)) for h in r.hits], r.suggestion,
                        {k: [(f.value, f.count) for f in v] for k, v in r.facets.items()}))
            out.append((who, q, "page 2", [h.key for h in search.search(q, user=user, per_page=10, page=2).hits]))
        out.append((who, "suggest", [h.key for h in search.suggest("tank he", user=user)]))
        out.append((who, "similar", [h.key for h in search.similar_text("tank heating coil leak 储罐 泄漏", user=user,
                                                                      limit=8)]))
    return out


def _switch(on: bool) -> None:
    fastpath.configure(on)
    search.get_store().reset_searcher()
    clear_segment_cache()


def test_both_modes_give_the_same_hits_order_and_counts(kit, make_user, search_mode):
    people = {"owner": make_user("owner", "csr"), "other": make_user("other", "csr")}
    _switch(True)
    _corpus(kit, people)
    store = search.get_store()
    assert store.searcher().reader().is_atomic() is False  # several segments
    fast = _answers(people)
    assert any(a[2] for a in fast if len(a) == 6)  # the queries find something

    _switch(False)  # the same index (deleted records still in its segments), read by Whoosh's readers
    assert _answers(people) == fast

    search.rebuild()  # written by Whoosh's own writer, read by its readers
    store.reset_searcher()
    rebuilt = _answers(people)
    totals = [a[:3] for a in fast if len(a) == 6]
    assert [a[:3] for a in rebuilt if len(a) == 6] == totals  # the same totals (scores: no deleted records)

    _switch(True)  # read by the fast path
    assert _answers(people) == rebuilt

    search.rebuild()  # written by the portal's codec
    store.reset_searcher()
    assert _answers(people) == rebuilt


def test_portal_codec_hands_out_whoosh_own_parts_when_off(tmp_path):
    from whoosh.codec.whoosh3 import W3FieldWriter, W3PerDocReader
    from whoosh.filedb.filestore import FileStorage

    from portal.search.store import make_schema

    ix = FileStorage(str(tmp_path)).create_index(make_schema())
    codec = PortalCodec()
    fastpath.configure(False)
    writer = ix.writer(codec=codec)
    try:
        assert type(writer.fieldwriter) is W3FieldWriter
        assert type(codec.per_document_reader(ix.storage, writer.newsegment)) is W3PerDocReader
    finally:
        writer.cancel()
