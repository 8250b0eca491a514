"""The dashboard of a manager over grown data, in-process: CPU seconds and SQL statements per request, and
what each dashboard panel and due list costs.

    .venv/bin/python bench/dashboard.py                         # prepares a SQLite installation in a temp folder
    .venv/bin/python bench/dashboard.py --folder /tmp/dash      # ... in this folder (kept), or reuses it
    .venv/bin/python bench/dashboard.py --folder /tmp/dash --complaints 2000 --requests 20 --user records
    .venv/bin/python bench/dashboard.py --folder /tmp/load --database-url postgresql+psycopg:///portal_bench

It prepares the installation as bench/load.py does (migrations, `flask demo load`, bench/grow.py to about
--complaints complaints and inquiries in --shape's shape; no search index: the dashboard does not read it), then signs the
user in with Flask's test client and requests the dashboard --requests times. CPU time is
``time.process_time()`` (the machine may be shared: wall time says more about the neighbours).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import USERS, _env, _run  # noqa: E402  (bench/load.py: the same installation)


def prepare(folder: Path, complaints: int, shape: str = "records") -> dict:
    import shutil

    for sub in ("archive", "knowledge", "instance"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for page in (ROOT / "knowledge").glob("*.md"):
        shutil.copy(page, folder / "knowledge" / page.name)
    env = _env(folder, f"sqlite:///{folder / 'portal.db'}")
    flask = str(Path(sys.executable).parent / "flask")
    import subprocess

    _run(env, flask, "db", "upgrade", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _run(env, flask, "demo", "load", stdout=subprocess.DEVNULL)
    _run(env, sys.executable, str(ROOT / "bench" / "grow.py"), "--complaints", str(complaints), "--shape", shape)
    (folder / "prepared").write_text("ok\n")
    return env


def measure(folder: Path, username: str, requests: int, database_url: str | None = None) -> dict:
    from sqlalchemy import event

    from portal import create_app, panels
    from portal.extensions import db

    env = _env(folder, database_url or f"sqlite:///{folder / 'portal.db'}")
    config = {key[len("PORTAL_"):]: value for key, value in env.items() if key.startswith("PORTAL_")}
    app = create_app(dict(config, WTF_CSRF_ENABLED=False))
    password = dict(USERS)[username]
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
        client = app.test_client()
        response = client.post("/auth/login", data={"username": username, "password": password})
        assert response.status_code == 302, "sign-in failed"
        client.get("/")  # warm up (templates compiled, caches filled)
        spent = _time_parts(panels)
        cpu, wall, statements[0] = time.process_time(), time.perf_counter(), 0
        for _ in range(requests):
            db.session.remove()
            assert client.get("/").status_code == 200
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        per_request = statements[0] / requests
        parts = [(name, (seconds / requests, 0)) for name, seconds in spent.items()]
        from portal.blueprints.archive.models import ArchiveRecord

        records = db.session.scalar(db.select(db.func.count(ArchiveRecord.id)))
    return {"cpu": cpu, "wall": wall, "requests": requests, "statements": per_request, "parts": parts,
            "records": records}


def _time_parts(panels) -> dict[str, float]:
    """Wrap every registered panel and due list to add up its CPU time during the requests."""
    from dataclasses import replace

    spent: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(user):
            start = time.process_time()
            try:
                return fn(user)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - start
        return wrapper

    panels._PANELS[:] = [replace(p, context=timed(p.template, p.context)) for p in panels._PANELS]
    for key, item in list(panels._DUE.items()):
        panels._DUE[key] = replace(item, rows=timed(f"due:{key}", item.rows),
                                   summary=item.summary and timed(f"due:{key}", item.summary))
    return spent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, help="prepare here (or reuse when prepared); default: a temp folder")
    parser.add_argument("--complaints", type=int, default=5000, help="grow to about this many complaints+inquiries")
    parser.add_argument("--shape", choices=("records", "departments"), default="records",
                        help="bench/grow.py's shape: records over the same master data (default), or whole departments")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--user", default="manager", choices=[name for name, _ in USERS])
    parser.add_argument("--database-url", help="measure an installation prepared by bench/load.py on PostgreSQL "
                        "(--folder is then that installation's folder)")
    args = parser.parse_args(argv)
    import tempfile

    folder = args.folder or Path(tempfile.mkdtemp(prefix="portal-dashboard-"))
    if not args.database_url and not (folder / "prepared").exists():
        prepare(folder, args.complaints, args.shape)
    result = measure(folder, args.user, args.requests, args.database_url)
    print(f"{result['records']} archived records; {args.user}'s dashboard, {result['requests']} requests: "
          f"{result['cpu']:.2f} s CPU ({result['cpu'] / result['requests'] * 1000:.0f} ms a request), "
          f"{result['wall']:.2f} s wall, {result['statements']:.0f} SQL statements a request")
    for name, (cpu, _count) in sorted(result["parts"], key=lambda p: -p[1][0])[:12]:
        print(f"  {name:45} {cpu * 1000:8.1f} ms CPU a request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
