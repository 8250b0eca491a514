"""Shared fixtures: a fresh app per test with its own database, index, archive and knowledge folders.

The database is SQLite in a temporary folder (a copy of a schema made once per run), or PostgreSQL when
TEST_DATABASE_URL is set (the schema is created once per run; the tables a test wrote to are emptied after
it; only tests that use the database are collected).

Shared by every test package: ``corpus_dir`` (the public corpus beside the checkout, or
PORTAL_CORPUS_DIR; skips when absent), ``customer``, ``people`` (users by role, created on first use),
``request_ctx`` (a request context, for services whose messages are translated), ``demo_app`` (an app
over a copy of the demonstration terminal, loaded once per run), ``new_complaint`` and ``walk`` (a complaint
and its normal path), ``make_app`` (apps over installations a test builds itself, closed afterwards).
"""
from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from werkzeug.routing import rules as werkzeug_rules

from portal import create_app
from portal.extensions import db
from portal.models import User

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PASSWORD = "test-password-123"
SHARED_INSTANCE = Path(tempfile.gettempdir()) / "portal-test-instance"
ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(os.environ.get("PORTAL_CORPUS_DIR") or ROOT.parent / "shared" / "corpus")


# ---- what keeps a run fast (measured: README "Running the tests") ---------------------------------

@event.listens_for(Engine, "connect")
def _commit_without_waiting_for_the_disk(dbapi_connection, _record) -> None:
    """Test databases are thrown away: a commit need not wait for the disk (SQLite ``synchronous=OFF``,
    PostgreSQL ``synchronous_commit=off`` for this session only). Locking, transactions and what other
    connections see are unchanged; only a crash of the machine could lose the last commits. Every test
    commits many times, and each commit waited for several fsyncs (about 5 ms each here)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")
    elif type(dbapi_connection).__module__.startswith("psycopg"):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.execute("SET synchronous_commit TO off")
        if not autocommit:
            dbapi_connection.commit()


class _TemplateCache(BytecodeCache):
    """Compiled templates shared by every app of the run (each test's app has a Jinja environment of its own,
    and compiled every page it rendered again). Keyed by template name and a checksum of its source."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _TemplateCache()}


def _share_url_builders() -> None:
    """Werkzeug writes and compiles Python source for each URL rule's builder, for each app: over half of
    create_app, made once or more per test. The code depends only on the rule's text and parts (the rule is
    passed in when it is called), so the run's apps share it; rules with a default inside the URL (baked into
    the code by the rule's converter) are compiled each time as before."""
    compile_builder = getattr(werkzeug_rules.Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return
    builders: dict = {}

    def shared_builder(self, append_unknown=True):
        defaults = self.defaults or {}
        if any(dynamic and part in defaults for dynamic, part in self._trace):
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown, tuple(sorted(map(str, defaults))))
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = compile_builder(self, append_unknown)
        return builder

    shared_builder.shared = True
    werkzeug_rules.Rule._compile_builder = shared_builder


_share_url_builders()


def pytest_collection_finish(session) -> None:
    """What is loaded by now (the portal, Whoosh, jieba's dictionary, the test modules) lives for the whole run:
    the cycle collector need not walk it again at every full collection."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL (TEST_DATABASE_URL set) only the tests that use the database run: those of the ``app`` /
    ``demo_app`` fixtures, those given the "postgresql" parameter (migrations, backups) or marked ``postgres``.
    The others (tokenizers, the corpus, markdown, installations of their own on SQLite...) ran in the SQLite
    pass and would run the same again."""
    if not PG_URL:
        return
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        uses_database = ("_database_session" in getattr(item, "fixturenames", ())
                         or "postgresql" in params.values() or item.get_closest_marker("postgres"))
        (keep if uses_database else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _pg_reset_schema() -> None:
    from portal.config import normalise_database_url

    engine = create_engine(normalise_database_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def _database_session(tmp_path_factory):
    """Create the schema once per run: in PostgreSQL, or in a SQLite file each test copies; and the search index
    of that empty database, which each test copies too (else the first save of every test found no index and
    built one, about half a second)."""
    folder = tmp_path_factory.mktemp("schema")
    if PG_URL:
        _pg_reset_schema()
        url = PG_URL
        template = None
    else:
        template = folder / "template.db"
        url = f"sqlite:///{template}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url, "INSTANCE_PATH": str(SHARED_INSTANCE),
                      "SEARCH_INDEX_DIR": str(folder / "index")})
    with app.app_context():
        from portal import search

        db.create_all()
        search.rebuild(procs=1)
        db.session.remove()
        db.engine.dispose()
    _close_app(app)
    yield SimpleNamespace(database=template, index=folder / "index")


