"""Monthly reports' pages: thin routes (load + authorise -> form -> service -> commit -> render).

Everyone with a portal role reads the reports; the CS manager enters the safety figures, issues the
month's report and exports the government statistics (admins pass every role check)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ....extensions import db
from ....permissions import load_or_404, require
from ....web import render, send_download, service_errors
from ....xlsx import XLSX_MIMETYPE
from ...customers.models import Customer
from . import services
from .forms import ExportForm, IssueForm, SafetyForm
from .models import MANAGER_ROLES, VIEW_ROLES, GovStatExport, MonthlyReportIssue

bp = Blueprint("monthly", __name__, url_prefix="/monthly")
MANAGER = tuple(r for r in MANAGER_ROLES if r != "admin")
VIEWERS = tuple(r for r in VIEW_ROLES if r != "admin")


def _month(raw: str):
    month = services.parse_month(raw)
    if month is None:
        abort(404)
    return month


def _customer():
    """The ``customer`` query argument (a customer's report), or None (the management report)."""
    raw = request.args.get("customer", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        abort(404)
    return load_or_404(Customer, int(raw))


def _customers():
    return list(db.session.scalars(select(Customer).order_by(Customer.code)))


@bp.get("/")
@require(*VIEWERS)
def index():
    raw = request.args.get("month", "").strip()
    if raw:
        return redirect(url_for(".report", month=f"{_month(raw):%Y-%m}", customer=request.args.get("customer") or None))
    exports = list(db.session.scalars(select(GovStatExport).order_by(GovStatExport.month.desc()).limit(24)))
    issues = list(db.session.scalars(select(MonthlyReportIssue).order_by(MonthlyReportIssue.issued_at.desc()).limit(24)))
    form = ExportForm()
    form.month.data = f"{services.last_closed_month():%Y-%m}"
    return render("operations/monthly/index.html", last=services.last_closed_month(), customers=_customers(),
                  exports=exports, issues=issues, form=form)


@bp.get("/<month>")
@require(*VIEWERS)
def report(month):
    month, customer = _month(month), _customer()
    r = services.build_report(month, customer)
    return render("operations/monthly/report.html", r=r, charts=r.charts(), customers=_customers(),
                  issue_form=IssueForm(), may_manage=current_user.has_role(*MANAGER_ROLES))


@bp.get("/<month>/report.pdf")
@require(*VIEWERS)
def report_pdf(month):
    r = services.build_report(_month(month), _customer())
    return send_download(services.render_pdf(r), services.report_filename(r, None, "pdf"), "application/pdf")


@bp.get("/<month>/report.xlsx")
@require(*VIEWERS)
def report_xlsx(month):
    r = services.build_report(_month(month), _customer())
    return send_download(services.report_xlsx(r), services.report_filename(r, None, "xlsx"), XLSX_MIMETYPE)


@bp.post("/<month>/issue")
@require(*MANAGER)
def issue(month):
    month, customer = _month(month), _customer()
    form = IssueForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            done = services.issue_report(month, customer, current_user, form.note.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("Version %(version)s of the report was issued and filed in the archive.", version=done.version))
    else:
        flash(_("The report was not issued: check the note."))
    return redirect(url_for(".report", month=f"{month:%Y-%m}", customer=customer.id if customer else None))


@bp.route("/<month>/safety", methods=["GET", "POST"])
@require(*MANAGER)
def safety(month):
    month = _month(month)
    row = services.safety_for(month)
    form = SafetyForm(obj=row)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_safety(month, current_user, days_without_lti=form.days_without_lti.data,
                                 incidents=form.incidents.data, near_misses=form.near_misses.data,
                                 remarks=form.remarks.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("The safety figures were saved."))
            return redirect(url_for(".report", month=f"{month:%Y-%m}"))
    return render("operations/monthly/safety_form.html", form=form, month=month)


@bp.post("/statistics")
@require(*MANAGER)
def export_statistics():
    form = ExportForm()
    if form.validate_on_submit():
        month = services.parse_month(form.month.data)
        with service_errors(form) as outcome:
            export, _created = services.export_statistics(month, current_user)
            db.session.commit()
        if outcome.ok:
            return send_download(services.read_stat_export(export), export.filename, XLSX_MIMETYPE)
    exports = list(db.session.scalars(select(GovStatExport).order_by(GovStatExport.month.desc()).limit(24)))
    issues = list(db.session.scalars(select(MonthlyReportIssue).order_by(MonthlyReportIssue.issued_at.desc()).limit(24)))
    return render("operations/monthly/index.html", last=services.last_closed_month(), customers=_customers(),
                  exports=exports, issues=issues, form=form), 400


@bp.get("/statistics/<int:export_id>")
@require(*VIEWERS)
def statistics_file(export_id):
    export = load_or_404(GovStatExport, export_id)
    return send_download(services.read_stat_export(export), export.filename, XLSX_MIMETYPE)
