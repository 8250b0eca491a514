"""`flask doctor`: check a running installation and say what to fix.

Each check prints ``ok``, ``warn`` or ``fail`` with what it found and, unless ok, the fix. The command
changes nothing (it writes and removes one temporary file to see that ARCHIVE_DIR is writable) and
exits with status 1 when any check fails.
"""
from __future__ import annotations

import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, select, text

from .extensions import db

# A nightly `flask archive verify` (deploy/systemd/csd-portal-nightly.timer) should never be older than this.
VERIFY_MAX_AGE = timedelta(days=2)
# Keys seen in examples, tests and demonstrations: never good enough to sign real sessions.
_WEAK_KEYS = {"x", "dev", "test", "secret", "changeme", "change-me", "development", "test-secret-key", "abc"}
# Words that mark a key someone typed as a placeholder (as whole words: a random key may hold the letters).
_WEAK_WORDS = re.compile(r"(?:^|[^a-z0-9])(?:demo|test|testing|example|changeme|change|insecure|dev|development|"
                         r"secret|placeholder|dummy)(?:[^a-z0-9]|$)")
_MIN_KEY_LENGTH = 32


@dataclass
class Check:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""
    usable: bool = True  # the database check: whether the others can read it


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def _production(app: Flask) -> bool:
    """A real deployment: PostgreSQL, or cookies marked secure (behind TLS)."""
    return db.engine.dialect.name != "sqlite" or bool(app.config.get("SESSION_COOKIE_SECURE"))


# ------------------------------------------------------------------ checks
def check_database(app: Flask) -> Check:
    from .backup import code_migrations, known_revision

    try:
        db.session.execute(text("SELECT 1"))
        tables = set(inspect(db.engine).get_table_names())
        heads = set()
        if "alembic_version" in tables:
            heads = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database is the finding
        db.session.rollback()
        return Check("database", "fail", f"cannot reach the database ({type(exc).__name__}: {_first_line(exc)})",
                     "check PORTAL_DATABASE_URL and that the database server is running", usable=False)
    code_heads, script = code_migrations()
    dialect = db.engine.dialect.name
    if not heads:
        return Check("database", "fail", f"reachable ({dialect}) but not migrated",
                     "run `flask db upgrade`", usable=False)
    unknown = sorted(h for h in heads if not known_revision(script, h))
    if unknown:
        return Check("database", "fail", f"migrated by a newer portal ({', '.join(unknown)} unknown here)",
                     "install the portal version that matches the database", usable=False)
    if heads != code_heads:
        return Check("database", "fail", f"reachable ({dialect}), at migration {', '.join(sorted(heads))}, "
                     f"head is {', '.join(sorted(code_heads))}", "run `flask db upgrade`")
    return Check("database", "ok", f"reachable ({dialect}), migrated to head {', '.join(sorted(heads))}")


def check_search(app: Flask, db_ok: bool) -> Check:
    from . import search

    store = search.get_store()
    current = store.current_dir()
    if current is None or not current.is_dir():
        return Check("search index", "fail", f"no index in {app.config['SEARCH_INDEX_DIR']}",
                     "run `flask search rebuild`")
    if store.needs_rebuild():
        return Check("search index", "fail", "the index is unreadable or of another schema version",
                     "run `flask search rebuild`")
    if not db_ok:
        return Check("search index", "warn", "present; not compared with the change log (no database)",
                     "fix the database first")
    applied, head = store.applied_seq(), store.log_head()
    if applied < head:
        return Check("search index", "warn", f"present, {head - applied} change(s) behind the change log "
                     f"(applied {applied} of {head})",
                     "run `flask search sync`; if it stays behind, check the csd-portal-nightly timer and the log")
    return Check("search index", "ok", f"present, in sync with the change log (position {head}, "
                 f"{store.doc_count()} documents)")


def check_archive(app: Flask, db_ok: bool) -> Check:
    root = Path(app.config["ARCHIVE_DIR"])
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-", delete=True) as fh:
            fh.write(b"x")
            fh.flush()
    except OSError as exc:
        return Check("archive", "fail", f"{root} is not writable ({exc.strerror or exc})",
                     f"create {root} and give the portal's user write access (chown csd: {root})")
    if not db_ok:
        return Check("archive", "warn", f"{root} writable; last verification unknown (no database)",
                     "fix the database first")
    table = db.metadata.tables.get("archive_fixity_run")
    if table is None:
        return Check("archive", "ok", f"{root} writable (no archive module: nothing to verify)")
    last = db.session.execute(select(table).order_by(table.c.id.desc()).limit(1)).mappings().first()
    if last is None:
        return Check("archive", "warn", f"{root} writable, never verified",
                     "run `flask archive verify` (the csd-portal-nightly timer runs it every night)")
    if (last["missing"] or 0) or (last["altered"] or 0):
        return Check("archive", "fail", f"the last verification found {last['missing']} missing and "
                     f"{last['altered']} altered file(s)",
                     "see /archive/fixity for the files; restore them from a backup, then `flask archive verify`")
    when = last["finished_at"] or last["started_at"]
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    age = datetime.now(timezone.utc) - when
    if age > VERIFY_MAX_AGE:
        return Check("archive", "warn", f"{root} writable, last verified {age.days} day(s) ago",
                     "run `flask archive verify`, and check that the csd-portal-nightly timer is enabled")
    return Check("archive", "ok", f"{root} writable, {last['checked']} file(s) verified "
                 f"{when.strftime('%Y-%m-%d %H:%M')} UTC")


