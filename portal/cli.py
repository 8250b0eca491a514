"""Command-line groups that are not tied to one blueprint: demo. (`flask users` is the admin
blueprint's group: blueprints/admin/cli.py.)"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from .audit import acting_as
from .extensions import db
from .models import User

demo_cli = AppGroup("demo", help="The demonstration terminal.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no users yet.")
def demo_load(if_empty: bool):
    """Load the demonstration terminal (idempotent)."""
    from . import demo

    if if_empty and db.session.scalar(db.select(db.func.count(User.id))):
        click.echo("database already has users: demo data not loaded again")
    else:
        with acting_as(name="demo"):
            for _order, name, loader in demo.loaders():
                click.echo(f"loading {name} ...")
                loader()
                db.session.commit()
    click.echo(demo.DEMO_PASSWORD_NOTE)
    from .blueprints.admin.demo import DEMO_USERS

    for username, _full, _roles, password, _dept in DEMO_USERS:
        click.echo(f"  {username:<10} {password}")


def register(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(__import__("portal.backup", fromlist=["backup_cli"]).backup_cli)
    app.cli.add_command(__import__("portal.doctor", fromlist=["doctor_command"]).doctor_command)
