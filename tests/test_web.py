"""The UI shell: security headers, htmx fragments, Vary, and templates free of inline script and style."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from portal.blueprints.customers.models import Customer
from portal.extensions import db

TEMPLATES = Path(__file__).resolve().parents[1] / "portal" / "templates"


def _customers(*codes):
    for code in codes:
        db.session.add(Customer(code=code, name_en=f"{code.title()} Trading Co.", name_zh=""))
    db.session.commit()


@pytest.mark.parametrize("path", ["/auth/login", "/healthz"])
def test_security_headers_on_open_pages(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == "default-src 'self'"
    assert "'unsafe-inline'" not in directives.get("script-src", "")
    assert "'unsafe-eval'" not in directives.get("script-src", "")
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "strict-origin-when-cross-origin", "no-referrer"}
    assert response.headers["X-Frame-Options"] == "DENY"


def test_security_headers_on_signed_in_pages_and_errors(client, login):
    login("staff")
    for path in ("/", "/customers/", "/admin/users", "/no-such-page"):
        response = client.get(path)
        assert "default-src 'self'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_pages_vary_on_hx_request(client, login):
    login("staff")
    for path in ("/", "/customers/", "/auth/login"):
        response = client.get(path)
        assert "HX-Request" in response.headers.get("Vary", ""), path


def test_the_customer_filter_returns_only_the_rows_for_htmx(client, login):
    _customers("ACME", "BETA", "GAMMA")
    login("staff")
    fragment = client.get("/customers/?q=acm", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "ACME" in fragment and "BETA" not in fragment
    assert "<html" not in fragment and "<nav" not in fragment
    page = client.get("/customers/?q=acm").get_data(as_text=True)
    assert "<html" in page and "ACME" in page and "BETA" not in page
    assert 'id="customer-rows"' in page


def test_boosted_navigation_gets_the_whole_page(client, login):
    _customers("ACME")
    login("staff")
    page = client.get("/customers/", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(as_text=True)
    assert "<html" in page


def test_the_page_carries_the_csrf_token_for_htmx_and_boosts_links(client, login):
    login("staff")
    page = client.get("/").get_data(as_text=True)
    assert 'hx-boost="true"' in page
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", page)


def test_flash_messages_are_dismissible_notices(client, login):
    login("csr")
    response = client.post("/customers/new", data={"code": "ACME", "name_en": "Acme"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Customer ACME created." in page
    assert re.search(r'<div class="notice notice-success"[^>]*>\s*<span>Customer ACME created.</span>\s*<button[^>]*data-dismiss', page)


def _template_files():
    return sorted(p for p in TEMPLATES.rglob("*.html"))


def test_templates_exist_to_scan():
    assert len(_template_files()) >= 15


@pytest.mark.parametrize("path", _template_files(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_style(path):
    text = path.read_text()
    for match in re.finditer(r"<script\b([^>]*)>", text, re.I):
        assert "src=" in match.group(1), f"inline <script> in {path.name}"
    assert not re.search(r"<[a-zA-Z][^>]*\sstyle\s*=", text), f"style= attribute in {path.name}"
    assert not re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", text), f"on*= event handler in {path.name}"
    assert "javascript:" not in text.lower(), f"javascript: URL in {path.name}"


def test_every_template_compiles_at_worker_start_and_stays_compiled(app):
    """What a gunicorn worker does before its first request: every template compiled (none with a syntax
    error waiting for its first user), and all of them kept, however many the portal grows to."""
    from portal.web import compile_templates

    on_disk = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt")}
    assert type(app.jinja_env.cache) is dict  # unbounded: Jinja's default keeps the 400 used last
    app.jinja_env.cache.clear()
    assert compile_templates(app) == len(on_disk) > 300
    held = {name for (_loader, name) in app.jinja_env.cache.keys()}
    assert on_disk <= held


def test_a_gunicorn_worker_sets_what_it_loaded_at_start_aside_from_full_collections(app, monkeypatch, caplog):
    """deploy/gunicorn.conf.py's post_worker_init: templates compiled, PDF fonts loaded, the search index's common
    parts read (tests/search/test_search_warm_up.py), then the heap frozen, so that the garbage collector's full
    passes no longer walk the modules, templates and fonts of the worker; then it logs that it is ready (what
    bench/load.py waits for before measuring)."""
    import gc
    import logging
    import runpy
    from types import SimpleNamespace

    from portal import search

    warmed = []
    real_warm_up = search.warm_up
    monkeypatch.setattr(search, "warm_up", lambda: warmed.append(real_warm_up()))
    conf = runpy.run_path(str(Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"))
    app.jinja_env.cache.clear()
    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        caplog.set_level(logging.INFO, logger="gunicorn.error")
        conf["post_worker_init"](SimpleNamespace(wsgi=app, log=logging.getLogger("gunicorn.error")))
        assert len(warmed) == 1
        assert f"Worker ready (pid: {os.getpid()}" in caplog.text
        assert gc.get_freeze_count() > 100_000
        assert len(app.jinja_env.cache) > 300
        assert not gc.get_objects(generation=2) or len(gc.get_objects(generation=2)) < gc.get_freeze_count() / 10
        assert gc.get_threshold()[:2] == thresholds[:2] and gc.get_threshold()[2] >= 1_000_000  # no automatic full pass
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_gunicorn_worker_runs_a_full_collection_after_every_so_many_responses(monkeypatch):
    """The automatic full passes are off in a worker (above): post_request runs one after the response of every
    FULL_COLLECTION_EVERY-th request, and after no other."""
    import gc
    import runpy
    from types import SimpleNamespace

    conf = runpy.run_path(str(Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"))
    every = conf["FULL_COLLECTION_EVERY"]
    assert 50 <= every <= 1000
    passes = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: passes.append(generation))
    worker = SimpleNamespace(nr=0)
    for _ in range(every * 3 + 1):
        worker.nr += 1
        conf["post_request"](worker, None, {}, None)
    assert passes == [2, 2, 2]
