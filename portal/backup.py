"""`flask backup ...`: consistent, self-describing backups of an installation, and their restore.

A backup is one folder, ``portal-backup-<UTC time>``, holding:

    manifest.json        portal version, migration head, time, rows per table, sha256 and size of every file
    database.sqlite3     SQLite: a copy made with SQLite's online backup API
    database.pgdump      PostgreSQL: ``pg_dump --format=custom`` with the server's own tools
    archive/...          the archived files the database snapshot refers to (content-addressed)
    knowledge/...        the knowledge folder

The database snapshot is taken first (PostgreSQL: an exported snapshot that pg_dump and the row counts
share). Archived files are named by their sha256 and never change, so copying those the snapshot refers
to gives a consistent backup while users keep saving: files written after the snapshot are left out. The
search index is not backed up: it is rebuilt from the database on restore.

The folder is written as ``.portal-backup-...partial`` and renamed when complete; the manifest carries
its own checksum, so a damaged manifest, a changed file or a truncated database is refused by
``verify`` and ``restore``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import JSON, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .storage import UnsafePath, atomic_write, safe_path, sha256_file

backup_cli = AppGroup("backup", help="Consistent backups of the database, archive and knowledge files, and their restore.")

FORMAT = "terminal-csd-portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
PREFIX = "portal-backup-"
_NAME_RE = re.compile(r"^portal-backup-(\d{8}T\d{6}Z)(?:-\d+)?$")
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024
# Tables that say nothing about whether a database holds data.
_BOOKKEEPING = {"alembic_version"}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def portal_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("terminal-csd-portal")
    except PackageNotFoundError:
        return "unknown"


# ------------------------------------------------------------------ database helpers
def _quote(conn, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def describe_database(conn) -> dict:
    """Rows per table, migration head(s) and every sha256 the data refers to, read through ``conn``."""
    insp = inspect(conn)
    tables: dict[str, int] = {}
    referenced: set[str] = set()
    for name in sorted(insp.get_table_names()):
        tables[name] = int(conn.scalar(text(f"SELECT count(*) FROM {_quote(conn, name)}")) or 0)
        for column in insp.get_columns(name):
            cname = column["name"].lower()
            # digests live in columns named *sha*/*checksum*, or inside JSON (the outbox's attachment references)
            if "sha" not in cname and "checksum" not in cname and not isinstance(column["type"], JSON):
                continue
            selected = _quote(conn, column["name"])
            if isinstance(column["type"], JSON):
                selected = f"CAST({selected} AS TEXT)"  # PostgreSQL has no equality (DISTINCT) for json
            rows = conn.execute(text(f"SELECT DISTINCT {selected} FROM {_quote(conn, name)}"))
            for (value,) in rows:
                if isinstance(value, str):
                    referenced.update(_SHA_RE.findall(value.lower()))
    heads: list[str] = []
    if "alembic_version" in tables:
        heads = sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
    return {"tables": tables, "heads": heads, "referenced": referenced}


def _rows_with_data(conn) -> dict[str, int]:
    info = describe_database(conn)
    return {t: n for t, n in info["tables"].items() if n and t not in _BOOKKEEPING}


def _sqlite_file(url) -> Path:
    database = make_url(str(url)).database
    if not database or database == ":memory:":
        raise BackupError("the database is an in-memory SQLite database: nothing to back up or restore")
    return Path(database)


def code_migrations():
    """(heads, script directory) of the migrations shipped with this portal."""
    from alembic.script import ScriptDirectory

    cfg = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(cfg)
    return set(script.get_heads()), script


def known_revision(script, rev: str) -> bool:
    try:
        return script.get_revision(rev) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown revision
        return False


# ------------------------------------------------------------------ PostgreSQL tools
def _pg_env(url) -> tuple[dict[str, str], str]:
    u = make_url(str(url))
    env = dict(os.environ)
    host = u.host or u.query.get("host")
    if isinstance(host, tuple):
        host = host[0]
    for key, value in (("PGHOST", host), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password)):
        if value:
            env[key] = str(value)
    if not u.database:
        raise BackupError("the PostgreSQL URL names no database")
    return env, u.database


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_tool(name: str, server_major: int) -> str:
    """The server's own ``pg_dump``/``pg_restore``: PG_BIN_DIR, Debian's versioned folder, then PATH."""
    candidates = []
    if current_app.config.get("PG_BIN_DIR"):
        candidates.append(str(Path(str(current_app.config["PG_BIN_DIR"])) / name))
    candidates.append(f"/usr/lib/postgresql/{server_major}/bin/{name}")
    if shutil.which(name):
        candidates.append(shutil.which(name))
    for candidate in candidates:
        if Path(candidate).is_file():
            major = _tool_major(candidate)
            if major is not None and major >= server_major:
                return candidate
    raise BackupError(f"{name} for PostgreSQL {server_major} not found: install postgresql-client-{server_major} "
                      f"or set PORTAL_PG_BIN_DIR to the folder holding it")


def _server_major(conn) -> int:
    return int(conn.scalar(text("SHOW server_version_num"))) // 10000


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise BackupError(f"{what} failed (exit {proc.returncode}): " + " | ".join(detail[-5:]))


# ------------------------------------------------------------------ files
def _copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy ``src`` to a new file ``dst``; return the sha256 and size of what was copied."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest(), size


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_file(path: Path) -> tuple[str, int]:
    return sha256_file(path), path.stat().st_size


def _walk(root: Path):
    """Regular files under ``root`` (relative POSIX paths), leaving out hidden names (temporary writes)."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def _content_addressed(rel: str) -> str | None:
    """The sha256 a file's place names (``[folder/]ab/cd/<sha256>``), else None."""
    parts = rel.split("/")
    if len(parts) >= 3 and _SHA_RE.fullmatch(parts[-1]) and parts[-3] == parts[-1][:2] and parts[-2] == parts[-1][2:4]:
        return parts[-1]
    return None