def _truncate_all() -> None:
    """Empty the tables a test wrote to (rows, or a sequence it moved), their ids starting at 1 again.

    Rows are deleted, all tables in one statement (the foreign keys are checked at its end, so the order and the
    two cycles do not matter); only tables whose triggers refuse deletes (the audit trail, the stock movements)
    are truncated. TRUNCATE makes new files for a table and its indexes and, with CASCADE, for every table
    that refers to it (the users: most of them): measured, 2 to 4 s after a test that saved a user and a
    customer, against some 50 ms for the deletes. Should the deletes fail, the tables are truncated as before."""
    global _TRIGGER_TABLES
    db.session.rollback()
    names = [t.name for t in db.metadata.sorted_tables]
    probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names)
    dirty = set(db.session.execute(text(probe)).scalars())
    moved = list(db.session.execute(text(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL")
    ).scalars())
    if _TRIGGER_TABLES is None:
        _TRIGGER_TABLES = set(db.session.execute(text(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal")).scalars())
    try:
        truncate = [name for name in names if name in dirty and name in _TRIGGER_TABLES]
        if truncate:
            db.session.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in truncate) + " CASCADE"))
        delete = [name for name in reversed(names) if name in dirty and name not in _TRIGGER_TABLES]
        if delete:
            ctes = ", ".join(f'd{i} AS (DELETE FROM "{name}")' for i, name in enumerate(delete[:-1]))
            db.session.execute(text((f"WITH {ctes} " if ctes else "") + f'DELETE FROM "{delete[-1]}"'))
        for sequence in moved:
            db.session.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        db.session.commit()
    except Exception:  # noqa: BLE001 - a table the deletes cannot empty: truncate everything the test wrote
        db.session.rollback()
        _truncate_dirty(names, dirty)


_TRIGGER_TABLES: set[str] | None = None


def _truncate_dirty(names: list[str], dirty: set[str]) -> None:
    sequences = {f"{t.name}_{c.name}_seq": t.name for t in db.metadata.sorted_tables for c in t.primary_key.columns}
    for sequence in db.session.execute(text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL")
    ).scalars():
        if sequence in sequences:
            dirty.add(sequences[sequence])
    if dirty:
        tables = ", ".join(f'"{name}"' for name in names if name in dirty)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


def make_config(tmp_path: Path, **overrides) -> dict:
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        # Shared, so jieba's dictionary cache is built once, not in every test process.
        "INSTANCE_PATH": str(SHARED_INSTANCE),
        "DATABASE_URL": PG_URL or f"sqlite:///{tmp_path / 'test.db'}",
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "ARCHIVE_DIR": str(tmp_path / "archive"),
        "KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
        "WTF_CSRF_ENABLED": False,
        "MAX_UPLOAD_MB": 2,
        # Still scrypt, at a lower cost: the suite hashes thousands of passwords.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }
    cfg.update(overrides)
    for key in ("ARCHIVE_DIR", "KNOWLEDGE_DIR"):
        Path(cfg[key]).mkdir(parents=True, exist_ok=True)
    return cfg


@pytest.fixture
def app_config(tmp_path):
    """Override in a test module to change configuration."""
    return {}


@pytest.fixture
def app(tmp_path, app_config, _database_session):
    config = make_config(tmp_path, **app_config)
    fresh_database = config["DATABASE_URL"] == (PG_URL or f"sqlite:///{tmp_path / 'test.db'}")
    if fresh_database and not PG_URL:
        shutil.copyfile(_database_session.database, tmp_path / "test.db")
    if fresh_database and config["SEARCH_INDEX_DIR"] == str(tmp_path / "index"):
        shutil.copytree(_database_session.index, tmp_path / "index")
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        if PG_URL:
            _truncate_all()
        db.engine.dispose()


def _close_app(app) -> None:
    """Close what an app holds open: its search index and its database connections."""
    store = app.extensions.get("portal_search", {}).get("store")
    if store is not None:
        store.close()
    with app.app_context():
        db.engine.dispose()


def _app_maker():
    made: list = []

    def make(config: dict):
        app = create_app(config)
        made.append(app)
        return app

    return make, made


@pytest.fixture
def make_app():
    """make_app(config): a new app over a configuration of the test's own (installations built by the test);
    its index and database connections are closed after the test."""
    make, made = _app_maker()
    yield make
    while made:
        _close_app(made.pop())


@pytest.fixture(scope="module")
def make_module_app():
    """make_app for module-scoped fixtures: the apps are closed after the module."""
    make, made = _app_maker()
    yield make
    while made:
        _close_app(made.pop())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    def factory(username: str, *roles: str, password: str = PASSWORD, **fields) -> User:
        user = db.session.scalar(db.select(User).filter_by(username=username))
        if user is None:
            user = User(username=username, full_name=fields.pop("full_name", username.title()), **fields)
            user.set_password(password)
            user.set_roles(roles or ("staff",))
            db.session.add(user)
            db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client, make_user):
    """login("csr") signs in a user holding that role (created on first use); returns the user."""

    def do_login(role_or_user, *extra_roles: str, client=client):
        if isinstance(role_or_user, User):
            user = role_or_user
        else:
            user = make_user(role_or_user, role_or_user, *extra_roles)
        response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return do_login


