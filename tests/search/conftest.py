"""Search fixtures: a registered test-only kind over its own table, documents, users.

The whole search suite runs in both modes of the search layer (portal/search/fastpath.py):

    pytest tests/search                                # the fast path (Whoosh's files read in bulk)
    PORTAL_SEARCH_FAST_PATH=0 pytest tests/search      # Whoosh's own writer and readers only

(the app reads PORTAL_SEARCH_FAST_PATH as its SEARCH_FAST_PATH setting; tests that build an index
without an app get the same mode from the autouse fixture below).
"""
from __future__ import annotations

import os

import pytest
import searchkit  # tests/search is on the path: pytest puts a conftest's folder there (rootdir, no packages)

from portal.extensions import db
from portal.search import fastpath

FAST_PATH = fastpath.setting_on(os.environ.get("PORTAL_SEARCH_FAST_PATH", "1"))


@pytest.fixture(autouse=True)
def search_mode():
    """The mode this run asked for, also for tests that use no app; put back afterwards."""
    on = fastpath.configure(FAST_PATH)
    yield on
    fastpath.configure(FAST_PATH)


@pytest.fixture
def kit(app):
    """The test kind registered and its tables created (dropped again afterwards)."""
    searchkit.register()
    searchkit.create_tables(db.engine)
    try:
        yield searchkit
    finally:
        db.session.rollback()
        db.session.remove()
        searchkit.drop_tables(db.engine)
        searchkit.unregister()


@pytest.fixture
def add_doc(kit):
    def factory(title="", body="", **fields):
        doc = kit.Doc(title=title, body=body, **fields)
        db.session.add(doc)
        db.session.commit()
        return doc

    return factory



@pytest.fixture
def fast_path(search_mode):
    """For tests of the fast path's own machinery (what it writes, what it keeps): skipped when it is off."""
    if not search_mode:
        pytest.skip(f"tests the fast path, which is off ({fastpath.reason()})")
    return True


@pytest.fixture
def index_with(tmp_path):
    """Write documents into a new Whoosh index under tmp_path/NAME with the given codec, one segment."""
    from whoosh import index as whoosh_index

    from portal.search.store import make_schema

    def build(name, codec, docs):
        path = tmp_path / name
        path.mkdir()
        ix = whoosh_index.create_in(str(path), make_schema())
        writer = ix.writer(codec=codec)
        for doc in docs:
            writer.add_document(**doc)
        writer.commit(merge=False)
        return ix

    return build
