"""Archive pages: records, filing, file plan, schedule, holds, disposal batches, report, fixity."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import db, htmx
from ...permissions import load_child_or_404, load_or_404, require
from ...services import register_filer
from ...web import arg_date, arg_int, message_text, page_args, render, send_download, service_errors
from ...xlsx import workbook_response
from . import extract, reports, services
from .forms import (
    DecisionForm, ExecuteForm, FileRecordForm, HoldForm, MetadataForm, PlanImportForm, ProposeForm, RecordHoldForm,
    ReleaseForm, ReviewDecisionForm, VersionForm, customer_choices, series_choices,
)
from .models import ArchiveRecord, DisposalBatch, DisposalItem, Hold, RecordFile, Series, disposition_words, retention_words, trigger_words
from .plan import import_plan as do_import

bp = Blueprint("archive", __name__, url_prefix="/archive")

OFFICERS = ("records_officer", "cs_manager")

bp.add_app_template_global(trigger_words, "archive_trigger")
bp.add_app_template_global(disposition_words, "archive_disposition")
bp.add_app_template_global(retention_words, "archive_retention")


@bp.record_once
def _setup(state) -> None:
    """The archive is the portal's filer (portal.services.file_record); its text is extracted after commits."""
    register_filer(services.file_document)
    state.app.config.setdefault("ARCHIVE_EXTRACT_MODE", "inline" if state.app.testing else "thread")
    extract.install_listeners()


def _as_of():
    return arg_date("as_of", services.today())


def _text_arg(name: str, default: str = "") -> str:
    return (request.args.get(name, default) or "").strip()[:100]


# ---- records ---------------------------------------------------------------------------------

@bp.get("/")
def index():
    q = _text_arg("q")
    series_id = arg_int("series", 0)
    customer_id = arg_int("customer", 0)
    year = arg_int("year", 0, min=1900, max=2999)
    status = _text_arg("status", "active")
    stmt = services.records_query(current_user, q=q, series_id=series_id, customer_id=customer_id, year=year,
                                  status=status)
    page, per_page = page_args()
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    this_year = services.today().year
    return render("archive/index.html", fragment="archive/_records.html", pagination=pagination, q=q,
                  series_id=series_id, customer_id=customer_id, year=year, status=status,
                  series_options=series_choices(), customer_options=customer_choices(),
                  years=list(range(this_year, this_year - 12, -1)))


@bp.route("/file", methods=["GET", "POST"])
def file_record():
    form = FileRecordForm()
    if not form.is_submitted():
        form.record_date.data = services.today()
        form.series_id.data = arg_int("series", None) or form.series_id.data
    duplicate = None
    if form.validate_on_submit():
        with service_errors(form, field="files") as outcome:
            record = services.file_upload(
                series=form.series, title=form.title.data, files=form.uploaded, user=current_user,
                customer_id=form.customer_id.data or None, restricted=form.restricted.data,
                record_date=form.record_date.data, event_date=form.event_date.data,
                description=form.description.data or "", allow_duplicates=form.allow_duplicate.data,
            )
            db.session.commit()
        if outcome.ok:
            flash(_("Filed as %(ref)s.", ref=record.reference), "success")
            return redirect(url_for("archive.record", record_id=record.id))
        if isinstance(outcome.error, services.DuplicateFile) and outcome.error.existing.can_view(current_user):
            duplicate = outcome.error.existing
    if services.plan_is_empty():
        flash(_("The file plan is empty: the starter plan is loaded when the first document is filed."), "info")
    return render("archive/file.html", form=form, duplicate=duplicate)


@bp.get("/records/<int:record_id>")
def record(record_id: int):
    rec = load_or_404(ArchiveRecord, record_id)
    _resume_extraction(rec)
    return render(
        "archive/record.html", record=rec, extraction_waiting=services.extraction_waiting(rec),
        due=services.due_date(rec), holds=services.holds_for(rec), history=services.record_history(rec),
        disposal_items=services.disposal_items_of(rec), version_form=VersionForm(), hold_form=RecordHoldForm(),
        today=services.today(),
    )


def _resume_extraction(rec: ArchiveRecord) -> None:
    """Finish an extraction a stopped process left behind (the claim keeps two workers from both doing it)."""
    if services.extraction_to_resume(rec):
        extract.start(current_app._get_current_object(), [rec.id])
        db.session.refresh(rec)


