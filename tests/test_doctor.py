"""`flask doctor`: a well set-up installation passes, and each thing a real installation gets wrong is
reported with what to fix (exit status 1 when any check fails)."""
from __future__ import annotations

import secrets
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert

from portal.extensions import db

SHARED_INSTANCE = Path(tempfile.gettempdir()) / "portal-test-instance"
STRONG_KEY = secrets.token_hex(32)


def _has_cjk_fonts() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    return bool(subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True).stdout.strip())


class _SMTPStub(socketserver.StreamRequestHandler):
    """Just enough of an SMTP server to greet, answer NOOP and say goodbye."""

    def handle(self):
        self.wfile.write(b"220 stub.example ESMTP\r\n")
        for line in self.rfile:
            verb = line.strip().upper()
            if verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPStub)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _app(make_app, root: Path, **overrides):
    (root / "archive").mkdir(parents=True, exist_ok=True)
    (root / "knowledge").mkdir(parents=True, exist_ok=True)
    config = {
        "TESTING": True,
        "SECRET_KEY": STRONG_KEY,
        "INSTANCE_PATH": str(SHARED_INSTANCE),  # jieba's cache, built once
        "DATABASE_URL": f"sqlite:///{root / 'portal.db'}",
        "SEARCH_INDEX_DIR": str(root / "index"),
        "ARCHIVE_DIR": str(root / "archive"),
        "KNOWLEDGE_DIR": str(root / "knowledge"),
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }
    config.update(overrides)
    return make_app(config)


def _run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input, catch_exceptions=False)


def _ready(app):
    """Migrated, one real administrator, index built, archive verified."""
    for args, stdin in ((("db", "upgrade"), None),
                        (("users", "create", "it-admin", "--role", "admin", "--password-stdin"), "a-real-password-42\n"),
                        (("search", "rebuild"), None),
                        (("archive", "verify"), None)):
        result = _run(app, *args, input=stdin)
        assert result.exit_code == 0, result.output


def _lines(output: str) -> dict[str, str]:
    """{check name: its line} from the doctor's report."""
    out = {}
    for line in output.splitlines():
        status = line[:5].strip()
        if status in {"ok", "warn", "fail"}:
            out[line[6:].split("  ")[0].strip()] = line
    return out


@pytest.mark.skipif(not _has_cjk_fonts(), reason="fonts-noto-cjk is not installed on this machine")
def test_a_good_installation_passes(tmp_path, smtp_server, make_app):
    host, port = smtp_server
    app = _app(make_app, tmp_path, SMTP_HOST=host, SMTP_PORT=str(port))
    _ready(app)
    result = _run(app, "doctor")
    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    assert set(lines) == {"database", "search index", "archive", "CJK fonts", "SMTP", "secret key", "demo users"}
    assert all(line.startswith("ok") for line in lines.values()), result.output
    assert "migrated to head" in lines["database"]
    assert f"{host}:{port} answers" in lines["SMTP"]
    assert "7 ok, 0 warning(s), 0 failure(s)" in result.output


def test_a_bad_installation_fails_with_what_to_fix(tmp_path, monkeypatch, make_app):
    from portal.blueprints.admin.demo import DEMO_USERS
    from portal.models import User

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive folder should be")
    app = _app(make_app, tmp_path, SECRET_KEY="test-secret-key", ARCHIVE_DIR=str(blocker / "archive"),
               SMTP_HOST="127.0.0.1", SMTP_PORT=str(_closed_port()))
    assert _run(app, "db", "upgrade").exit_code == 0
    with app.app_context():
        name, full_name, roles, password, _dept = DEMO_USERS[0]
        user = User(username=name, full_name=full_name)
        user.set_password(password)
        user.set_roles(roles)
        db.session.add(user)
        db.session.commit()  # (the save builds the index; the portal rebuilds a missing one when it opens it)
    shutil.rmtree(tmp_path / "index")  # an index folder lost, or SEARCH_INDEX_DIR pointing elsewhere
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "fc-list").write_text("#!/bin/sh\nexit 0\n")  # fontconfig without any Chinese font
    (fake_bin / "fc-list").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:/usr/bin:/bin")

    result = _run(app, "doctor")
    assert result.exit_code == 1
    lines = _lines(result.output)
    assert lines["search index"].startswith("fail") and "no index" in lines["search index"]
    assert lines["archive"].startswith("fail") and "not writable" in lines["archive"]
    assert lines["CJK fonts"].startswith("fail")
    assert lines["SMTP"].startswith("fail") and "cannot reach 127.0.0.1" in lines["SMTP"]
    assert lines["secret key"].startswith("fail") and "demonstration or test key" in lines["secret key"]
    assert lines["demo users"].startswith("fail") and DEMO_USERS[0][0] in lines["demo users"]
    assert lines["database"].startswith("ok")
    assert "fix: run `flask search rebuild`" in result.output
    assert "fix: apt-get install fonts-noto-cjk" in result.output
    assert "6 failure(s)" in result.output


