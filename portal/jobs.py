"""Scheduled jobs: domains register what runs when; ``flask jobs run`` runs what is due, on any number of machines.

A domain registers its jobs from its own package when it is loaded (e.g. in its ``__init__.py`` or ``cli.py``)::

    from portal.jobs import register_job

    @register_job("complaints.inquiry_reminders", "workdays 08:45", label=_l("Inquiry reminders"))
    def inquiry_reminders(now):
        ...queue_message(...)            # flush only: the runner commits when the function returns
        return "3 reminder(s) queued"    # shown on the jobs page

Schedules: ``every 5m`` / ``every 2h`` (from the end of the last run), ``daily HH:MM`` (local time, ``TIMEZONE``),
``workdays HH:MM`` (working days of the Chinese calendar, ``portal.workdays``).

``run_due()`` claims each due job: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, then a conditional UPDATE
that marks it running (committed), so two runners never run one job; on SQLite one runner at a time holds a file
lock beside the database. Each run is a ``JobRun`` row (start, end, outcome, summary or error). The next due time
is computed from the moment the run ends, so a job missed while the machine was off runs once, not once per
missed slot. A run that never finished (its runner was killed) is taken over after ``JOBS_STALE_SECONDS``.
"""
from __future__ import annotations

import logging
import os
import re
import socket
import traceback
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Optional

from flask import current_app
from sqlalchemy import Integer, String, Text, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .models import UTCDateTime
from .timeutil import tz, utcnow

log = logging.getLogger("portal.jobs")

DEFAULT_STALE_SECONDS = 3600


# --------------------------------------------------------------------------- schedules
@dataclass(frozen=True)
class Schedule:
    kind: str  # every | daily | workdays
    seconds: int = 0
    at: time | None = None

    _RE = re.compile(r"^\s*(?:(every)\s+(\d+)\s*([smhd])|(daily|workdays)\s+(\d{1,2}):(\d{2}))\s*$", re.I)

    @classmethod
    def parse(cls, spec: "str | Schedule") -> "Schedule":
        if isinstance(spec, Schedule):
            return spec
        m = cls._RE.match(spec or "")
        if not m:
            raise ValueError(f"not a schedule: {spec!r} (e.g. 'every 5m', 'daily 07:00', 'workdays 09:00')")
        if m.group(1):
            n = int(m.group(2)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(3).lower()]
            if n < 1:
                raise ValueError(f"not a schedule: {spec!r}")
            return cls("every", seconds=n)
        return cls(m.group(4).lower(), at=time(int(m.group(5)), int(m.group(6))))

    def next_after(self, moment: datetime) -> datetime:
        """The first due time strictly after ``moment`` (aware; UTC result)."""
        moment = moment.astimezone(UTC)
        if self.kind == "every":
            return moment + timedelta(seconds=self.seconds)
        from . import workdays

        zone = tz()
        local = moment.astimezone(zone)
        day = local.date()
        for _ in range(400):
            candidate = datetime.combine(day, self.at, tzinfo=zone)
            if candidate > local and (self.kind == "daily" or workdays.is_workday(day)):
                return candidate.astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError("no working day within 400 days")  # pragma: no cover

    def first_due(self, now: datetime) -> datetime:
        """When a newly registered job is first due: at once for intervals, else the next slot."""
        return now if self.kind == "every" else self.next_after(now)

    def __str__(self) -> str:
        if self.kind == "every":
            for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
                if self.seconds % size == 0:
                    return f"every {self.seconds // size}{unit}"
            return f"every {self.seconds}s"
        return f"{self.kind} {self.at.strftime('%H:%M')}"


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    fn: Callable[[datetime], object]
    label: object = None
    per_machine: bool = False  # e.g. search sync: each machine keeps its own index

    @property
    def title(self) -> str:
        return str(self.label) if self.label is not None else self.name

    @property
    def key(self) -> str:
        """The name its state and runs are kept under: ``name@host`` for a job that runs on every machine."""
        return f"{self.name}@{socket.gethostname()}"[:80] if self.per_machine else self.name


JOBS: dict[str, Job] = {}


def register_job(name: str, schedule: "str | Schedule", fn: Callable[[datetime], object] | None = None, *,
                 label=None, per_machine: bool = False):
    """Register ``fn(now) -> summary | None`` to run on ``schedule``; usable as a decorator.

    ``per_machine``: runs once on every machine (its own state per host), not once for the installation.
    Registering a name again replaces the job (the app factory may run more than once).
    """
    parsed = Schedule.parse(schedule)

    def decorator(func):
        JOBS[name] = Job(name, parsed, func, label, per_machine)
        return func

    return decorator(fn) if fn is not None else decorator


# --------------------------------------------------------------------------- models
class JobState(db.Model):
    """One row per registered job: when it is due next and who runs it now."""

    __tablename__ = "job_state"
    __audit__ = False

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    running_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    running_token: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    last_started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    last_finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    last_outcome: Mapped[str] = mapped_column(String(12), default="", nullable=False)
    runs: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class JobRun(db.Model):
    """The log of runs: start, end, outcome (running, ok, failed, abandoned), the summary or the error."""

    __tablename__ = "job_run"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    token: Mapped[str] = mapped_column(String(32), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(12), default="running", nullable=False, index=True)
    detail: Mapped[str] = mapped_column(Text, default="", nullable=False)
    host: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    pid: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


