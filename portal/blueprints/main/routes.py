"""Health check and language switch."""
from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user

from ...extensions import db
from ...forms import LanguageForm
from ...i18n import normalise_locale, refresh
from ...web import local_path

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz():
    """Open endpoint for load balancers: says only whether the database answers."""
    try:
        db.session.execute(db.text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        return "unavailable", 503, {"Content-Type": "text/plain"}
    return "ok", 200, {"Content-Type": "text/plain"}


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        lang = normalise_locale(form.language.data)
        session["language"] = lang
        if current_user.is_authenticated:
            current_user.language = lang
            db.session.commit()
        refresh()
    return redirect(local_path(request.referrer) or url_for("dashboard.index"))
