"""Inquiries, complaints (ISO 10002 with CAPA), lessons shared: thin routes."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...extensions import db
from ...permissions import load_child_or_404, load_or_404, require
from ...timeutil import local_today, utcnow
from ...web import arg_int, is_fragment_request, page_args, render, send_download, service_errors
from ..moc.models import MocRequest
from . import services
from .forms import (
    ActionForm,
    ActionUpdateForm,
    ActionVerifyForm,
    AnswerForm,
    AssignForm,
    AttachmentForm,
    ComplaintForm,
    EscalateForm,
    EvaluationForm,
    InquiryForm,
    InvestigationForm,
    LessonForm,
    ReportForm,
    ToComplaintForm,
    TransitionForm,
)
from .models import (
    CATEGORIES,
    STATES,
    CapaAction,
    Complaint,
    ComplaintAttachment,
    ComplaintReport,
    Inquiry,
    LessonShare,
)

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

CS = ("cs_manager", "csr")


def _detail_url(complaint_id: int, anchor: str = "") -> str:
    return url_for("complaints.detail", complaint_id=complaint_id) + (f"#{anchor}" if anchor else "")


# --- inquiries -----------------------------------------------------------------------------------

@bp.get("/inquiries")
def inquiries():
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()[:100]
    mine = request.args.get("mine") == "1"
    customer_id = arg_int("customer")
    page, per_page = page_args()
    stmt = services.list_inquiries(status=status, q=q, customer_id=customer_id, mine_for=current_user if mine else None)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return render("complaints/inquiries.html", fragment="complaints/_inquiry_rows.html", pagination=pagination,
                  status=status, q=q, mine=mine, now=utcnow(), customers=services.customer_choices(), customer_id=customer_id)


@bp.route("/inquiries/new", methods=["GET", "POST"])
@require(*CS)
def new_inquiry():
    form = InquiryForm(customer_choices=services.customer_choices(), staff_choices=services.staff_choices(cs_only=True))
    if request.method == "GET" and arg_int("customer"):
        form.customer_id.data = arg_int("customer")
    # Left at "—", the inquiry goes to the customer's responsible CSR (services.create_inquiry).
    if form.validate_on_submit():
        inquiry = services.create_inquiry(
            customer_id=form.customer_id.data, channel=form.channel.data, subject=form.subject.data,
            question=form.question.data, received_at=form.received_at.utc, language=form.language.data,
            user=current_user, assigned_to_id=form.assigned_to_id.data, reply_to=form.reply_to.data or "",
        )
        db.session.commit()
        flash(_("Inquiry %(ref)s logged.", ref=inquiry.ref), "success")
        return redirect(url_for("complaints.inquiry_detail", inquiry_id=inquiry.id))
    return render("complaints/inquiry_form.html", form=form)


def _inquiry_page(inquiry, **forms):
    staff = services.staff_choices(cs_only=True)
    ctx = {
        "answer_form": AnswerForm(prefix="answer"),
        "assign_form": AssignForm(prefix="assign", staff_choices=staff, data={"assigned_to_id": inquiry.assigned_to_id or 0}),
        "escalate_form": EscalateForm(prefix="esc"),
        "convert_form": ToComplaintForm(prefix="conv"),
    }
    ctx.update(forms)
    return render("complaints/inquiry_detail.html", inquiry=inquiry, now=utcnow(), **ctx)


@bp.get("/inquiries/<int:inquiry_id>")
def inquiry_detail(inquiry_id: int):
    return _inquiry_page(load_or_404(Inquiry, inquiry_id))


@bp.post("/inquiries/<int:inquiry_id>/answer")
@require(*CS)
def answer_inquiry(inquiry_id: int):
    inquiry = load_or_404(Inquiry, inquiry_id, action="edit")
    form = AnswerForm(prefix="answer")
    if form.validate_on_submit():
        with service_errors(form, field="answered_at") as outcome:
            services.answer_inquiry(inquiry, answer=form.answer.data, answered_at=form.answered_at.utc, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Answer recorded."), "success")
            return redirect(url_for("complaints.inquiry_detail", inquiry_id=inquiry.id))
    return _inquiry_page(inquiry, answer_form=form)


@bp.post("/inquiries/<int:inquiry_id>/assign")
@require(*CS)
def assign_inquiry(inquiry_id: int):
    inquiry = load_or_404(Inquiry, inquiry_id, action="edit")
    form = AssignForm(prefix="assign", staff_choices=services.staff_choices(cs_only=True))
    if form.validate_on_submit():
        services.assign_inquiry(inquiry, form.assigned_to_id.data)
        db.session.commit()
        flash(_("Inquiry assigned."), "success")
        return redirect(url_for("complaints.inquiry_detail", inquiry_id=inquiry.id))
    return _inquiry_page(inquiry, assign_form=form)


@bp.post("/inquiries/<int:inquiry_id>/escalate")
@require(*CS)
def escalate_inquiry(inquiry_id: int):
    inquiry = load_or_404(Inquiry, inquiry_id, action="edit")
    form = EscalateForm(prefix="esc")
    if form.validate_on_submit():
        with service_errors(form, field="note") as outcome:
            services.escalate_inquiry(inquiry, note=form.note.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Escalated to the CS manager."), "success")
            return redirect(url_for("complaints.inquiry_detail", inquiry_id=inquiry.id))
    return _inquiry_page(inquiry, escalate_form=form)


@bp.post("/inquiries/<int:inquiry_id>/to-complaint")
@require(*CS)
def inquiry_to_complaint(inquiry_id: int):
    inquiry = load_or_404(Inquiry, inquiry_id, action="edit")
    form = ToComplaintForm(prefix="conv")
    if form.validate_on_submit():
        with service_errors() as outcome:
            complaint = services.inquiry_to_complaint(inquiry, user=current_user, category=form.category.data)
            db.session.commit()
        if not outcome.ok:
            return redirect(url_for("complaints.inquiry_detail", inquiry_id=inquiry.id))
        flash(_("Complaint %(ref)s recorded from the inquiry.", ref=complaint.ref), "success")
        return redirect(_detail_url(complaint.id))
    return _inquiry_page(inquiry, convert_form=form)


@bp.get("/inquiries/figures")
def inquiry_figures():
    return render("complaints/inquiry_figures.html", rows=services.inquiry_figures())


# --- complaints ------------------------------------------------------------------------------------

@bp.get("/")
def index():
    state = request.args.get("state", "")
    category = request.args.get("category", "")
    q = request.args.get("q", "").strip()[:100]
    customer_id = arg_int("customer")
    page, per_page = page_args()
    stmt = services.list_complaints(current_user, state=state, category=category, customer_id=customer_id, q=q)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return render("complaints/index.html", fragment="complaints/_rows.html", pagination=pagination, state=state,
                  category=category, q=q, customer_id=customer_id, states=STATES, categories=CATEGORIES,
                  customers=services.customer_choices(), now=utcnow())


@bp.route("/new", methods=["GET", "POST"])
@require(*CS)
def create():
    form = ComplaintForm(customer_choices=services.customer_choices(), staff_choices=services.staff_choices(cs_only=True))
    form.owner_id.description = InquiryForm.assigned_to_id.kwargs["description"]  # "—": the responsible CSR
    if request.method == "GET":
        if arg_int("customer"):
            form.customer_id.data = arg_int("customer")
        _prefill(form)
    if form.validate_on_submit():
        complaint = services.create_complaint(
            customer_id=form.customer_id.data, title=form.title.data, category=form.category.data,
            severity=form.severity.data, reference=form.reference.data, description=form.description.data,
            customer_request=form.customer_request.data, received_at=form.received_at.utc, language=form.language.data,
            restricted=form.restricted.data, owner_id=form.owner_id.data, user=current_user,
            source=form.source.data or "",
        )
        db.session.commit()
        flash(_("Complaint %(ref)s recorded. Acknowledge it to the customer within one working day.", ref=complaint.ref), "success")
        return redirect(_detail_url(complaint.id))
    return render("complaints/form.html", form=form)


def _prefill(form) -> None:
    """Fill the new-complaint form from the query (links from a survey answer or an order event):
    customer_id, title, description, category, source ("<kind>:<id>", kept on the complaint)."""
    if arg_int("customer_id"):
        form.customer_id.data = arg_int("customer_id")
    for name, limit in (("title", 200), ("description", 20000)):
        if request.args.get(name):
            form[name].data = request.args[name][:limit]
    if request.args.get("category") in CATEGORIES:
        form.category.data = request.args["category"]
    form.source.data = request.args.get("source", "")[:60]
    form.validate_source(form.source)


# Where a complaint may be raised from: source kind -> (endpoint, URL argument, words).
SOURCE_LINKS = {
    "survey_answer": ("surveys.answer_detail", "answer_id", _l("survey answer")),
}


def source_link(source: str) -> tuple[str, str | None] | None:
    """(words, URL or None) naming where the complaint was raised from."""
    from ...web import safe_url

    kind, _sep, ident = (source or "").partition(":")
    if not kind or not ident.isdigit():
        return None
    endpoint, arg, words = SOURCE_LINKS.get(kind, (None, None, kind.replace("_", " ")))
    url = safe_url(endpoint, **{arg: int(ident)}) if endpoint else None
    return f"{words} {ident}", url


@bp.route("/<int:complaint_id>/edit", methods=["GET", "POST"])
@require(*CS)
def edit(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id, action="edit")
    if complaint.is_final:
        flash(_("This complaint is finished and can no longer be changed."), "error")
        return redirect(_detail_url(complaint.id))
    form = ComplaintForm(obj=complaint, customer_choices=services.customer_choices(),
                         staff_choices=services.staff_choices(cs_only=True))
    del form.customer_id, form.received_at
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.update_complaint(complaint, current_user, **{k: v for k, v in form.data.items() if k != "csrf_token"})
            db.session.commit()
        if outcome.ok:
            flash(_("Complaint %(ref)s saved.", ref=complaint.ref), "success")
            return redirect(_detail_url(complaint.id))
    return render("complaints/form.html", form=form, complaint=complaint)


@bp.get("/similar")
def similar_preview():
    """htmx: similar past records while a new description is typed, plus the recurrence warning.
    Opened directly (not by htmx), it is the new-complaint page."""
    if not is_fragment_request():
        return redirect(url_for("complaints.create"))
    text = " ".join(request.args.get(k, "") for k in ("title", "description"))[:4000]
    hits = services.similar_to_text(text, current_user)
    recurring = []
    customer_id = arg_int("customer_id", 0)
    category = request.args.get("category", "")
    if customer_id and category in CATEGORIES:
        recurring = services.recurrences(customer_id=customer_id, category=category, at=utcnow(), user=current_user)
    return render("complaints/_similar.html", hits=hits, recurring=recurring, typed=bool(text.strip()))


def _detail_page(complaint: Complaint, **forms):
    # Colleagues and departments are listed by the action and lesson forms alone, shown to editors at these states.
    named = complaint.can_edit(current_user) and complaint.state in (
        "investigating", "actions_in_progress", "awaiting_effectiveness", "closed")
    staff = services.staff_choices() if named else [(0, "—")]
    deps = services.department_choices() if named else [(0, "—")]
    inv = complaint.investigation
    ctx = {
        "transition_form": TransitionForm(prefix="tr"),
        "investigation_form": InvestigationForm(prefix="inv", obj=inv),
        "action_form": ActionForm(prefix="act", staff_choices=staff, department_choices=deps),
        "evaluation_form": EvaluationForm(prefix="eval", data={"effectiveness": complaint.effectiveness}),
        "attachment_form": AttachmentForm(prefix="att"),
        "report_form": ReportForm(prefix="rep"),
        "lesson_form": LessonForm(prefix="les", staff_choices=staff[1:], department_choices=deps[1:],
                                  data={"summary": complaint.lesson_summary, "prevention": complaint.lesson_prevention}),
    }
    ctx.update(forms)
    recurring = services.recurrences(customer_id=complaint.customer_id, category=complaint.category,
                                     at=complaint.received_at, exclude_id=complaint.id, user=current_user)
    return render(
        "complaints/detail.html", complaint=complaint, now=utcnow(), today=local_today(),
        transitions=services.available_transitions(complaint, current_user), recurring=recurring,
        mocs=list(db.session.scalars(db.select(MocRequest).filter_by(complaint_id=complaint.id))),
        inquiries=list(db.session.scalars(db.select(Inquiry).filter_by(complaint_id=complaint.id))),
        **ctx,
    )


@bp.get("/<int:complaint_id>")
def detail(complaint_id: int):
    return _detail_page(load_or_404(Complaint, complaint_id))


@bp.get("/<int:complaint_id>/similar")
def similar_panel(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id)
    if not is_fragment_request():
        return redirect(_detail_url(complaint.id, "similar"))
    hits = [h for h in services.similar_for(complaint, current_user) if h.key != f"complaint:{complaint.id}"]
    return render("complaints/_similar.html", hits=hits, recurring=[], typed=True)


@bp.post("/<int:complaint_id>/transition/<action>")
@require(*CS)
def transition(complaint_id: int, action: str):
    complaint = load_or_404(Complaint, complaint_id, action="edit")
    form = TransitionForm(prefix="tr")
    form.validate_on_submit()
    with service_errors() as outcome:
        services.transition(complaint, action, current_user, note=form.note.data or "")
        db.session.commit()
    if outcome.ok:
        flash(_("Complaint %(ref)s is now “%(state)s”.", ref=complaint.ref, state=complaint.state_label(complaint.state)),
              "success")
    return redirect(_detail_url(complaint_id))


@bp.post("/<int:complaint_id>/investigation")
@require(*CS)
def investigation(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id, action="edit")
    form = InvestigationForm(prefix="inv")
    if form.validate_on_submit():
        with service_errors() as outcome:
            fields = {k: v for k, v in form.data.items() if k not in ("csrf_token",)}
            services.save_investigation(complaint, current_user, **fields)
            db.session.commit()
        if outcome.ok:
            flash(_("Investigation saved."), "success")
        return redirect(_detail_url(complaint_id, "investigation"))
    return _detail_page(complaint, investigation_form=form)


@bp.post("/<int:complaint_id>/actions")
@require(*CS)
def add_action(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id, action="edit")
    form = ActionForm(prefix="act", staff_choices=services.staff_choices(), department_choices=services.department_choices())
    if form.validate_on_submit():
        with service_errors() as outcome:
            services.add_action(complaint, current_user, kind=form.kind.data, description=form.description.data,
                                owner_id=form.owner_id.data, department_id=form.department_id.data, due_date=form.due_date.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Action added."), "success")
        return redirect(_detail_url(complaint_id, "actions"))
    return _detail_page(complaint, action_form=form)


def _action_back_url(action: CapaAction) -> str:
    """Where an action's page returns: its complaint's actions, or the survey answer it was raised from."""
    endpoint, args, anchor = action.source_link
    return url_for(endpoint, **args) + f"#{anchor}"


def _action_page(action, **forms):
    ctx = {"form": ActionUpdateForm(obj=action), "verify_form": ActionVerifyForm(prefix="ver")}
    ctx.update(forms)
    endpoint, args = action.page_link
    verify_endpoint = "complaints.verify_action" if action.complaint_id else "complaints.verify_source_action"
    return render("complaints/action_form.html", action=action, complaint=action.complaint,
                  back_url=_action_back_url(action), form_url=url_for(endpoint, **args),
                  verify_url=url_for(verify_endpoint, **args), **ctx)


def _update_action(action: CapaAction):
    form = ActionUpdateForm(obj=action)
    if form.validate_on_submit():
        with service_errors(form, field="completion_note") as outcome:
            services.update_action(action, current_user, status=form.status.data, completion_note=form.completion_note.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("Action updated."), "success")
            return redirect(_action_back_url(action))
    return _action_page(action, form=form)


def _verify_action(action: CapaAction):
    form = ActionVerifyForm(prefix="ver")
    if form.validate_on_submit():
        with service_errors(form, field="note") as outcome:
            services.verify_action(action, current_user, accept=form.decision.data == "accept", note=form.note.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("Action verified.") if action.status == "verified" else _("Action sent back to its owner."), "success")
            return redirect(_action_back_url(action))
    return _action_page(action, verify_form=form)


@bp.route("/<int:complaint_id>/actions/<int:action_id>", methods=["GET", "POST"])
def update_action(complaint_id: int, action_id: int):
    complaint = load_or_404(Complaint, complaint_id)
    return _update_action(load_child_or_404(CapaAction, action_id, parent=complaint, action="edit"))


@bp.post("/<int:complaint_id>/actions/<int:action_id>/verify")
@require(*CS)
def verify_action(complaint_id: int, action_id: int):
    complaint = load_or_404(Complaint, complaint_id)
    return _verify_action(load_child_or_404(CapaAction, action_id, parent=complaint))


def _source_action(action_id: int, action: str = "view") -> CapaAction:
    """An action raised without a complaint (from a survey answer); a complaint's action lives under its complaint."""
    row = load_or_404(CapaAction, action_id, action=action)
    if row.complaint_id is not None:
        abort(404)
    return row


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
def action(action_id: int):
    """The page of an action raised from a survey answer: the owner's progress, then someone else's verification."""
    row = load_or_404(CapaAction, action_id, action="edit")
    if row.complaint_id is not None:
        return redirect(url_for("complaints.update_action", complaint_id=row.complaint_id, action_id=row.id))
    return _update_action(row)


