"""Health check and language switch."""
from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user

from ...extensions import db
from ...i18n import normalise_locale, refresh

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
    from ..auth.forms import LanguageForm

    form = LanguageForm()
    if form.validate_on_submit():
        lang = normalise_locale(form.language.data)
        session["language"] = lang
        if current_user.is_authenticated:
            current_user.language = lang
            db.session.commit()
        refresh()
    target = request.referrer or url_for("dashboard.index")
    from ..auth.services import safe_next_path

    return redirect(safe_next_path(target) or url_for("dashboard.index"))
