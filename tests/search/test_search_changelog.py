"""The transactional change log: commits reach the index, rollbacks never do, nothing is lost."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import search
from portal.extensions import db
from portal.search.models import SearchLog
from portal.search.store import META_KEY, IndexStore

WORKER = str(Path(__file__).with_name("search_worker.py"))


def _config(app, **overrides) -> dict:
    cfg = {k: app.config[k] for k in ("DATABASE_URL", "SEARCH_INDEX_DIR", "SECRET_KEY", "ARCHIVE_DIR",
                                     "KNOWLEDGE_DIR")}
    cfg.update(TESTING=True, INSTANCE_PATH=app.instance_path, WTF_CSRF_ENABLED=False)
    cfg.update(overrides)
    return cfg


def _run(app, *args, config=None, **kwargs):
    return subprocess.Popen([sys.executable, WORKER, json.dumps(config or _config(app)), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _titles(user, query):
    return sorted(h.title for h in search.search(query, user=user, per_page=100).hits)


def _contents(store: IndexStore) -> dict[str, str]:
    with store.open().searcher() as s:
        return {f["key"]: f.get("digest") for f in s.all_stored_fields() if f["key"] != META_KEY}


@pytest.fixture
def reader(make_user):
    return make_user("reader", "staff")


def test_commit_then_search_finds_it(kit, reader):
    db.session.add(kit.Doc(title="Tank 12 heating coil", body="盘管泄漏"))
    db.session.commit()
    assert _titles(reader, "盘管") == ["Tank 12 heating coil"]


def test_rollback_leaves_no_trace(kit, reader):
    before = db.session.scalar(select(func.count(SearchLog.id)))
    db.session.add(kit.Doc(title="Never saved", body="phantom record"))
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count(SearchLog.id))) == before
    search.sync()
    assert search.search("phantom", user=reader).total == 0


def test_update_and_delete_reach_the_index(kit, reader):
    doc = kit.Doc(title="Berth report", body="mooring lines")
    db.session.add(doc)
    db.session.commit()
    doc.body = "fender damage"
    db.session.commit()
    assert search.search("mooring", user=reader).total == 0
    assert _titles(reader, "fender") == ["Berth report"]
    db.session.delete(doc)
    db.session.commit()
    assert search.search("fender", user=reader).total == 0
    assert search.check()["testdoc"] == {"missing": [], "stale": [], "orphaned": [], "acl": []}


def test_child_change_reindexes_the_parent(kit, reader):
    doc = kit.Doc(title="Complaint about odour", body="smell")
    db.session.add(doc)
    db.session.commit()
    note = kit.Note(doc=doc, text="vapour recovery unit restarted")
    db.session.add(note)
    db.session.commit()
    assert _titles(reader, "vapour recovery") == ["Complaint about odour"]
    db.session.delete(note)
    db.session.commit()
    assert search.search("vapour recovery", user=reader).total == 0


def test_save_succeeds_while_another_process_holds_the_writer(app, kit, reader):
    db.session.add(kit.Doc(title="first", body="first"))
    db.session.commit()  # the index exists
    app.config["SEARCH_WRITER_TIMEOUT"] = 0.2
    search.get_store().writer_timeout = 0.2
    holder = _run(app, "hold-writer", "30")
    try:
        assert holder.stdout.readline().strip() == "ready"
        db.session.add(kit.Doc(title="Saved while locked", body="locked writer"))
        db.session.commit()  # no exception: the request would still succeed
        assert search.search("locked writer", user=reader).total == 0
    finally:
        holder.kill()
        holder.communicate()
    search.sync()
    assert _titles(reader, "locked writer") == ["Saved while locked"]


def test_process_killed_between_commit_and_index_write_loses_nothing(app, kit, reader):
    search.rebuild()
    proc = _run(app, "save-and-die", "Killed mid-save")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    assert "survived" not in out
    store = search.get_store()
    assert store.applied_seq() < store.log_head()  # committed, but not in the index
    search.sync()
    assert _titles(reader, "killed") == ["Killed mid-save"]


def test_two_machines_converge_on_identical_indexes(app, kit, tmp_path, reader):
    search.rebuild()
    other_dir = str(tmp_path / "machine-b")
    machine_a = _run(app, "save", "alpha", "12")
    machine_b = _run(app, "save", "beta", "12", config=_config(app, SEARCH_INDEX_DIR=other_dir))
    db.session.add(kit.Doc(title="gamma 0", body="gamma"))  # and a save on machine A's web worker
    db.session.commit()
    for proc in (machine_a, machine_b):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    store_a = search.get_store()
    store_b = IndexStore(other_dir, db.engine)
    store_a.sync(timeout=30)
    store_b.sync(timeout=30)
    a, b = _contents(store_a), _contents(store_b)
    assert a == b
    assert sum(1 for k in a if k.startswith("testdoc:")) == 25
    assert store_a.applied_seq() == store_b.applied_seq() == store_a.log_head()
    store_b.close()


def test_rebuild_during_concurrent_saves_misses_none(app, kit, reader):
    search.rebuild()
    saver = _run(app, "save", "during", "30", "0.02")
    rebuilds = 0
    while saver.poll() is None and rebuilds < 20:
        search.rebuild()
        rebuilds += 1
    out, err = saver.communicate(timeout=300)
    assert saver.returncode == 0, err
    assert rebuilds >= 1
    search.sync()
    assert search.search("during", user=reader, per_page=100).total == 30
    assert search.check()["testdoc"]["missing"] == []


def test_sync_continues_from_the_remembered_number(app, kit, reader):
    app.config["SEARCH_SYNC_ON_COMMIT"] = False
    for i in range(3):
        db.session.add(kit.Doc(title=f"offline {i}", body="offline"))
        db.session.commit()
    store = search.get_store()
    assert store.applied_seq() < store.log_head()
    assert search.sync() >= 3
    assert store.applied_seq() == store.log_head()
    assert search.sync() == 0
    app.config["SEARCH_SYNC_ON_COMMIT"] = True
    assert search.search("offline", user=reader).total == 3


def test_the_mark_is_read_once_per_searcher_and_anew_after_a_commit(app, kit, reader, monkeypatch):
    """Each search asks whether the index is behind the log: the mark is looked up in the index once per
    searcher (the lookup reads every segment), and a commit's searcher reads its own."""
    from whoosh.searching import Searcher

    app.config["SEARCH_SYNC_ON_COMMIT"] = False
    store = search.get_store()
    lookups = []  # the searchers that looked the mark up (kept, so that each has its own id)
    real = Searcher.document
    monkeypatch.setattr(Searcher, "document", lambda s, **kw: lookups.append(s) or real(s, **kw))
    first = store.applied_seq()
    assert [store.applied_seq() for _ in range(5)] == [first] * 5
    assert len({id(s) for s in lookups}) == len(lookups) < 3  # Whoosh's own readers renew the first searcher once
    db.session.add(kit.Doc(title="marked", body="marked"))
    db.session.commit()
    assert store.applied_seq() == first  # not applied yet
    assert search.sync() == 1
    assert store.applied_seq() == store.log_head() > first
    assert search.search("marked", user=reader).total == 1


