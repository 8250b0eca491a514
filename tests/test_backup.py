"""`flask backup`: a backup restores to the same records and files, stays consistent while users save,
and a damaged backup is refused.

Each test builds its own installations (database, archive, knowledge and index folders) with the real
migrations; on PostgreSQL (TEST_DATABASE_URL set) the round trip uses databases it creates and drops
itself (``portal_bk_<random>``), never the suite's shared one.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from portal.backup import MANIFEST, plan_prune
from portal.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
ROOT = Path(__file__).resolve().parent.parent
SHARED_INSTANCE = Path(tempfile.gettempdir()) / "portal-test-instance"
# Rows the restore itself adds: the archive verification it runs (and that run's audit entries).
ADDED_BY_RESTORE = {"archive_fixity_run", "audit_entry"}


# ------------------------------------------------------------------ installations
def _config(root: Path, database_url: str | None = None) -> dict:
    for name in ("archive", "knowledge"):
        (root / name).mkdir(parents=True, exist_ok=True)
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(SHARED_INSTANCE),
        "DATABASE_URL": database_url or f"sqlite:///{root / 'portal.db'}",
        "SEARCH_INDEX_DIR": str(root / "index"),
        "ARCHIVE_DIR": str(root / "archive"),
        "KNOWLEDGE_DIR": str(root / "knowledge"),
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "KNOWLEDGE_CORPUS_DIR": str(root / "no-corpus"),
    }


def _flask(app, *args: str, input: str | None = None):
    """Run a `flask` command against ``app`` (no other app context may be active)."""
    return app.test_cli_runner().invoke(args=list(args), input=input, catch_exceptions=False)


def _ok(app, *args: str, input: str | None = None) -> str:
    result = _flask(app, *args, input=input)
    assert result.exit_code == 0, f"flask {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.output


def _app(make_app, root: Path, database_url: str | None = None):
    return make_app(_config(root, database_url))


def _installation(make_app, root: Path, database_url: str | None = None):
    app = _app(make_app, root, database_url)
    _ok(app, "db", "upgrade")
    return app


def _file_document(title: str, data: bytes, name: str):
    """File a document through the core's filing contract (the archive's own function until it registers)."""
    from portal.models import User
    from portal.services import file_record, has_filer

    user = db.session.scalar(select(User).order_by(User.id).limit(1))
    if has_filer():
        return file_record("document", title, [(name, data)], user)
    from portal.blueprints.archive.services import file_document

    return file_document(kind="document", title=title, files=[(name, data)], user=user)


def _pg_database():
    """A new PostgreSQL database on TEST_DATABASE_URL's server; returns (url, drop)."""
    base = make_url(PG_URL)
    name = f"portal_bk_{secrets.token_hex(4)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture
def pg_databases():
    made = []

    def make():
        url, drop = _pg_database()
        made.append(drop)
        return url

    yield make
    for drop in made:
        drop()


@pytest.fixture
def make_app(pg_databases, make_app):
    """The shared make_app, set up after pg_databases so that its apps are closed before the databases go."""
    return make_app


