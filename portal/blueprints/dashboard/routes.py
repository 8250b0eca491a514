"""The dashboard: every module's panels for the signed-in user."""
from flask import Blueprint, render_template
from flask_login import current_user

from ...panels import panels_for

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    return render_template("dashboard/index.html", panels=panels_for(current_user))
