"""`flask department escalate`: notify owners (or their cover) of inquiries and complaints past due."""
from __future__ import annotations

import click

from ...audit import acting_as
from ...extensions import db
from . import services
from .routes import bp


@bp.cli.command("escalate")
def escalate_command():
    """Notify each open inquiry or complaint past its due time to its owner, or to the cover while they are away."""
    with acting_as(name="cli"):
        sent = services.escalate_due()
        db.session.commit()
    click.echo(f"{len(sent)} notice(s) of work past due")