# ------------------------------------------------------------------ manifest
def _manifest_checksum(body: dict) -> str:
    data = json.dumps({k: v for k, v in body.items() if k != "checksum"}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _write_manifest(folder: Path, body: dict) -> None:
    body = dict(body)
    body["checksum"] = _manifest_checksum(body)
    atomic_write(folder / MANIFEST, json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"))


@dataclass
class Verification:
    folder: Path
    manifest: dict | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems


def read_manifest(folder: Path) -> dict:
    """The manifest of a backup folder, or BackupError saying what is wrong with it."""
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder}: no {MANIFEST}: not a backup folder, or a backup that did not finish")
    try:
        body = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{folder}: {MANIFEST} is corrupt (not readable JSON: {exc})") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise BackupError(f"{folder}: {MANIFEST} is not a portal backup manifest")
    if body.get("checksum") != _manifest_checksum(body):
        raise BackupError(f"{folder}: {MANIFEST} is corrupt or was edited (its checksum does not match)")
    if int(body.get("format_version") or 0) > FORMAT_VERSION:
        raise BackupError(f"{folder}: backup format {body.get('format_version')} is newer than this portal reads "
                          f"({FORMAT_VERSION}): restore it with the portal version that made it")
    files = body.get("files")
    database = body.get("database")
    if not isinstance(files, dict) or not isinstance(database, dict) or database.get("file") not in files:
        raise BackupError(f"{folder}: {MANIFEST} lists no database file")
    return body


def verify_backup(folder: Path) -> Verification:
    """Check the manifest and every file it lists (present, same size, same sha256)."""
    result = Verification(folder=folder)
    try:
        manifest = read_manifest(folder)
    except BackupError as exc:
        result.problems.append(str(exc))
        return result
    result.manifest = manifest
    listed: set[str] = set()
    for rel, meta in sorted(manifest["files"].items()):
        try:
            path = safe_path(folder, rel)
        except UnsafePath as exc:
            result.problems.append(f"{rel}: refused, unsafe path in the manifest ({exc})")
            continue
        listed.add(rel)
        if not path.is_file():
            result.problems.append(f"{rel}: missing")
            continue
        size = path.stat().st_size
        if size != meta.get("size"):
            what = "truncated" if size < int(meta.get("size") or 0) else "longer than recorded"
            result.problems.append(f"{rel}: {what} ({size} bytes, the manifest says {meta.get('size')})")
            continue
        if sha256_file(path) != meta.get("sha256"):
            result.problems.append(f"{rel}: content differs from the manifest (sha256 mismatch)")
    for rel, _path in _walk(folder):
        if rel not in listed and rel != MANIFEST:
            result.warnings.append(f"{rel}: not listed in the manifest (ignored)")
    database = manifest["database"]
    if not result.problems and database.get("dialect") == "sqlite":
        problem = _sqlite_integrity(folder / database["file"])
        if problem:
            result.problems.append(f"{database['file']}: {problem}")
    return result


def _sqlite_integrity(path: Path) -> str | None:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"not a readable SQLite database ({exc})"
    if rows != [("ok",)]:
        return "SQLite integrity check failed: " + "; ".join(r[0] for r in rows[:5])
    return None


# ------------------------------------------------------------------ create
@dataclass
class Created:
    folder: Path
    manifest: dict
    altered: list[str]
    left_out: int


def _new_folder(parent: Path, moment: datetime) -> tuple[Path, Path]:
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    name = PREFIX + stamp
    n = 1
    while (parent / name).exists() or (parent / f".{name}.partial").exists():
        n += 1
        name = f"{PREFIX}{stamp}-{n}"
    partial = parent / f".{name}.partial"
    partial.mkdir()
    return parent / name, partial


def _snapshot_sqlite(partial: Path) -> dict:
    source = _sqlite_file(db.engine.url)
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist")
    target = partial / SQLITE_FILE
    taken = datetime.now(timezone.utc)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # the online backup API: one consistent copy while others write
    finally:
        dst.close()
        src.close()
    problem = _sqlite_integrity(target)
    if problem:
        raise BackupError(f"the database copy is not sound: {problem}")
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            info = describe_database(conn)
    finally:
        engine.dispose()
    info.update(dialect="sqlite", file=SQLITE_FILE, taken=taken)
    return info


def _snapshot_postgresql(partial: Path) -> dict:
    target = partial / PG_FILE
    env, dbname = _pg_env(db.engine.url)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
            taken = datetime.now(timezone.utc)
            major = _server_major(conn)
            info = describe_database(conn)
            pg_dump = pg_tool("pg_dump", major)
            # pg_dump reads the same snapshot as the counts above, while this transaction stays open.
            _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--file={target}", "--dbname", dbname], env, "pg_dump")
    info.update(dialect="postgresql", file=PG_FILE, taken=taken, server_major=major)
    return info


def create_backup(parent: Path, *, echo=lambda _m: None) -> Created:
    """Write a complete backup folder under ``parent`` and return what was written."""
    for key in ("ARCHIVE_DIR", "KNOWLEDGE_DIR"):
        root = Path(current_app.config[key]).resolve()
        if parent.resolve() == root or root in parent.resolve().parents:
            raise BackupError(f"{parent} is inside {key} ({root}): write backups outside the data folders")
    parent.mkdir(parents=True, exist_ok=True)
    started = _utcnow()
    final, partial = _new_folder(parent, started)
    try:
        dialect = db.engine.dialect.name
        db.session.remove()
        if dialect == "sqlite":
            info = _snapshot_sqlite(partial)
        elif dialect == "postgresql":
            info = _snapshot_postgresql(partial)
        else:
            raise BackupError(f"backups of {dialect} databases are not supported")
        echo(f"database snapshot taken at {_iso(info['taken'])} ({sum(info['tables'].values())} rows "
             f"in {len(info['tables'])} tables)")
        files: dict[str, dict] = {info["file"]: dict(zip(("sha256", "size"), _hash_file(partial / info["file"]),
                                                         strict=True))}
        referenced = info["referenced"]
        altered: list[str] = []
        left_out = 0
        archive_root = Path(current_app.config["ARCHIVE_DIR"])
        for rel, path in _walk(archive_root):
            sha = _content_addressed(rel)
            if sha is not None:
                if sha not in referenced:
                    left_out += 1  # written after the snapshot, or no longer needed by any record
                    continue
            elif datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) > info["taken"]:
                left_out += 1
                continue
            digest, size = _copy_hashed(path, partial / "archive" / rel)
            if sha is not None and digest != sha:
                (partial / "archive" / rel).unlink()
                altered.append(rel)
                continue
            files[f"archive/{rel}"] = {"sha256": digest, "size": size}
        knowledge_root = Path(current_app.config["KNOWLEDGE_DIR"])
        for rel, path in _walk(knowledge_root):
            digest, size = _copy_hashed(path, partial / "knowledge" / rel)
            files[f"knowledge/{rel}"] = {"sha256": digest, "size": size}
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "portal_version": portal_version(),
            "created_at": _iso(info["taken"]),
            "finished_at": _iso(_utcnow()),
            "database": {"dialect": info["dialect"], "file": info["file"], "migration_heads": info["heads"],
                         "server_major": info.get("server_major"), "tables": info["tables"]},
            "archive": {"files": sum(1 for k in files if k.startswith("archive/")),
                        "left_out_newer_or_unreferenced": left_out, "altered_not_copied": altered},
            "knowledge": {"files": sum(1 for k in files if k.startswith("knowledge/"))},
            "files": files,
        }
        _write_manifest(partial, manifest)
        os.replace(partial, final)
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Created(folder=final, manifest=manifest, altered=altered, left_out=left_out)


