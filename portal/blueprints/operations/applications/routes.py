"""Government applications: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ....extensions import db
from ....permissions import load_or_404, require
from ....timeutil import utcnow
from ....web import arg_int, page_args, post_change, render
from ..vessels.models import VesselCall
from . import services
from .forms import (
    ApproveForm,
    DocumentForm,
    ResubmitForm,
    ReturnForm,
    SubmitForm,
    TypeForm,
    WithdrawForm,
    read_upload,
)
from .models import AUTHORITIES, Application, ApplicationType

bp = Blueprint("applications", __name__, url_prefix="/applications")

CS = ("cs_manager", "csr")
MANAGERS = ("cs_manager",)
MAX_LISTED = 200  # the dashboard opens the list with this page size, so every counted row is on one page


def _choice(name: str, allowed, default: str) -> str:
    value = request.args.get(name, default)
    return value if value in allowed else default


@bp.app_template_global("call_applications")
def call_applications(call):
    """What the call page's applications section shows (``_call_applications.html``)."""
    return {"applications": services.for_call(call), "missing": services.missing_types(call), "now": utcnow(),
            "can_edit": current_user.is_authenticated and current_user.has_role("admin", *CS)}


# ------------------------------------------------------------------------------------------------ lists

@bp.get("/")
def due():
    """Applications due: overdue in red, due in the next 24 h, with filters."""
    window = _choice("window", services.WINDOWS, "due")
    state = _choice("state", services.STATE_FILTERS, "to_file")
    authority = _choice("authority", AUTHORITIES, "")
    type_id = arg_int("type")
    q = request.args.get("q", "").strip()[:100]
    page, per_page = page_args(50)
    now = utcnow()
    stmt = services.list_applications(now=now, window=window, state=state, authority=authority, type_id=type_id, q=q)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    types = list(db.session.scalars(db.select(ApplicationType).order_by(ApplicationType.sort_order, ApplicationType.code)))
    return render("operations/applications/due.html", fragment="operations/applications/_due_rows.html",
                  pagination=pagination, now=now, window=window, state=state, authority=authority, type_id=type_id,
                  q=q, windows=services.WINDOWS, states=services.STATE_FILTERS, authorities=AUTHORITIES, types=types)


# ------------------------------------------------------------------------------------------ application

def _detail_page(app: Application, **forms):
    ctx = {
        "submit_form": SubmitForm(prefix="submit"), "resubmit_form": ResubmitForm(prefix="resubmit",
                                                                                  data={"reference_no": app.reference_no}),
        "approve_form": ApproveForm(prefix="approve"), "return_form": ReturnForm(prefix="return"),
        "withdraw_form": WithdrawForm(prefix="withdraw"), "document_form": DocumentForm(prefix="doc"),
    }
    ctx.update(forms)
    return render("operations/applications/detail.html", app=app, call=app.call, now=utcnow(), **ctx)


@bp.get("/<int:application_id>")
def detail(application_id: int):
    return _detail_page(load_or_404(Application, application_id))


def _act(application_id: int, form_class, prefix: str, action, done_message):
    app = load_or_404(Application, application_id, action="edit")
    form = form_class(prefix=prefix)
    return post_change(form, lambda: action(app, form), done=lambda _result: done_message(app),
                       to=url_for("operations.applications.detail", application_id=app.id),
                       page=lambda: _detail_page(app, **{f"{prefix}_form": form}))


@bp.post("/<int:application_id>/submit")
@require(*CS)
def submit(application_id: int):
    return _act(application_id, SubmitForm, "submit", lambda app, f: services.submit(
        app, current_user, reference_no=f.reference_no.data, at=f.at.utc, document=read_upload(f.document)),
        lambda app: _("Submitted with reference %(ref)s.", ref=app.reference_no))


@bp.post("/<int:application_id>/resubmit")
@require(*CS)
def resubmit(application_id: int):
    return _act(application_id, ResubmitForm, "resubmit", lambda app, f: services.resubmit(
        app, current_user, reference_no=f.reference_no.data, at=f.at.utc, document=read_upload(f.document)),
        lambda app: _("Resubmitted with reference %(ref)s.", ref=app.reference_no))


@bp.post("/<int:application_id>/approve")
@require(*CS)
def approve(application_id: int):
    return _act(application_id, ApproveForm, "approve", lambda app, f: services.approve(
        app, current_user, approval_no=f.approval_no.data, at=f.at.utc, document=read_upload(f.document)),
        lambda app: _("Approval %(no)s recorded.", no=app.approval_no))


@bp.post("/<int:application_id>/return")
@require(*CS)
def return_(application_id: int):
    return _act(application_id, ReturnForm, "return", lambda app, f: services.return_(
        app, current_user, reason=f.reason.data, at=f.at.utc),
        lambda app: _("Return recorded: correct the declaration and resubmit it."))


@bp.post("/<int:application_id>/withdraw")
@require(*CS)
def withdraw(application_id: int):
    return _act(application_id, WithdrawForm, "withdraw", lambda app, f: services.withdraw(
        app, current_user, reason=f.reason.data), lambda app: _("Application withdrawn."))


@bp.post("/<int:application_id>/document")
@require(*CS)
def document(application_id: int):
    def file_it(app, form):
        name, data = read_upload(form.document) or ("", b"")
        services.file_document(app, form.kind.data, name, data, user=current_user)

    return _act(application_id, DocumentForm, "document", file_it,
                lambda app: _("Document filed in the archive with the call."))


@bp.post("/calls/<int:call_id>/create")
@require(*CS)
def create_for_call(call_id: int):
    """Create the call's missing declarations (types added since the call was recorded)."""
    call = load_or_404(VesselCall, call_id, action="edit")
    back = (request.referrer if _same_site(request.referrer)
            else url_for("operations.applications.due", q=call.number, state="any", window="all"))
    return post_change(None, lambda: services.ensure_applications(call, current_user),
                       done=lambda created: (_("%(n)s declaration(s) created.", n=len(created)) if created
                                             else _("The call already has every declaration.")),
                       to=back)


def _same_site(url: str | None) -> bool:
    from urllib.parse import urlsplit

    if not url:
        return False
    parts = urlsplit(url)
    return parts.netloc == request.host and parts.path.startswith("/")


# ------------------------------------------------------------------------------------------------ types

@bp.get("/types")
def types():
    rows = list(db.session.scalars(db.select(ApplicationType).order_by(ApplicationType.sort_order,
                                                                       ApplicationType.code)))
    return render("operations/applications/types.html", types=rows,
                  can_edit=current_user.has_role("admin", *MANAGERS))


def _type_page(row: ApplicationType | None):
    """A new application type (``row`` None) or a type's edit page, and its form posted."""
    form = TypeForm(obj=row)
    return post_change(form, lambda: services.save_type(form.values(), row, current_user),
                       done=lambda saved: _("Application type %(code)s saved.", code=saved.code),
                       to=url_for("operations.applications.types"),
                       page=lambda: render("operations/applications/type_form.html", form=form, row=row))


@bp.route("/types/new", methods=["GET", "POST"])
@require(*MANAGERS)
def type_new():
    return _type_page(None)


@bp.route("/types/<int:type_id>/edit", methods=["GET", "POST"])
@require(*MANAGERS)
def type_edit(type_id: int):
    return _type_page(load_or_404(ApplicationType, type_id, action="edit"))


@bp.post("/types/seed")
@require(*MANAGERS)
def types_seed():
    return post_change(None, lambda: services.seed_types(current_user),
                       done=lambda added: _("%(n)s common declaration type(s) added.", n=len(added)),
                       to=url_for("operations.applications.types"))
