"""Management of change: thin routes (URLs stay under /complaints/moc)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import db
from ...permissions import load_child_or_404, load_or_404, require
from ...web import arg_int, render, service_errors
from ..complaints.models import Complaint
from ..customers.services import customer_choices
from . import services
from .forms import MocForm, MocItemForm
from .models import MocItem, MocRequest

bp = Blueprint("moc", __name__, url_prefix="/complaints/moc")

CS = ("cs_manager", "csr")


@bp.get("")
def index():
    return render("moc/index.html", rows=services.visible_mocs(current_user))


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:moc_id>/edit", methods=["GET", "POST"])
@require(*CS)
def edit(moc_id: int | None = None):
    moc = load_or_404(MocRequest, moc_id, action="edit") if moc_id else None
    complaint = None
    complaint_id = arg_int("complaint") if moc is None else moc.complaint_id
    if complaint_id:
        complaint = load_or_404(Complaint, complaint_id)
    form = MocForm(obj=moc, customer_choices=customer_choices())
    if request.method == "GET" and moc is None and complaint is not None:
        form.customer_id.data = complaint.customer_id
        form.title.data = _("Change following %(ref)s", ref=complaint.ref)
    if form.validate_on_submit():
        fields = {k: v for k, v in form.data.items() if k != "csrf_token"}
        if moc is None:
            fields["complaint_id"] = complaint.id if complaint else None
        with service_errors(form, field="title") as outcome:
            moc = services.save_moc(moc, current_user, **fields)
            db.session.commit()
        if outcome.ok:
            flash(_("Change request %(ref)s saved.", ref=moc.ref), "success")
            return redirect(url_for("moc.detail", moc_id=moc.id))
    return render("moc/form.html", form=form, moc=moc, complaint=complaint)


def _moc_page(moc, **forms):
    ctx = {"item_form": MocItemForm(prefix="item", staff_choices=services.owner_choices())}
    ctx.update(forms)
    return render("moc/detail.html", moc=moc, **ctx)


@bp.get("/<int:moc_id>")
def detail(moc_id: int):
    return _moc_page(load_or_404(MocRequest, moc_id))


@bp.post("/<int:moc_id>/items")
@require(*CS)
def add_item(moc_id: int):
    moc = load_or_404(MocRequest, moc_id, action="edit")
    form = MocItemForm(prefix="item", staff_choices=services.owner_choices())
    if form.validate_on_submit():
        with service_errors(form, field="description") as outcome:
            services.add_moc_item(moc, kind=form.kind.data, description=form.description.data, owner_id=form.owner_id.data,
                                  due_date=form.due_date.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Item added."), "success")
            return redirect(url_for("moc.detail", moc_id=moc.id))
    return _moc_page(moc, item_form=form)


@bp.post("/<int:moc_id>/items/<int:item_id>/toggle")
@require(*CS)
def toggle_item(moc_id: int, item_id: int):
    moc = load_or_404(MocRequest, moc_id, action="edit")
    item = load_child_or_404(MocItem, item_id, parent=moc, action="edit")
    with service_errors():
        services.set_moc_item(item, not item.done)
        db.session.commit()
    return redirect(url_for("moc.detail", moc_id=moc.id))


@bp.post("/<int:moc_id>/<any(approve, reject, implement):step>")
@require(*CS)
def step(moc_id: int, step: str):
    moc = load_or_404(MocRequest, moc_id, action="edit")
    with service_errors() as outcome:
        if step == "implement":
            services.implement_moc(moc, current_user)
        else:
            services.approve_moc(moc, current_user, approve=step == "approve")
        db.session.commit()
    if outcome.ok:
        flash(_("Change request %(ref)s updated.", ref=moc.ref), "success")
    return redirect(url_for("moc.detail", moc_id=moc.id))


@bp.context_processor
def _template_helpers():
    from ...markdown import render_markdown

    return {"render_markdown": render_markdown}
