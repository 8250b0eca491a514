"""Sign-in, sign-out and the user's own account page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ...extensions import db
from ...i18n import refresh
from ...web import local_path, render
from .forms import ChangePasswordForm, LanguageForm, LoginForm
from .services import authenticate, end_other_sessions

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _fresh_session() -> None:
    """A new session at sign-in and sign-out (no fixation), keeping the language chosen on the page."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        db.session.commit()  # failure counters and lock times are kept either way
        if user is None:
            flash(_("Sign-in failed. Check the user name and password, or wait if the account was locked."), "error")
        else:
            _fresh_session()
            login_user(user)
            # Only a path rebuilt from a local `next` (never the raw value): see web.local_path.
            return redirect(local_path(request.args.get("next")) or url_for("dashboard.index"))
    return render("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    # A copy of this session's cookie (and every other session of the user) stops working too.
    end_other_sessions(current_user)
    db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm(prefix="pw")
    lang_form = LanguageForm(prefix="lang", language=current_user.language or "en")
    if form.posted:
        if form.validate_on_submit():
            if not current_user.check_password(form.current.data):
                form.current.errors.append(_("The current password is not right."))
            else:
                user = current_user._get_current_object()
                user.set_password(form.new.data)
                end_other_sessions(user)
                db.session.commit()
                login_user(user, fresh=True)  # this session carries the new generation and stays
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("auth.account"))
    elif request.method == "POST" and lang_form.validate_on_submit():
        current_user.language = lang_form.language.data
        session["language"] = lang_form.language.data
        db.session.commit()
        refresh()
        flash(_("Language saved."), "success")
        return redirect(url_for("auth.account"))
    return render("auth/account.html", form=form, lang_form=lang_form)
