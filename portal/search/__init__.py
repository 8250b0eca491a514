"""The search layer: the only package that imports whoosh.

Public API (the rest of the portal uses only these):
    search(query, *, user, kinds=None, customer=None, page=1, per_page=20, sort="relevance",
           expand=True) -> Results   (expand: glossary synonyms too; synonyms.register_source)
    suggest(prefix, *, user, limit=8) -> list[Hit]
    similar(record, *, user, kinds=None, limit=5) -> list[Hit]   (the record's own kind by default)
    similar_text(text, *, user, kinds=None, limit=5, exclude_keys=()) -> list[Hit]
    index_keys(keys), remove_keys(keys), rebuild(...), sync(...), check(fix=False), warm_up()
and init_app(app), called by the application factory. Domains register what they index in their
blueprints/<domain>/search.py (registry.register_kind / register_child / register_dependents).

Map of the layer:
    __init__.py   the public API; the session listeners that write the change log in the changing
                  transaction and sync the index after commit
    registry.py   kinds, children and dependents (records whose acl derives from another), acl helpers
    models.py     SearchLog, the change log table every index replica applies from its own mark
    store.py      the index on disk: schema, generations and swap, applying the log, rebuild, check
                  (missing, stale, orphaned, acl drift)
    query.py      query syntax, acl filtering, totals and facets, ranking, snippets, suggestions,
                  "did you mean", more-like-this; every hit re-checked with the record's can_view
    analysis.py   the bilingual analyzer (English stems, codes, Chinese pairs and jieba words; customs and
                  customer apart, British spellings folded, numbers without leading zeros, 204号罐 = T-204)
    context.py    record context: a record's customer names, category, state, owner, kind words in both
                  languages (record_context(), called by each kind's document builder)
    synonyms.py   glossary synonyms applied at query time (the knowledge base registers the glossary)
    highlight.py  snippets cut from the stored text, matches marked, Markdown marks removed
    docsets.py    per-searcher memo of doc sets, term weights and facet columns (set operations in C
                  instead of Whoosh's matchers); fast path: reads segments' files in bulk
    codec.py      fast path: Whoosh's W3 files written and read in bulk (PortalCodec)
    fastpath.py   the switch: the fast path runs only on the Whoosh release it mirrors and with
                  SEARCH_FAST_PATH on; otherwise Whoosh's own writer and readers, same results
    builtin.py    kinds the platform itself provides (people)
The `flask search ...` commands are in blueprints/search/cli.py, the search page in blueprints/search.
"""
from __future__ import annotations

import logging
import weakref
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from . import fastpath
from .registry import CHILDREN, KINDS, register_child, register_dependents, register_kind  # noqa: F401

log = logging.getLogger("portal.search")

__all__ = [
    "init_app", "search", "suggest", "similar", "similar_text", "index_keys", "remove_keys", "rebuild",
    "sync", "check", "optimize", "compact", "get_store", "warm_up", "Hit", "Results", "register_kind", "register_child",
    "register_dependents", "KINDS",
]


def get_store(app=None):
    """The IndexStore of the app (one per SEARCH_INDEX_DIR)."""
    from .store import IndexStore

    app = app or current_app._get_current_object()
    ext = app.extensions.setdefault("portal_search", {})
    store = ext.get("store")
    if store is None:
        from ..extensions import db

        with app.app_context():
            engine = db.engine
        store = IndexStore(
            app.config["SEARCH_INDEX_DIR"], engine,
            writer_timeout=float(app.config.get("SEARCH_WRITER_TIMEOUT", 2.0)),
            gap_timeout=float(app.config.get("SEARCH_GAP_TIMEOUT", 600.0)),
        )
        ext["store"] = store
        weakref.finalize(app, store.close)
    return store


# ---------------------------------------------------------------- public API
def search(query: str, *, user, kinds=None, customer=None, page: int = 1, per_page: int = 20,
           sort: str = "relevance", expand: bool = True):
    """expand: glossary synonyms of the query's words are searched too (ranked below what was typed)."""
    from .query import run_search

    store = get_store()
    _catch_up(store)
    return run_search(store, query, user=user, kinds=kinds, customer=customer, page=page, per_page=per_page,
                      sort=sort, expand=expand)


def warm_up() -> int:
    """Open the index and read what every query reads first (query.warm_up), then give the searcher back
    to the pool: a gunicorn worker calls it when it starts. Returns how many documents the index holds."""
    from .query import warm_up as read_ahead

    store = get_store()
    _catch_up(store)
    try:
        return read_ahead(store.searcher())
    finally:
        store.release()