# ------------------------------------------------------------------ restore
@dataclass
class TargetState:
    database_rows: dict[str, int]
    conflicts: list[str]
    extras: list[tuple[str, Path]]

    @property
    def empty(self) -> bool:
        return not self.database_rows and not self.conflicts and not self.extras


def _folder_state(root: Path, prefix: str, manifest: dict) -> tuple[list[str], list[tuple[str, Path]]]:
    wanted = {k[len(prefix) + 1:]: v for k, v in manifest["files"].items() if k.startswith(prefix + "/")}
    conflicts, extras = [], []
    for rel, path in _walk(root):
        meta = wanted.get(rel)
        if meta is None:
            extras.append((f"{prefix}/{rel}", path))
        elif path.stat().st_size != meta["size"] or sha256_file(path) != meta["sha256"]:
            conflicts.append(f"{prefix}/{rel}")
    return conflicts, extras


def inspect_target(manifest: dict) -> TargetState:
    dialect = db.engine.dialect.name
    rows: dict[str, int] = {}
    if dialect == "sqlite":
        path = _sqlite_file(db.engine.url)
        if path.is_file() and path.stat().st_size:
            engine = create_engine(f"sqlite:///{path}")
            try:
                with engine.connect() as conn:
                    rows = _rows_with_data(conn)
            finally:
                engine.dispose()
    else:
        with db.engine.connect() as conn:
            rows = _rows_with_data(conn)
    conflicts, extras = [], []
    for prefix, key in (("archive", "ARCHIVE_DIR"), ("knowledge", "KNOWLEDGE_DIR")):
        c, e = _folder_state(Path(current_app.config[key]), prefix, manifest)
        conflicts += c
        extras += e
    return TargetState(rows, conflicts, extras)


