"""Archive pages: records, filing, file plan, schedule, holds, disposal batches, report, fixity."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...audit import history_for
from ...extensions import db
from ...permissions import load_or_404, require
from ...web import page_args, render

bp = Blueprint("archive", __name__, url_prefix="/archive")

OFFICERS = ("records_officer", "cs_manager")


@bp.record_once
def _setup(state) -> None:
    from . import extract

    state.app.config.setdefault("ARCHIVE_EXTRACT_MODE", "inline" if state.app.testing else "thread")
    extract.install_listeners()


def _services():
    from . import services

    return services


def _visible(stmt):
    """Restricted records only for managers and the people named on them (in the query)."""
    from .models import ArchiveRecord

    if current_user.is_manager:
        return stmt
    return stmt.filter(db.or_(ArchiveRecord.restricted.is_(False), ArchiveRecord.created_by_id == current_user.id))


def _as_of_arg() -> date:
    raw = request.args.get("as_of", "")
    try:
        return date.fromisoformat(raw) if raw else _services().today()
    except ValueError:
        return _services().today()


# ---- records ---------------------------------------------------------------------------------

@bp.get("/")
def index():
    from .forms import customer_choices, series_choices
    from .models import ArchiveRecord, Series

    q = request.args.get("q", "").strip()[:100]
    series_id = request.args.get("series", type=int) or 0
    customer_id = request.args.get("customer", type=int) or 0
    year = request.args.get("year", type=int) or 0
    status = request.args.get("status", "active")
    stmt = _visible(db.select(ArchiveRecord)).order_by(ArchiveRecord.record_date.desc(), ArchiveRecord.id.desc())
    if status in ("active", "destroyed", "transferred"):
        stmt = stmt.filter(ArchiveRecord.status == status)
    if series_id:
        series = db.session.get(Series, series_id)
        ids = _subtree_ids(series) if series else [series_id]
        stmt = stmt.filter(ArchiveRecord.series_id.in_(ids))
    if customer_id:
        stmt = stmt.filter(ArchiveRecord.customer_id == customer_id)
    if year:
        stmt = stmt.filter(ArchiveRecord.record_date.between(date(year, 1, 1), date(year, 12, 31)))
    if q:
        like = f"%{q}%"
        stmt = stmt.filter(db.or_(ArchiveRecord.title.ilike(like), ArchiveRecord.reference.ilike(like)))
    page, per_page = page_args()
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    this_year = _services().today().year
    return render("archive/index.html", fragment="archive/_records.html", pagination=pagination, q=q,
                  series_id=series_id, customer_id=customer_id, year=year, status=status,
                  series_options=series_choices(), customer_options=customer_choices(),
                  years=list(range(this_year, this_year - 12, -1)))


def _subtree_ids(series) -> list[int]:
    out, stack = [], [series]
    while stack:
        node = stack.pop()
        out.append(node.id)
        stack.extend(node.children)
    return out


@bp.route("/file", methods=["GET", "POST"])
def file_record():
    from .forms import FileRecordForm
    from .models import Series

    services = _services()
    form = FileRecordForm()
    if request.method == "GET":
        form.record_date.data = services.today()
        if request.args.get("series", type=int):
            form.series_id.data = request.args.get("series", type=int)
    duplicate = None
    if form.validate_on_submit():
        try:
            record = services.file_upload(
                series=form.series, title=form.title.data, files=form.uploaded, user=current_user,
                customer_id=form.customer_id.data or None, restricted=form.restricted.data,
                record_date=form.record_date.data, event_date=form.event_date.data,
                description=form.description.data or "",
                allow_duplicates=request.form.get("allow_duplicate") == "1",
            )
        except services.DuplicateFile as exc:
            duplicate = exc.existing if exc.existing.can_view(current_user) else None
            form.files.errors = list(form.files.errors) + [str(exc) if duplicate else _(
                "This file is already in the archive in a record you may not see.")]
        except services.UploadRejected as exc:
            form.files.errors = list(form.files.errors) + [str(exc)]
        else:
            db.session.commit()
            flash(_("Filed as %(ref)s.", ref=record.reference), "success")
            return redirect(url_for("archive.record", record_id=record.id))
    if not db.session.scalar(db.select(Series.id).limit(1)):
        flash(_("The file plan is empty: the starter plan is loaded when the first document is filed."), "info")
    return render("archive/file.html", form=form, duplicate=duplicate)


@bp.get("/records/<int:record_id>")
def record(record_id: int):
    from .forms import MetadataForm, RecordHoldForm, VersionForm
    from .models import DisposalItem

    services = _services()
    rec = load_or_404(_model("ArchiveRecord"), record_id)
    history = history_for("archive_record", rec.id)
    file_history = []
    for f in rec.files:
        file_history.extend(history_for("archive_record_file", f.id))
    items = list(db.session.scalars(db.select(DisposalItem).filter_by(record_id=rec.id)))
    _resume_extraction(rec)
    return render(
        "archive/record.html", record=rec, extraction_waiting=services.extraction_waiting(rec), due=services.due_date(rec), holds=services.holds_for(rec),
        history=sorted(history + file_history, key=lambda e: e.id), disposal_items=items,
        version_form=VersionForm(), hold_form=RecordHoldForm(), meta_form=MetadataForm(obj=rec),
        today=services.today(),
    )


def _resume_extraction(rec) -> None:
    """Finish an extraction a stopped process left behind (the claim keeps two workers from both doing it)."""
    from flask import current_app

    from . import extract

    services = _services()
    if services.extraction_to_resume(rec):
        extract.start(current_app._get_current_object(), [rec.id])
        db.session.refresh(rec)


@bp.get("/records/<int:record_id>/extraction")
def extraction(record_id: int):
    """The text-extraction status of a record: polled by htmx while it runs; opened directly, the record page."""
    from ...extensions import htmx

    rec = load_or_404(_model("ArchiveRecord"), record_id)
    if not htmx:
        return redirect(url_for("archive.record", record_id=rec.id))
    _resume_extraction(rec)
    return render("archive/_extraction.html", record=rec, extraction_waiting=_services().extraction_waiting(rec))


def _model(name):
    from . import models

    return getattr(models, name)


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
def edit_record(record_id: int):
    from .forms import MetadataForm

    rec = load_or_404(_model("ArchiveRecord"), record_id, action="edit")
    form = MetadataForm(obj=rec)
    if request.method == "GET":
        form.customer_id.data = rec.customer_id or 0
    if form.validate_on_submit():
        _services().update_metadata(
            rec, series_id=form.series_id.data, title=form.title.data.strip(),
            description=form.description.data or "", customer_id=form.customer_id.data or None,
            restricted=form.restricted.data, record_date=form.record_date.data, event_date=form.event_date.data,
        )
        db.session.commit()
        flash(_("Record %(ref)s saved; the change is in its history.", ref=rec.reference), "success")
        return redirect(url_for("archive.record", record_id=rec.id))
    return render("archive/edit.html", form=form, record=rec)


@bp.post("/records/<int:record_id>/versions")
def add_version(record_id: int):
    from .forms import VersionForm

    services = _services()
    rec = load_or_404(_model("ArchiveRecord"), record_id, action="edit")
    form = VersionForm()
    if form.validate_on_submit():
        try:
            services.add_version(rec, form.uploaded, current_user)
        except services.UploadRejected as exc:
            form.files.errors = list(form.files.errors) + [str(exc)]
        else:
            db.session.commit()
            flash(_("Version %(n)s added.", n=rec.current_version), "success")
            return redirect(url_for("archive.record", record_id=rec.id))
    db.session.rollback()
    flash(" ".join(str(e) for e in form.files.errors) or _("Choose at least one file."), "error")
    return redirect(url_for("archive.record", record_id=rec.id))


@bp.get("/files/<int:file_id>")
def download(file_id: int):
    f = load_or_404(_model("RecordFile"), file_id)
    if f.purged_at is not None:
        abort(404)
    services = _services()
    try:
        handle = services.store().open(f.sha256)
    except FileNotFoundError:
        abort(404)
    response = send_file(handle, mimetype=f.mime, as_attachment=True, download_name=f.filename,
                         conditional=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- file plan -------------------------------------------------------------------------------

@bp.get("/plan")
def plan():
    from .forms import PlanImportForm
    from .models import ArchiveRecord, Series

    roots = list(db.session.scalars(db.select(Series).filter(Series.parent_id.is_(None)).order_by(Series.code)))
    counts, hidden = _services().record_counts(current_user)
    plans = sorted({s.plan for s in db.session.scalars(db.select(Series))})
    return render("archive/plan.html", roots=roots, counts=counts, hidden=hidden, plans=plans, form=PlanImportForm(),
                  result=None)


@bp.post("/plan/import")
@require("records_officer")
def import_plan():
    from .forms import PlanImportForm
    from .plan import import_plan as do_import

    form = PlanImportForm()
    result = None
    if form.validate_on_submit():
        import io

        result = do_import(io.StringIO(form.text), plan_name=form.filename[:80])
        db.session.commit()
        flash(_("%(n)s series loaded, %(e)s row(s) not understood.", n=result.loaded, e=len(result.errors)),
              "success" if not result.errors else "warning")
    from .models import Series

    roots = list(db.session.scalars(db.select(Series).filter(Series.parent_id.is_(None)).order_by(Series.code)))
    return render("archive/plan.html", roots=roots, counts={}, plans=[], form=form, result=result)


@bp.get("/series/<int:series_id>")
def series(series_id: int):
    from .models import ArchiveRecord

    s = load_or_404(_model("Series"), series_id)
    page, per_page = page_args()
    stmt = _visible(db.select(ArchiveRecord)).filter(ArchiveRecord.series_id == s.id)\
        .order_by(ArchiveRecord.record_date.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    holds = [h for h in _services().active_holds() if h.series_id == s.id]
    return render("archive/series.html", series=s, pagination=pagination, holds=holds)


# ---- schedule and holds ----------------------------------------------------------------------

@bp.get("/schedule")
@require(*OFFICERS)
def schedule():
    from .forms import ProposeForm

    as_of = _as_of_arg()
    services = _services()
    items, hidden = services.split_visible(services.schedule(as_of), current_user)
    form = ProposeForm(formdata=None, as_of=as_of)
    return render("archive/schedule.html", items=items, hidden=hidden, as_of=as_of, form=form)


@bp.get("/holds")
@require(*OFFICERS)
def holds():
    from .forms import HoldForm
    from .models import Hold

    active = _services().active_holds()
    released = list(db.session.scalars(db.select(Hold).filter(Hold.released_at.is_not(None))
                                       .order_by(Hold.released_at.desc()).limit(50)))
    return render("archive/holds.html", active=active, released=released, form=HoldForm())


@bp.post("/holds")
@require(*OFFICERS)
def place_hold():
    from .forms import HoldForm
    from .models import Hold

    form = HoldForm()
    if form.validate_on_submit():
        hold = _services().place_hold(user=current_user, reason=form.reason.data, **form.target)
        db.session.commit()
        flash(_("Hold placed."), "success")
        if hold.record_id:
            return redirect(url_for("archive.record", record_id=hold.record_id))
        return redirect(url_for("archive.holds"))
    active = _services().active_holds()
    released = list(db.session.scalars(db.select(Hold).filter(Hold.released_at.is_not(None)).limit(50)))
    return render("archive/holds.html", active=active, released=released, form=form)


@bp.post("/records/<int:record_id>/hold")
@require(*OFFICERS)
def hold_record(record_id: int):
    from .forms import RecordHoldForm

    rec = load_or_404(_model("ArchiveRecord"), record_id)
    form = RecordHoldForm()
    if form.validate_on_submit():
        _services().place_hold(user=current_user, reason=form.reason.data, record=rec)
        db.session.commit()
        flash(_("Hold placed."), "success")
    else:
        flash(_("Give a reason for the hold."), "error")
    return redirect(url_for("archive.record", record_id=rec.id))


@bp.route("/holds/<int:hold_id>/release", methods=["GET", "POST"])
@require(*OFFICERS)
def release_hold(hold_id: int):
    from .forms import ReleaseForm

    hold = load_or_404(_model("Hold"), hold_id, action="edit")
    form = ReleaseForm()
    if form.validate_on_submit():
        _services().release_hold(hold, user=current_user, note=form.note.data)
        db.session.commit()
        flash(_("Hold released; the release is in the audit trail."), "success")
        return redirect(url_for("archive.holds"))
    return render("archive/release.html", hold=hold, form=form)


# ---- disposal batches ------------------------------------------------------------------------

@bp.get("/batches")
@require(*OFFICERS)
def batches():
    from .models import DisposalBatch

    page, per_page = page_args()
    pagination = db.paginate(db.select(DisposalBatch).order_by(DisposalBatch.id.desc()), page=page,
                             per_page=per_page, error_out=False)
    return render("archive/batches.html", pagination=pagination)


@bp.post("/batches")
@require("records_officer")
def propose():
    from .forms import ProposeForm

    services = _services()
    form = ProposeForm()
    if form.validate_on_submit():
        try:
            batch = services.propose_batch(user=current_user, record_ids=form.record_ids(), as_of=form.as_of.data,
                                           note=form.note.data or "", transfer_to=form.transfer_to.data or "",
                                           include_restricted=form.include_restricted.data)
        except services.DisposalError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Disposal batch %(number)s proposed; a manager must approve it.", number=batch.number), "success")
            return redirect(url_for("archive.batch", batch_id=batch.id))
    as_of = form.as_of.data or services.today()
    items, hidden = services.split_visible(services.schedule(as_of), current_user)
    return render("archive/schedule.html", items=items, hidden=hidden, as_of=as_of, form=form)


def _batch_page(batch, *, plan=None, review_forms=None, status=200):
    from .forms import DecisionForm, ExecuteForm, ReviewDecisionForm

    forms = review_forms or {}
    for item in batch.items:
        if item.action == "review" and item.id not in forms:
            forms[item.id] = ReviewDecisionForm(formdata=None, prefix=f"r{item.id}", decision=item.review_decision or "extend",
                                                until=item.review_until)
    return render("archive/batch.html", batch=batch, plan=plan, review_forms=forms, decision_form=DecisionForm(),
                  execute_form=ExecuteForm()), status


@bp.get("/batches/<int:batch_id>")
@require(*OFFICERS)
def batch(batch_id: int):
    b = load_or_404(_model("DisposalBatch"), batch_id)
    return _batch_page(b)


@bp.post("/batches/<int:batch_id>/decide")
@require("cs_manager")
def decide(batch_id: int):
    from .forms import DecisionForm

    services = _services()
    b = load_or_404(_model("DisposalBatch"), batch_id, action="edit")
    form = DecisionForm()
    approve = request.form.get("decision") == "approve"
    if form.validate_on_submit():
        try:
            services.decide_batch(b, user=current_user, approve=approve, note=form.note.data or "")
        except services.DisposalError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Batch %(number)s approved.", number=b.number) if approve
                  else _("Batch %(number)s rejected.", number=b.number), "success")
    return redirect(url_for("archive.batch", batch_id=b.id))


@bp.post("/batches/<int:batch_id>/items/<int:item_id>/review")
@require("records_officer")
def review_item(batch_id: int, item_id: int):
    from .forms import ReviewDecisionForm

    services = _services()
    b = load_or_404(_model("DisposalBatch"), batch_id, action="edit")
    item = next((i for i in b.items if i.id == item_id), None)
    if item is None:
        abort(404)
    form = ReviewDecisionForm(prefix=f"r{item.id}")
    if form.validate_on_submit():
        try:
            services.record_review_decision(item, decision=form.decision.data, until=form.until.data,
                                            note=form.note.data or "")
        except services.DisposalError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Decision recorded for %(ref)s.", ref=item.reference), "success")
            return redirect(url_for("archive.batch", batch_id=b.id))
    return _batch_page(b, review_forms={item.id: form})


@bp.post("/batches/<int:batch_id>/execute")
@require("records_officer")
def execute(batch_id: int):
    from .forms import ExecuteForm

    services = _services()
    b = load_or_404(_model("DisposalBatch"), batch_id, action="edit")
    form = ExecuteForm()
    dry_run = request.form.get("dry_run") == "1"
    if not form.validate_on_submit():
        abort(400)
    try:
        steps = services.execute_batch(b, user=current_user, dry_run=dry_run,
                                       checkpoint=None if dry_run else db.session.commit)
    except services.DisposalError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("archive.batch", batch_id=b.id))
    if dry_run:
        db.session.rollback()
        return _batch_page(b, plan=steps)
    db.session.commit()
    flash(_("Batch %(number)s executed; the destruction certificate is filed as %(ref)s.", number=b.number,
            ref=b.certificate.reference), "success")
    return redirect(url_for("archive.batch", batch_id=b.id))


@bp.get("/batches/<int:batch_id>/certificate")
@require(*OFFICERS)
def certificate(batch_id: int):
    b = load_or_404(_model("DisposalBatch"), batch_id)
    if b.certificate is None or not b.certificate.current_files:
        abort(404)
    return redirect(url_for("archive.download", file_id=b.certificate.current_files[0].id))


# ---- report and fixity -----------------------------------------------------------------------

@bp.get("/report")
@require(*OFFICERS)
def report():
    from . import reports

    as_of = _as_of_arg()
    rows, totals = reports.retention_report(as_of)
    return render("archive/report.html", rows=rows, totals=totals, as_of=as_of)


@bp.get("/report.xlsx")
@require(*OFFICERS)
def report_xlsx():
    import io

    from . import reports

    as_of = _as_of_arg()
    data = reports.retention_report_xlsx(as_of)
    response = send_file(io.BytesIO(data), as_attachment=True, download_name=f"retention-report-{as_of.isoformat()}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/fixity")
@require(*OFFICERS)
def fixity():
    from .models import FixityRun

    runs = list(db.session.scalars(db.select(FixityRun).order_by(FixityRun.id.desc()).limit(20)))
    return render("archive/fixity.html", runs=runs)
