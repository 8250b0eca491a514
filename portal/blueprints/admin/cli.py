"""`flask users ...`: create and list portal users (the admin blueprint's command group)."""
from __future__ import annotations

import sys

import click

from ...audit import acting_as
from ...extensions import db
from ...models import ROLES, User
from ...passwords import password_problem
from . import services
from .routes import bp


@bp.cli.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Role (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--full-name", default="", help="Display name.")
@click.option("--email", default="", help="E-mail address.")
def create_user(name: str, roles: tuple[str, ...], password_stdin: bool, full_name: str, email: str):
    """Create a user NAME with one or more roles (the password policy applies)."""
    if db.session.scalar(db.select(User).filter(db.func.lower(User.username) == name.lower())):
        raise click.ClickException(f"user {name!r} already exists")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, username=name, admin="admin" in roles)
    if problem is not None:
        raise click.ClickException(str(problem))
    with acting_as(name="cli"):
        services.create_user(name, roles, password, full_name=full_name, email=email)
        db.session.commit()
    click.echo(f"created {name} ({', '.join(sorted(set(roles)))})")


@bp.cli.command("list")
def list_users():
    """List users with their roles."""
    for user in db.session.scalars(db.select(User).order_by(User.username)):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.username}\t{','.join(sorted(user.role_names))}\t{state}")
