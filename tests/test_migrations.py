"""Migrations build the whole schema from nothing, and it matches the models exactly."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.config import normalise_database_url
from portal.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    base = make_url(normalise_database_url(PG_URL))
    name = f"portal_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_from_nothing_matches_models(empty_database, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": empty_database,
                      "INSTANCE_PATH": str(tmp_path / "instance"), "SEARCH_INDEX_DIR": str(tmp_path / "index")})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        # The audit trail is append-only in the database itself.
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_entry (at, actor, entity, entity_id, action, changes) "
                              "VALUES (CURRENT_TIMESTAMP, 'test', 'x', '1', 'insert', '{}')"))
        for statement in ("UPDATE audit_entry SET actor = 'forged'", "DELETE FROM audit_entry"):
            with pytest.raises(Exception, match="immutable"):
                with db.engine.begin() as conn:
                    conn.execute(text(statement))
        db.engine.dispose()


def test_every_revision_id_fits_alembic_version_column():
    """Alembic keeps the head in a VARCHAR(32): PostgreSQL refuses a longer id in the middle of an upgrade
    (SQLite does not check), so the chain must hold only ids that fit, and one head."""
    from pathlib import Path

    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations"))
    revisions = list(scripts.walk_revisions())
    too_long = [r.revision for r in revisions if len(r.revision) > 32]
    assert not too_long, too_long
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
