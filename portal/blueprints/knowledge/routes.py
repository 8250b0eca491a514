"""Knowledge base: pages with revisions and approval, announcements, training."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...markdown import render_markdown_with_toc
from ...models import User
from ...permissions import load_child_or_404, load_or_404, require
from ...timeutil import local_today
from ...web import arg_int, page_args, render, send_download, service_errors
from ...xlsx import workbook_response
from ..admin.services import department_choices, staff_choices
from . import glossary, services
from .forms import (
    AnnouncementForm, ApproveForm, AssignForm, PageForm, PlanForm, QuestionForm, SendBackForm, StepReadForm, quiz_answers,
    quiz_form,
)
from .forms import GlossaryDeleteForm, GlossaryEntryForm, GlossaryImportForm
from .models import (
    EDITOR_ROLES, KINDS, Announcement, Page, Revision, TrainingAssignment, TrainingPlan, TrainingStep, is_approver,
    is_editor,
)
from .models import GlossaryEntry

bp = Blueprint("knowledge", __name__, url_prefix="/knowledge")

REGULATION_FIELDS = ("authority", "doc_number", "jurisdiction", "issued_on", "effective_on", "reg_status",
                     "source_url", "summary")
PROCEDURE_FIELDS = ("owner_department", "next_review_date", "review_months")


def _page(slug: str, action: str = "view") -> Page:
    page = services.page_by_slug(slug)
    if page is None:
        abort(404)
    return load_or_404(Page, page.id, action=action)


def _revision(page: Page, number: int) -> Revision:
    for rev in page.revisions:
        if rev.number == number:
            if not rev.can_view(current_user):
                abort(403)
            return rev
    abort(404)


# --- pages ----------------------------------------------------------------------------------------


@bp.get("/")
def index():
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    q = request.args.get("q", "").strip()[:100]
    page, per_page = page_args(30)
    stmt = (db.select(Page).order_by(Page.kind, Page.title)
            # The status needs the revisions' numbers and statuses, not their text.
            .options(selectinload(Page.revisions).load_only(Revision.page_id, Revision.number, Revision.status),
                     selectinload(Page.current_revision).load_only(Revision.status)))
    if kind:
        stmt = stmt.filter(Page.kind == kind)
    if q:
        like = f"%{q}%"
        stmt = stmt.filter(db.or_(Page.title.ilike(like), Page.title_zh.like(like), Page.doc_number.like(like),
                                  Page.slug.ilike(like)))
    if not is_editor(current_user):
        stmt = stmt.filter(Page.current_revision_id.is_not(None))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    today = local_today()
    return render("knowledge/index.html", fragment="knowledge/_page_rows.html", pagination=pagination, kind=kind,
                  q=q, today=today, due_count=services.due_for_review_count(today, 0) if is_editor(current_user) else 0)


@bp.route("/new", methods=["GET", "POST"])
@require(*EDITOR_ROLES)
def create():
    form = PageForm(kind=request.args.get("kind", "procedure"))
    if form.validate_on_submit():
        fields = _fields_from_form(form, form.kind.data)
        page = services.create_page(kind=form.kind.data, title=form.title.data, title_zh=form.title_zh.data or "",
                                    body=form.body.data or "", user=current_user, slug=form.slug.data or None,
                                    note=form.note.data or "", **fields)
        _apply_superseded(page, form)
        db.session.commit()
        flash(_("Page created."), "success")
        return redirect(url_for("knowledge.view", slug=page.slug))
    return render("knowledge/form.html", form=form, page=None)


def _fields_from_form(form, kind: str) -> dict:
    fields = {"tags": (form.tags.data or "").strip()}
    if kind == "regulation":
        fields.update({k: getattr(form, k).data for k in REGULATION_FIELDS})
        fields["reg_status"] = fields["reg_status"] or "in_force"
        for k in ("authority", "doc_number", "jurisdiction", "source_url", "summary"):
            fields[k] = (fields[k] or "").strip()
    if kind == "procedure":
        fields.update({k: getattr(form, k).data for k in PROCEDURE_FIELDS})
        fields["owner_department"] = (fields["owner_department"] or "").strip()
        fields["review_months"] = fields["review_months"] or 12
    return fields


def _apply_superseded(page: Page, form) -> None:
    if page.kind == "regulation":
        page.superseded_by = services.page_by_slug(form.superseded_by.data) if form.superseded_by.data else None
        db.session.flush()


@bp.get("/p/<slug>")
def view(slug: str):
    page = _page(slug)
    today = local_today()
    rev = page.current_revision
    pending = page.pending_revision if is_editor(current_user) else None
    if rev is None:
        rev = pending
    html, toc = render_markdown_with_toc(rev.body if rev else "", link_resolver=services.link_resolver(current_user))
    announcement = services.pending_announcement_for(current_user, page)
    my_steps = []
    for a in services.my_assignments(current_user):
        for step in a.plan.steps:
            if step.page_id == page.id:
                my_steps.append((a, step))
    return render(
        "knowledge/view.html", page=page, rev=rev, pending=pending, html=html, toc=toc, today=today,
        citing=[p for p in services.citing_pages(page) if p.can_view(current_user)] if page.kind == "regulation" else [],
        announcement=announcement, my_steps=my_steps,
        approve_form=ApproveForm(page=page), send_back_form=SendBackForm(),
        can_edit=page.can_edit(current_user), can_approve=is_approver(current_user),
    )


@bp.route("/p/<slug>/edit", methods=["GET", "POST"])
@require(*EDITOR_ROLES)
def edit(slug: str):
    page = _page(slug, "edit")
    source = page.pending_revision or page.current_revision or page.latest_revision
    form = PageForm(obj=page, page=page)
    if request.method == "GET":
        form.title.data, form.title_zh.data, form.body.data = source.title, source.title_zh, source.body
        form.superseded_by.data = page.superseded_by.slug if page.superseded_by else ""
    form.kind.data = page.kind
    form.slug.data = page.slug
    if form.validate_on_submit():
        services.update_page_fields(page, **_fields_from_form(form, page.kind))
        _apply_superseded(page, form)
        if (form.body.data or "") != source.body or form.title.data != source.title or (form.title_zh.data or "") != source.title_zh:
            services.add_revision(page, title=form.title.data, title_zh=form.title_zh.data or "", body=form.body.data or "",
                                  user=current_user, note=form.note.data or "")
        db.session.commit()
        flash(_("Draft saved.") if page.kind == "procedure" else _("Page saved."), "success")
        return redirect(url_for("knowledge.view", slug=page.slug))
    return render("knowledge/form.html", form=form, page=page)


@bp.get("/p/<slug>/history")
def history(slug: str):
    page = _page(slug)
    revisions = [r for r in reversed(page.revisions) if r.can_view(current_user)]
    return render("knowledge/history.html", page=page, revisions=revisions)


@bp.get("/p/<slug>/rev/<int:number>")
def revision(slug: str, number: int):
    page = _page(slug)
    rev = _revision(page, number)
    html, toc = render_markdown_with_toc(rev.body, link_resolver=services.link_resolver(current_user))
    return render("knowledge/revision.html", page=page, rev=rev, html=html, toc=toc)


@bp.get("/p/<slug>/diff")
def diff(slug: str):
    page = _page(slug)
    visible = [r for r in page.revisions if r.can_view(current_user)]
    if len(visible) < 1:
        abort(404)
    numbers = [r.number for r in visible]
    b = arg_int("b", numbers[-1])
    a = arg_int("a", numbers[-2] if len(numbers) > 1 else numbers[-1])
    rev_a, rev_b = _revision(page, a), _revision(page, b)
    mode = "side" if request.args.get("mode") == "side" else "inline"
    rows = services.diff_rows(rev_a.body, rev_b.body) if mode == "side" else services.inline_diff(rev_a.body, rev_b.body)
    return render("knowledge/diff.html", page=page, rev_a=rev_a, rev_b=rev_b, mode=mode, rows=rows,
                  revisions=visible, title_changed=(rev_a.title != rev_b.title))


@bp.post("/p/<slug>/rev/<int:number>/revert")
@require(*EDITOR_ROLES)
def revert(slug: str, number: int):
    page = _page(slug, "edit")
    rev = _revision(page, number)
    new = services.revert(page, rev, current_user)
    db.session.commit()
    flash(_("Reverted to revision %(n)s as revision %(m)s.", n=rev.number, m=new.number), "success")
    return redirect(url_for("knowledge.view", slug=page.slug))


@bp.post("/p/<slug>/submit")
@require(*EDITOR_ROLES)
def submit(slug: str):
    page = _page(slug, "edit")
    with service_errors() as outcome:
        services.submit_for_review(page, current_user)
        db.session.commit()
    if outcome.ok:
        flash(_("Submitted for review."), "success")
    return redirect(url_for("knowledge.view", slug=page.slug))


@bp.post("/p/<slug>/approve")
@require("cs_manager")
def approve(slug: str):
    page = _page(slug, "edit")
    form = ApproveForm(page=page)
    if not form.validate_on_submit():
        abort(400)
    with service_errors() as outcome:
        rev = services.approve(page, current_user, today=local_today(), reannounce=form.reannounce.data,
                               change=form.change.data)
        db.session.commit()
    if outcome.ok:
        flash(_("Version %(v)s approved and published.", v=rev.version), "success")
    return redirect(url_for("knowledge.view", slug=page.slug))


@bp.post("/p/<slug>/send-back")
@require("cs_manager")
def send_back(slug: str):
    page = _page(slug, "edit")
    form = SendBackForm()
    if not form.validate_on_submit():
        flash(_("Write a comment for the author."), "error")
        return redirect(url_for("knowledge.view", slug=page.slug))
    with service_errors() as outcome:
        services.send_back(page, current_user, form.comment.data)
        db.session.commit()
    if outcome.ok:
        flash(_("Sent back to the author."), "success")
    return redirect(url_for("knowledge.view", slug=page.slug))


@bp.post("/p/<slug>/open-review/<int:page_id>")
@require(*EDITOR_ROLES)
def open_review(slug: str, page_id: int):
    regulation = _page(slug)
    procedure = load_or_404(Page, page_id, action="edit")
    if procedure.kind != "procedure":
        abort(404)
    state = {"amended": _("amended"), "repealed": _("repealed")}.get(regulation.reg_status, regulation.reg_status)
    services.open_review(procedure, reason=_("Cited regulation %(title)s was %(state)s.", title=regulation.title, state=state),
                         today=local_today(), user=current_user)
    db.session.commit()
    flash(_("Review opened for %(title)s.", title=procedure.title), "success")
    return redirect(url_for("knowledge.view", slug=regulation.slug))


@bp.get("/review")
@require(*EDITOR_ROLES)
def review_list():
    today = local_today()
    return render("knowledge/review.html", pages=services.due_for_review(today, 30), today=today)


# --- announcements --------------------------------------------------------------------------------


@bp.get("/announcements")
def announcements():
    today = local_today()
    stmt = db.select(Announcement).order_by(Announcement.id.desc()).options(
        selectinload(Announcement.page), selectinload(Announcement.revision), selectinload(Announcement.recipients))
    if is_approver(current_user):
        rows = db.session.scalars(stmt).all()
    else:
        rows = [a for a in db.session.scalars(stmt) if a.can_view(current_user)]
    return render("knowledge/announcements.html", announcements=rows, to_read=services.to_read(current_user),
                  today=today, services=services)


@bp.route("/p/<slug>/announce", methods=["GET", "POST"])
@require("cs_manager")
def announce(slug: str):
    page = _page(slug)
    if page.current_revision is None:
        flash(_("Only a published version can be announced."), "error")
        return redirect(url_for("knowledge.view", slug=page.slug))
    form = AnnouncementForm(department_choices=department_choices(blank=False),
                            user_choices=staff_choices(blank=False))
    if form.validate_on_submit():
        with service_errors(form, field="roles") as outcome:
            ann = services.announce(page, current_user, roles=form.roles.data, department_ids=form.departments.data,
                                    user_ids=form.users.data, due_date=form.due_date.data, message=form.message.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("Announced to %(n)s people.", n=len(ann.recipients)), "success")
            return redirect(url_for("knowledge.announcement", ann_id=ann.id))
    return render("knowledge/announce.html", form=form, page=page)


@bp.get("/announcements/<int:ann_id>")
def announcement(ann_id: int):
    ann = load_or_404(Announcement, ann_id)
    today = local_today()
    rows = services.announcement_status(ann, today) if is_approver(current_user) or ann.created_by_id == current_user.id else []
    return render("knowledge/announcement.html", ann=ann, rows=rows, today=today,
                  acked=services.acknowledged_at(current_user.id, ann.revision_id))


@bp.get("/announcements/<int:ann_id>/export.xlsx")
@require("cs_manager")
def announcement_export(ann_id: int):
    ann = load_or_404(Announcement, ann_id)
    return workbook_response(f"acknowledgements-{ann.page.slug}-{ann.id}.xlsx",
                             services.announcement_sheets(ann, local_today()))


@bp.get("/announcements/overdue")
@require("cs_manager")
def overdue():
    today = local_today()
    return render("knowledge/overdue.html", rows=services.overdue_acknowledgements(today), today=today)


@bp.post("/announcements/<int:ann_id>/acknowledge")
def acknowledge(ann_id: int):
    ann = load_or_404(Announcement, ann_id)
    if not any(r.user_id == current_user.id for r in ann.recipients):
        abort(403)
    services.acknowledge(current_user, ann.revision)
    db.session.commit()
    flash(_("Recorded: you have read and understood version %(v)s.", v=ann.revision.version or ann.revision.number), "success")
    return redirect(url_for("knowledge.view", slug=ann.page.slug))


# --- training -------------------------------------------------------------------------------------


@bp.get("/training")
def training():
    plans = db.session.scalars(db.select(TrainingPlan).order_by(TrainingPlan.title)
                               .options(selectinload(TrainingPlan.steps))).all()
    mine = services.my_assignments(current_user)
    return render("knowledge/training.html", plans=plans, mine=mine, services=services)


def _plan_form(plan: TrainingPlan | None) -> PlanForm:
    """The plan form with every page it may list; the htmx filter asks the same URL for the page list."""
    choices = services.plan_page_choices(plan)
    if request.method == "GET" and request.args.getlist("pages"):  # the filter, with the pages ticked so far
        return PlanForm(formdata=request.args, obj=plan, page_choices=choices)
    form = PlanForm(obj=plan, page_choices=choices)
    if request.method == "GET" and plan is not None:
        form.pages.data = [s.page_id for s in plan.steps]
    return form


def _render_plan_form(form: PlanForm, plan: TrainingPlan | None):
    chosen = form.chosen_pages()
    query = request.args.get("q", "").strip()[:100] if request.method == "GET" else ""
    shown = services.plan_page_choices(plan, query) if query else form.page_rows
    rows = chosen + [p for p in shown if p not in chosen]
    return render("knowledge/plan_form.html", fragment="knowledge/_plan_pages.html", form=form, plan=plan,
                  rows=rows, chosen={p.id for p in chosen}, q=query)


@bp.route("/training/new", methods=["GET", "POST"])
@require("cs_manager")
def plan_create():
    form = _plan_form(None)
    if form.validate_on_submit():
        with service_errors(form, field="pages") as outcome:
            plan = services.create_plan(title=form.title.data, title_zh=form.title_zh.data or "",
                                        description=form.description.data or "", pass_mark=form.pass_mark.data,
                                        page_slugs=form.chosen_pages(), user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Training plan created."), "success")
            return redirect(url_for("knowledge.plan", plan_id=plan.id))
    return _render_plan_form(form, None)


@bp.route("/training/<int:plan_id>/edit", methods=["GET", "POST"])
@require("cs_manager")
def plan_edit(plan_id: int):
    plan = load_or_404(TrainingPlan, plan_id, action="edit")
    form = _plan_form(plan)
    if form.validate_on_submit():
        with service_errors(form, field="pages") as outcome:
            services.update_plan(plan, title=form.title.data, title_zh=form.title_zh.data or "",
                                 description=form.description.data or "", pass_mark=form.pass_mark.data,
                                 pages=form.chosen_pages())
            db.session.commit()
        if outcome.ok:
            flash(_("Training plan saved."), "success")
            return redirect(url_for("knowledge.plan", plan_id=plan.id))
    return _render_plan_form(form, plan)


def _plan_forms(plan, question_form=None, assign_form=None):
    step_choices = [(s.id, f"{s.position + 1}. {s.page.title}") for s in plan.steps]
    users = [(u.id, f"{u.username} · {u.display_name}") for u in
             db.session.scalars(db.select(User).filter(User.active.is_(True)).order_by(User.username))]
    return (question_form or QuestionForm(prefix="q", step_choices=step_choices),
            assign_form or AssignForm(prefix="a", user_choices=users))


@bp.get("/training/<int:plan_id>")
def plan(plan_id: int):
    plan = load_or_404(TrainingPlan, plan_id)
    qform, aform = _plan_forms(plan)
    return render("knowledge/plan.html", plan=plan, qform=qform, aform=aform, services=services, today=local_today())


@bp.post("/training/<int:plan_id>/questions")
@require("cs_manager")
def plan_question(plan_id: int):
    plan = load_or_404(TrainingPlan, plan_id, action="edit")
    step_choices = [(s.id, f"{s.position + 1}. {s.page.title}") for s in plan.steps]
    form = QuestionForm(prefix="q", step_choices=step_choices)
    if form.validate_on_submit():
        step = load_child_or_404(TrainingStep, form.step_id.data, parent=plan, action="edit")
        choices, correct = form.parsed()
        with service_errors(form, field="choices") as outcome:
            services.add_question(step, text=form.text.data, choices=choices, correct=correct)
            db.session.commit()
        if outcome.ok:
            flash(_("Question added."), "success")
            return redirect(url_for("knowledge.plan", plan_id=plan.id))
    qform, aform = _plan_forms(plan, question_form=form)
    return render("knowledge/plan.html", plan=plan, qform=qform, aform=aform, services=services, today=local_today())


@bp.post("/training/<int:plan_id>/assign")
@require("cs_manager")
def plan_assign(plan_id: int):
    plan = load_or_404(TrainingPlan, plan_id, action="edit")
    _q, form = _plan_forms(plan)
    form = AssignForm(prefix="a", user_choices=form.user_id.choices)
    if form.validate_on_submit():
        trainee = load_or_404(User, form.user_id.data)
        services.assign(plan, trainee, due_date=form.due_date.data, user=current_user)
        db.session.commit()
        flash(_("Assigned to %(name)s.", name=trainee.display_name), "success")
        return redirect(url_for("knowledge.plan", plan_id=plan.id))
    qform, aform = _plan_forms(plan, assign_form=form)
    return render("knowledge/plan.html", plan=plan, qform=qform, aform=aform, services=services, today=local_today())


@bp.get("/training/assignments/<int:assignment_id>")
def assignment(assignment_id: int):
    a = load_or_404(TrainingAssignment, assignment_id)
    return render("knowledge/assignment.html", a=a, summary=services.progress_summary(a), services=services,
                  today=local_today())


def _step(a: TrainingAssignment, step_id: int) -> TrainingStep:
    return load_child_or_404(TrainingStep, step_id, parent=a.plan)


@bp.get("/training/assignments/<int:assignment_id>/steps/<int:step_id>")
def step(assignment_id: int, step_id: int):
    a = load_or_404(TrainingAssignment, assignment_id)
    st = _step(a, step_id)
    return _render_step(a, st, quiz_form(st.questions))


def _render_step(a, st, form, results=None, passed=None):
    rev = st.page.current_revision or st.page.latest_revision
    html, toc = render_markdown_with_toc(rev.body if rev else "", link_resolver=services.link_resolver(current_user))
    mine = a.user_id == current_user.id
    return render("knowledge/step.html", a=a, step=st, rev=rev, html=html, toc=toc, form=form,
                  progress=a.progress_for(st), mine=mine, summary=services.progress_summary(a),
                  read_form=StepReadForm(), results=results, passed=passed,
                  ack=services.acknowledgement_requested(current_user, st.page) if mine else None)


@bp.post("/training/assignments/<int:assignment_id>/steps/<int:step_id>/read")
def step_read(assignment_id: int, step_id: int):
    a = load_or_404(TrainingAssignment, assignment_id, action="edit")
    st = _step(a, step_id)
    form = StepReadForm()
    if not form.validate_on_submit():
        abort(400)
    understood = form.understood.data == "1" and services.acknowledgement_requested(current_user, st.page) is not None
    with service_errors() as outcome:  # completing the plan files the certificate, which the archive may refuse
        services.mark_read(a, st, understood=understood)
        db.session.commit()
    if outcome.ok and understood:
        rev = st.page.current_revision
        flash(_("Recorded: you have read and understood version %(v)s.", v=rev.version or rev.number), "success")
    elif outcome.ok:
        flash(_("Marked as read."), "success")
    return redirect(url_for("knowledge.step", assignment_id=a.id, step_id=st.id))


@bp.post("/training/assignments/<int:assignment_id>/steps/<int:step_id>/quiz")
def step_quiz(assignment_id: int, step_id: int):
    """Graded on the spot: the page comes back with each wrong answer marked (see step.html)."""
    a = load_or_404(TrainingAssignment, assignment_id, action="edit")
    st = _step(a, step_id)
    form = quiz_form(st.questions)
    if not form.validate_on_submit():
        return _render_step(a, st, form)
    answers = quiz_answers(form, st.questions)
    with service_errors() as outcome:
        score, passed = services.submit_quiz(a, st, answers)
        db.session.commit()
    if not outcome.ok:
        return _render_step(a, st, form)
    if passed:
        flash(_("Quiz passed with %(score)s%%.", score=score), "success")
    else:
        flash(_("%(score)s%%: below the pass mark of %(mark)s%%. Read the page again and retry.", score=score,
                mark=a.plan.pass_mark), "error")
    return _render_step(a, st, form, results=services.quiz_results(st.questions, answers), passed=passed)


@bp.get("/training/assignments/<int:assignment_id>/certificate.pdf")
def certificate(assignment_id: int):
    a = load_or_404(TrainingAssignment, assignment_id)
    if a.completed_at is None:
        abort(404)
    return send_download(services.certificate_pdf(a), services.certificate_filename(a), "application/pdf", inline=True)


# ---------------------------------------------------------------- the glossary as a structured list
@bp.route("/glossary/terms", methods=["GET", "POST"])
def glossary_terms():
    """The glossary's entries (the search's bilingual synonyms); editors add, remove and import them."""
    editor = is_editor(current_user)
    form = GlossaryEntryForm(prefix="entry")
    upload = GlossaryImportForm(prefix="csv")
    if request.method == "POST":
        if not editor:
            abort(403)
        if form.validate_on_submit():
            with service_errors(form) as outcome:
                glossary.add_entry(english=form.english.data or "", chinese=form.chinese.data or "",
                                   abbreviations=form.abbreviations.data or "", note=form.note.data or "")
                db.session.commit()
            if outcome.ok:
                flash(_("Glossary entry added."), "success")
                return redirect(url_for("knowledge.glossary_terms"))
    return render("knowledge/glossary_terms.html", entries=glossary.entries(), form=form, upload=upload,
                  delete_form=GlossaryDeleteForm(), editor=editor)


@bp.post("/glossary/terms/import")
@require(*EDITOR_ROLES)
def glossary_import():
    form = GlossaryEntryForm(prefix="entry")
    upload = GlossaryImportForm(prefix="csv")
    if upload.validate_on_submit():
        with service_errors(upload) as outcome:
            count = glossary.import_csv(upload.data_bytes)
            db.session.commit()
        if outcome.ok:
            flash(_("Glossary imported: %(count)s entries.", count=count), "success")
            return redirect(url_for("knowledge.glossary_terms"))
    return render("knowledge/glossary_terms.html", entries=glossary.entries(), form=form, upload=upload,
                  delete_form=GlossaryDeleteForm(), editor=True)


@bp.get("/glossary/terms.csv")
def glossary_export():
    return send_download(glossary.export_csv(), "glossary.csv", "text/csv")


@bp.post("/glossary/terms/<int:entry_id>/delete")
@require(*EDITOR_ROLES)
def glossary_delete(entry_id: int):
    form = GlossaryDeleteForm()
    if form.validate_on_submit():
        entry = load_or_404(GlossaryEntry, entry_id, action="edit")
        glossary.delete_entry(entry)
        db.session.commit()
        flash(_("Glossary entry removed."), "success")
    return redirect(url_for("knowledge.glossary_terms"))