def _restore_files(folder: Path, manifest: dict, state: TargetState, echo) -> int:
    for _rel, path in state.extras:
        path.unlink()
    written = 0
    for rel, meta in manifest["files"].items():
        prefix, _, inner = rel.partition("/")
        if prefix not in ("archive", "knowledge"):
            continue
        root = Path(current_app.config["ARCHIVE_DIR" if prefix == "archive" else "KNOWLEDGE_DIR"])
        root.mkdir(parents=True, exist_ok=True)
        target = safe_path(root, inner)
        if target.is_file() and target.stat().st_size == meta["size"] and sha256_file(target) == meta["sha256"]:
            continue
        data = (folder / rel).read_bytes()
        if hashlib.sha256(data).hexdigest() != meta["sha256"]:
            raise BackupError(f"{rel} changed while restoring: the backup is not sound")
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
        written += 1
    echo(f"files restored: {written} written, {len(state.extras)} removed")
    return written


def _restore_sqlite(folder: Path, manifest: dict) -> None:
    target = _sqlite_file(db.engine.url)
    target.parent.mkdir(parents=True, exist_ok=True)
    db.session.remove()
    db.engine.dispose()
    tmp = target.with_name(f".{target.name}.restore")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"{(folder / manifest['database']['file']).resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)


def _restore_postgresql(folder: Path, manifest: dict) -> None:
    env, dbname = _pg_env(db.engine.url)
    db.session.remove()
    db.engine.dispose()
    with db.engine.connect() as conn:
        major = _server_major(conn)
    with db.engine.begin() as conn:
        # The target holds no data (or --force was given): clear every object so the dump restores whole.
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.engine.dispose()
    pg_restore = pg_tool("pg_restore", major)
    _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          "--dbname", dbname, str(folder / manifest["database"]["file"])], env, "pg_restore")


