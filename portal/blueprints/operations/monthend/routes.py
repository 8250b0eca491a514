"""Month-end reconciliation and sign-off: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....permissions import load_or_404, require
from ....timeutil import local_today
from ....web import render, send_download, service_errors
from ...admin.services import staff_choices
from ...customers.models import Customer
from ..models import Product, Tank
from . import reports, services
from .forms import (
    AcceptForm,
    ApproveForm,
    CorrectionForm,
    ImportFiguresForm,
    MonthForm,
    OwnerForm,
    PrepareForm,
    ProposeForm,
    SignOffForm,
    UseStockBookForm,
)
from .models import COMPARISONS, INVESTIGATION_STATES, MonthEnd, VarianceInvestigation

bp = Blueprint("monthend", __name__, url_prefix="/month-end")

CS = ("cs_manager", "csr")
MANAGER = ("cs_manager",)


def _month(text: str):
    month = services.parse_month(text)
    if month is None or len(text) != 7 or month.year < 2000 or month.year > 2100:
        abort(404)
    return month


def _url(month) -> str:
    return url_for("operations.monthend.month", month=f"{month:%Y-%m}")


@bp.route("/", methods=["GET", "POST"])
def index():
    form = MonthForm()
    if form.validate_on_submit():
        return redirect(_url(services.parse_month(form.month.data)))
    stmt = select(MonthEnd).options(selectinload(MonthEnd.prepared_by), selectinload(MonthEnd.signed_off_by))
    awaiting = request.args.get("awaiting") == "1"  # the dashboard's "months awaiting sign-off"
    if awaiting:
        stmt = stmt.where(MonthEnd.state != "signed_off")
    periods = list(db.session.scalars(stmt.order_by(MonthEnd.month.desc()).limit(36)))
    previous = services.month_of(services.month_of(local_today()) - timedelta(days=1))
    return render("operations/monthend/index.html", form=form, periods=periods, previous=previous,
                  awaiting=awaiting, investigations=services.open_investigations())


@bp.get("/investigations")
@require(*CS)
def investigations():
    """Open variance investigations of every month (the dashboard's list)."""
    return render("operations/monthend/investigations.html", investigations=services.open_investigations())


def _user_choices():
    return staff_choices(cs_only=True, blank=False)


def _month_page(month, *, import_form=None, sign_form=None, import_errors=(), status=200):
    period = services.period_for(month)
    rows = services.variances(month)
    return render("operations/monthend/month.html", month=month, period=period, rows=rows,
                  totals=services.totals(rows), shared=any(r.shared for r in rows),
                  investigations=list(db.session.scalars(select(VarianceInvestigation).where(
                      VarianceInvestigation.period_id == period.id).order_by(VarianceInvestigation.id))) if period else [],
                  blockers=services.sign_off_blockers(period) if period and not period.locked else [],
                  corrections=services.corrections(period) if period else [],
                  import_form=import_form or ImportFiguresForm(), book_form=UseStockBookForm(),
                  prepare_form=PrepareForm(), sign_form=sign_form or SignOffForm(), import_errors=import_errors,
                  columns=services.IMPORT_COLUMNS, inv_labels={k: str(v) for k, v in INVESTIGATION_STATES.items()},
                  comparison_names=list(COMPARISONS), comparison_labels={k: str(v) for k, v in COMPARISONS.items()}), status


@bp.get("/<string:month>")
def month(month: str):
    return _month_page(_month(month))


@bp.post("/<string:month>/prepare")
@require(*CS)
def prepare(month: str):
    m = _month(month)
    form = PrepareForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            period = services.prepare(m, current_user)
            db.session.commit()
        if outcome.ok:
            count = len(services.open_investigations(period))
            flash(_("The reconciliation of %(month)s is prepared; %(count)s investigation(s) open.",
                    month=month, count=count), "success")
    return redirect(_url(m))


@bp.post("/<string:month>/import")
@require(*CS)
def import_figures(month: str):
    m = _month(month)
    form = ImportFiguresForm()
    errors = []
    if form.validate_on_submit():
        upload = form.file.data
        with service_errors(form, field="file") as outcome:
            count = services.import_figures(m, form.source.data, upload.filename, upload.read(), current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("%(count)s row(s) imported.", count=count), "success")
            return redirect(_url(m))
        errors = getattr(outcome.error, "errors", [])
    return _month_page(m, import_form=form, import_errors=errors, status=422)


@bp.post("/<string:month>/stock-book")
@require(*CS)
def use_stock_book(month: str):
    m = _month(month)
    form = UseStockBookForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            services.use_stock_book(m, form.source.data)
            db.session.commit()
        if outcome.ok:
            flash(_("The figures come from the stock book again."), "success")
    return redirect(_url(m))


@bp.post("/<string:month>/sign-off")
@require(*MANAGER)
def sign_off(month: str):
    m = _month(month)
    period = services.period_for(m)
    if period is None:
        abort(404)
    form = SignOffForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            blockers = services.sign_off_blockers(period)
            files = reports.report_files(m, current_user) if not blockers else None
            services.sign_off(period, current_user, note=form.note.data, report_files=files)
            db.session.commit()
        if outcome.ok:
            flash(_("%(month)s is signed off and locked.", month=month), "success")
            return redirect(_url(m))
    return _month_page(m, sign_form=form, status=422)


@bp.get("/<string:month>/report.pdf")
def report_pdf(month: str):
    m = _month(month)
    return send_download(reports.report_pdf(m), f"month-end-{month}.pdf", "application/pdf")


@bp.get("/<string:month>/report.xlsx")
def report_xlsx(month: str):
    m = _month(month)
    return send_download(reports.report_xlsx(m), f"month-end-{month}.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _investigation_page(inv, status=200, **forms):
    ctx = dict(owner_form=OwnerForm(user_choices=_user_choices(), owner_id=inv.owner_id or 0),
               propose_form=ProposeForm(cause=inv.cause, resolution=inv.resolution),
               approve_form=ApproveForm(), accept_form=AcceptForm())
    ctx.update(forms)
    return render("operations/monthend/investigation.html", inv=inv, **ctx), status


@bp.get("/investigations/<int:inv_id>")
def investigation(inv_id: int):
    return _investigation_page(load_or_404(VarianceInvestigation, inv_id))


@bp.post("/investigations/<int:inv_id>/owner")
@require(*CS)
def assign(inv_id: int):
    inv = load_or_404(VarianceInvestigation, inv_id, action="edit")
    form = OwnerForm(user_choices=_user_choices())
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.assign(inv, form.owner_id.data or None, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Owner saved."), "success")
            return redirect(url_for("operations.monthend.investigation", inv_id=inv.id))
    return _investigation_page(inv, 422, owner_form=form)


@bp.post("/investigations/<int:inv_id>/propose")
@require(*CS)
def propose(inv_id: int):
    inv = load_or_404(VarianceInvestigation, inv_id, action="edit")
    form = ProposeForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.propose(inv, cause=form.cause.data, resolution=form.resolution.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Resolution proposed: a manager approves it."), "success")
            return redirect(url_for("operations.monthend.investigation", inv_id=inv.id))
    return _investigation_page(inv, 422, propose_form=form)


@bp.post("/investigations/<int:inv_id>/approve")
@require(*MANAGER)
def approve(inv_id: int):
    inv = load_or_404(VarianceInvestigation, inv_id, action="edit")
    form = ApproveForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            services.approve(inv, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Resolution approved."), "success")
            return redirect(url_for("operations.monthend.investigation", inv_id=inv.id))
    return _investigation_page(inv, 422)


@bp.post("/investigations/<int:inv_id>/accept")
@require(*MANAGER)
def accept(inv_id: int):
    inv = load_or_404(VarianceInvestigation, inv_id, action="edit")
    form = AcceptForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.accept(inv, form.reason.data, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Variance accepted."), "success")
            return redirect(url_for("operations.monthend.investigation", inv_id=inv.id))
    return _investigation_page(inv, 422, accept_form=form)


def _correction_form(formdata=None):
    return CorrectionForm(
        customer_choices=[(c.id, c.code) for c in db.session.scalars(select(Customer).order_by(Customer.code))],
        tank_choices=[(t.id, t.code) for t in db.session.scalars(select(Tank).order_by(Tank.code))],
        product_choices=[(p.id, p.code) for p in db.session.scalars(select(Product).order_by(Product.code))])


@bp.route("/<string:month>/corrections/new", methods=["GET", "POST"])
@require(*CS)
def new_correction(month: str):
    m = _month(month)
    period = services.period_for(m)
    if period is None or not period.locked:
        abort(404)
    form = _correction_form()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.add_correction(period, customer_id=form.customer_id.data, tank_id=form.tank_id.data,
                                    product_id=form.product_id.data, customs_status=form.customs_status.data,
                                    direction=form.direction.data, quantity=form.quantity.data, unit=form.unit.data,
                                    density_20=form.density_20.data, reason=form.reason.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Correction entered as a stock adjustment of %(month)s, awaiting a manager's approval.",
                    month=f"{services.correction_month(m):%Y-%m}"), "success")
            return redirect(_url(m))
    return render("operations/monthend/correction.html", form=form, month=m, period=period,
                  target=services.correction_month(m)), 422 if form.is_submitted() else 200
