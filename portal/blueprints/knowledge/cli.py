"""`flask knowledge ...`: import, export, due-for-review."""
from __future__ import annotations

from pathlib import Path

import click

from ...audit import acting_as
from ...extensions import db
from ...timeutil import local_today
from . import services
from .models import KINDS
from .routes import bp


@bp.cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Kind for files whose front matter does not say (default: guide).")
def import_command(path: Path, kind: str | None):
    """Import a Markdown file or a folder of them (idempotent by slug; a changed file = a new revision)."""
    with acting_as(name="cli"):
        try:
            results = services.import_path(path, kind=kind)
        except (services.KnowledgeError, UnicodeDecodeError) as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
    counts: dict[str, int] = {}
    for slug, action in results:
        counts[action] = counts.get(action, 0) + 1
        if action != "unchanged":
            click.echo(f"{action}\t{slug}")
    click.echo(", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "no Markdown files found")


@bp.cli.command("export")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def export_command(path: Path):
    """Write every page (its current version) as Markdown with front matter into PATH."""
    n = services.export_all(path)
    click.echo(f"exported {n} pages to {path}")


@bp.cli.command("due-for-review")
def due_command():
    """List procedures due for review within 30 days."""
    for page in services.due_for_review(local_today(), 30):
        click.echo(f"{page.next_review_date}\t{page.slug}\t{page.title}")