def _invoke(group: str, name: str, *args: str) -> int:
    """Run another portal command in this process; its exit status."""
    ctx = click.get_current_context()
    command = current_app.cli.get_command(ctx, group)
    if command is not None and hasattr(command, "get_command"):
        command = command.get_command(ctx, name)
    if command is None:
        raise BackupError(f"command `flask {group} {name}` not found")
    try:
        with command.make_context(f"{group} {name}", list(args), parent=ctx) as sub:
            command.invoke(sub)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


def resolve_backup(path: Path) -> Path:
    """A backup folder: ``path`` itself, or refuse with the list when ``path`` holds several."""
    if (path / MANIFEST).exists():
        return path
    found = list_backups(path)
    if found:
        names = ", ".join(p.name for _t, p in found[:5])
        raise BackupError(f"{path} holds {len(found)} backup(s), name one of them (newest first: {names})")
    raise BackupError(f"{path}: no {MANIFEST}: not a backup folder, or a backup that did not finish")


def list_backups(parent: Path) -> list[tuple[datetime, Path]]:
    """Finished backup folders under ``parent``, newest first, with their time."""
    if not parent.is_dir():
        return []
    found = []
    for entry in parent.iterdir():
        match = _NAME_RE.match(entry.name)
        if entry.is_dir() and match:
            moment = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            found.append((moment, entry))
    return sorted(found, key=lambda item: (item[0], item[1].name), reverse=True)


# ------------------------------------------------------------------ prune
def plan_prune(backups: list[tuple[datetime, Path]], keep_daily: int, keep_monthly: int,
               tz: ZoneInfo) -> tuple[dict[Path, list[str]], list[Path]]:
    """Which backups to keep (with why) and which to delete: the newest of each of the last
    ``keep_daily`` days and ``keep_monthly`` months that have a backup, and always the newest one."""
    keep: dict[Path, list[str]] = {}
    days: list = []
    months: list = []
    for moment, path in sorted(backups, key=lambda item: (item[0], item[1].name), reverse=True):
        local = moment.astimezone(tz)
        day, month = local.date(), (local.year, local.month)
        if not keep:
            keep.setdefault(path, []).append("newest")
        if day not in days and len(days) < keep_daily:
            days.append(day)
            keep.setdefault(path, []).append(f"daily {day.isoformat()}")
        if month not in months and len(months) < keep_monthly:
            months.append(month)
            keep.setdefault(path, []).append(f"monthly {month[0]}-{month[1]:02d}")
    remove = [p for _m, p in backups if p not in keep]
    return keep, remove