# ------------------------------------------------------------------ comparisons
def _dump_tables(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key."""
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        out = {}
        with engine.connect() as conn:
            for name, table in meta.tables.items():
                order = list(table.primary_key.columns) or list(table.columns)
                out[name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
        return out
    finally:
        engine.dispose()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def _only_backup(parent: Path) -> Path:
    found = [p for p in parent.iterdir() if p.name.startswith("portal-backup-")]
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------ round trip
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set"))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_round_trip_restores_every_record_and_file(tmp_path, backend, pg_databases, make_app):
    src_url = pg_databases() if backend == "postgresql" else None
    dst_url = pg_databases() if backend == "postgresql" else None
    source = _installation(make_app, tmp_path / "source", src_url)
    _ok(source, "demo", "load")  # every kind of record, archived files, complaint evidence, legal holds
    knowledge = Path(source.config["KNOWLEDGE_DIR"])
    (knowledge / "procedures").mkdir()
    (knowledge / "procedures" / "收货流程.md").write_text("---\ntitle: 收货流程\n---\n# Receiving 收货\n", "utf-8")
    (knowledge / "guide.md").write_text("# Guide\n", "utf-8")

    out = _ok(source, "backup", "create", str(tmp_path / "backups"))
    folder = _only_backup(tmp_path / "backups")
    assert str(folder) in out
    manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    assert manifest["database"]["dialect"] == backend
    assert manifest["database"]["migration_heads"]
    assert manifest["database"]["tables"]["archive_hold"] >= 1
    assert not any(name.startswith("index") for name in manifest["files"])  # the search index is rebuilt
    _ok(source, "backup", "verify", str(folder))

    target = _app(make_app, tmp_path / "target", dst_url)
    out = _ok(target, "backup", "restore", str(folder))
    assert "search index rebuilt" in out
    assert "0 missing, 0 altered" in out

    before = _dump_tables(source.config["DATABASE_URL"])
    after = _dump_tables(target.config["DATABASE_URL"])
    assert set(before) == set(after)
    assert before["archive_hold"] and before["cs_complaint"] and before["archive_record_file"]
    for table, rows in before.items():
        if table in ADDED_BY_RESTORE:
            assert after[table][: len(rows)] == rows, table
        else:
            assert after[table] == rows, table
    assert len(after["archive_fixity_run"]) == len(before["archive_fixity_run"]) + 1

    for key in ("ARCHIVE_DIR", "KNOWLEDGE_DIR"):
        assert _files(Path(target.config[key])) == _files(Path(source.config[key])), key
    assert _files(Path(target.config["ARCHIVE_DIR"]))  # archived files and complaint evidence came back
    _ok(target, "search", "check")
    _ok(target, "archive", "verify")


# ------------------------------------------------------------------ consistent while saving
SAVER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from portal import create_app
    from portal.audit import acting_as
    from portal.extensions import db
    from test_backup import _file_document

    cfg, stop, progress = json.loads(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    app = create_app(cfg)
    saved = 0
    deadline = time.monotonic() + 60
    with app.app_context(), acting_as(name="saver"):
        while not stop.exists() and time.monotonic() < deadline:
            try:
                _file_document(f"Saved while backing up {saved}", f"save {saved} {time.time()}".encode(),
                               f"note-{saved}.txt")
                db.session.commit()
                saved += 1
                (progress.parent / "progress.tmp").write_text(str(saved))
                (progress.parent / "progress.tmp").replace(progress)  # never seen half written
            except Exception as exc:  # a locked SQLite file: try again
                db.session.rollback()
                print("retry", exc, file=sys.stderr)
                time.sleep(0.05)
""")


