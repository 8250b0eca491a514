"""Government relations: authorities, visits with follow-up actions, certificates and approvals.

URLs stay under /knowledge/gov, where they were when this lived in the knowledge base."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...permissions import load_or_404, require
from ...timeutil import local_today
from ...web import render
from ..admin.services import department_choices, staff_choices
from . import services
from .forms import ActionForm, AuthorityForm, PermitForm, VisitForm
from .models import EDITOR_ROLES, Authority, FollowUpAction, Permit, Visit, is_editor

bp = Blueprint("government", __name__, url_prefix="/knowledge/gov")


@bp.get("")
def index():
    today = local_today()
    permits = db.session.scalars(db.select(Permit).order_by(Permit.expires_on.is_(None), Permit.expires_on).options(
        selectinload(Permit.authority), selectinload(Permit.department), selectinload(Permit.created_by))).all()
    visits = db.session.scalars(db.select(Visit).order_by(Visit.visit_date.desc()).limit(50).options(
        selectinload(Visit.authority), selectinload(Visit.created_by))).all()
    authorities = db.session.scalars(db.select(Authority).order_by(Authority.name_en)).all()
    return render("government/index.html", permits=permits, visits=visits, authorities=authorities, today=today,
                  actions=services.open_actions(), can_edit=is_editor(current_user),
                  scans=services.scanned_records(permits, current_user))


@bp.route("/authorities/new", methods=["GET", "POST"], defaults={"authority_id": None})
@bp.route("/authorities/<int:authority_id>/edit", methods=["GET", "POST"])
@require(*EDITOR_ROLES)
def authority_edit(authority_id):
    authority = load_or_404(Authority, authority_id, action="edit") if authority_id else None
    form = AuthorityForm(obj=authority)
    if form.validate_on_submit():
        if authority is None:
            authority = Authority()
            db.session.add(authority)
        form.populate_obj(authority)
        db.session.commit()
        flash(_("Authority saved."), "success")
        return redirect(url_for("government.index"))
    return render("government/form.html", form=form, heading=_("Authority"))


@bp.route("/visits/new", methods=["GET", "POST"])
@require(*EDITOR_ROLES)
def visit_create():
    form = VisitForm(authority_choices=services.authority_choices(include_blank=False))
    if form.validate_on_submit():
        visit = Visit(created_by_id=current_user.id)
        form.populate_obj(visit)
        db.session.add(visit)
        db.session.commit()
        flash(_("Visit recorded."), "success")
        return redirect(url_for("government.visit", visit_id=visit.id))
    return render("government/form.html", form=form, heading=_("Authority visit"))


@bp.get("/visits/<int:visit_id>")
def visit(visit_id: int):
    v = load_or_404(Visit, visit_id)
    return render("government/visit.html", visit=v, form=ActionForm(user_choices=staff_choices()),
                  today=local_today())


@bp.post("/visits/<int:visit_id>/actions")
@require(*EDITOR_ROLES)
def visit_action(visit_id: int):
    v = load_or_404(Visit, visit_id, action="edit")
    form = ActionForm(user_choices=staff_choices())
    if form.validate_on_submit():
        services.add_action(v, description=form.description.data, owner_id=form.owner_id.data, due_date=form.due_date.data)
        db.session.commit()
        flash(_("Follow-up action added."), "success")
        return redirect(url_for("government.visit", visit_id=v.id))
    return render("government/visit.html", visit=v, form=form, today=local_today())


@bp.post("/actions/<int:action_id>/done")
@require(*EDITOR_ROLES)
def action_done(action_id: int):
    action = load_or_404(FollowUpAction, action_id)
    services.complete_action(action)
    db.session.commit()
    flash(_("Action marked done."), "success")
    return redirect(url_for("government.visit", visit_id=action.visit_id))


@bp.route("/certificates/new", methods=["GET", "POST"], defaults={"permit_id": None})
@bp.route("/certificates/<int:permit_id>", methods=["GET", "POST"])
def permit_edit(permit_id):
    permit = load_or_404(Permit, permit_id) if permit_id else None
    editable = is_editor(current_user)
    if permit is None and not editable:
        abort(403)
    form = PermitForm(obj=permit, authority_choices=services.authority_choices(),
                      department_choices=department_choices(blank=False))
    if request.method == "GET" and permit is not None:
        form.authority_id.data = permit.authority_id or 0
        form.department_id.data = permit.department_id or 0
    if request.method == "POST" and not editable:
        abort(403)
    if form.validate_on_submit():
        if permit is None:
            permit = Permit(created_by_id=current_user.id)
            db.session.add(permit)
        form.populate_obj(permit)
        permit.authority_id = form.authority_id.data or None
        permit.department_id = form.department_id.data or None
        db.session.commit()
        flash(_("Certificate saved."), "success")
        return redirect(url_for("government.index"))
    return render("government/form.html", form=form, heading=_("Certificate or approval"), readonly=not editable,
                  permit=permit, today=local_today())