def check_fonts(app: Flask) -> Check:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return Check("CJK fonts", "fail", "fc-list not found (fontconfig is not installed)",
                     "apt-get install fontconfig fonts-noto-cjk")
    try:
        out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("CJK fonts", "fail", f"fc-list failed ({exc})", "apt-get install fontconfig fonts-noto-cjk")
    families = sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})
    if not families:
        return Check("CJK fonts", "fail", "no font with Chinese characters: PDFs would show empty boxes",
                     "apt-get install fonts-noto-cjk")
    return Check("CJK fonts", "ok", f"{len(families)} famil{'y' if len(families) == 1 else 'ies'} for Chinese "
                 f"(e.g. {families[0]})")


def check_smtp(app: Flask) -> Check:
    host = str(app.config.get("SMTP_HOST") or "").strip()
    if not host:
        return Check("SMTP", "ok", "not configured: e-mails are written to the log, not sent")
    security = str(app.config.get("SMTP_SECURITY") or "").strip().lower()
    implicit_tls = security in {"ssl", "tls"}
    default_port = 465 if implicit_tls else 587 if security == "starttls" else 25
    try:
        port = int(app.config.get("SMTP_PORT") or default_port)
    except (TypeError, ValueError):
        return Check("SMTP", "fail", f"SMTP_PORT {app.config.get('SMTP_PORT')!r} is not a number",
                     "set PORTAL_SMTP_PORT to the server's port")
    try:
        cls = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
        with cls(host, port, timeout=5) as server:
            server.noop()
    except (OSError, smtplib.SMTPException, socket.timeout) as exc:
        return Check("SMTP", "fail", f"cannot reach {host}:{port} ({type(exc).__name__}: {_first_line(exc)})",
                     "check PORTAL_SMTP_HOST / PORTAL_SMTP_PORT / PORTAL_SMTP_SECURITY and the firewall")
    return Check("SMTP", "ok", f"{host}:{port} answers")


def check_secret_key(app: Flask) -> Check:
    key = str(app.config.get("SECRET_KEY") or "")
    generate = "set PORTAL_SECRET_KEY to a new random key (python3 -c 'import secrets; print(secrets.token_hex(32))') " \
               "in the service's environment file"
    lowered = key.lower()
    if not key or lowered in _WEAK_KEYS or _WEAK_WORDS.search(lowered):
        return Check("secret key", "fail", "a demonstration or test key", generate)
    if len(key) < _MIN_KEY_LENGTH:
        return Check("secret key", "fail", f"only {len(key)} characters long", generate)
    generated = Path(app.instance_path) / "secret_key"
    try:
        is_generated = generated.is_file() and generated.read_text().strip() == key
    except OSError:
        is_generated = False
    if is_generated:
        if _production(app):
            return Check("secret key", "fail", f"the default generated into {generated}: it is not part of the "
                         "configuration, and each server would sign sessions with its own", generate)
        return Check("secret key", "warn", f"the default generated into {generated} (fine on one test machine)",
                     generate)
    return Check("secret key", "ok", "set in the configuration")


def check_demo_users(app: Flask, db_ok: bool) -> Check:
    if not db_ok:
        return Check("demo users", "warn", "not checked (no database)", "fix the database first")
    from .blueprints.admin.demo import DEMO_USERS
    from .models import User

    names = [row[0] for row in DEMO_USERS]
    users = {u.username: u for u in db.session.scalars(select(User).filter(User.username.in_(names)))}
    open_ = [name for name, _full, _roles, password, _dept in DEMO_USERS
             if name in users and users[name].active and users[name].check_password(password)]
    if open_:
        return Check("demo users", "fail", f"active with their demo passwords: {', '.join(open_)}",
                     "deactivate them under Administration > Users, or give them new passwords")
    return Check("demo users", "ok", "none active with a demo password")


def run_checks(app: Flask) -> list[Check]:
    first = check_database(app)
    checks = [first]
    db_ok = first.usable
    for name, fn in (("search index", lambda: check_search(app, db_ok)),
                     ("archive", lambda: check_archive(app, db_ok)),
                     ("CJK fonts", lambda: check_fonts(app)),
                     ("SMTP", lambda: check_smtp(app)),
                     ("secret key", lambda: check_secret_key(app)),
                     ("demo users", lambda: check_demo_users(app, db_ok))):
        try:
            checks.append(fn())
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            db.session.rollback()
            checks.append(Check(name, "fail", f"the check itself failed ({type(exc).__name__}: {_first_line(exc)})"))
    return checks


@click.command("doctor")
@with_appcontext
def doctor_command():
    """Check this installation and say what to fix.

    Database reachable and migrated to head; search index present and in sync with the change log;
    ARCHIVE_DIR writable and verified recently; fonts for Chinese PDFs; SMTP reachable when
    SMTP_HOST is set; the secret key is not a demo/test key (nor the generated default in
    production); demo users not active with their demo passwords. Exit status 1 when any check fails.
    """
    checks = run_checks(current_app._get_current_object())
    width = max(len(c.name) for c in checks)
    for c in checks:
        click.echo(f"{c.status:<5} {c.name:<{width}}  {c.detail}")
        if c.fix and c.status != "ok":
            click.echo(f"{'':<5} {'':<{width}}  fix: {c.fix}")
    counts = {s: sum(1 for c in checks if c.status == s) for s in ("ok", "warn", "fail")}
    click.echo(f"{counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failure(s)")
    if counts["fail"]:
        sys.exit(1)

