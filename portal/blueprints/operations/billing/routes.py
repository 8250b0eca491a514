"""Billing records' pages: thin routes (load + authorise -> form -> service -> commit -> render).

Customer service only: CSRs and managers prepare, review, record the customer's agreement, export and
correct; admins pass every role check."""
from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....permissions import load_child_or_404, load_or_404, require
from ....timeutil import local_today, to_local
from ....web import arg_int, page_args, post_change, render, send_download
from ....xlsx import XLSX_MIMETYPE
from ...customers.models import Customer
from ..models import Order, Tank
from . import services
from .forms import AgreementForm, ConfirmForm, CorrectionForm, PrepareForm, ServiceForm
from .models import LINE_KINDS, RUN_STATES, BillingExport, BillingLine, BillingRun, BillingService

bp = Blueprint("billing", __name__, url_prefix="/billing")

CS = ("cs_manager", "csr")


def _customers():
    return list(db.session.scalars(db.select(Customer).order_by(Customer.code)))


def _prepare_form(**kw):
    form = PrepareForm(customer_choices=[(c.id, c.choice_label) for c in _customers()], **kw)
    return form


def _run_url(run: BillingRun) -> str:
    return url_for("operations.billing.run", run_id=run.id)


def _month_arg():
    raw = request.args.get("month", "").strip()
    if not raw:
        return None
    month = services.parse_month(raw)
    if month is None:
        abort(404)
    return month


# ---------------------------------------------------------------------------------------- runs

@bp.get("/")
@require(*CS)
def index():
    customer_id, state, month = arg_int("customer"), request.args.get("state", ""), _month_arg()
    stmt = (db.select(BillingRun).join(Customer, Customer.id == BillingRun.customer_id)
            .options(selectinload(BillingRun.customer), selectinload(BillingRun.lines), selectinload(BillingRun.exports))
            .order_by(BillingRun.month.desc(), Customer.code))
    if customer_id:
        stmt = stmt.where(BillingRun.customer_id == customer_id)
    if state in RUN_STATES:
        stmt = stmt.where(BillingRun.state == state)
    else:
        state = ""
    if month:
        stmt = stmt.where(BillingRun.month == month)
    page, per_page = page_args(50)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    form = _prepare_form()
    if not form.month.data:
        form.month.data = f"{services.last_closed_month():%Y-%m}"
    return render("operations/billing/index.html", pagination=pagination, customers=_customers(), states=RUN_STATES,
                  customer_id=customer_id, state=state, month=month, form=form)


@bp.route("/prepare", methods=["GET", "POST"])
@require(*CS)
def prepare():
    form = _prepare_form()
    if request.method == "GET":
        form.customer_id.data = arg_int("customer") or 0
        form.month.data = request.args.get("month", "")[:7] or f"{services.last_closed_month():%Y-%m}"
    return post_change(
        form, lambda: services.prepare_run(load_or_404(Customer, form.customer_id.data), form.month_date, current_user),
        done=lambda run: _("Billing run %(number)s prepared: %(count)s lines.", number=run.number,
                           count=len(run.lines)),
        to=_run_url, page=lambda: render("operations/billing/prepare.html", form=form))


def _run_page(run, **forms):
    groups: dict[str, dict] = {}
    for kind in LINE_KINDS:
        lines = [line for line in run.lines if line.kind == kind]
        if lines:
            groups[kind] = {"label": LINE_KINDS[kind], "lines": lines,
                            "subtotal": sum((line.amount for line in lines), services.ZERO)}
    others = [line for line in run.lines if line.kind not in LINE_KINDS]
    if others:
        groups["other"] = {"label": _("Other"), "lines": others, "subtotal": sum((ln.amount for ln in others), services.ZERO)}
    ctx = {"agreement_form": AgreementForm(), "confirm": ConfirmForm()}
    ctx.update(forms)
    return render("operations/billing/run.html", run=run, groups=groups, current=services.is_current(run),
                  unpriced=services.unpriced_services(run), **ctx)


@bp.get("/runs/<int:run_id>")
@require(*CS)
def run(run_id: int):
    return _run_page(load_or_404(BillingRun, run_id))


def _transition(run_id: int, action, done):
    run = load_or_404(BillingRun, run_id, action="edit")
    return post_change(ConfirmForm(), lambda: action(run), done=done, to=_run_url(run))


@bp.post("/runs/<int:run_id>/prepare")
@require(*CS)
def prepare_again(run_id: int):
    return _transition(run_id, lambda r: services.prepare_run(r.customer, r.month, current_user),
                       _("The run is prepared again from the records."))


@bp.post("/runs/<int:run_id>/review")
@require(*CS)
def review(run_id: int):
    return _transition(run_id, lambda r: services.review_run(r, current_user), _("Run marked as reviewed."))


@bp.post("/runs/<int:run_id>/reopen")
@require(*CS)
def reopen(run_id: int):
    return _transition(run_id, lambda r: services.reopen_run(r, current_user), _("Run reopened as a draft."))