@bp.get("/records/<int:record_id>/extraction")
def extraction(record_id: int):
    """The text-extraction status of a record, polled by htmx while it runs; opened directly, the record page."""
    rec = load_or_404(ArchiveRecord, record_id)
    if not htmx:
        return redirect(url_for("archive.record", record_id=rec.id))
    _resume_extraction(rec)
    return render("archive/_extraction.html", record=rec, extraction_waiting=services.extraction_waiting(rec))


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
def edit_record(record_id: int):
    rec = load_or_404(ArchiveRecord, record_id, action="edit")
    form = MetadataForm(obj=rec)
    if not form.is_submitted():
        form.customer_id.data = rec.customer_id or 0
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.update_metadata(
                rec, series_id=form.series_id.data, title=form.title.data.strip(),
                description=form.description.data or "", customer_id=form.customer_id.data or None,
                restricted=form.restricted.data, record_date=form.record_date.data, event_date=form.event_date.data,
            )
            db.session.commit()
        if outcome.ok:
            flash(_("Record %(ref)s saved; the change is in its history.", ref=rec.reference), "success")
            return redirect(url_for("archive.record", record_id=rec.id))
    return render("archive/edit.html", form=form, record=rec)


@bp.post("/records/<int:record_id>/versions")
def add_version(record_id: int):
    rec = load_or_404(ArchiveRecord, record_id, action="edit")
    form = VersionForm()
    if form.validate_on_submit():
        with service_errors(form, field="files") as outcome:
            services.add_version(rec, form.uploaded, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Version %(n)s added.", n=rec.current_version), "success")
            return redirect(url_for("archive.record", record_id=rec.id))
    flash(" ".join(message_text(e) for e in form.files.errors) or _("Choose at least one file."), "error")
    return redirect(url_for("archive.record", record_id=rec.id))


@bp.get("/files/<int:file_id>")
def download(file_id: int):
    f = load_or_404(RecordFile, file_id)
    path = services.file_path(f)
    if path is None:
        abort(404)
    return send_download(path, f.filename, f.mime)


# ---- file plan -------------------------------------------------------------------------------

@bp.get("/plan")
def plan():
    counts, hidden = services.record_counts(current_user)
    return render("archive/plan.html", roots=services.root_series(), counts=counts, hidden=hidden,
                  plans=services.plan_names(), form=PlanImportForm(), result=None)


@bp.post("/plan/import")
@require("records_officer")
def import_plan():
    form = PlanImportForm()
    result = None
    if form.validate_on_submit():
        result = do_import(io.StringIO(form.text), plan_name=form.filename[:80])
        db.session.commit()
        flash(_("%(n)s series loaded, %(e)s row(s) not understood.", n=result.loaded, e=len(result.errors)),
              "success" if not result.errors else "warning")
    counts, hidden = services.record_counts(current_user)
    return render("archive/plan.html", roots=services.root_series(), counts=counts, hidden=hidden,
                  plans=services.plan_names(), form=form, result=result)


@bp.get("/series/<int:series_id>")
def series(series_id: int):
    s = load_or_404(Series, series_id)
    page, per_page = page_args()
    pagination = db.paginate(services.series_records_query(s, current_user), page=page, per_page=per_page,
                             error_out=False)
    return render("archive/series.html", series=s, pagination=pagination, holds=services.holds_on_series(s))


# ---- schedule and holds ----------------------------------------------------------------------

@bp.get("/schedule")
@require(*OFFICERS)
def schedule():
    as_of = _as_of()
    items, hidden = services.split_visible(services.schedule(as_of), current_user)
    form = ProposeForm(formdata=None, as_of=as_of)
    return render("archive/schedule.html", items=items, hidden=hidden, as_of=as_of, form=form)


def _holds_page(form):
    return render("archive/holds.html", active=services.active_holds(), released=services.released_holds(),
                  form=form, may_open=services.opener(current_user))


@bp.get("/holds")
@require(*OFFICERS)
def holds():
    return _holds_page(HoldForm())


@bp.post("/holds")
@require(*OFFICERS)
def place_hold():
    form = HoldForm()
    if form.validate_on_submit():
        hold = services.place_hold(user=current_user, reason=form.reason.data, **form.target)
        db.session.commit()
        flash(_("Hold placed."), "success")
        if hold.record_id:
            return redirect(url_for("archive.record", record_id=hold.record_id))
        return redirect(url_for("archive.holds"))
    return _holds_page(form)


@bp.post("/records/<int:record_id>/hold")
@require(*OFFICERS)
def hold_record(record_id: int):
    rec = load_or_404(ArchiveRecord, record_id)
    form = RecordHoldForm()
    if form.validate_on_submit():
        services.place_hold(user=current_user, reason=form.reason.data, record=rec)
        db.session.commit()
        flash(_("Hold placed."), "success")
    else:
        flash(_("Give a reason for the hold."), "error")
    return redirect(url_for("archive.record", record_id=rec.id))


@bp.route("/holds/<int:hold_id>/release", methods=["GET", "POST"])
@require(*OFFICERS)
def release_hold(hold_id: int):
    hold = load_or_404(Hold, hold_id, action="edit")
    form = ReleaseForm()
    if form.validate_on_submit():
        services.release_hold(hold, user=current_user, note=form.note.data)
        db.session.commit()
        flash(_("Hold released; the release is in the audit trail."), "success")
        return redirect(url_for("archive.holds"))
    return render("archive/release.html", hold=hold, form=form, may_open=services.opener(current_user))


# ---- disposal batches ------------------------------------------------------------------------

@bp.get("/batches")
@require(*OFFICERS)
def batches():
    page, per_page = page_args()
    pagination = db.paginate(services.batches_query(), page=page, per_page=per_page, error_out=False)
    return render("archive/batches.html", pagination=pagination)


@bp.post("/batches")
@require("records_officer")
def propose():
    form = ProposeForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            batch = services.propose_batch(user=current_user, record_ids=form.record_ids(), as_of=form.as_of.data,
                                           note=form.note.data or "", transfer_to=form.transfer_to.data or "",
                                           include_restricted=form.include_restricted.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Disposal batch %(number)s proposed; a manager must approve it.", number=batch.number), "success")
            return redirect(url_for("archive.batch", batch_id=batch.id))
    as_of = form.as_of.data or services.today()
    items, hidden = services.split_visible(services.schedule(as_of), current_user)
    return render("archive/schedule.html", items=items, hidden=hidden, as_of=as_of, form=form)


def _batch_page(batch, *, plan=None, review_forms=None, status=200):
    services.load_item_records(batch)
    forms = review_forms or {}
    for item in batch.items:
        if item.action == "review" and item.id not in forms:
            forms[item.id] = ReviewDecisionForm(formdata=None, prefix=f"r{item.id}",
                                                decision=item.review_decision or "extend", until=item.review_until)
    return render("archive/batch.html", batch=batch, plan=plan, review_forms=forms, decision_form=DecisionForm(),
                  execute_form=ExecuteForm(), may_open=services.opener(current_user)), status


@bp.get("/batches/<int:batch_id>")
@require(*OFFICERS)
def batch(batch_id: int):
    return _batch_page(load_or_404(DisposalBatch, batch_id))


@bp.post("/batches/<int:batch_id>/decide")
@require("cs_manager")
def decide(batch_id: int):
    b = load_or_404(DisposalBatch, batch_id, action="edit")
    form = DecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        with service_errors() as outcome:
            services.decide_batch(b, user=current_user, approve=approve, note=form.note.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("Batch %(number)s approved.", number=b.number) if approve
                  else _("Batch %(number)s rejected.", number=b.number), "success")
    return redirect(url_for("archive.batch", batch_id=b.id))


@bp.post("/batches/<int:batch_id>/items/<int:item_id>/review")
@require("records_officer")
def review_item(batch_id: int, item_id: int):
    b = load_or_404(DisposalBatch, batch_id, action="edit")
    item = load_child_or_404(DisposalItem, item_id, parent=b, action="edit")
    form = ReviewDecisionForm(prefix=f"r{item.id}")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.record_review_decision(item, decision=form.decision.data, until=form.until.data,
                                            note=form.note.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("Decision recorded for %(ref)s.", ref=item.reference), "success")
            return redirect(url_for("archive.batch", batch_id=b.id))
    return _batch_page(b, review_forms={item.id: form})


@bp.post("/batches/<int:batch_id>/execute")
@require("records_officer")
def execute(batch_id: int):
    b = load_or_404(DisposalBatch, batch_id, action="edit")
    form = ExecuteForm()
    if not form.validate_on_submit():
        abort(400)
    dry_run = form.dry_run.data
    # The one route that commits more than once: after each item (see the README, "Disposal runs").
    with service_errors() as outcome:
        steps = services.execute_batch(b, user=current_user, dry_run=dry_run,
                                       checkpoint=None if dry_run else db.session.commit)
    if not outcome.ok:
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
    b = load_or_404(DisposalBatch, batch_id)
    if b.certificate is None or not b.certificate.current_files:
        abort(404)
    return redirect(url_for("archive.download", file_id=b.certificate.current_files[0].id))


# ---- report and fixity -----------------------------------------------------------------------

@bp.get("/report")
@require(*OFFICERS)
def report():
    as_of = _as_of()
    rows, totals = reports.retention_report(as_of)
    return render("archive/report.html", rows=rows, totals=totals, as_of=as_of)


@bp.get("/report.xlsx")
@require(*OFFICERS)
def report_xlsx():
    as_of = _as_of()
    return workbook_response(f"retention-report-{as_of.isoformat()}.xlsx", reports.retention_report_sheets(as_of))


@bp.get("/fixity")
@require(*OFFICERS)
def fixity():
    return render("archive/fixity.html", runs=services.fixity_runs())
