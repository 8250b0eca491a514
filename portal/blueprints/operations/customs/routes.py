"""Customs clearance pages: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....permissions import load_or_404, require
from ....timeutil import local_now, local_today
from ....web import arg_date, arg_int, page_args, post_change, render, send_download
from ....xlsx import XLSX_MIMETYPE
from ...customers.models import Customer, CustomerContact
from ..models import Product, Tank
from . import reports, services
from .forms import CloseForm, DocumentForm, EntryForm, ReleaseForm
from .models import ENTRY_KINDS, ENTRY_STATUSES, CustomsEntry

bp = Blueprint("customs", __name__, url_prefix="/customs")

CS = ("cs_manager", "csr")
MAX_STATEMENT_DAYS = 400


def _customers():
    return list(db.session.scalars(db.select(Customer).order_by(Customer.code)))


def _entry_form(**kw) -> EntryForm:
    contacts = db.session.scalars(db.select(CustomerContact).join(Customer).order_by(Customer.code, CustomerContact.name)
                                  .options(selectinload(CustomerContact.customer)))
    tanks = db.session.scalars(db.select(Tank).where(Tank.bonded.is_(True)).order_by(Tank.code))
    products = db.session.scalars(db.select(Product).where(Product.retired.is_(False)).order_by(Product.code))
    return EntryForm(customer_choices=[(c.id, c.choice_label) for c in _customers()],
                     contact_choices=[(c.id, f"{c.customer.code} · {c.name}" + (f" ({c.position})" if c.position else ""))
                                      for c in contacts],
                     product_choices=[(p.id, p.choice_label) for p in products],
                     tank_choices=[(t.id, t.code) for t in tanks], **kw)


def _entry_url(entry: CustomsEntry) -> str:
    return url_for("operations.customs.entry", entry_id=entry.id)


# ----------------------------------------------------------------------------------------- entries

@bp.get("/")
def index():
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    status = status if status in ENTRY_STATUSES else ""
    kind = kind if kind in ENTRY_KINDS else ""
    customer_id = arg_int("customer")
    q = (request.args.get("q") or "")[:40]
    page, per_page = page_args()
    pagination = db.paginate(services.list_entries(status=status, kind=kind, customer_id=customer_id, q=q),
                             page=page, per_page=per_page, error_out=False)
    return render("operations/customs/index.html", fragment="operations/customs/_entry_rows.html",
                  pagination=pagination, status=status, kind=kind, customer_id=customer_id, q=q,
                  customers=_customers(), kinds=ENTRY_KINDS, statuses=ENTRY_STATUSES, counts=services.counts())


@bp.route("/new", methods=["GET", "POST"])
@require(*CS)
def new_entry():
    form = _entry_form()
    if request.method == "GET":
        form.customer_id.data = arg_int("customer") or 0
        form.lodged_on.data = local_today()
    return post_change(form, lambda: services.lodge_entry(form.values(), current_user),
                       done=lambda entry: _("Customs entry %(number)s registered as lodged.",
                                            number=entry.declaration_no),
                       to=_entry_url, page=lambda: render("operations/customs/entry_form.html", form=form, entry=None))


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@require(*CS)
def edit_entry(entry_id: int):
    entry = load_or_404(CustomsEntry, entry_id, action="edit")
    if entry.status != "lodged":
        flash(_("Only a lodged entry can be changed; this one is %(status)s.", status=entry.status_label), "error")
        return redirect(_entry_url(entry))
    form = _entry_form(obj=entry if request.method == "GET" else None)
    if request.method == "GET":
        form.order_number.data = entry.order.number if entry.order else ""
        form.to_customer_id.data = entry.to_customer_id or 0
        form.broker_contact_id.data = entry.broker_contact_id or 0
    return post_change(form, lambda: services.update_entry(entry, form.values(), current_user),
                       done=lambda _result: _("Customs entry %(number)s saved.", number=entry.declaration_no),
                       to=_entry_url(entry),
                       page=lambda: render("operations/customs/entry_form.html", form=form, entry=entry))


def _entry_page(entry, **forms):
    ctx = {"release_form": ReleaseForm(formdata=None, data={
               "released_at": local_now().replace(second=0, microsecond=0, tzinfo=None)}),
           "close_form": CloseForm(formdata=None, data={"closed_on": local_today()}),
           "document_form": DocumentForm(formdata=None)}
    ctx.update(forms)
    available = None
    if entry.status == "lodged" and entry.kind in services.POSTING_KINDS:
        available = services.bonded_available(entry, None)
    return render("operations/customs/entry.html", entry=entry, available=available, **ctx)


@bp.get("/<int:entry_id>")
def entry(entry_id: int):
    return _entry_page(load_or_404(CustomsEntry, entry_id))


def _post_on_entry(entry: CustomsEntry, form, form_name: str, field: str, change, done: str):
    """A form of the entry page posted: back to the page when done; else the page again showing the form as
    ``form_name``, a refusal on its ``field``."""
    return post_change(form, change, done=done, to=_entry_url(entry), field=field,
                       page=lambda: _entry_page(entry, **{form_name: form}))


@bp.post("/<int:entry_id>/release")
@require(*CS)
def release(entry_id: int):
    entry = load_or_404(CustomsEntry, entry_id, action="edit")
    form = ReleaseForm()
    return _post_on_entry(entry, form, "release_form", "released_at",
                          lambda: services.release_entry(entry, form.released_at.utc, current_user),
                          _("Customs entry %(number)s released.", number=entry.declaration_no))


@bp.post("/<int:entry_id>/close")
@require(*CS)
def close(entry_id: int):
    entry = load_or_404(CustomsEntry, entry_id, action="edit")
    form = CloseForm()
    return _post_on_entry(entry, form, "close_form", "closed_on",
                          lambda: services.close_entry(entry, form.closed_on.data, current_user),
                          _("Customs entry %(number)s closed.", number=entry.declaration_no))


@bp.post("/<int:entry_id>/documents")
@require(*CS)
def upload_document(entry_id: int):
    entry = load_or_404(CustomsEntry, entry_id, action="edit")
    form = DocumentForm()

    def attach():
        upload = form.file.data
        try:
            data = upload.read()
        finally:
            upload.close()
        services.attach_document(entry, upload.filename or "", data, current_user, title=form.title.data)

    return _post_on_entry(entry, form, "document_form", "file", attach, _("Document filed in the archive."))


# ---------------------------------------------------------------------------------- stock, checks

@bp.get("/stock")
def customs_stock():
    customer_id = arg_int("customer")
    customer = load_or_404(Customer, customer_id) if customer_id else None
    rows = services.customs_stock(customer_id=customer.id if customer else None)
    return render("operations/customs/stock.html", rows=rows, customer=customer, customers=_customers())


@bp.get("/check")
def check():
    checklist = services.check_list()
    return render("operations/customs/check.html", checklist=checklist, waiting_days=services.waiting_days)


# ------------------------------------------------------------------------------------- statement

def _statement_args():
    customer_id = arg_int("customer")
    today = local_today()
    end = arg_date("end", today)
    start = arg_date("start", end.replace(day=1))
    if start > end or (end - start).days > MAX_STATEMENT_DAYS:
        abort(404)
    return customer_id, start, end


@bp.get("/statement")
def statement():
    customer_id, start, end = _statement_args()
    customer = load_or_404(Customer, customer_id) if customer_id else None
    built = reports.build(customer, start, end) if customer else None
    return render("operations/customs/statement.html", statement=built, customer=customer, customers=_customers(),
                  start=start, end=end, columns=reports.COLUMNS, labels=reports.COLUMN_LABELS,
                  prev_start=start - timedelta(days=1))


@bp.get("/statement.pdf")
def statement_pdf():
    customer_id, start, end = _statement_args()
    if not customer_id:
        abort(404)
    built = reports.build(load_or_404(Customer, customer_id), start, end)
    return send_download(reports.render_pdf(built), built.filename + ".pdf", "application/pdf")


@bp.get("/statement.xlsx")
def statement_xlsx():
    customer_id, start, end = _statement_args()
    if not customer_id:
        abort(404)
    built = reports.build(load_or_404(Customer, customer_id), start, end)
    return send_download(reports.render_xlsx(built), built.filename + ".xlsx", XLSX_MIMETYPE)