@bp.post("/runs/<int:run_id>/agree")
@require(*CS)
def agree(run_id: int):
    run = load_or_404(BillingRun, run_id, action="edit")
    form = AgreementForm()
    return post_change(form, lambda: services.record_agreement(run, current_user, by_name=form.by_name.data,
                                                               at=form.at.utc, how=form.how.data, note=form.note.data),
                       done=_("The customer's agreement is recorded."), to=_run_url(run),
                       page=lambda: _run_page(run, agreement_form=form))


@bp.post("/runs/<int:run_id>/export")
@require(*CS)
def export(run_id: int):
    return _transition(run_id, lambda r: services.export_run(r, current_user),
                       lambda done: _("Exported to finance as version %(version)s; the month is locked.",
                                      version=done.version))


@bp.get("/runs/<int:run_id>/exports/<int:export_id>")
@require(*CS)
def download(run_id: int, export_id: int):
    run = load_or_404(BillingRun, run_id)
    done = load_child_or_404(BillingExport, export_id, parent=run)
    try:
        data = services.read_export(done)
    except (FileNotFoundError, ValueError):
        abort(404)
    return send_download(data, done.filename, XLSX_MIMETYPE)


# --------------------------------------------------------------------------------------- lines

def _line_page(line, form=None):
    return render("operations/billing/line.html", line=line, form=form or CorrectionForm(),
                  corrections=services.corrections_of(line))


@bp.get("/lines/<int:line_id>")
@require(*CS)
def line(line_id: int):
    return _line_page(load_or_404(BillingLine, line_id))


@bp.post("/lines/<int:line_id>/correct")
@require(*CS)
def correct(line_id: int):
    line = load_or_404(BillingLine, line_id, action="edit")
    form = CorrectionForm()
    return post_change(form, lambda: services.add_correction(line, current_user, amount=form.signed_amount,
                                                             reason=form.reason.data, quantity=form.quantity.data),
                       done=lambda correction: _("Correction entered in the run %(number)s.",
                                                 number=correction.run.number),
                       to=lambda correction: _run_url(correction.run), page=lambda: _line_page(line, form))


# ------------------------------------------------------------------------------------ services

def _service_form(**kw):
    tanks = db.session.scalars(db.select(Tank).order_by(Tank.code))
    form = ServiceForm(customer_choices=[(c.id, c.choice_label) for c in _customers()],
                       tank_choices=[(t.id, t.code) for t in tanks], **kw)
    number = (form.order_number.data or request.args.get("order", "")).strip()[:20]
    order = db.session.scalar(db.select(Order).where(Order.number == number)) if number else None
    if order is not None:  # the abnormal events of the order named on the form
        form.event_id.choices += [(e.id, f"{to_local(e.occurred_at):%Y-%m-%d %H:%M} {e.kind_label}") for e in order.events]
    return form


@bp.get("/services")
@require(*CS)
def services_index():
    customer_id, month = arg_int("customer"), _month_arg()
    stmt = (db.select(BillingService).options(selectinload(BillingService.customer), selectinload(BillingService.order),
                                              selectinload(BillingService.tank))
            .order_by(BillingService.day.desc(), BillingService.id.desc()))
    if customer_id:
        stmt = stmt.where(BillingService.customer_id == customer_id)
    if month:
        stmt = stmt.where(BillingService.day >= month, BillingService.day < services.next_month(month))
    page, per_page = page_args(50)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return render("operations/billing/services.html", pagination=pagination, customers=_customers(),
                  customer_id=customer_id, month=month, confirm=ConfirmForm())


@bp.route("/services/new", methods=["GET", "POST"])
@require(*CS)
def service_new():
    form = _service_form()
    if request.method == "GET":
        form.customer_id.data = arg_int("customer") or 0
        form.day.data = local_today()
        form.order_number.data = request.args.get("order", "")[:20]
        form.event_id.data = arg_int("event") or 0

    def record():
        customer = load_or_404(Customer, form.customer_id.data)
        tank = load_or_404(Tank, form.tank_id.data) if form.tank_id.data else None
        services.record_service(customer=customer, day=form.day.data, kind=form.kind.data,
                                description=form.description.data, quantity=form.quantity.data, unit=form.unit.data,
                                order_number=form.order_number.data or "", event_id=form.event_id.data or None,
                                tank=tank, user=current_user)
        return customer

    return post_change(form, record, done=_("Chargeable service recorded: it is billed in the run of its month."),
                       to=lambda customer: url_for("operations.billing.services_index", customer=customer.id),
                       page=lambda: render("operations/billing/service_form.html", form=form))


@bp.post("/services/<int:service_id>/delete")
@require(*CS)
def service_delete(service_id: int):
    service = load_or_404(BillingService, service_id, action="edit")
    return post_change(ConfirmForm(), lambda: services.delete_service(service), done=_("Chargeable service removed."),
                       to=url_for("operations.billing.services_index"))