def test_a_lower_number_committed_late_is_not_lost(app, kit, reader):
    """On PostgreSQL a transaction can commit after one that took a later number: the index waits for it."""
    from sqlalchemy import insert

    from portal.timeutil import utcnow

    search.rebuild()
    store = search.get_store()
    head = store.log_head()
    app.config["SEARCH_SYNC_ON_COMMIT"] = False
    doc_table, log_table = kit.Doc.__table__, SearchLog.__table__
    # number head+1 is taken by a transaction still open; head+2 commits first
    db.session.execute(insert(doc_table).values(id=500, title="Committed first", body="overtaker", refs="",
                                                customer="", restricted=False))
    db.session.execute(insert(log_table).values(id=head + 2, key="testdoc:500", op="upsert", at=utcnow()))
    db.session.commit()
    search.sync()
    assert store.applied_seq() == head + 2
    assert search.search("overtaker", user=reader).total == 1
    # now the straggler commits with the lower number
    db.session.execute(insert(doc_table).values(id=501, title="Committed late", body="straggler", refs="",
                                                customer="", restricted=False))
    db.session.execute(insert(log_table).values(id=head + 1, key="testdoc:501", op="upsert", at=utcnow()))
    db.session.commit()
    search.sync()
    app.config["SEARCH_SYNC_ON_COMMIT"] = True
    assert search.search("straggler", user=reader).total == 1
