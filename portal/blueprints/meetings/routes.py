"""Customer review meetings: schedule, minutes with live preview, actions carried over, PDFs, circulation."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import db
from ...markdown import render_markdown
from ...permissions import load_child_or_404, load_or_404, require
from ...timeutil import local_today
from ...web import arg_int, is_fragment_request, render, send_download, service_errors
from ..admin.services import staff_choices
from ..customers.services import customer_choices
from . import services
from .forms import (
    ActionItemForm,
    AttendeeForm,
    CadenceForm,
    CirculateForm,
    CloseActionForm,
    ConfirmForm,
    MeetingForm,
    MinutesForm,
    PreviewForm,
)
from .models import ReviewAction, ReviewAttendee, ReviewCirculation, ReviewMeeting

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

CS = ("cs_manager", "csr")


@bp.context_processor
def _helpers():
    return {"render_markdown": render_markdown}


def _customers() -> list[tuple[int, str]]:
    """The active customers for the drop-downs (the forms and the filter add their own blank choice)."""
    return [(cid, label) for cid, label in customer_choices() if cid]


def _to_detail(meeting: ReviewMeeting, anchor: str = ""):
    return redirect(url_for("meetings.detail", meeting_id=meeting.id) + anchor)


@bp.get("/")
def index():
    customer_id = arg_int("customer", 0)
    customers = _customers()
    return render("meetings/index.html", meetings=services.list_meetings(customer_id=customer_id),
                  schedule=services.schedule(), today=local_today(), customers=customers, customer_id=customer_id,
                  cadence_form=CadenceForm(customer_choices=customers))


@bp.post("/cadence")
@require(*CS)
def cadence():
    form = CadenceForm(customer_choices=_customers())
    if form.validate_on_submit():
        with service_errors() as outcome:
            services.set_cadence(form.customer_id.data, form.interval_months.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Review cadence saved."), "success")
    else:
        flash(_("Choose the customer and a cadence between 1 and 24 months."), "error")
    return redirect(url_for("meetings.index"))


@bp.route("/new", methods=["GET", "POST"])
@require(*CS)
def create():
    form = MeetingForm(customer_choices=_customers())
    if not form.is_submitted():
        form.customer_id.data = arg_int("customer", 0)
        form.meeting_date.data = form.meeting_date.data or local_today()
    if form.validate_on_submit():
        with service_errors(form, field="period_end") as outcome:
            meeting = services.create_meeting(
                customer_id=form.customer_id.data, meeting_date=form.meeting_date.data, user=current_user,
                period_start=form.period_start.data, period_end=form.period_end.data, location=form.location.data or "",
                agenda=form.agenda.data or "",
            )
            db.session.commit()
        if outcome.ok:
            flash(_("Review meeting created."), "success")
            return _to_detail(meeting)
    return render("meetings/form.html", form=form)


def _detail(meeting: ReviewMeeting, **forms):
    ctx = {
        "attendee_form": AttendeeForm(prefix="att"),
        "action_form": ActionItemForm(prefix="act", staff_choices=staff_choices()),
        "circulate_form": CirculateForm(prefix="circ", data={"recipients": "\n".join(services.distribution_list(meeting))}),
        "confirm_form": ConfirmForm(prefix="conf", data={"version": meeting.minutes_version or None}),
        "preread_form": CirculateForm(prefix="pre", data={"recipients": "\n".join(services.distribution_list(meeting))}),
    }
    ctx.update(forms)
    return render("meetings/detail.html", meeting=meeting, carried=services.carried_over(meeting),
                  previous=services.previous_meeting(meeting.customer_id, meeting.meeting_date), today=local_today(), **ctx)


@bp.get("/<int:meeting_id>")
def detail(meeting_id: int):
    return _detail(load_or_404(ReviewMeeting, meeting_id))


@bp.route("/<int:meeting_id>/minutes", methods=["GET", "POST"])
@require(*CS)
def minutes(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id, action="edit")
    form = MinutesForm(obj=meeting)
    if form.validate_on_submit():
        with service_errors(form, field="minutes") as outcome:
            services.save_minutes(meeting, minutes=form.minutes.data, decisions=form.decisions.data,
                                  agenda=form.agenda.data, location=form.location.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Minutes saved."), "success")
            return _to_detail(meeting)
    return render("meetings/minutes_form.html", form=form, meeting=meeting)


@bp.route("/preview", methods=["GET", "POST"])
def preview():
    """htmx: the Markdown of the minutes rendered as it is typed. Opened directly, it sends the browser on
    to the meetings."""
    if not is_fragment_request():
        return redirect(url_for("meetings.index"), 303)
    form = PreviewForm()
    if not form.validate():
        return render("meetings/_preview.html", html=None, errors=form.minutes.errors)
    return render("meetings/_preview.html", html=render_markdown(form.minutes.data or ""))


@bp.post("/<int:meeting_id>/attendees")
@require(*CS)
def add_attendee(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id, action="edit")
    form = AttendeeForm(prefix="att")
    if form.validate_on_submit():
        services.add_attendee(meeting, name=form.name.data, company=form.company.data or "",
                              position=form.position.data or "", email=form.email.data or "", internal=form.internal.data)
        db.session.commit()
        return _to_detail(meeting, "#attendees")
    return _detail(meeting, attendee_form=form)


@bp.post("/<int:meeting_id>/attendees/<int:attendee_id>/delete")
@require(*CS)
def remove_attendee(meeting_id: int, attendee_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id, action="edit")
    attendee = load_child_or_404(ReviewAttendee, attendee_id, parent=meeting, action="edit")
    services.remove_attendee(attendee)
    db.session.commit()
    return _to_detail(meeting, "#attendees")


@bp.post("/<int:meeting_id>/actions")
@require(*CS)
def add_action(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id, action="edit")
    form = ActionItemForm(prefix="act", staff_choices=staff_choices())
    if form.validate_on_submit():
        services.add_action(meeting, description=form.description.data, owner_id=form.owner_id.data,
                            owner_name=form.owner_name.data or "", due_date=form.due_date.data)
        db.session.commit()
        flash(_("Action item added."), "success")
        return _to_detail(meeting, "#actions")
    return _detail(meeting, action_form=form)


@bp.post("/<int:meeting_id>/actions/<int:action_id>/<any(close, reopen):step>")
@require(*CS)
def action_step(meeting_id: int, action_id: int, step: str):
    meeting = load_or_404(ReviewMeeting, meeting_id, action="edit")
    # the meeting's own actions and those carried over from earlier meetings with the customer
    action = load_child_or_404(ReviewAction, action_id, parent=meeting.customer, action="edit")
    if not services.shown_at(action, meeting):
        abort(404)
    form = CloseActionForm()
    if form.validate_on_submit():
        if step == "close":
            services.close_action(action, meeting=meeting, note=form.note.data or "")
        else:
            services.reopen_action(action)
        db.session.commit()
    else:
        for message in form.note.errors:
            flash(message, "error")
    return _to_detail(meeting, "#actions")


@bp.get("/<int:meeting_id>/preread.pdf")
def preread_pdf(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id)
    return send_download(services.render_preread(meeting, current_user), f"{meeting.ref}-pre-read.pdf", inline=True)


@bp.get("/<int:meeting_id>/preread")
def preread(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id)
    return render("meetings/preread.html", **services.preread(meeting, current_user))


@bp.get("/<int:meeting_id>/minutes.pdf")
def minutes_pdf(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id)
    return send_download(services.render_minutes(meeting), f"{meeting.ref}-minutes-draft.pdf", inline=True)


@bp.post("/<int:meeting_id>/circulate")
@require(*CS)
def circulate(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id, action="edit")
    form = CirculateForm(prefix="circ")
    if form.validate_on_submit():
        with service_errors(form, field="recipients") as outcome:
            rows = services.circulate(meeting, current_user, recipients=form.recipients.data.splitlines())
            db.session.commit()
        if outcome.ok:
            flash(_("Minutes version %(v)s circulated to %(n)s recipient(s).", v=meeting.minutes_version, n=len(rows)), "success")
            return _to_detail(meeting, "#circulation")
    return _detail(meeting, circulate_form=form)


@bp.post("/<int:meeting_id>/preread/send")
@require(*CS)
def send_preread(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id, action="edit")
    form = CirculateForm(prefix="pre")
    if form.validate_on_submit():
        with service_errors(form, field="recipients") as outcome:
            n = services.send_preread(meeting, current_user, recipients=form.recipients.data.splitlines())
            db.session.commit()
        if outcome.ok:
            flash(_("The pre-read pack is queued for %(n)s recipient(s).", n=n), "success")
            return _to_detail(meeting, "#circulation")
    return _detail(meeting, preread_form=form)


@bp.get("/<int:meeting_id>/circulated/<int:circulation_id>")
def circulated_pdf(meeting_id: int, circulation_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id)
    row = load_child_or_404(ReviewCirculation, circulation_id, parent=meeting)
    return send_download(services.read_stored(row.sha256), f"{meeting.ref}-minutes-v{row.version}.pdf")


@bp.post("/<int:meeting_id>/confirm")
@require(*CS)
def confirm(meeting_id: int):
    meeting = load_or_404(ReviewMeeting, meeting_id, action="edit")
    form = ConfirmForm(prefix="conf")
    if form.validate_on_submit():
        with service_errors(form, field="version") as outcome:
            services.confirm(meeting, by=form.confirmed_by.data, version=form.version.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Customer confirmation recorded."), "success")
            return _to_detail(meeting, "#circulation")
    return _detail(meeting, confirm_form=form)
