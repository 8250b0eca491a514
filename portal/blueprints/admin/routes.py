"""Administration: users and roles, departments, the audit log."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from ...audit import actor_label, field_label, field_value, history_for, kind_label, model_for_table, record_label
from ...extensions import db
from ...models import Department, User
from ...permissions import load_or_404, require
from ...web import page_args, render, service_errors
from . import services
from .forms import AuditFilterForm, DepartmentForm, ResetPasswordForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin", cli_group="users")  # `flask users ...`: cli.py


@bp.app_template_global("record_label")
def _record_label(entity: str, entity_id, user=None) -> str:
    """The kind and title of an audited record, for the audit log and every record's history."""
    return record_label(entity, entity_id, user if user is not None else current_user)


@bp.app_template_global("kind_label")
def _kind_label(entity: str) -> str:
    return kind_label(entity)


@bp.app_template_global("audit_field")
def _audit_field(entity: str, key: str) -> str:
    return field_label(entity, key)


@bp.app_template_global("audit_value")
def _audit_value(entity: str, key: str, value) -> str:
    return field_value(entity, key, value)


@bp.app_template_global("audit_actor")
def _audit_actor(actor: str) -> str:
    return actor_label(actor)


def _keep_own_session(user: User) -> None:
    """An administrator editing their own account ends their other sessions, not this one."""
    if user.id == current_user.id:
        login_user(user, fresh=True)


@bp.get("/users")
@require("admin")
def users():
    page, per_page = page_args()
    pagination = db.paginate(db.select(User).order_by(User.username), page=page, per_page=per_page, error_out=False)
    return render("admin/users.html", pagination=pagination)


@bp.route("/users/new", methods=["GET", "POST"])
@require("admin")
def create_user():
    form = UserForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            user = services.save_user(form, None, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("admin")
def edit_user(user_id: int):
    user = load_or_404(User, user_id)
    form = UserForm(obj=user, user=user)
    if request.method == "GET":
        form.roles.data = sorted(user.role_names)
        form.department_id.data = user.department_id or 0
        form.language.data = user.language or ""
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_user(form, user, current_user)
            db.session.commit()
        if outcome.ok:
            _keep_own_session(user)
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render("admin/user_form.html", form=form, user=user, reset_form=ResetPasswordForm(prefix="reset", user=user))


@bp.post("/users/<int:user_id>/password")
@require("admin")
def reset_password(user_id: int):
    user = load_or_404(User, user_id)
    form = ResetPasswordForm(prefix="reset", user=user)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.reset_password(user, form.password.data)
            db.session.commit()
        if outcome.ok:
            _keep_own_session(user)
            flash(_("Password of %(name)s reset.", name=user.username), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    edit_form = UserForm(obj=user, user=user, formdata=None)
    edit_form.roles.data = sorted(user.role_names)
    return render("admin/user_form.html", form=edit_form, user=user, reset_form=form)


@bp.route("/departments", methods=["GET", "POST"])
@require("admin")
def departments():
    form = DepartmentForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            department = services.save_department(form, None)
            db.session.commit()
        if outcome.ok:
            flash(_("Department %(code)s added.", code=department.code), "success")
            return redirect(url_for("admin.departments"))
    rows = db.session.scalars(db.select(Department).order_by(Department.code)).all()
    return render("admin/departments.html", form=form, departments=rows)


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@require("admin")
def edit_department(department_id: int):
    department = load_or_404(Department, department_id)
    form = DepartmentForm(obj=department, department=department)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_department(form, department)
            db.session.commit()
        if outcome.ok:
            flash(_("Department %(code)s saved.", code=department.code), "success")
            return redirect(url_for("admin.departments"))
    return render("admin/department_form.html", form=form, department=department)


@bp.get("/audit")
@require("admin", "cs_manager")
def audit_log():
    form = AuditFilterForm(request.args)
    form.validate()
    page, per_page = page_args(50)
    stmt = services.audit_query(
        user=(form.user.data or "").strip() if not form.user.errors else "",
        entity=(form.entity.data or "").strip() if not form.entity.errors else "",
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
    )
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return render("admin/audit.html", fragment="admin/_audit_rows.html", form=form, pagination=pagination,
                  entities=services.audited_entities())


@bp.get("/audit/<entity>/<entity_id>")
def record_history(entity: str, entity_id: str):
    """The history of one record, for anyone who may view the record."""
    model = model_for_table(entity)
    if model is None:
        abort(404)
    if not current_user.has_role("admin", "cs_manager"):
        # Others see the history of domain records they may view; users, roles and departments
        # (models without can_view) are for managers only.
        if not hasattr(model, "can_view"):
            abort(403)
        load_or_404(model, int(entity_id) if entity_id.isdigit() else entity_id)
    entries = history_for(entity, entity_id)
    if not entries:
        abort(404)
    return render("admin/history.html", entity=entity, entity_id=entity_id, entries=entries,
                  label=record_label(entity, entity_id, current_user))
