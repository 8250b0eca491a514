"""Command-line groups that are not tied to one blueprint: users and demo."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from .audit import acting_as
from .extensions import db
from .models import ROLES, User

users_cli = AppGroup("users", help="Manage portal users.")
demo_cli = AppGroup("demo", help="The demonstration terminal.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Role (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--full-name", default="", help="Display name.")
@click.option("--email", default="", help="E-mail address.")
def create_user(name: str, roles: tuple[str, ...], password_stdin: bool, full_name: str, email: str):
    """Create a user NAME with one or more roles."""
    from .blueprints.admin.services import create_user as create

    if db.session.scalar(db.select(User).filter(db.func.lower(User.username) == name.lower())):
        raise click.ClickException(f"user {name!r} already exists")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.ClickException("the password must have at least 10 characters")
    with acting_as(name="cli"):
        create(name, roles, password, full_name=full_name, email=email)
        db.session.commit()
    click.echo(f"created {name} ({', '.join(sorted(set(roles)))})")


@users_cli.command("list")
def list_users():
    """List users with their roles."""
    for user in db.session.scalars(db.select(User).order_by(User.username)):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.username}\t{','.join(sorted(user.role_names))}\t{state}")


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
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(__import__("portal.backup", fromlist=["backup_cli"]).backup_cli)
    app.cli.add_command(__import__("portal.doctor", fromlist=["doctor_command"]).doctor_command)