# ------------------------------------------------------------------ commands
def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def create_command(directory: Path):
    """Write a consistent backup into a new folder under DIRECTORY.

    The database snapshot comes first (SQLite online backup API, or pg_dump --format=custom with the
    server's tools), then the archived files that snapshot refers to and the knowledge folder, then a
    manifest with the portal version, migration head, rows per table and the sha256 of every file. The
    portal keeps running; files saved after the snapshot are left out. The search index is not copied
    (restore rebuilds it). Exit status 1 on failure, or when archived files were missing or altered
    (the backup is still written; run `flask archive verify`).
    """
    try:
        created = create_backup(directory, echo=click.echo)
    except (BackupError, OSError, sqlite3.Error, SQLAlchemyError) as exc:
        _fail(f"backup not written: {exc}")
    m = created.manifest
    click.echo(f"archive: {m['archive']['files']} file(s) copied, {created.left_out} left out "
               f"(written after the snapshot or no longer referenced)")
    click.echo(f"knowledge: {m['knowledge']['files']} file(s) copied")
    click.echo(f"backup written: {created.folder}")
    if created.altered:
        for rel in created.altered:
            click.echo(f"warning: archive/{rel} does not match its sha256 and was not copied", err=True)
        _fail(f"{len(created.altered)} archived file(s) are altered on disk: run `flask archive verify`")


@backup_cli.command("verify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_command(directory: Path):
    """Check a backup: the manifest's own checksum, and every file it lists (present, size, sha256).

    DIRECTORY is one backup folder, or a folder of backups (each one is checked). Exit status 1 when
    any backup is damaged.
    """
    if (directory / MANIFEST).exists():
        folders = [directory]
    else:
        folders = [p for _t, p in list_backups(directory)]
        if not folders:
            _fail(f"{directory}: no {MANIFEST}: not a backup folder, or a backup that did not finish")
    bad = 0
    for folder in folders:
        result = verify_backup(folder)
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        if result.ok:
            m = result.manifest
            click.echo(f"ok: {folder} ({m['created_at']}, portal {m['portal_version']}, "
                       f"{len(m['files'])} files, {sum(m['database']['tables'].values())} rows)")
        else:
            bad += 1
            for problem in result.problems:
                click.echo(f"error: {problem}", err=True)
            click.echo(f"DAMAGED: {folder}: do not restore from it", err=True)
    if bad:
        sys.exit(1)


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database and folders that already hold data "
              "(files not in the backup are deleted).")
