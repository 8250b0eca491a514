"""`flask archive ...`: import-plan, schedule, verify, dispose."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask import current_app

from ...audit import acting_as
from ...extensions import db
from ...web import parse_date, parse_int
from . import extract, services
from .models import DisposalBatch
from .plan import import_plan
from .routes import bp


def _parse_date(value: str | None) -> date:
    if not value:
        return services.today()
    parsed = parse_date(value)
    if parsed is None:
        raise click.BadParameter(f"{value!r} is not a date like 2026-06-30 (years 1900 to 2999)")
    return parsed


@bp.cli.command("import-plan")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False))
def import_plan_command(csv_path):
    """Load a file plan / retention schedule from CSV (series_code,series_title,retention,trigger,disposition,source)."""
    with acting_as(name="cli"):
        result = import_plan(csv_path)
        db.session.commit()
    click.echo(f"{result.loaded} series loaded ({result.created} new, {result.updated} updated), "
               f"{len(result.errors)} row(s) not understood")
    for line, code, reason in result.errors:
        click.echo(f"  line {line} {code}: {reason}", err=True)
    if result.loaded == 0:
        sys.exit(1)


@bp.cli.command("schedule")
@click.option("--as-of", "as_of", help="Date to check (YYYY-MM-DD); default today.")
def schedule_command(as_of):
    """List records due for disposition on a date, with why any is skipped."""
    when = _parse_date(as_of)
    items = services.schedule(when)
    click.echo("reference\tseries\tdue\taction\ttitle\tskipped because")
    for item in items:
        r = item.record
        click.echo(f"{r.reference}\t{r.series.code}\t{item.due.isoformat()}\t{item.action}\t{r.title}\t"
                   f"{'; '.join(item.reasons)}")
    due = len([i for i in items if not i.skipped])
    click.echo(f"{len(items)} record(s) due as of {when.isoformat()}: {due} ready, {len(items) - due} skipped")


@bp.cli.command("extract")
def extract_command():
    """Extract the text of every record still waiting for it (e.g. after a restart); safe beside a running portal."""
    pending = services.pending_extraction_ids()
    done = extract.run_pending(current_app._get_current_object(), pending)
    click.echo(f"{done} of {len(pending)} record(s) waiting for their text extracted")


@bp.cli.command("verify")
def verify_command():
    """Recompute the sha256 of every archived file; exit 1 when any is missing or altered."""
    with acting_as(name="cli"):
        run = services.verify_files(actor="cli")
        db.session.commit()
    for line in run.details.splitlines():
        click.echo(line)
    click.echo(f"{run.checked} file(s) checked: {run.missing} missing, {run.altered} altered")
    if not run.ok:
        sys.exit(1)


@bp.cli.command("dispose")
@click.argument("batch_number")
@click.option("--dry-run", is_flag=True, help="Say what would be done, change nothing.")
def dispose_command(batch_number, dry_run):
    """Execute an approved disposal batch (idempotent: a rerun finishes an interrupted batch)."""
    batch = db.session.scalar(db.select(DisposalBatch).filter_by(number=batch_number))
    if batch is None and parse_int(batch_number, min=1) is not None:
        batch = db.session.get(DisposalBatch, parse_int(batch_number, min=1))
    if batch is None:
        raise click.ClickException(f"no disposal batch {batch_number}")
    try:
        with acting_as(name="cli"):
            steps = services.execute_batch(batch, actor="cli", dry_run=dry_run,
                                           checkpoint=None if dry_run else db.session.commit)
            if dry_run:
                db.session.rollback()
            else:
                db.session.commit()
    except services.DisposalError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    prefix = "would " if dry_run else ""
    for step in steps:
        click.echo(f"{step.item.reference}\t{step.item.series_code}\t{prefix}{step.outcome}")
    if dry_run:
        click.echo(f"dry run: nothing changed ({len(steps)} item(s) in {batch.number})")
    else:
        click.echo(f"batch {batch.number} executed; certificate {batch.certificate.reference}")