def suggest(prefix: str, *, user, limit: int = 8):
    from .query import run_suggest

    return run_suggest(get_store(), prefix, user=user, limit=limit)


def similar(record, *, user, kinds=None, limit: int = 5):
    """Records like this one, of the same kind unless `kinds` names others."""
    from .query import run_similar

    return run_similar(get_store(), record, user=user, kinds=kinds, limit=limit)


def similar_text(text: str, *, user, kinds=None, limit: int = 5, exclude_keys=()):
    from .query import run_similar_text

    return run_similar_text(get_store(), text, user=user, kinds=kinds, limit=limit, exclude_keys=exclude_keys)


def index_keys(keys) -> int:
    """(Re)index these keys ("kind:id") from the database now (records gone are removed)."""
    return get_store().index_keys(keys)


def remove_keys(keys) -> int:
    return get_store().remove_keys(keys)


def rebuild(*, if_needed: bool = False, progress=None, procs: int | None = None) -> int | None:
    """Build a new index aside from the database and swap it in. None when not needed."""
    store = get_store()
    if if_needed and not store.needs_rebuild():
        return None
    from .store import default_rebuild_procs

    procs = procs or int(current_app.config.get("SEARCH_REBUILD_PROCS") or 0) or default_rebuild_procs()
    return store.rebuild(progress=progress, procs=procs)


def sync(*, timeout: float | None = None) -> int:
    """Apply the change log to the index (raises whoosh LockError when the writer is busy)."""
    return get_store().sync(timeout=timeout)


def check(*, fix: bool = False) -> dict:
    return get_store().check(fix=fix)


def optimize() -> None:
    get_store().optimize()


def compact(*, timeout: float | None = None) -> tuple[int, int]:
    """Merge the small segments at the end of the index (the nightly job): (segments before, after)."""
    return get_store().compact(timeout=timeout)


def _catch_up(store) -> None:
    """Apply log rows another process or machine committed, without waiting for a busy writer."""
    if not current_app.config.get("SEARCH_SYNC_ON_COMMIT", True):
        return
    try:
        if store.log_head() > store.applied_seq():
            store.sync(timeout=0)
    except Exception as exc:  # noqa: BLE001 - searching must not fail because the writer is busy
        log.info("search: catch-up sync skipped (%s)", exc)


# Lazy names so `from portal.search import Hit, Results` works without importing whoosh early.
def __getattr__(name):
    if name in ("Hit", "Results", "Facet"):
        from . import query

        return getattr(query, name)
    raise AttributeError(name)


# ---------------------------------------------------------------- wiring
_listeners_installed = False


def _after_flush(session, flush_context):
    if not KINDS and not CHILDREN:
        return
    from .models import SearchLog
    from .store import log_rows_for_flush

    rows = log_rows_for_flush(session)
    if rows:
        session.connection().execute(insert(SearchLog.__table__), rows)
        session.info["search_pending"] = True


def _after_commit(session):
    if not session.info.pop("search_pending", False):
        return
    if not has_app_context():
        return
    app = current_app._get_current_object()
    if not app.config.get("SEARCH_SYNC_ON_COMMIT", True):
        return
    try:
        get_store(app).sync(timeout=float(app.config.get("SEARCH_WRITER_TIMEOUT", 2.0)))
    except Exception as exc:  # noqa: BLE001 - the save succeeded; sync later continues from the mark
        log.warning("search: index not updated after commit (%s: %s); the next sync will apply it",
                    type(exc).__name__, exc)


def _after_rollback(session):
    session.info.pop("search_pending", None)


def install_listeners() -> None:
    global _listeners_installed
    if _listeners_installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _listeners_installed = True


def init_app(app) -> None:
    """Wire the index to the app (change log listener, after-commit sync, CLI, builtin kinds)."""
    from . import builtin, docsets, models  # noqa: F401  (the SearchLog table and the user kind)
    from .analysis import configure_jieba

    fastpath.configure(app.config.get("SEARCH_FAST_PATH", True))
    configure_jieba(Path(app.instance_path))
    if app.config.get("SEARCH_MEMO_POSTINGS"):
        docsets.CACHE_POSTINGS = int(app.config["SEARCH_MEMO_POSTINGS"])
    install_listeners()
    app.extensions.setdefault("portal_search", {})

    @app.teardown_appcontext
    def _release_searcher(_exc=None):  # the searcher goes back to the pool for the next request's thread
        store = app.extensions["portal_search"].get("store")
        if store is not None:
            store.release()