@click.option("--dry-run", is_flag=True, help="Check the backup and the target and say what would be done.")
def restore_command(directory: Path, force: bool, dry_run: bool):
    """Restore the backup in DIRECTORY into the configured database and folders.

    The backup is verified first. The target database, ARCHIVE_DIR and KNOWLEDGE_DIR must be empty
    (files identical to the backup's are fine) unless --force is given. Then the files and the
    database are restored, migrations run when the backup is older than this portal, the search
    index is rebuilt and `flask archive verify` checks every archived file. Stop the portal first.
    """
    try:
        folder = resolve_backup(directory)
    except BackupError as exc:
        _fail(str(exc))
    result = verify_backup(folder)
    if not result.ok:
        for problem in result.problems:
            click.echo(f"error: {problem}", err=True)
        _fail(f"{folder} is damaged: nothing restored")
    manifest = result.manifest
    dialect = db.engine.dialect.name
    if manifest["database"]["dialect"] != dialect:
        _fail(f"the backup holds a {manifest['database']['dialect']} database but the portal is configured for "
              f"{dialect}: set PORTAL_DATABASE_URL to a {manifest['database']['dialect']} database")
    heads, script = code_migrations()
    unknown = [h for h in manifest["database"]["migration_heads"] if not known_revision(script, h)]
    if unknown:
        _fail(f"the backup was made by a newer portal ({manifest['portal_version']}, migration "
              f"{', '.join(unknown)} unknown here): install that version or a later one, then restore")
    try:
        state = inspect_target(manifest)
    except (BackupError, OSError, SQLAlchemyError) as exc:
        _fail(str(exc))
    if not state.empty:
        lines = [f"{t}: {n} row(s)" for t, n in sorted(state.database_rows.items())][:10]
        lines += [f"{rel}: differs from the backup" for rel in state.conflicts[:10]]
        lines += [f"{rel}: not in the backup" for rel, _p in state.extras[:10]]
        if not force:
            for line in lines:
                click.echo(f"  {line}", err=True)
            _fail("the target is not empty (database rows or files above): restore into an empty database and "
                  "folders, or give --force to replace them")
        click.echo(f"--force: replacing a target that holds data ({len(state.database_rows)} table(s) with rows, "
                   f"{len(state.conflicts)} differing and {len(state.extras)} extra file(s))")
    click.echo(f"backup {folder.name}: taken {manifest['created_at']} by portal {manifest['portal_version']}, "
               f"migration {', '.join(manifest['database']['migration_heads']) or 'none'}")
    if dry_run:
        click.echo(f"dry run: would restore {len(manifest['files'])} file(s) and the database, "
                   f"{'run migrations, ' if set(manifest['database']['migration_heads']) != heads else ''}"
                   "rebuild the search index and verify the archive; nothing changed")
        return
    try:
        _restore_files(folder, manifest, state, click.echo)
        if dialect == "sqlite":
            _restore_sqlite(folder, manifest)
        else:
            _restore_postgresql(folder, manifest)
        with db.engine.connect() as conn:
            restored = describe_database(conn)
        differing = [t for t, n in manifest["database"]["tables"].items() if restored["tables"].get(t) != n]
        if differing:
            raise BackupError(f"the restored database differs from the manifest in {', '.join(differing[:5])}")
        click.echo(f"database restored: {sum(restored['tables'].values())} rows in {len(restored['tables'])} tables")
        if set(restored["heads"]) != heads:
            click.echo(f"migrating from {', '.join(restored['heads']) or 'none'} to {', '.join(sorted(heads))}")
            from flask_migrate import upgrade

            upgrade()
        from . import search

        search.rebuild()
        click.echo("search index rebuilt")
    except (BackupError, OSError, sqlite3.Error, SQLAlchemyError, UnsafePath) as exc:
        _fail(f"restore failed: {exc}")
    click.echo("checking the archived files (flask archive verify):")
    status = _invoke("archive", "verify")
    if status != 0:
        _fail("the restored archive did not verify: see the lines above")
    click.echo(f"restored {folder}")


@backup_cli.command("prune")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--keep-daily", type=click.IntRange(min=0), default=7, show_default=True,
              help="Keep the newest backup of each of the last N days that have one.")
@click.option("--keep-monthly", type=click.IntRange(min=0), default=12, show_default=True,
              help="Keep the newest backup of each of the last N months that have one.")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, delete nothing.")
def prune_command(directory: Path, keep_daily: int, keep_monthly: int, dry_run: bool):
    """Delete old backups in DIRECTORY, keeping daily and monthly ones (and always the newest).

    Days and months are counted in the portal's TIMEZONE. Only finished backup folders
    (portal-backup-<time>) are considered; anything else in DIRECTORY is left alone.
    """
    backups = list_backups(directory)
    keep, remove = plan_prune(backups, keep_daily, keep_monthly, ZoneInfo(str(current_app.config["TIMEZONE"])))
    for _moment, path in backups:
        if path in keep:
            click.echo(f"keep\t{path.name}\t{', '.join(keep[path])}")
        else:
            click.echo(f"{'would delete' if dry_run else 'delete'}\t{path.name}")
            if not dry_run:
                shutil.rmtree(path)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{len(keep)} backup(s) kept, {len(remove)} {verb}" + ("; dry run: nothing changed" if dry_run else ""))
