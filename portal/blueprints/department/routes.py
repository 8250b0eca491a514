"""The department: my customers, portfolios and handover, absences and cover, the acting manager, workload."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import User
from ...permissions import load_or_404, require
from ...timeutil import local_today, to_local, utcnow
from ...web import arg_int, render, service_errors
from ...xlsx import workbook_response
from . import services
from .forms import AbsenceForm, ActingForm, BackupForm, ConfirmForm, ReassignForm
from .models import Absence, ActingManager, Customer, Handover, backup_csrs, responsible_csr

bp = Blueprint("department", __name__, url_prefix="/department")

CS = ("cs_manager", "csr")


def _staff():
    return [(u.id, u.display_name) for u in services.cs_staff()]


@bp.get("/")
def index():
    """My customers (or another CSR's, for a manager or the CSR's cover during an absence)."""
    csr = current_user
    csr_id = arg_int("csr")
    if csr_id and csr_id != current_user.id:
        csr = load_or_404(User, csr_id)
        if not services.may_see_portfolio(current_user, csr):
            abort(403)
    customers = services.portfolio(csr)
    return render("department/index.html", csr=csr, work=services.customer_lines(customers, current_user),
                  backups=services.backup_portfolio(csr), covering=services.covering_for(current_user),
                  csrs=services.csrs() if current_user.has_role("admin", "cs_manager") else [],
                  absences=services.absences(user=csr), now=utcnow())


@bp.route("/portfolios", methods=["GET", "POST"])
@require("cs_manager")
def portfolios():
    customers = list(db.session.scalars(db.select(Customer).options(selectinload(Customer.csr))
                                        .filter(Customer.active.is_(True)).order_by(Customer.code)))
    form = ReassignForm(customer_choices=[(c.id, f"{c.code} · {c.csr.display_name if c.csr else '—'}") for c in customers],
                        staff_choices=_staff())
    from_id = arg_int("from")
    if not form.is_submitted() and from_id:
        form.customer_ids.data = [c.id for c in customers if c.csr_id == from_id]
    if form.validate_on_submit():
        chosen = [c for c in customers if c.id in set(form.customer_ids.data)]
        with service_errors(form) as outcome:
            handover = services.reassign(chosen, form.to_user_id.data, user=current_user, note=form.note.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Portfolio handed over: %(n)s item(s) of open work moved.",
                    n=sum(1 for i in handover.items if i.kind != "customer")), "success")
            return redirect(url_for(".handover", handover_id=handover.id))
    backups = backup_csrs(customers)
    rows = [(c, backups.get(c.id)) for c in customers]
    handovers = list(db.session.scalars(db.select(Handover).options(selectinload(Handover.from_user),
                                                                    selectinload(Handover.to_user))
                                        .order_by(Handover.at.desc()).limit(20)))
    return render("department/portfolios.html", form=form, rows=rows, handovers=handovers, csrs=services.csrs())


@bp.route("/customers/<int:customer_id>", methods=["GET", "POST"])
@require(*CS)
def customer(customer_id: int):
    """A customer's responsible and backup CSR, and who was responsible when."""
    cust = load_or_404(Customer, customer_id)
    form = BackupForm(staff_choices=_staff(), data={"backup_id": getattr(services.backup_csr(cust), "id", 0)})
    if form.validate_on_submit():
        if not current_user.has_role("admin", "cs_manager"):
            abort(403)
        with service_errors(form) as outcome:
            services.set_backup(cust, form.backup_id.data or None)
            db.session.commit()
        if outcome.ok:
            flash(_("Saved."), "success")
            return redirect(url_for(".customer", customer_id=cust.id))
    return render("department/customer.html", customer=cust, form=form, responsible=responsible_csr(cust),
                  backup=services.backup_csr(cust), history=services.history(cust))


@bp.get("/handovers/<int:handover_id>")
@require(*CS)
def handover(handover_id: int):
    return render("department/handover.html", handover=load_or_404(Handover, handover_id))


@bp.route("/absences", methods=["GET", "POST"])
@require(*CS)
def absences():
    manager = current_user.has_role("admin", "cs_manager")
    people = [(u.id, u.display_name) for u in services.cs_staff()] if manager else [(current_user.id, current_user.display_name)]
    absent = current_user
    form = AbsenceForm(people=people, staff_choices=_staff(), customers=services.portfolio(current_user))
    if form.is_submitted() and form.user_id.data and form.user_id.data != current_user.id and manager:
        absent = load_or_404(User, form.user_id.data)
        form.customers = services.portfolio(absent)
    if not form.is_submitted():
        form.user_id.data = current_user.id
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.record_absence(absent, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                                    reason=form.reason.data, cover_id=form.cover_id.data or None,
                                    customer_covers=form.customer_covers(), handover_note=form.handover_note.data,
                                    user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Absence recorded."), "success")
            return redirect(url_for(".absences"))
    rows = services.absences(include_past=False) if manager else services.absences(user=current_user)
    return render("department/absences.html", form=form, rows=rows, today=local_today(), cancel_form=ConfirmForm())


@bp.post("/absences/<int:absence_id>/cancel")
@require(*CS)
def cancel_absence(absence_id: int):
    absence = load_or_404(Absence, absence_id, action="edit")
    form = ConfirmForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            services.cancel_absence(absence)
            db.session.commit()
        if outcome.ok:
            flash(_("Absence ended: everything returns to %(name)s.", name=absence.user.display_name), "success")
    return redirect(url_for(".absences"))


@bp.route("/acting", methods=["GET", "POST"])
@require(*CS)
def acting():
    may_name = "cs_manager" in current_user.role_names
    form = ActingForm(staff_choices=_staff())
    if form.validate_on_submit():
        if not may_name:
            abort(403)
        with service_errors(form) as outcome:
            services.name_acting_manager(current_user, form.deputy_id.data, starts_on=form.starts_on.data,
                                         ends_on=form.ends_on.data, note=form.note.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Acting manager named."), "success")
            return redirect(url_for(".acting"))
    return render("department/acting.html", form=form, may_name=may_name, rows=services.acting_periods(include_past=True),
                  now=utcnow(), end_form=ConfirmForm(), to_local=to_local)


@bp.post("/acting/<int:acting_id>/end")
@require("cs_manager")
def end_acting(acting_id: int):
    row = load_or_404(ActingManager, acting_id)
    if row.manager_id != current_user.id and not current_user.has_role("admin"):
        abort(403)
    form = ConfirmForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            services.end_acting(row)
            db.session.commit()
        if outcome.ok:
            flash(_("The acting period has ended."), "success")
    return redirect(url_for(".acting"))


@bp.post("/notices/read")
@require(*CS)
def read_notices():
    if ConfirmForm().validate_on_submit():
        services.mark_read(current_user)
        db.session.commit()
    return redirect(url_for("dashboard.index"))


@bp.get("/workload")
@require("cs_manager")
def workload():
    rows = services.workload(current_user)
    csr_id = arg_int("csr")
    chosen = next((r for r in rows if r.user.id == csr_id), None) if csr_id else None
    if csr_id and chosen is None:
        abort(404)
    return render("department/workload.html", rows=rows, chosen=chosen, kinds=services.KINDS,
                  buckets=[b[0] for b in services.AGE_BUCKETS], now=utcnow())


@bp.get("/workload.xlsx")
@require("cs_manager")
def workload_xlsx():
    rows = services.workload(current_user)
    return workbook_response(f"workload-{local_today().isoformat()}.xlsx", services.workload_sheets(rows))
