"""Search fixtures: a registered test-only kind over its own table, documents, users."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import searchkit  # noqa: E402

from portal.extensions import db  # noqa: E402


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
