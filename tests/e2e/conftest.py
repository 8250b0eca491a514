"""Browser tests: a live portal with demo data, driven in Debian's headless Chromium by Playwright."""
from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


# The live server answers each request in a thread of its own, which takes a searcher from the store's pool;
# a segment reader that a renewed searcher no longer uses may be left to the garbage collector, which may
# close its file during any later test. Only those files' warnings are let through here; every other warning still fails.
SEGMENT_FILE_LEFT_TO_GC = (r"ignore:Exception ignored in. <_io\.(FileIO|BufferedReader) name='[^']*\.seg'"
                           ":pytest.PytestUnraisableExceptionWarning")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.filterwarnings(SEGMENT_FILE_LEFT_TO_GC))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    for sub in ("archive", "knowledge"):
        (root / sub).mkdir()
    app = create_app({
        "TESTING": False,
        "SECRET_KEY": "e2e-secret",
        "INSTANCE_PATH": str(root / "instance"),
        "DATABASE_URL": f"sqlite:///{root / 'live.db'}",
        "SEARCH_INDEX_DIR": str(root / "index"),
        "ARCHIVE_DIR": str(root / "archive"),
        "KNOWLEDGE_DIR": str(Path(__file__).resolve().parents[2] / "knowledge"),
        "MAX_UPLOAD_MB": 5,
    })
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    """Base URL of the running portal."""
    port = _free_port()
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (make test does as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert not errors, f"browser errors: {errors}"


@pytest.fixture
def sign_in():
    from portal.blueprints.admin.demo import DEMO_USERS

    passwords = {username: password for username, _n, _r, password, _d in DEMO_USERS}

    def do(page, username: str):
        page.goto("/auth/login")
        page.fill("#username", username)
        page.fill("#password", passwords[username])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/auth/login" not in url)
        return page

    return do
