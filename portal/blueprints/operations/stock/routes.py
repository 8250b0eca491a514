"""The stock book's pages: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....permissions import load_child_or_404, load_or_404, require
from ....timeutil import local_today, utcnow
from ....web import arg_date, arg_int, page_args, parse_date, render, send_download, service_errors
from ....xlsx import XLSX_MIMETYPE
from ...customers.models import Customer
from ..models import Product, Tank
from . import checks, reports, services
from .forms import (
    AdjustmentForm,
    CheckEntryForm,
    DecisionForm,
    ImportForm,
    MarkSentForm,
    RemarkForm,
    ReverseForm,
    SignForm,
)
from .models import DailyReport, StockAdjustment, StockCheckLine, StockMovement, StockPosting

bp = Blueprint("stock", __name__, url_prefix="/stock")

CS = ("cs_manager", "csr")


def _customers():
    return list(db.session.scalars(db.select(Customer).order_by(Customer.code)))


def _tanks():
    return list(db.session.scalars(db.select(Tank).order_by(Tank.code).options(selectinload(Tank.product))))


def _products():
    return list(db.session.scalars(db.select(Product).order_by(Product.code)))


def _names(model, ids):
    if not ids:
        return {}
    return {o.id: o for o in db.session.scalars(db.select(model).where(model.id.in_(ids)))}


def _key_rows(rows):
    """Book stock rows (key, kg, m3) with their customer, tank and product loaded."""
    customers = _names(Customer, {k.customer_id for k, _a, _b in rows})
    tanks = _names(Tank, {k.tank_id for k, _a, _b in rows})
    products = _names(Product, {k.product_id for k, _a, _b in rows})
    return [{"customer": customers.get(k.customer_id), "tank": tanks.get(k.tank_id), "product": products.get(k.product_id),
             "customs_status": k.customs_status, "kg": kg, "m3": m3} for k, kg, m3 in rows]


# ------------------------------------------------------------------------------------ overview

@bp.get("/")
def index():
    day = arg_date("day")
    at = services.day_end(day) if day else None
    rows = _key_rows(services.stock_by_key(at=at))
    per_tank: dict[int, dict] = {}
    for row in rows:
        entry = per_tank.setdefault(row["tank"].id, {"tank": row["tank"], "kg": 0, "m3": 0, "rows": []})
        entry["kg"] += row["kg"]
        entry["m3"] += row["m3"]
        entry["rows"].append(row)
    pending = db.session.scalar(db.select(db.func.count(StockAdjustment.id)).where(StockAdjustment.state == "pending"))
    return render("operations/stock/index.html", day=day, tanks=list(per_tank.values()), pending=pending,
                  yesterday=local_today() - timedelta(days=1))


@bp.get("/customers/<int:customer_id>")
def customer_stock(customer_id: int):
    customer = load_or_404(Customer, customer_id)
    day = arg_date("day")
    at = services.day_end(day) if day else None
    rows = _key_rows(services.stock_by_key(at=at, customer_id=customer.id))
    recent = list(db.session.scalars(services.list_movements(customer_id=customer.id).limit(20)))
    sent = list(db.session.scalars(db.select(DailyReport).where(DailyReport.customer_id == customer.id)
                                   .order_by(DailyReport.day.desc(), DailyReport.version.desc()).limit(10)))
    return render("operations/stock/customer.html", customer=customer, day=day, rows=rows, recent=recent, sent=sent,
                  yesterday=local_today() - timedelta(days=1))


# -------------------------------------------------------------------------------------- ledger

@bp.get("/movements")
def movements():
    customer_id, tank_id, product_id = arg_int("customer"), arg_int("tank"), arg_int("product")
    start, end = arg_date("start"), arg_date("end")
    page, per_page = page_args(50)
    stmt = services.list_movements(customer_id=customer_id, tank_id=tank_id, product_id=product_id, start=start, end=end)
    stmt = stmt.options(selectinload(StockMovement.posting).selectinload(StockPosting.order),
                        selectinload(StockMovement.customer), selectinload(StockMovement.tank),
                        selectinload(StockMovement.product))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return render("operations/stock/movements.html", fragment="operations/stock/_movement_rows.html",
                  pagination=pagination, customers=_customers(), tanks=_tanks(), products=_products(),
                  customer_id=customer_id, tank_id=tank_id, product_id=product_id, start=start, end=end)


def _posting_page(posting, form=None):
    return render("operations/stock/posting.html", posting=posting, form=form or ReverseForm())


@bp.get("/postings/<int:posting_id>")
def posting(posting_id: int):
    return _posting_page(load_or_404(StockPosting, posting_id))


@bp.post("/postings/<int:posting_id>/reverse")
@require(*CS)
def reverse(posting_id: int):
    posting = load_or_404(StockPosting, posting_id, action="edit")
    form = ReverseForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            reversal = services.reverse_posting(posting, current_user, form.reason.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Posting reversed."), "success")
            return redirect(url_for("operations.stock.posting", posting_id=reversal.id))
    return _posting_page(posting, form)


# --------------------------------------------------------------------------------- adjustments

def _adjustment_form(**kw):
    return AdjustmentForm(customer_choices=[(c.id, c.choice_label) for c in _customers()],
                          tank_choices=[(t.id, t.code) for t in _tanks()],
                          product_choices=[(p.id, p.choice_label) for p in _products()], **kw)


@bp.get("/adjustments")
def adjustments():
    state = request.args.get("state", "")
    stmt = db.select(StockAdjustment).order_by(StockAdjustment.id.desc()).options(
        selectinload(StockAdjustment.customer), selectinload(StockAdjustment.tank), selectinload(StockAdjustment.product))
    if state in ("pending", "approved", "rejected"):
        stmt = stmt.where(StockAdjustment.state == state)
    page, per_page = page_args()
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return render("operations/stock/adjustments.html", pagination=pagination, state=state)


@bp.route("/adjustments/new", methods=["GET", "POST"])
@require(*CS)
def new_adjustment():
    form = _adjustment_form()
    if request.method == "GET":
        form.customer_id.data = arg_int("customer") or 0
        form.tank_id.data = arg_int("tank") or 0
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            adj = services.request_adjustment(
                customer_id=form.customer_id.data, tank_id=form.tank_id.data, product_id=form.product_id.data,
                customs_status=form.customs_status.data, direction=form.direction.data, quantity=form.quantity.data,
                unit=form.unit.data, density_20=form.density_20.data, occurred_at=form.occurred_at.utc,
                reason=form.reason.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Adjustment %(ref)s recorded: it posts when a manager approves it.", ref=adj.reference), "success")
            return redirect(url_for("operations.stock.adjustment", adjustment_id=adj.id))
    return render("operations/stock/adjustment_form.html", form=form)


def _adjustment_page(adj, form=None):
    return render("operations/stock/adjustment.html", adj=adj, form=form or DecisionForm(),
                  posting=services.adjustment_posting(adj))


@bp.get("/adjustments/<int:adjustment_id>")
def adjustment(adjustment_id: int):
    return _adjustment_page(load_or_404(StockAdjustment, adjustment_id))


@bp.post("/adjustments/<int:adjustment_id>/decide")
@require("cs_manager")
def decide(adjustment_id: int):
    adj = load_or_404(StockAdjustment, adjustment_id, action="edit")
    form = DecisionForm()
    if form.validate_on_submit():
        with service_errors(form, field="note") as outcome:
            services.decide_adjustment(adj, current_user, approve=form.decision.data == "approve", note=form.note.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Adjustment %(ref)s is now %(state)s.", ref=adj.reference, state=adj.state_label), "success")
            return redirect(url_for("operations.stock.adjustment", adjustment_id=adj.id))
    return _adjustment_page(adj, form)


# ------------------------------------------------------------------------------- morning check

@bp.get("/checks")
def checks_index():
    from .models import StockCheck

    recent = list(db.session.scalars(db.select(StockCheck).order_by(StockCheck.day.desc()).limit(60)))
    return render("operations/stock/checks.html", recent=recent, yesterday=local_today() - timedelta(days=1))


def _parse_day(text):
    """A day from the URL (YYYY-MM-DD) or 404: checked in the view, after the role check."""
    day = parse_date(text)
    if day is None:
        abort(404)
    return day


def _check_day(day):
    if day >= local_today():
        abort(404)
    return day


def _check_page(day, **forms):
    check = checks.check_for(day)
    tanks = [t for t in _tanks() if t.status != "out_of_service" or (check and any(ln.tank_id == t.id for ln in check.lines))]
    lines = {ln.tank_id: ln for ln in check.lines} if check else {}
    book = services.tank_book_on(day)
    entry = forms.pop("entry_form", None) or CheckEntryForm.for_tanks(tanks, formdata=None, data={
        **{f"m3_{t}": ln.physical_m3 for t, ln in lines.items()},
        **{f"density_{t}": ln.density_20 for t, ln in lines.items()}})
    ctx = {"import_form": ImportForm(), "sign_form": SignForm(), "remark_form": RemarkForm(), "import_errors": []}
    ctx.update(forms)
    return render("operations/stock/check.html", day=day, check=check, tanks=tanks, lines=lines, book=book,
                  entry_form=entry, missing=checks.missing_tanks(check) if check and not check.signed else [], **ctx)


@bp.get("/checks/<day>")
def check(day):
    day = _parse_day(day)
    return _check_page(_check_day(day))


@bp.post("/checks/<day>/enter")
@require(*CS)
def check_enter(day):
    day = _parse_day(day)
    day = _check_day(day)
    tanks = _tanks()
    form = CheckEntryForm.for_tanks(tanks)
    if form.validate_on_submit():
        with service_errors() as outcome:
            chk = checks.open_check(day, current_user)
            checks.save_entries(chk, [checks.Entry(t, m3, density) for t, m3, density in form.entered()], current_user,
                                source=_("entered"))
            db.session.commit()
        if outcome.ok:
            flash(_("Physical stock saved."), "success")
            return redirect(url_for("operations.stock.check", day=day))
    return _check_page(day, entry_form=form)


@bp.post("/checks/<day>/import")
@require(*CS)
def check_import(day):
    day = _parse_day(day)
    day = _check_day(day)
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            data = upload.read()
        finally:
            upload.close()
        with service_errors(form, field="file") as outcome:
            try:
                chk = checks.open_check(day, current_user)
                lines = checks.import_export(chk, upload.filename, data, current_user)
            except checks.ImportRejected as exc:
                errors = exc.errors
                raise
            db.session.commit()
        if outcome.ok:
            flash(_("%(n)s tank(s) imported.", n=len(lines)), "success")
            return redirect(url_for("operations.stock.check", day=day))
    return _check_page(day, import_form=form, import_errors=errors)


@bp.post("/checks/<day>/lines/<int:line_id>/remark")
@require(*CS)
def check_remark(day, line_id: int):
    day = _parse_day(day)
    chk = checks.check_for(_check_day(day))
    if chk is None:
        abort(404)
    line = load_child_or_404(StockCheckLine, line_id, parent=chk, action="edit")
    form = RemarkForm()
    if form.validate_on_submit():
        with service_errors(form, field="remark") as outcome:
            checks.set_remark(line, form.remark.data, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Remark saved."), "success")
            return redirect(url_for("operations.stock.check", day=day) + f"#line-{line.id}")
    return _check_page(day, remark_form=form)


@bp.post("/checks/<day>/sign")
@require(*CS)
def check_sign(day):
    day = _parse_day(day)
    chk = checks.check_for(_check_day(day))
    if chk is None:
        abort(404)
    form = SignForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            checks.sign_check(chk, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Morning check of %(day)s signed.", day=day.isoformat()), "success")
    return redirect(url_for("operations.stock.check", day=day))


# ---------------------------------------------------------------------------------- daily report

@bp.get("/reports")
def reports_index():
    day = arg_date("day", local_today() - timedelta(days=1))
    return render("operations/stock/reports.html", day=day, statuses=reports.statuses(day), labels=reports.state_labels(),
                  prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1), now=utcnow())


def _report_page(customer, day, form=None):
    report = reports.build(customer, day)
    versions = reports.sent_versions(customer, day)
    changed = bool(versions) and versions[-1].figures_digest != report.digest
    form = form or MarkSentForm(data={"recipients": "\n".join(customer.recipients)})
    return render("operations/stock/report.html", report=report, columns=reports.COLUMNS, labels=reports.COLUMN_LABELS,
                  versions=versions, changed=changed, form=form, due_at=reports.due_at(customer, day),
                  can_send=day < local_today(), prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))


@bp.get("/reports/<int:customer_id>/<day>")
def report(customer_id: int, day):
    day = _parse_day(day)
    return _report_page(load_or_404(Customer, customer_id), day)


@bp.get("/reports/<int:customer_id>/<day>/report.pdf")
def report_pdf(customer_id: int, day):
    day = _parse_day(day)
    customer = load_or_404(Customer, customer_id)
    report = reports.build(customer, day)
    return send_download(reports.render_pdf(report), report.filename + ".pdf", "application/pdf", inline=True)


@bp.get("/reports/<int:customer_id>/<day>/report.xlsx")
def report_xlsx(customer_id: int, day):
    day = _parse_day(day)
    customer = load_or_404(Customer, customer_id)
    report = reports.build(customer, day)
    return send_download(reports.render_xlsx(report), report.filename + ".xlsx", XLSX_MIMETYPE)


@bp.post("/reports/<int:customer_id>/<day>/sent")
@require(*CS)
def report_sent(customer_id: int, day):
    day = _parse_day(day)
    customer = load_or_404(Customer, customer_id, action="edit")
    form = MarkSentForm()
    if form.validate_on_submit():
        with service_errors(form, field="recipients") as outcome:
            sent, queued = reports.send_report(customer, day, current_user, recipients=form.recipient_list)
            db.session.commit()
        if outcome.ok:
            flash(_("Daily report version %(v)s sent (%(n)s e-mail(s) queued) and filed in the archive.",
                    v=sent.version, n=len(queued)), "success")
            return redirect(url_for("operations.stock.report", customer_id=customer.id, day=day))
    return _report_page(customer, day, form)


@bp.get("/reports/<int:customer_id>/sent/<int:report_id>")
def sent_report(customer_id: int, report_id: int):
    customer = load_or_404(Customer, customer_id)
    sent = load_child_or_404(DailyReport, report_id, parent=customer)
    return send_download(reports.read_sent(sent), sent.filename, "application/pdf")
