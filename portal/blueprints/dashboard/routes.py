"""The dashboard: the day's due work for the signed-in user (counts with their lists), then every module's panels."""
from flask import Blueprint, abort, render_template
from flask_login import current_user

from ...panels import due_list, due_summaries, panels_for
from . import due  # noqa: F401  (registers the due lists)

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    return render_template("dashboard/index.html", due=due_summaries(current_user), panels=panels_for(current_user))


@bp.get("/due/<key>")
def due_page(key: str):
    """The rows behind a dashboard count (for lists that have no filtered page of their own)."""
    item = due_list(key)
    if item is None:
        abort(404)
    rows = item.rows(current_user)
    if rows is None:
        abort(403)
    return render_template("dashboard/due.html", item=item, rows=rows)