@bp.post("/actions/<int:action_id>/verify")
@require(*CS)
def verify_source_action(action_id: int):
    return _verify_action(_source_action(action_id))


@bp.post("/<int:complaint_id>/evaluate")
@require("cs_manager")
def evaluate(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id, action="edit")
    form = EvaluationForm(prefix="eval")
    if form.validate_on_submit():
        with service_errors(form, field="effectiveness") as outcome:
            services.evaluate(complaint, current_user, text=form.effectiveness.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Effectiveness evaluation saved."), "success")
            return redirect(_detail_url(complaint_id, "evaluation"))
    return _detail_page(complaint, evaluation_form=form)


@bp.post("/<int:complaint_id>/attachments")
@require(*CS)
def add_attachment(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id, action="edit")
    form = AttachmentForm(prefix="att")
    if form.validate_on_submit():
        upload = form.file.data
        try:
            data = upload.read()
        finally:
            upload.close()
        with service_errors(form, field="file") as outcome:
            services.add_attachment(complaint, current_user, filename=upload.filename, data=data,
                                    description=form.description.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("Evidence attached."), "success")
            return redirect(_detail_url(complaint_id, "evidence"))
    return _detail_page(complaint, attachment_form=form)


@bp.get("/<int:complaint_id>/attachments/<int:attachment_id>")
def attachment(complaint_id: int, attachment_id: int):
    complaint = load_or_404(Complaint, complaint_id)
    att = load_child_or_404(ComplaintAttachment, attachment_id, parent=complaint)
    return send_download(services.read_stored(att.sha256), att.filename, att.content_type)


@bp.get("/<int:complaint_id>/report.pdf")
def report_preview(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id)
    return send_download(services.render_report(complaint), f"{complaint.ref}-8D-draft.pdf", "application/pdf", inline=True)


@bp.post("/<int:complaint_id>/report")
@require(*CS)
def send_report(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id, action="edit")
    form = ReportForm(prefix="rep")
    if form.validate_on_submit():
        with service_errors(form, field="recipient") as outcome:
            report = services.send_report(complaint, current_user, recipient=form.recipient.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Report version %(v)s kept as sent.", v=report.version), "success")
            return redirect(_detail_url(complaint_id, "report"))
    return _detail_page(complaint, report_form=form)


@bp.get("/<int:complaint_id>/reports/<int:report_id>")
def sent_report(complaint_id: int, report_id: int):
    complaint = load_or_404(Complaint, complaint_id)
    report = load_child_or_404(ComplaintReport, report_id, parent=complaint)
    return send_download(services.read_stored(report.sha256), report.filename, "application/pdf")


@bp.post("/<int:complaint_id>/lessons")
@require(*CS)
def share_lesson(complaint_id: int):
    complaint = load_or_404(Complaint, complaint_id, action="edit")
    staff = services.staff_choices(blank=False)
    form = LessonForm(prefix="les", staff_choices=staff, department_choices=services.department_choices(blank=False))
    if form.validate_on_submit():
        with service_errors() as outcome:
            shares = services.share_lesson(complaint, current_user, summary=form.summary.data, prevention=form.prevention.data,
                                           user_ids=form.user_ids.data, department_ids=form.department_ids.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Lesson shared with %(n)s recipient(s).", n=len(shares)), "success")
        return redirect(_detail_url(complaint_id, "lessons"))
    return _detail_page(complaint, lesson_form=form)


@bp.get("/lessons")
def lessons():
    return render("complaints/lessons.html", shares=services.lessons_for(current_user))


@bp.post("/lessons/<int:share_id>/acknowledge")
def acknowledge_lesson(share_id: int):
    share = load_or_404(LessonShare, share_id)
    with service_errors() as outcome:
        services.acknowledge_lesson(share, current_user)
        db.session.commit()
    if outcome.ok:
        flash(_("Thank you: lesson acknowledged."), "success")
    return redirect(request.referrer or url_for("complaints.lessons"))


@bp.get("/figures")
def figures():
    return render("complaints/figures.html", f=services.complaint_figures(current_user), categories=CATEGORIES,
                  inquiry_rows=services.inquiry_figures()[:12])


@bp.context_processor
def _template_helpers():
    from ...markdown import render_markdown

    return {"render_markdown": render_markdown, "source_link": source_link}