# --------------------------------------------------------------------------- running
def ensure_states(now: datetime | None = None) -> None:
    """A state row for every registered job (first due per its schedule); commits."""
    now = now or utcnow()
    known = set(db.session.scalars(select(JobState.name)))
    for job in JOBS.values():
        if job.key in known:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(JobState(name=job.key, next_due_at=job.schedule.first_due(now)))
        except IntegrityError:  # another runner added it at the same moment
            pass
    db.session.commit()


def _stale(now: datetime) -> datetime:
    return now - timedelta(seconds=int(current_app.config.get("JOBS_STALE_SECONDS", DEFAULT_STALE_SECONDS)))


def _due_clause(now: datetime):
    return (JobState.next_due_at <= now) & or_(JobState.running_since.is_(None), JobState.running_since < _stale(now))


def claim_next(now: datetime, names: list[str]) -> tuple[str, str] | None:
    """Claim one due job by its state keys: (key, token), or None when nothing (else) is due. Commits the claim."""
    stmt = select(JobState).where(JobState.name.in_(names), _due_clause(now)).order_by(JobState.next_due_at).limit(1)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    state = db.session.scalar(stmt)
    if state is None:
        db.session.rollback()
        return None
    name = state.name
    token = uuid.uuid4().hex
    abandoned = state.running_token
    result = db.session.execute(
        update(JobState).where(JobState.name == name, _due_clause(now))
        .values(running_since=now, running_token=token, last_started_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        return None
    if abandoned:
        db.session.execute(update(JobRun).where(JobRun.name == name, JobRun.token == abandoned,
                                                JobRun.outcome == "running")
                           .values(outcome="abandoned", finished_at=now, detail="the runner stopped before the end")
                           .execution_options(synchronize_session=False))
    db.session.add(JobRun(name=name, token=token, started_at=now, outcome="running",
                          host=socket.gethostname()[:120], pid=os.getpid()))
    db.session.commit()
    return name, token


def _finish(job: Job, token: str, outcome: str, detail: str) -> None:
    end = utcnow()
    name = job.key
    next_due = job.schedule.next_after(end)
    failed = int(outcome == "failed")
    db.session.execute(update(JobState).where(JobState.name == name, JobState.running_token == token)
                       .values(running_since=None, running_token=None, last_finished_at=end, last_outcome=outcome,
                               next_due_at=next_due, runs=JobState.runs + 1, failures=JobState.failures + failed)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(JobRun).where(JobRun.name == name, JobRun.token == token)
                       .values(finished_at=end, outcome=outcome, detail=detail[:4000])
                       .execution_options(synchronize_session=False))
    db.session.commit()


def run_job(job: Job, token: str, now: datetime) -> JobRun:
    from .audit import acting_as

    name = job.key
    try:
        with acting_as(name="jobs"):
            summary = job.fn(now)
            db.session.commit()
        outcome, detail = "ok", "" if summary is None else str(summary)
    except Exception as exc:  # noqa: BLE001 - a failing job is logged and retried at its next slot
        db.session.rollback()
        outcome = "failed"
        detail = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exc(limit=8))
        log.exception("job %s failed", name)
    _finish(job, token, outcome, detail)
    return db.session.scalar(select(JobRun).where(JobRun.name == name, JobRun.token == token))


@contextmanager
def single_runner():
    """On SQLite, one ``flask jobs run`` at a time (a file lock beside the database); yields False when busy."""
    if db.engine.dialect.name != "sqlite" or not db.engine.url.database or db.engine.url.database == ":memory:":
        yield True
        return
    import fcntl

    path = Path(db.engine.url.database).with_name(Path(db.engine.url.database).name + ".jobs-lock")
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_due(now: datetime | None = None, *, only: list[str] | None = None, report=None) -> list[JobRun]:
    """Run every registered job that is due; returns the runs made by this runner."""
    runs: list[JobRun] = []
    with single_runner() as mine:
        if not mine:
            if report:
                report("another `flask jobs run` is running on this database: nothing done")
            return runs
        start = now or utcnow()
        ensure_states(start)
        by_key = {job.key: job for job in JOBS.values() if not only or job.name in only}
        done: set[str] = set()
        while True:
            moment = now or utcnow()
            claimed = claim_next(moment, [k for k in by_key if k not in done])
            if claimed is None:
                break
            key, token = claimed
            done.add(key)
            run = run_job(by_key[key], token, moment)
            runs.append(run)
            if report:
                report(f"{key}\t{run.outcome}\t{(run.detail or '').splitlines()[0] if run.detail else ''}")
    return runs


def next_due() -> datetime | None:
    keys = [job.key for job in JOBS.values()]
    return db.session.scalar(select(db.func.min(JobState.next_due_at)).where(JobState.name.in_(keys)))


def overview() -> list[tuple[Job, JobState | None, JobRun | None]]:
    """Each registered job with its state and its last finished run (for the jobs page and `flask jobs list`)."""
    states = {s.name: s for s in db.session.scalars(select(JobState))}
    out = []
    for name in sorted(JOBS):
        job = JOBS[name]
        last = db.session.scalar(select(JobRun).where(JobRun.name == job.key, JobRun.outcome != "running")
                                 .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))
        out.append((job, states.get(job.key), last))
    return out
