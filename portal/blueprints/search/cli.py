"""The `flask search ...` commands: rebuild, sync, check (with --fix), query, compact, optimize."""
from __future__ import annotations

import sys

import click
from flask import current_app

from ... import search as engine
from .routes import bp

def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)


@bp.cli.command("rebuild")
@click.option("--if-needed", is_flag=True, help="Only when the index is missing, unreadable or of another schema version.")
@click.option("--procs", type=int, default=None, help="Writer processes (default SEARCH_REBUILD_PROCS; 0: one per CPU, at most 4).")
def rebuild_cmd(if_needed: bool, procs: int | None):
    """Build the index from the database aside and swap it in."""
    store = engine.get_store()
    if if_needed and not store.needs_rebuild():
        click.echo("search index is up to date (schema version matches): nothing to do")
        return
    last: dict[str, int] = {}

    def progress(kind: str, done: int, total: int):
        if done - last.get(kind, 0) >= 2000 or done == total:
            last[kind] = done
            click.echo(f"  {kind}: {done}/{total}")

    try:
        with current_app.test_request_context():
            count = engine.rebuild(progress=progress, procs=procs)
    except Exception as exc:  # noqa: BLE001
        _fail(f"rebuild failed: {type(exc).__name__}: {exc}")
    click.echo(f"search index rebuilt: {count} records")


@bp.cli.command("sync")
@click.option("--timeout", type=float, default=30.0, help="Seconds to wait for the index writer.")
def sync_cmd(timeout: float):
    """Apply the change log to the index and prune old log rows."""
    store = engine.get_store()
    try:
        applied = store.sync(timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        _fail(f"sync failed: {type(exc).__name__}: {exc}")
    pruned = store.prune_log(int(current_app.config.get("SEARCH_LOG_RETENTION_DAYS", 30)))
    click.echo(f"applied {applied} change(s); log at {store.applied_seq()}; pruned {pruned} old log row(s)")


@bp.cli.command("check")
@click.option("--fix", is_flag=True, help="Index missing and stale records and those of a drifted acl, remove orphans.")
def check_cmd(fix: bool):
    """Compare database and index per kind: missing, stale and orphaned records, and acl drift (a record
    indexed with an access list other than the one it gives now)."""
    try:
        report = engine.check(fix=fix)
    except Exception as exc:  # noqa: BLE001
        _fail(f"check failed: {type(exc).__name__}: {exc}")
    problems = 0
    for kind, entry in sorted(report.items()):
        counts = {k: len(v) for k, v in entry.items()}
        problems += sum(counts.values())
        click.echo(f"{kind}\tmissing {counts['missing']}\tstale {counts['stale']}\torphaned {counts['orphaned']}"
                   f"\tacl drift {counts.get('acl', 0)}")
        for what, keys in entry.items():
            for key in keys[:20]:
                click.echo(f"  {what}: {key}")
    if problems and fix:
        click.echo(f"fixed {problems} problem(s)")
    elif problems:
        _fail(f"{problems} problem(s) found; run `flask search check --fix`")
    else:
        click.echo("index and database agree")


@bp.cli.command("query")
@click.argument("text")
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable).")
@click.option("--as", "as_user", default=None, help="Search as this username (default: an administrator's view).")
def query_cmd(text: str, kinds: tuple[str, ...], as_user: str | None):
    """Print the top 10 hits: key<TAB>score<TAB>title."""
    from ...extensions import db
    from ...models import User

    if as_user:
        user = db.session.scalar(db.select(User).filter_by(username=as_user))
        if user is None:
            _fail(f"no user {as_user!r}")
    else:
        user = _SystemUser()
    with current_app.test_request_context():
        results = engine.search(text, user=user, kinds=list(kinds) or None, per_page=10)
    for hit in results.hits:
        click.echo(f"{hit.key}\t{hit.score:.3f}\t{hit.title}")
    if not results.hits and results.suggestion:
        click.echo(f"no hits; did you mean: {results.suggestion}", err=True)


class _SystemUser:
    """The command line's view: everything (an administrator)."""

    id = 0
    is_authenticated = True
    is_manager = True
    role_names = {"admin"}

    def has_role(self, *names):
        return "admin" in names or bool(names)

    def acl_terms(self):
        return ["all", "role:admin", "role:cs_manager"]


@bp.cli.command("compact")
def compact_cmd():
    """Merge the small segments at the end of the index (what the nightly search.compact job does)."""
    try:
        before, after = engine.compact()
    except Exception as exc:  # noqa: BLE001
        _fail(f"compact failed: {type(exc).__name__}: {exc}")
    click.echo(f"search index compacted: {before} -> {after} segment(s)")


@bp.cli.command("optimize")
def optimize_cmd():
    """Merge the index into one segment (faster searches)."""
    try:
        engine.optimize()
    except Exception as exc:  # noqa: BLE001
        _fail(f"optimize failed: {type(exc).__name__}: {exc}")
    click.echo("search index optimized")
