"""The outbox (manager and admin: filter, view a message as sent, resend, retry), the jobs page, and each
user's own notice switches."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import jobs as jobs_core
from ... import outbox
from ...extensions import db
from ...outbox import OutboxMessage
from ...permissions import load_or_404, require
from ...timeutil import utcnow
from ...web import page_args, render, send_download, service_errors
from . import services
from ..customers.models import CustomerContact
from .forms import ConfirmForm, ContactNoticesForm, NoticeSettingsForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

MANAGERS = ("cs_manager",)


@bp.get("/outbox")
@require(*MANAGERS)
def outbox_index():
    state = request.args.get("state", "")
    if state not in (*outbox.STATES, "problems", ""):
        state = ""
    kind = request.args.get("kind", "")
    if kind not in outbox.NOTICE_KINDS:
        kind = ""
    q = request.args.get("q", "").strip()[:100]
    record = request.args.get("record", "").strip()[:80]
    page, per_page = page_args(50)
    pagination = db.paginate(services.outbox_query(state=state, kind=kind, q=q, record=record), page=page,
                             per_page=per_page, error_out=False)
    return render("notifications/outbox.html", fragment="notifications/_outbox_rows.html", pagination=pagination,
                  state=state, kind=kind, q=q, record=record, counts=outbox.counts_by_state(),
                  kinds=sorted(outbox.NOTICE_KINDS.items(), key=lambda kv: str(kv[1])), states=outbox.STATES,
                  label=OutboxMessage.state_label)


@bp.get("/outbox/<int:message_id>")
@require(*MANAGERS)
def outbox_message(message_id: int):
    message = load_or_404(OutboxMessage, message_id)
    return render("notifications/message.html", message=message, form=ConfirmForm(),
                  label=OutboxMessage.state_label, resent=_resent_copies(message))


def _resent_copies(message):
    return list(db.session.scalars(db.select(OutboxMessage).filter_by(resent_from_id=message.id)
                                   .order_by(OutboxMessage.id)))


@bp.get("/outbox/<int:message_id>/message.eml")
@require(*MANAGERS)
def outbox_eml(message_id: int):
    """The message exactly as it goes out (headers, both bodies, attachments), as an .eml file."""
    message = load_or_404(OutboxMessage, message_id)
    try:
        data = outbox.build_email(message).as_bytes()
    except OSError:
        abort(404)  # an attachment is no longer stored
    return send_download(data, f"message-{message.id}.eml", "message/rfc822")


@bp.get("/outbox/<int:message_id>/attachments/<int:index>")
@require(*MANAGERS)
def outbox_attachment(message_id: int, index: int):
    message = load_or_404(OutboxMessage, message_id)
    refs = message.attachments or []
    if index >= len(refs):
        abort(404)
    try:
        data = outbox.read_attachment(refs[index])
    except (OSError, ValueError):
        abort(404)
    return send_download(data, refs[index]["name"], refs[index].get("mimetype"))


@bp.post("/outbox/<int:message_id>/resend")
@require(*MANAGERS)
def outbox_resend(message_id: int):
    message = load_or_404(OutboxMessage, message_id, action="edit")
    form = ConfirmForm()
    if form.validate_on_submit():
        with service_errors() as result:
            copy = outbox.resend(message, user=current_user)
            db.session.commit()
        if result.ok:
            flash(_("A copy of the message to %(address)s is queued.", address=message.to_address), "success")
            return redirect(url_for(".outbox_message", message_id=copy.id))
    return redirect(url_for(".outbox_message", message_id=message.id))


@bp.post("/outbox/<int:message_id>/retry")
@require(*MANAGERS)
def outbox_retry(message_id: int):
    message = load_or_404(OutboxMessage, message_id, action="edit")
    form = ConfirmForm()
    if form.validate_on_submit():
        with service_errors() as result:
            outbox.retry_now(message)
            db.session.commit()
        if result.ok:
            flash(_("The message goes out with the next delivery."), "success")
    return redirect(url_for(".outbox_message", message_id=message.id))


@bp.get("/jobs")
@require(*MANAGERS)
def jobs_index():
    name = request.args.get("job", "")
    if name not in jobs_core.JOBS:
        name = ""
    failed = request.args.get("failed") == "1"
    page, per_page = page_args(50)
    runs = db.paginate(services.recent_runs(name=name, failed_only=failed), page=page, per_page=per_page,
                       error_out=False)
    return render("notifications/jobs.html", fragment="notifications/_job_runs.html", overview=jobs_core.overview(),
                  runs=runs, job=name, failed=failed, now=utcnow(), jobs=jobs_core.JOBS)


@bp.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
@require("csr", "cs_manager")
def contact_settings(contact_id: int):
    """What a customer contact receives by e-mail, and in which language."""
    contact = load_or_404(CustomerContact, contact_id, action="edit")
    form = ContactNoticesForm(obj=None if request.method == "POST" else contact)
    form.kinds.choices = [(k, str(v)) for k, v in outbox.NOTICE_KINDS.items()]
    if request.method == "GET":
        form.language.data = contact.language or ""
        form.kinds.data = [k for k in outbox.NOTICE_KINDS if k not in outbox.switched_off(contact.notices_off)]
    if form.validate_on_submit():
        chosen = set(form.kinds.data or [])
        contact.language = form.language.data or None
        contact.notices_off = outbox.join_kinds(k for k in outbox.NOTICE_KINDS if k not in chosen)
        db.session.commit()
        flash(_("The contact's e-mail notices are saved."), "success")
        return redirect(url_for("customers.detail", customer_id=contact.customer_id))
    return render("notifications/contact.html", form=form, contact=contact)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """The signed-in user's own e-mail notices: which kinds to receive."""
    form = NoticeSettingsForm()
    form.kinds.choices = [(k, str(v)) for k, v in outbox.NOTICE_KINDS.items()]
    if request.method == "GET":
        form.kinds.data = [k for k in outbox.NOTICE_KINDS if k not in outbox.switched_off(current_user.notices_off)]
    if form.validate_on_submit():
        chosen = set(form.kinds.data or [])
        current_user.notices_off = outbox.join_kinds(k for k in outbox.NOTICE_KINDS if k not in chosen)
        db.session.commit()
        flash(_("Your e-mail notices are saved."), "success")
        return redirect(url_for(".settings"))
    return render("notifications/settings.html", form=form, has_email=bool(current_user.email))