def test_an_unmigrated_database_fails(tmp_path, make_app):
    app = _app(make_app, tmp_path)
    result = _run(app, "doctor")
    assert result.exit_code == 1
    lines = _lines(result.output)
    assert lines["database"].startswith("fail") and "not migrated" in lines["database"]
    assert "fix: run `flask db upgrade`" in result.output


def test_files_found_missing_by_the_last_verification_fail(tmp_path, make_app):
    app = _app(make_app, tmp_path)
    _ready(app)
    with app.app_context():
        table = db.metadata.tables["archive_fixity_run"]
        db.session.execute(insert(table).values(started_at=datetime.now(timezone.utc), checked=3, missing=1,
                                                altered=0, details="missing\tabc", actor="cli",
                                                finished_at=datetime.now(timezone.utc)))
        db.session.commit()
    result = _run(app, "doctor")
    assert result.exit_code == 1
    assert "found 1 missing and 0 altered" in _lines(result.output)["archive"]


def test_an_old_verification_and_an_index_behind_the_log_warn(tmp_path, make_app):
    app = _app(make_app, tmp_path, SEARCH_SYNC_ON_COMMIT=False)
    _ready(app)
    with app.app_context():
        table = db.metadata.tables["archive_fixity_run"]
        old = datetime.now(timezone.utc) - timedelta(days=10)
        db.session.execute(table.update().values(started_at=old, finished_at=old))
        db.session.commit()
    # A change the index has not applied yet (no after-commit sync, no timer).
    assert _run(app, "users", "create", "another", "--role", "staff", "--password-stdin",
                input="a-real-password-43\n").exit_code == 0
    result = _run(app, "doctor")
    lines = _lines(result.output)
    assert lines["archive"].startswith("warn") and "10 day(s) ago" in lines["archive"]
    assert lines["search index"].startswith("warn") and "behind the change log" in lines["search index"]
    assert "fix: run `flask search sync`" in result.output
    if _has_cjk_fonts():
        assert result.exit_code == 0, result.output  # warnings alone do not fail


def test_the_generated_key_fails_in_production_use(tmp_path, make_app):
    app = _app(make_app, tmp_path, SECRET_KEY=None, SESSION_COOKIE_SECURE=True, INSTANCE_PATH=str(tmp_path / "instance"))
    assert (tmp_path / "instance" / "secret_key").is_file()
    result = _run(app, "doctor")
    line = _lines(result.output)["secret key"]
    assert line.startswith("fail") and "generated" in line
    assert result.exit_code == 1

    app = _app(make_app, tmp_path, SESSION_COOKIE_SECURE=True, INSTANCE_PATH=str(tmp_path / "instance"))  # an explicit key
    assert _lines(_run(app, "doctor").output)["secret key"].startswith("ok")


def test_doctor_has_help(tmp_path, make_app):
    result = _run(_app(make_app, tmp_path), "doctor", "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


@pytest.mark.parametrize(("key", "status"), [
    ("test-secret-key", "fail"),
    ("x", "fail"),
    ("our-demo-key-for-the-terminal-portal-2026", "fail"),
    ("CHANGE_ME " * 5, "fail"),
    ("0123456789abcdef0123456789abcdef", "ok"),  # 32 characters, nothing typed as a placeholder
    ("kXtestQ2demoR7_w9pLZb1mV3nT8sY4cJ6hF0aE5gU", "ok"),  # a random key that happens to hold the letters
    ("0123456789abcdef", "fail"),  # too short
])
def test_secret_key_check(tmp_path, key, status, make_app):
    from portal.doctor import check_secret_key

    app = _app(make_app, tmp_path, SECRET_KEY=key)
    with app.app_context():
        assert check_secret_key(app).status == status