@pytest.fixture
def dashboard_panel(client):
    """dashboard_panel('id="kb-to-read"'): the HTML of the signed-in user's dashboard panel that holds this marker."""

    def panel(marker: str) -> str:
        page = client.get("/").get_data(as_text=True)
        section = page[page.index(marker):]
        return section[:section.index("</section>")]

    return panel


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The public corpus (regulations, retention schedules); the test is skipped when it is absent."""
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"the shared corpus is not present at {CORPUS_DIR} (set PORTAL_CORPUS_DIR)")
    return CORPUS_DIR


@pytest.fixture
def request_ctx(app):
    """A request context: services raise translated messages, and reading them needs a request's locale."""
    with app.test_request_context() as ctx:
        yield ctx


@pytest.fixture
def customer(app):
    from portal.blueprints.customers.models import Customer

    c = Customer(code="SINOCHEM", name_en="Sinochem Energy Trading Co., Ltd.", name_zh="中化能源贸易有限公司",
                 long_term=True, report_recipients="stock@sinochem.example")
    db.session.add(c)
    db.session.commit()
    return c


class People(dict):
    """people["csr"] is a user named csr holding that role, created on first use.

    Names: csr, csr2 (csr), manager (cs_manager), staff, officer (records_officer), admin.
    """

    ROLES = {"csr": "csr", "csr2": "csr", "manager": "cs_manager", "staff": "staff",
             "officer": "records_officer", "records": "records_officer", "admin": "admin"}

    def __init__(self, make_user):
        super().__init__()
        self._make_user = make_user

    def __missing__(self, name: str) -> User:
        user = self._make_user(name, self.ROLES.get(name, name))
        self[name] = user
        return user


@pytest.fixture
def people(make_user):
    return People(make_user)


@pytest.fixture
def new_complaint(customer, people):
    """new_complaint(**fields): a complaint received from ``customer``, logged by people["csr"]."""
    from portal.blueprints.complaints import services

    def factory(**fields):
        defaults = dict(
            customer_id=customer.id, title="Short delivery on truck loading", category="quantity",
            description="Customer reports 2.1 t less diesel received than loaded.", user=people["csr"],
            received_at=datetime(2025, 6, 3, 2, 0, tzinfo=UTC),
        )
        defaults.update(fields)
        complaint = services.create_complaint(**defaults)
        db.session.commit()
        return complaint

    return factory