def _wait_for(progress: Path, at_least: int, proc) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the saver stopped (exit {proc.returncode})"
        try:
            count = int(progress.read_text() or 0)
        except (FileNotFoundError, ValueError):
            count = 0
        if count >= at_least:
            return count
        time.sleep(0.05)
    raise AssertionError(f"the saver did not reach {at_least} saves")


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_taken_while_another_process_saves_restores_to_a_sound_state(tmp_path, backend, pg_databases, make_app):
    src_url = pg_databases() if backend == "postgresql" else None
    dst_url = pg_databases() if backend == "postgresql" else None
    source = _installation(make_app, tmp_path / "source", src_url)
    _ok(source, "users", "create", "saver", "--role", "csr", "--password-stdin", input="a-long-password-1\n")
    with source.app_context():
        _file_document("Before the backup", b"first file", "first.txt")
        db.session.commit()
    script = tmp_path / "saver.py"
    script.write_text(SAVER, "utf-8")
    stop, progress = tmp_path / "stop", tmp_path / "progress"
    log = open(tmp_path / "saver.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, str(script), json.dumps(_config(tmp_path / "source", src_url)), str(stop), str(progress)],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))})
    try:
        _wait_for(progress, 3, proc)
        _ok(source, "backup", "create", str(tmp_path / "backups"))
        done = _wait_for(progress, _wait_for(progress, 0, proc) + 3, proc)  # saves went on after the snapshot
    finally:
        stop.write_text("stop")
        proc.wait(timeout=60)
        log.close()
    assert proc.returncode == 0, (tmp_path / "saver.log").read_text()
    assert done >= 6

    folder = _only_backup(tmp_path / "backups")
    manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    target = _app(make_app, tmp_path / "target", dst_url)
    _ok(target, "backup", "restore", str(folder))
    _ok(target, "search", "check")
    _ok(target, "archive", "verify")
    restored = _dump_tables(target.config["DATABASE_URL"])["archive_record"]
    assert len(restored) == manifest["database"]["tables"]["archive_record"]
    assert len(restored) < len(_dump_tables(source.config["DATABASE_URL"])["archive_record"])


# ------------------------------------------------------------------ damaged backups
@pytest.fixture(scope="module")
def small_backup(tmp_path_factory, make_module_app):
    """A backup of a small installation (one user, two archived files, a knowledge page)."""
    root = tmp_path_factory.mktemp("small")
    source = _installation(make_module_app, root / "source")
    result = source.test_cli_runner().invoke(args=["users", "create", "records", "--role", "records_officer",
                                                   "--password-stdin"], input="a-long-password-1\n")
    assert result.exit_code == 0, result.output
    from portal.audit import acting_as

    with source.app_context(), acting_as(name="test"):
        _file_document("Tank 12 calibration", b"calibration table of tank 12\n" * 50, "calibration.txt")
        _file_document("Letter", "致客户的信\n".encode() * 20, "letter.txt")
        db.session.commit()
    (Path(source.config["KNOWLEDGE_DIR"]) / "page.md").write_text("# Page\n", "utf-8")
    _ok(source, "backup", "create", str(root / "backups"))
    return _only_backup(root / "backups")


@pytest.fixture
def damaged(small_backup, tmp_path):
    copy = tmp_path / small_backup.name
    shutil.copytree(small_backup, copy)
    return copy


def _refused(make_app, tmp_path: Path, folder: Path, expected: str):
    target = _app(make_app, tmp_path / "target")
    result = _flask(target, "backup", "verify", str(folder))
    assert result.exit_code == 1
    assert expected in result.output
    result = _flask(target, "backup", "restore", str(folder))
    assert result.exit_code == 1
    assert expected in result.output
    assert "nothing restored" in result.output
    assert not (tmp_path / "target" / "portal.db").exists()
    assert not _files(tmp_path / "target" / "archive")


def test_a_sound_backup_verifies(small_backup, tmp_path, make_app):
    target = _app(make_app, tmp_path / "target")
    out = _ok(target, "backup", "verify", str(small_backup))
    assert out.startswith("ok: ")


def test_a_corrupt_manifest_is_refused(damaged, tmp_path, make_app):
    path = damaged / MANIFEST
    path.write_bytes(path.read_bytes()[:-40] + b"\x00garbage")
    _refused(make_app, tmp_path, damaged, "manifest.json is corrupt")


def test_an_edited_manifest_is_refused(damaged, tmp_path, make_app):
    path = damaged / MANIFEST
    body = json.loads(path.read_text("utf-8"))
    body["database"]["tables"]["user"] += 1
    path.write_text(json.dumps(body), "utf-8")
    _refused(make_app, tmp_path, damaged, "its checksum does not match")


def test_a_flipped_byte_in_an_archived_file_is_refused(damaged, tmp_path, make_app):
    files = sorted(p for p in (damaged / "archive").rglob("*") if p.is_file())
    assert files
    data = bytearray(files[0].read_bytes())
    data[len(data) // 2] ^= 0x01
    files[0].write_bytes(bytes(data))
    rel = files[0].relative_to(damaged).as_posix()
    _refused(make_app, tmp_path, damaged, f"{rel}: content differs from the manifest")


def test_a_truncated_database_file_is_refused(damaged, tmp_path, make_app):
    path = damaged / "database.sqlite3"
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    _refused(make_app, tmp_path, damaged, "database.sqlite3: truncated")


def test_a_missing_file_is_refused(damaged, tmp_path, make_app):
    (damaged / "knowledge" / "page.md").unlink()
    _refused(make_app, tmp_path, damaged, "knowledge/page.md: missing")


def test_restore_refuses_a_target_holding_data_unless_forced(small_backup, tmp_path, make_app):
    target = _installation(make_app, tmp_path / "target")
    result = target.test_cli_runner().invoke(args=["users", "create", "someone", "--role", "staff",
                                                   "--password-stdin"], input="a-long-password-1\n")
    assert result.exit_code == 0
    (Path(target.config["ARCHIVE_DIR"]) / "stray.txt").write_text("not from the backup")
    result = _flask(target, "backup", "restore", str(small_backup))
    assert result.exit_code == 1
    assert "the target is not empty" in result.output
    assert "archive/stray.txt: not in the backup" in result.output

    out = _ok(target, "backup", "restore", str(small_backup), "--force")
    assert "--force" in out
    assert not (Path(target.config["ARCHIVE_DIR"]) / "stray.txt").exists()
    engine = create_engine(target.config["DATABASE_URL"])
    with engine.connect() as conn:
        users = conn.scalars(text('SELECT username FROM "user"')).all()
    engine.dispose()
    assert users == ["records"]


def test_restore_of_a_folder_of_backups_asks_which_one(small_backup, tmp_path, make_app):
    target = _app(make_app, tmp_path / "target")
    result = _flask(target, "backup", "restore", str(small_backup.parent))
    assert result.exit_code == 1
    assert small_backup.name in result.output
    assert _flask(target, "backup", "verify", str(small_backup.parent)).exit_code == 0


def test_a_backup_of_a_newer_portal_is_refused(damaged, tmp_path, make_app):
    from portal.backup import _write_manifest

    body = json.loads((damaged / MANIFEST).read_text("utf-8"))
    body["database"]["migration_heads"] = ["zz_from_the_future"]
    body.pop("checksum")
    _write_manifest(damaged, body)
    target = _app(make_app, tmp_path / "target")
    assert _flask(target, "backup", "verify", str(damaged)).exit_code == 0
    result = _flask(target, "backup", "restore", str(damaged))
    assert result.exit_code == 1
    assert "made by a newer portal" in result.output


# ------------------------------------------------------------------ prune
def _stamp(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=timezone.utc)


def test_prune_keeps_the_newest_of_each_day_and_month():
    tz = ZoneInfo("Asia/Shanghai")
    backups = []
    # Nightly at 18:00 UTC (02:00 in Shanghai, the next day) for 90 days, plus a second one on the last day.
    start = _stamp("2026-06-01T18:00:00")
    for day in range(90):
        backups.append((start + timedelta(days=day), Path(f"b{day:03d}")))
    backups.append((backups[-1][0].replace(hour=20), Path("b089-second")))
    backups.sort(key=lambda item: item[0], reverse=True)
    keep, remove = plan_prune(backups, keep_daily=7, keep_monthly=12, tz=tz)

    kept = set(keep)
    assert Path("b089-second") in kept and "newest" in keep[Path("b089-second")]
    assert Path("b089") not in kept  # same local day as a newer one
    assert {Path(f"b{d:03d}") for d in range(83, 89)} <= kept  # the six days before it
    months = sorted({r for reasons in keep.values() for r in reasons if r.startswith("monthly")})
    assert months == ["monthly 2026-06", "monthly 2026-07", "monthly 2026-08"]
    assert Path("b000") not in kept  # 2026-06-02 local: not the newest of June
    assert Path("b028") in kept  # 2026-06-29T18:00Z is 2026-06-30 in Shanghai: the newest of June
    assert len(kept) + len(remove) == len(backups)
    assert not kept & set(remove)


def test_prune_command_dry_run_then_delete(tmp_path, small_backup, make_app):
    parent = tmp_path / "backups"
    parent.mkdir()
    for name in ("portal-backup-20260101T010000Z", "portal-backup-20260102T010000Z",
                 "portal-backup-20260102T020000Z", "portal-backup-20260301T010000Z"):
        shutil.copytree(small_backup, parent / name)
    (parent / "notes.txt").write_text("left alone")
    app = _app(make_app, tmp_path / "inst")
    out = _ok(app, "backup", "prune", str(parent), "--keep-daily", "2", "--keep-monthly", "1", "--dry-run")
    assert "would delete\tportal-backup-20260101T010000Z" in out
    assert "would delete\tportal-backup-20260102T010000Z" in out
    assert len(list(parent.iterdir())) == 5
    _ok(app, "backup", "prune", str(parent), "--keep-daily", "2", "--keep-monthly", "1")
    assert sorted(p.name for p in parent.iterdir()) == [
        "notes.txt", "portal-backup-20260102T020000Z", "portal-backup-20260301T010000Z"]


@pytest.mark.parametrize("command", ["create", "verify", "restore", "prune"])
def test_every_backup_command_has_help(tmp_path, command, make_app):
    app = _app(make_app, tmp_path / "inst")
    out = _ok(app, "backup", command, "--help")
    assert "Usage:" in out


def test_a_backup_older_than_the_code_is_migrated_on_restore(tmp_path, make_app):
    source = _installation(make_app, tmp_path / "source")
    _ok(source, "db", "downgrade", "base")  # a database at an earlier migration than the code's head
    _ok(source, "backup", "create", str(tmp_path / "backups"))
    folder = _only_backup(tmp_path / "backups")
    assert json.loads((folder / MANIFEST).read_text("utf-8"))["database"]["migration_heads"] == []
    target = _app(make_app, tmp_path / "target")
    out = _ok(target, "backup", "restore", str(folder))
    assert "migrating from none to" in out
    tables = _dump_tables(target.config["DATABASE_URL"])
    assert "user" in tables and "archive_record" in tables and len(tables["alembic_version"]) == 1


def test_an_altered_archived_file_is_reported_and_left_out_of_the_backup(tmp_path, make_app):
    source = _installation(make_app, tmp_path / "source")
    _ok(source, "users", "create", "records", "--role", "records_officer", "--password-stdin",
        input="a-long-password-1\n")
    from portal.audit import acting_as

    with source.app_context(), acting_as(name="test"):
        _file_document("Kept", b"a sound file\n", "sound.txt")
        _file_document("Damaged", b"a file that will rot on disk\n", "rot.txt")
        db.session.commit()
    archive = Path(source.config["ARCHIVE_DIR"])
    rotten = next(p for p in archive.rglob("*") if p.is_file() and p.read_bytes().startswith(b"a file that"))
    rotten.write_bytes(b"a file that will rot on dusk\n")
    result = _flask(source, "backup", "create", str(tmp_path / "backups"))
    assert result.exit_code == 1
    assert "altered on disk" in result.output and rotten.name in result.output
    folder = _only_backup(tmp_path / "backups")
    assert _flask(source, "backup", "verify", str(folder)).exit_code == 0  # what it holds is sound
    names = {Path(name).name for name in json.loads((folder / MANIFEST).read_text("utf-8"))["files"]}
    assert rotten.name not in names


def test_restore_dry_run_changes_nothing(small_backup, tmp_path, make_app):
    target = _app(make_app, tmp_path / "target")
    out = _ok(target, "backup", "restore", str(small_backup), "--dry-run")
    assert "dry run" in out and "nothing changed" in out
    assert not (tmp_path / "target" / "portal.db").exists()
    assert not _files(tmp_path / "target" / "archive")


def test_a_backup_inside_the_archive_folder_is_refused(tmp_path, make_app):
    source = _installation(make_app, tmp_path / "source")
    inside = Path(source.config["ARCHIVE_DIR"]) / "backups"
    result = _flask(source, "backup", "create", str(inside))
    assert result.exit_code == 1
    assert "inside ARCHIVE_DIR" in result.output
    assert not inside.exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_queued_messages_generated_attachment_is_backed_up_and_restored(tmp_path, backend, pg_databases, make_app):
    # A report mailed later (or resent after a restore) needs its PDF: the outbox keeps it in ARCHIVE_DIR/outbox,
    # referenced from the message's JSON, not from a *sha* column.
    from portal.audit import acting_as
    from portal.models import User
    from portal.outbox import Attachment, OutboxMessage, queue_message, read_attachment

    source = _installation(make_app, tmp_path / "source", pg_databases() if backend == "postgresql" else None)
    _ok(source, "users", "create", "csr", "--role", "csr", "--password-stdin", input="a-long-password-1\n")
    pdf = b"%PDF-1.7 daily stock report " + secrets.token_bytes(64)
    with source.app_context(), acting_as(name="test"):
        user = db.session.scalar(select(User).filter_by(username="csr"))
        queue_message(["trader@example.com"], "announcement", {"title": "t", "body": "b", "path": "/"},
                      kind="announcement", user=user, language="en",
                      attachments=[Attachment.generated("DSR-2026-12-01.pdf", pdf)])
        db.session.commit()
    _ok(source, "backup", "create", str(tmp_path / "backups"))
    folder = _only_backup(tmp_path / "backups")
    assert any(name.startswith("archive/outbox/") for name in json.loads((folder / MANIFEST).read_text("utf-8"))["files"])
    target = _app(make_app, tmp_path / "target", pg_databases() if backend == "postgresql" else None)
    _ok(target, "backup", "restore", str(folder))
    with target.app_context(), target.test_request_context():
        message = db.session.scalar(select(OutboxMessage))
        assert read_attachment(message.attachments[0]) == pdf
