"""flask search rebuild / sync / check / query / optimize, and recovery of a corrupt index."""
from pathlib import Path

from portal import search
from portal.extensions import db
from portal.search.store import SCHEMA_VERSION


def test_rebuild_if_needed_is_a_no_op_when_the_version_matches(app, runner, add_doc):
    add_doc("Pump seal", "seal")
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    root = Path(app.config["SEARCH_INDEX_DIR"])
    assert (root / "SCHEMA_VERSION").read_text().strip() == SCHEMA_VERSION
    generation = (root / "CURRENT").read_text()
    result = runner.invoke(args=["search", "rebuild", "--if-needed"])
    assert result.exit_code == 0 and "nothing to do" in result.output
    assert (root / "CURRENT").read_text() == generation
    (root / "SCHEMA_VERSION").write_text("0\n")
    result = runner.invoke(args=["search", "rebuild", "--if-needed"])
    assert result.exit_code == 0 and "rebuilt" in result.output
    assert (root / "CURRENT").read_text() != generation


def test_check_finds_and_fix_repairs_an_orphan_and_a_missing_record(app, runner, kit, add_doc, make_user):
    user = make_user("reader", "staff")
    kept = add_doc("Kept record", "flange")
    gone = add_doc("Orphan record", "gasket")
    gone_id = gone.id
    # plant an orphan: delete the row behind the index's back (no log row)
    db.session.execute(kit.Doc.__table__.delete().where(kit.Doc.id == gone_id))
    # plant a missing record: insert a row without the change log
    db.session.execute(kit.Doc.__table__.insert().values(id=1000, title="Missing record", body="valve", refs="",
                                                         customer="", restricted=False))
    db.session.commit()
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"orphaned: testdoc:{gone_id}" in result.output
    assert "missing: testdoc:1000" in result.output
    result = runner.invoke(args=["search", "check", "--fix"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0 and "agree" in result.output
    assert [h.title for h in search.search("valve", user=user).hits] == ["Missing record"]
    assert search.search("gasket", user=user).total == 0
    assert kept.id in {h.id for h in search.search("flange", user=user).hits}


def test_corrupt_index_is_rebuilt_on_open(app, add_doc, make_user, caplog):
    user = make_user("reader", "staff")
    add_doc("Heating coil", "coil")
    store = search.get_store()
    store.close()
    store.reset_searcher()
    gen = store.current_dir()
    for path in gen.iterdir():
        if path.is_file():
            path.write_bytes(b"garbage" * 10)
    store2 = type(store)(store.root, db.engine)
    app.extensions["portal_search"]["store"] = store2
    assert [h.title for h in search.search("coil", user=user).hits] == ["Heating coil"]
    assert "CORRUPT" in caplog.text
    store2.close()


def test_missing_index_is_built_on_first_use(app, add_doc, make_user):
    import shutil

    user = make_user("reader", "staff")
    add_doc("Heating coil", "coil")
    store = search.get_store()
    store.close()
    store.reset_searcher()
    shutil.rmtree(store.root)
    assert store.current_dir() is None
    assert [h.title for h in search.search("coil", user=user).hits] == ["Heating coil"]


def test_query_sync_compact_and_optimize_commands(app, runner, add_doc, make_user):
    make_user("reader", "staff")
    doc = add_doc("Nitrogen purge", "purge of tank 4")
    result = runner.invoke(args=["search", "query", "nitrogen"])
    assert result.exit_code == 0
    key, score, title = result.output.splitlines()[0].split("\t")
    assert key == f"testdoc:{doc.id}" and float(score) > 0 and title == "Nitrogen purge"
    result = runner.invoke(args=["search", "query", "purge", "--kind", "customer"])
    assert result.exit_code == 0 and result.output.strip() == ""
    result = runner.invoke(args=["search", "query", "purge", "--as", "reader"])
    assert result.exit_code == 0 and "Nitrogen purge" in result.output
    assert runner.invoke(args=["search", "query", "x", "--as", "nobody"]).exit_code == 1
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "applied" in result.output
    for n in range(3):  # each save a small segment at the end; compaction merges them (the nightly job's work)
        add_doc(f"Purge record {n}", "nitrogen purge")
    from portal.search.store import _segment_count

    segments = _segment_count(search.get_store().open())
    result = runner.invoke(args=["search", "compact"])
    assert result.exit_code == 0 and f"{segments} -> " in result.output
    assert _segment_count(search.get_store().open()) < segments
    assert search.search("nitrogen", user=make_user("boss", "cs_manager")).total == 4
    assert runner.invoke(args=["search", "optimize"]).exit_code == 0


def test_the_nightly_job_compacts_what_saves_left(app, add_doc, make_user):
    from datetime import timedelta

    from portal import jobs
    from portal.search.store import _segment_count
    from portal.timeutil import utcnow

    for n in range(5):  # each save a small segment at the end, merged as the bits of a counter: 4 + 1
        add_doc(f"Purge record {n}", "nitrogen purge")
    segments = _segment_count(search.get_store().open())
    assert segments >= 2
    start = utcnow()
    assert jobs.run_due(start, only=["search.compact"]) == []  # first due at the next 02:30
    runs = jobs.run_due(start + timedelta(days=1, hours=1), only=["search.compact"])
    assert [run.outcome for run in runs] == ["ok"] and runs[0].detail.startswith(f"{segments} -> ")
    assert _segment_count(search.get_store().open()) < segments
    assert search.search("nitrogen", user=make_user("boss", "cs_manager")).total == 5


def test_sync_prunes_old_log_rows(app, runner, add_doc):
    from datetime import timedelta

    from sqlalchemy import func, select, update

    from portal.search.models import SearchLog
    from portal.timeutil import utcnow

    add_doc("One", "one")
    add_doc("Two", "two")
    db.session.execute(update(SearchLog).values(at=utcnow() - timedelta(days=400)))
    db.session.commit()
    before = db.session.scalar(select(func.count(SearchLog.id)))
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0
    after = db.session.scalar(select(func.count(SearchLog.id)))
    assert 1 <= after < before  # the newest row stays as the position mark


def test_rebuild_in_batches_of_several_processes_keeps_every_record(app, runner, add_doc, make_user, monkeypatch):
    from portal.search import store

    monkeypatch.setattr(store, "REBUILD_BATCH", 2)  # 2 per process: 11 records in three commits
    docs = [add_doc(f"Heating coil report {n}", f"tank T-{100 + n} heating") for n in range(11)]
    result = runner.invoke(args=["search", "rebuild", "--procs", "2"])
    assert result.exit_code == 0, result.output
    from portal.search.store import _segment_count

    assert _segment_count(search.get_store().open()) >= 3  # a segment (at least) for each of the three batches
    user = make_user("reader", "staff")
    results = search.search("heating", user=user, per_page=50)
    assert {h.id for h in results.hits} == {d.id for d in docs} and results.total == 11
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