def walk_to(complaint, state: str, people) -> None:
    """Move a complaint along the normal path up to ``state`` (csr works it, the manager closes it)."""
    from portal.blueprints.complaints import services

    csr, manager = people["csr"], people["manager"]
    path = ["acknowledge", "investigate", "start_actions", "request_check", "close"]
    targets = ["acknowledged", "investigating", "actions_in_progress", "awaiting_effectiveness", "closed"]
    sources = ["received"] + targets[:-1]
    for source, action, target in zip(sources, path, targets):
        if complaint.state == state:
            break
        if complaint.state != source:
            continue
        if action == "start_actions":
            services.save_investigation(complaint, csr, root_cause="Meter not calibrated", cause_category="equipment")
        if action == "request_check" and not complaint.actions:
            a = services.add_action(complaint, csr, kind="corrective", description="Recalibrate meter", owner_id=csr.id,
                                    due_date=date(2025, 7, 1))
            services.update_action(a, csr, status="done", completion_note="Calibrated by the vendor")
            services.verify_action(a, manager, accept=True, note="Calibration certificate seen")
        note = ""
        if action == "close":
            services.evaluate(complaint, manager, text="No short deliveries in three months")
            note = "" if complaint.reports else "Customer asked for no written report"
        services.transition(complaint, action, manager if action == "close" else csr, note=note)
        assert complaint.state == target
    db.session.commit()


@pytest.fixture
def walk(people):
    """walk(complaint, state): the complaint moved along the normal path up to that state."""
    return lambda complaint, state: walk_to(complaint, state, people)


# ---- the demonstration terminal, loaded once per run -------------------------------------------

def _pg_admin(statement: str) -> None:
    """Run CREATE/DROP DATABASE on TEST_DATABASE_URL's server (from its maintenance database)."""
    from sqlalchemy.engine import make_url

    from portal.config import normalise_database_url

    engine = create_engine(make_url(normalise_database_url(PG_URL)).set(database="postgres"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _pg_database_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    from portal.config import normalise_database_url

    return make_url(normalise_database_url(PG_URL)).set(database=name).render_as_string(hide_password=False)


def _pg_demo_names() -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    from portal.config import normalise_database_url

    base = make_url(normalise_database_url(PG_URL)).database + os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{base}_demo", f"{base}_demo_copy"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, _database_session):
    """A folder with the demonstration terminal loaded: test.db (SQLite), archive, knowledge, index.

    On PostgreSQL the database is a template database (``<test database>_demo``) each test copies."""
    folder = tmp_path_factory.mktemp("demo")
    if PG_URL:
        template_db, _copy = _pg_demo_names()
        _pg_admin(f'DROP DATABASE IF EXISTS "{template_db}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{template_db}"')
        config = make_config(folder, DATABASE_URL=_pg_database_url(template_db))
    else:
        shutil.copyfile(_database_session.database, folder / "test.db")
        config = make_config(folder)
    _copy_knowledge_pages(config)
    app = create_app(config)
    with app.app_context():
        if PG_URL:
            db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()
    _close_app(app)
    yield folder
    if PG_URL:
        _pg_admin(f'DROP DATABASE IF EXISTS "{template_db}" WITH (FORCE)')


def _copy_knowledge_pages(config: dict) -> None:
    """The department's pages shipped in knowledge/, in the knowledge folder, as `make run` has them."""
    for page in (Path(__file__).resolve().parent.parent / "knowledge").glob("*.md"):
        shutil.copy(page, Path(config["KNOWLEDGE_DIR"]) / page.name)


@pytest.fixture
def demo_app(tmp_path, demo_template):
    """An app over a private copy of the demonstration terminal: its folders, and its database (a copy of the
    SQLite file, or on PostgreSQL a database made from the template database and dropped afterwards)."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_template, folder)
    overrides = {}
    if PG_URL:
        template_db, copy_db = _pg_demo_names()
        _pg_admin(f'DROP DATABASE IF EXISTS "{copy_db}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{copy_db}" TEMPLATE "{template_db}"')
        overrides["DATABASE_URL"] = _pg_database_url(copy_db)
    app = create_app(make_config(folder, **overrides))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    _close_app(app)
    if PG_URL:
        _pg_admin(f'DROP DATABASE IF EXISTS "{copy_db}" WITH (FORCE)')
