"""`flask outbox send|list` and `flask jobs run|list`: e-mail delivery and scheduled work, safe on several machines."""
from __future__ import annotations

import signal
import sys
import time as time_module

import click
from flask.cli import AppGroup

from ... import jobs as jobs_core
from ... import outbox
from ...extensions import db
from ...timeutil import utcnow
from .routes import bp

outbox_cli = AppGroup("outbox", help="The e-mail outbox.")
jobs_cli = AppGroup("jobs", help="Scheduled work.")


@outbox_cli.command("send")
@click.option("--limit", default=500, show_default=True, help="At most this many messages in one run.")
def outbox_send(limit: int):
    """Deliver the messages that are due (SMTP_HOST; without it they are written to the log).

    Each message is claimed before it is sent, so several senders (machines, a timer and the jobs runner) never
    send one twice; a failure is retried later with backoff. Exit 1 when a message failed in this run.
    """
    result = outbox.deliver_due(limit=limit)
    click.echo(str(result))
    if result.failed or result.given_up:
        sys.exit(1)


@outbox_cli.command("list")
@click.option("--state", type=click.Choice(outbox.STATES), help="Only messages in this state.")
@click.option("--limit", default=50, show_default=True)
def outbox_list(state: str | None, limit: int):
    """The newest messages: id, state, attempts, to, subject."""
    stmt = db.select(outbox.OutboxMessage).order_by(outbox.OutboxMessage.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(outbox.OutboxMessage.state == state)
    for m in db.session.scalars(stmt):
        click.echo(f"{m.id}\t{m.state}\t{m.attempts}\t{m.to_address}\t{m.subject}")
    counts = outbox.counts_by_state()
    click.echo(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "the outbox is empty")


class _Stop:
    requested = False


def _request_stop(signum, frame):  # noqa: ARG001 - signal handler signature
    _Stop.requested = True


@jobs_cli.command("run")
@click.option("--loop", is_flag=True, help="Stay running: run what is due, sleep until the next job is due.")
@click.option("--only", "only", multiple=True, help="Run only this job (repeatable).")
@click.option("--max-sleep", default=60, show_default=True, help="With --loop: look again at least this often "
              "(seconds).")
def jobs_run(loop: bool, only: tuple[str, ...], max_sleep: int):
    """Run the scheduled jobs that are due (from cron or a systemd timer every minute, or --loop).

    Jobs are claimed with row locks, so any number of machines can run this and each job runs once.
    Exit 1 when a job failed in this run.
    """
    unknown = [n for n in only if n not in jobs_core.JOBS]
    if unknown:
        raise click.BadParameter(f"unknown job(s): {', '.join(unknown)}; known: {', '.join(sorted(jobs_core.JOBS))}")
    failed = False
    signal.signal(signal.SIGTERM, _request_stop)
    while True:
        runs = jobs_core.run_due(only=list(only) or None, report=click.echo)
        failed = failed or any(r.outcome == "failed" for r in runs)
        if not loop or _Stop.requested:
            break
        nxt = jobs_core.next_due()
        db.session.rollback()
        wait = max_sleep if nxt is None else min(max_sleep, max(1.0, (nxt - utcnow()).total_seconds()))
        end = time_module.monotonic() + wait
        while time_module.monotonic() < end and not _Stop.requested:
            time_module.sleep(min(1.0, end - time_module.monotonic()))
        if _Stop.requested:
            break
    if failed and not loop:
        sys.exit(1)


@jobs_cli.command("list")
def jobs_list():
    """Every registered job: schedule, next due (UTC), last outcome."""
    jobs_core.ensure_states()
    for job, state, last in jobs_core.overview():
        due = state.next_due_at.strftime("%Y-%m-%d %H:%M") if state else "-"
        outcome = last.outcome if last else "never run"
        click.echo(f"{job.name}\t{job.schedule}\t{due}\t{outcome}")


@bp.record_once
def _register_cli(state):
    state.app.cli.add_command(outbox_cli)
    state.app.cli.add_command(jobs_cli)
