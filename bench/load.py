"""Load test of the real server: gunicorn with deploy/gunicorn.conf.py's settings on the loopback address,
over the demonstration terminal grown to five years, driven by the department's day of clicks.

    .venv/bin/python bench/load.py                                   # SQLite in a temporary folder
    .venv/bin/python bench/load.py --database-url postgresql+psycopg:///portal_bench
    .venv/bin/python bench/load.py --complaints 5000 --busy-seconds 60 --steps 1,2,4,8,16,32 --step-seconds 15

It prepares an installation (migrations, `flask demo load`, bench/grow.py to about --complaints complaints
and inquiries in --shape's shape, `flask search rebuild`), starts gunicorn on a free port, then measures:

- a busy department: --users users (20), each waiting 1-3 s between clicks, for --busy-seconds (60 s):
  errors and p95 per kind of request (list, record, dashboard, search, save, pdf);
- saturation: a closed loop without waiting, 1 to 32 users: requests per second and p95 per step.

For both it prints the slowest pages (--pages, p95 per kind and page: numbers in the path and query values
left out; a save under the page it starts from), of the busy department and of one user alone.

The driver is the standard library (threads, one keep-alive http.client connection per user): no
dependency, and for at most 32 users a thread each costs less CPU than the server's own work, which
matters when the driver shares the machine's cores with the server. An action's time runs from sending each
of its requests to having read the answer (a save: its page and its form), summed: the driver's own work
between them (finding a page's links, waiting for the interpreter its other users' threads share) is not
the server's and is left out.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LINK = {
    "complaint": re.compile(r'href="(/complaints/\d+)"'),
    "inquiry": re.compile(r'href="(/complaints/inquiries/\d+)"'),
    "customer": re.compile(r'href="(/customers/\d+)"'),
    "archive": re.compile(r'href="(/archive/records/\d+)"'),
    "knowledge": re.compile(r'href="(/knowledge/p/[^"/?#]+)"'),
    "order": re.compile(r'href="(/operations/orders/\d+)"'),
    "tank": re.compile(r'href="(/operations/tanks/\d+)"'),
    "daily": re.compile(r'href="(/operations/stock/reports/\d+/\d{4}-\d\d-\d\d)"'),
    "call": re.compile(r'href="(/operations/vessels/calls/\d+)"'),
}
SEARCHES = ("diesel", "柴油", "tank 12", "calibration", "投诉", "short delivery", "SINOCHEM", "罐", "report", "MOC")
USERS = (("csr", "csr-demo-2026"), ("csr2", "csr2-demo-2026"), ("manager", "manager-demo-2026"),
         ("records", "records-demo-2026"), ("staff", "staff-demo-2026"))


# ---- the installation ---------------------------------------------------------------------------

def _env(folder: Path, database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({
        "FLASK_APP": "wsgi",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "load-test-" + "x" * 40,
        "PORTAL_SEARCH_INDEX_DIR": str(folder / "index"),
        "PORTAL_ARCHIVE_DIR": str(folder / "archive"),
        "PORTAL_KNOWLEDGE_DIR": str(folder / "knowledge"),
        "PORTAL_INSTANCE_PATH": str(folder / "instance"),
    })
    return env


def _run(env, *args, **kw):
    started = time.monotonic()
    subprocess.run(list(args), env=env, cwd=ROOT, check=True, **kw)
    print(f"  {' '.join(str(a) for a in args[:4])}: {time.monotonic() - started:.0f} s", flush=True)


def prepare(folder: Path, database_url: str, complaints: int, shape: str = "records") -> dict:
    for sub in ("archive", "knowledge", "instance"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for page in (ROOT / "knowledge").glob("*.md"):
        shutil.copy(page, folder / "knowledge" / page.name)
    env = _env(folder, database_url)
    flask = str(BIN / "flask")
    _run(env, flask, "db", "upgrade", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _run(env, flask, "demo", "load", stdout=subprocess.DEVNULL)
    _run(env, sys.executable, str(ROOT / "bench" / "grow.py"), "--complaints", str(complaints), "--shape", shape)
    _run(env, flask, "search", "rebuild", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, workers: int | None) -> tuple[subprocess.Popen, int]:
    """Gunicorn on a free port, once every worker has logged that it is ready (templates compiled, PDF fonts
    and the search index's common parts read: deploy/gunicorn.conf.py's post_worker_init). Measuring while
    workers still warm up would charge their start to the first users. Its error log is read all along (a
    pipe nobody reads would block the workers once full) and its last lines shown if it does not start."""
    port = _free_port()
    conf = ROOT / "deploy" / "gunicorn.conf.py"
    env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_ACCESS_LOG="/dev/null")
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    expected = workers or int(runpy.run_path(str(conf))["workers"])  # the environment env was copied from
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(conf), "wsgi:app"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    ready = threading.Semaphore(0)

    def read_log():
        for line in proc.stderr:
            log[:] = log[-40:] + [line]
            if "Worker ready" in line:
                ready.release()

    threading.Thread(target=read_log, daemon=True).start()
    deadline = time.monotonic() + 180
    for _ in range(expected):
        if not ready.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break
    else:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/auth/login")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
    proc.kill()
    raise SystemExit("gunicorn did not start:\n" + "".join(log))


# ---- one user -----------------------------------------------------------------------------------

class User:
    def __init__(self, port: int, username: str, password: str):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.links: dict[str, list[str]] = defaultdict(list)
        self.username, self.password = username, password
        self.first_path: str | None = None  # the page an action starts from (its figures are kept per page)
        self.waited = 0.0  # seconds from sending requests to having read their answers (an action's time)
        self.sign_in()

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        if self.first_path is None:
            self.first_path = path
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                self.waited += time.perf_counter() - started
                text = body.decode("utf-8", "replace")
                break
            except (http.client.HTTPException, OSError):
                self.waited += time.perf_counter() - started
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    return 599, ""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        for kind, pattern in LINK.items():
            found = pattern.findall(text)
            if found:
                self.links[kind] = list(dict.fromkeys(found))[:50]
        return response.status, text

    def sign_in(self) -> None:
        status, page = self.request("GET", "/auth/login")
        token = CSRF.search(page)
        status, _ = self.request("POST", "/auth/login", {"username": self.username, "password": self.password,
                                                        "csrf_token": token.group(1) if token else ""})
        if status != 302:
            raise SystemExit(f"sign-in of {self.username} failed: {status}")

    def record(self, kind: str, fallback: str) -> str:
        links = self.links.get(kind)
        return random.choice(links) if links else fallback


# ---- the day's mix ------------------------------------------------------------------------------

SAVERS = {"csr", "csr2", "manager"}
ORDER_KINDS = ("ship_discharge", "ship_loading", "truck_loading", "tank_transfer")


def _option(page: str, select_name: str) -> str:
    """The first non-empty option of a select of the page."""
    at = page.find(f'name="{select_name}"')
    found = re.search(r'<option[^>]*value="([1-9]\d*)"', page[at:]) if at >= 0 else None
    return found.group(1) if found else ""


def _token(page: str) -> str:
    found = CSRF.search(page)
    return found.group(1) if found else ""


def _save_inquiry(user: User) -> int:
    """Assign an inquiry to a colleague: a save with its audit entry and search change."""
    inquiry = user.record("inquiry", "")
    if not inquiry or user.username not in SAVERS:
        return user.request("GET", "/complaints/inquiries?status=open")[0]
    _status, page = user.request("GET", inquiry)
    return user.request("POST", inquiry + "/assign", {
        "csrf_token": _token(page), "assign-assigned_to_id": _option(page, "assign-assigned_to_id")})[0]


def _complaint_action(user: User) -> int:
    """Add a corrective action to a complaint (refused with a message when its state allows none)."""
    complaint = user.record("complaint", "")
    if not complaint or user.username not in SAVERS:
        return user.request("GET", "/complaints/?state=open")[0]
    _status, page = user.request("GET", complaint)
    return user.request("POST", complaint + "/actions", {
        "csrf_token": _token(page), "act-kind": "corrective", "act-description": "Customer informed by phone",
        "act-owner_id": _option(page, "act-owner_id"), "act-due_date": "2027-01-29"})[0]


MIX = [  # (kind, weight, what the user does)
    ("dashboard", 10, lambda u: u.request("GET", "/")[0]),
    ("list", 8, lambda u: u.request("GET", "/complaints/?state=open")[0]),
    ("list", 8, lambda u: u.request("GET", "/complaints/inquiries?status=open")[0]),
    ("list", 4, lambda u: u.request("GET", "/customers/")[0]),
    ("list", 4, lambda u: u.request("GET", f"/archive/?year={random.randint(2021, 2026)}")[0]),
    ("list", 3, lambda u: u.request("GET", "/knowledge/")[0]),
    ("record", 10, lambda u: u.request("GET", u.record("complaint", "/complaints/"))[0]),
    ("record", 10, lambda u: u.request("GET", u.record("inquiry", "/complaints/inquiries"))[0]),
    ("record", 5, lambda u: u.request("GET", u.record("customer", "/customers/"))[0]),
    ("record", 4, lambda u: u.request("GET", u.record("archive", "/archive/"))[0]),
    ("record", 4, lambda u: u.request("GET", u.record("knowledge", "/knowledge/"))[0]),
    ("list", 6, lambda u: u.request("GET", "/operations/orders?state=verified")[0]),
    ("list", 3, lambda u: u.request("GET", f"/operations/orders?kind={random.choice(ORDER_KINDS)}")[0]),
    ("list", 3, lambda u: u.request("GET", "/operations/stock/reports")[0]),
    ("list", 2, lambda u: u.request("GET", "/operations/vessels/plan")[0]),
    ("list", 2, lambda u: u.request("GET", "/operations/applications/")[0]),
    ("record", 6, lambda u: u.request("GET", u.record("order", "/operations/orders"))[0]),
    ("record", 3, lambda u: u.request("GET", u.record("tank", "/operations/tanks"))[0]),
    ("record", 3, lambda u: u.request("GET", u.record("daily", "/operations/stock/reports"))[0]),
    ("record", 2, lambda u: u.request("GET", u.record("call", "/operations/vessels/"))[0]),
    ("search", 10, lambda u: u.request("GET", "/search/?" + urlencode({"q": random.choice(SEARCHES)}))[0]),
    ("save", 4, _save_inquiry),
    ("save", 3, _complaint_action),
]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.statuses: dict[int, int] = defaultdict(int)
        self.pages: dict[str, list[float]] = defaultdict(list)

    def add(self, kind: str, seconds: float, status: int, path: str | None = None) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            if path:
                self.pages[f"{kind:9} {page_of(path)}"].append(seconds)
            self.statuses[status] += 1
            if status >= 400:
                self.errors[kind] += 1

    def total(self) -> int:
        return sum(len(v) for v in self.times.values())

    def p95(self, kind: str | None = None) -> float:
        return _p95(self.times[kind] if kind else [t for v in self.times.values() for t in v])

    def slowest(self, count: int) -> list[dict]:
        """The pages with the highest p95, with how many requests each had."""
        rows = [{"page": page, "n": len(times), "p95_ms": round(_p95(times), 1)} for page, times in self.pages.items()]
        return sorted(rows, key=lambda row: -row["p95_ms"])[:count]

    def print_slowest(self, count: int) -> list[dict]:
        rows = self.slowest(count)
        for row in rows:
            print(f"    {row['p95_ms']:7.1f} ms  {row['n']:5}  {row['page']}")
        return rows


def _p95(times: list[float]) -> float:
    values = sorted(times)
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))] * 1000


def page_of(path: str) -> str:
    """A page's figures key: numbers in the path as <n>, a knowledge page's slug as <slug>, query keys kept."""
    route, _, query = path.partition("?")
    route = re.sub(r"/knowledge/p/[^/]+", "/knowledge/p/<slug>", re.sub(r"\d{4}-\d\d-\d\d|\d+", "<n>", route))
    keys = sorted({part.partition("=")[0] for part in query.split("&") if part})
    return route + ("?" + "&".join(keys) if keys else "")


def _act(user: User, stats: Stats, pdf_due: list, lock: threading.Lock) -> None:
    with lock:
        pdf = bool(pdf_due) and time.monotonic() >= pdf_due[0]
        if pdf:
            pdf_due[0] = time.monotonic() + 60
    if pdf:  # one PDF a minute across the department: a complaint's report
        kind, action = "pdf", lambda u: u.request("GET", u.record("complaint", "/complaints/1") + "/report.pdf")[0]
    else:
        kind, _w, action = random.choices(MIX, weights=[w for _k, w, _a in MIX])[0]
    user.first_path, user.waited = None, 0.0
    status = action(user)
    stats.add(kind, user.waited, status, user.first_path)


def run_users(port: int, users: int, seconds: float, think: tuple[float, float] | None) -> Stats:
    stats, stop = Stats(), time.monotonic() + seconds
    pdf_due, pdf_lock = [time.monotonic() + 5], threading.Lock()
    people = [User(port, *USERS[i % len(USERS)]) for i in range(users)]
    for person in people:  # every user has opened the lists once, to know some records
        for path in ("/complaints/", "/complaints/inquiries", "/customers/", "/archive/", "/knowledge/",
                     "/operations/orders", "/operations/tanks", "/operations/stock/reports", "/operations/vessels/"):
            person.request("GET", path)
    stop = time.monotonic() + seconds

    def loop(person: User):
        if think:
            time.sleep(random.uniform(0, think[1]))
        while time.monotonic() < stop:
            _act(person, stats, pdf_due if think else [], pdf_lock)
            if think:
                time.sleep(random.uniform(*think))

    threads = [threading.Thread(target=loop, args=(p,), daemon=True) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL to use (emptied first); default SQLite in --folder")
    parser.add_argument("--folder", type=Path, help="installation folder (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="use --folder as it is (prepared by an earlier run)")
    parser.add_argument("--complaints", type=int, default=5000, help="grow to about this many complaints+inquiries")
    parser.add_argument("--shape", choices=("records", "departments"), default="records",
                        help="bench/grow.py's shape: records over the same master data (default), or whole departments")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--busy-seconds", type=float, default=60)
    parser.add_argument("--steps", default="1,2,4,8,16,32")
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: deploy/gunicorn.conf.py's)")
    parser.add_argument("--pages", type=int, default=12, help="print this many slowest pages (p95)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    folder = args.folder or Path(tempfile.mkdtemp(prefix="portal-load-"))
    database_url = args.database_url or f"sqlite:///{folder / 'portal.db'}"
    if args.reuse:
        env = _env(folder, database_url)
    else:
        print(f"preparing {folder} ({'PostgreSQL' if args.database_url else 'SQLite'})", flush=True)
        if args.database_url:
            from sqlalchemy import create_engine, text

            from portal.config import normalise_database_url
            engine = create_engine(normalise_database_url(args.database_url))
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        env = prepare(folder, database_url, args.complaints, args.shape)
    server, port = start_server(env, args.workers)
    figures: dict = {"cpus": os.cpu_count(), "database": "postgresql" if args.database_url else "sqlite"}
    try:
        print(f"\nbusy department: {args.users} users, 1-3 s between clicks, {args.busy_seconds:.0f} s", flush=True)
        stats = run_users(port, args.users, args.busy_seconds, (1.0, 3.0))
        busy = {kind: {"n": len(stats.times[kind]), "p95_ms": round(stats.p95(kind), 1),
                       "errors": stats.errors.get(kind, 0)} for kind in sorted(stats.times)}
        for kind, row in busy.items():
            print(f"  {kind:10} {row['n']:6} requests  p95 {row['p95_ms']:7.1f} ms  errors {row['errors']}")
        print(f"  statuses: {dict(sorted(stats.statuses.items()))}")
        print("  slowest pages (p95, requests):")
        figures["busy"] = busy
        figures["busy_pages"] = stats.print_slowest(args.pages)
        print(f"\nsaturation: closed loop, {args.step_seconds:.0f} s per step", flush=True)
        figures["saturation"] = []
        for users in [int(s) for s in args.steps.split(",")]:
            stats = run_users(port, users, args.step_seconds, None)
            rps = stats.total() / args.step_seconds
            row = {"users": users, "rps": round(rps, 1), "p95_ms": round(stats.p95(), 1),
                   "p95_list_ms": round(stats.p95("list"), 1), "p95_record_ms": round(stats.p95("record"), 1),
                   "errors": sum(stats.errors.values())}
            figures["saturation"].append(row)
            print(f"  {users:3} users  {rps:7.1f} req/s  p95 {row['p95_ms']:7.1f} ms (lists {row['p95_list_ms']:.1f},"
                  f" records {row['p95_record_ms']:.1f})  errors {row['errors']}", flush=True)
            if users == 1:
                print("  one user alone, slowest pages (p95, requests):")
                figures["one_user_pages"] = stats.print_slowest(args.pages)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
