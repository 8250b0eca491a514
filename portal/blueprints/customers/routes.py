"""Customers: list with search-as-you-type, create, edit, contacts, and the customer's records as tabs."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import db
from ...permissions import load_child_or_404, load_or_404, require
from ...web import page_args, render, service_errors
from . import services
from .forms import ContactForm, CustomerForm
from .models import Customer, CustomerContact

bp = Blueprint("customers", __name__, url_prefix="/customers")


@bp.get("/")
def index():
    q = request.args.get("q", "").strip()[:100]
    page, per_page = page_args()
    pagination = db.paginate(services.list_customers(q), page=page, per_page=per_page, error_out=False)
    return render("customers/index.html", fragment="customers/_rows.html", pagination=pagination, q=q)


@bp.route("/new", methods=["GET", "POST"])
@require("cs_manager", "csr")
def create():
    form = CustomerForm(csr_choices=services.csr_choices())
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            customer = services.save_customer(form, None, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Customer %(code)s created.", code=customer.code), "success")
            return redirect(url_for("customers.detail", customer_id=customer.id))
    return render("customers/form.html", form=form, customer=None)


def _detail(customer: Customer, contact_form: ContactForm):
    """The customer's page; the tab chosen by ?tab= (a link without JavaScript, a fragment for htmx)."""
    page, per_page = page_args()
    tabs, active, pagination = services.customer_tabs(customer, current_user, request.args.get("tab", ""),
                                                      page=page, per_page=per_page)
    return render("customers/detail.html", fragment="customers/_tab.html", customer=customer,
                  contact_form=contact_form, tabs=tabs, active=active, pagination=pagination)


@bp.get("/<int:customer_id>")
def detail(customer_id: int):
    customer = load_or_404(Customer, customer_id)
    return _detail(customer, ContactForm(prefix="contact"))


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@require("cs_manager", "csr")
def edit(customer_id: int):
    customer = load_or_404(Customer, customer_id, action="edit")
    form = CustomerForm(obj=customer, customer=customer, csr_choices=services.csr_choices())
    if request.method == "GET":
        form.csr_id.data = customer.csr_id or 0
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_customer(form, customer, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Customer %(code)s saved.", code=customer.code), "success")
            return redirect(url_for("customers.detail", customer_id=customer.id))
    return render("customers/form.html", form=form, customer=customer)


@bp.post("/<int:customer_id>/contacts")
@require("cs_manager", "csr")
def add_contact(customer_id: int):
    customer = load_or_404(Customer, customer_id, action="edit")
    form = ContactForm(prefix="contact")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.add_contact(customer, form)
            db.session.commit()
        if outcome.ok:
            flash(_("Contact added."), "success")
            return redirect(url_for("customers.detail", customer_id=customer.id))
    return _detail(customer, form)


@bp.post("/<int:customer_id>/contacts/<int:contact_id>/delete")
@require("cs_manager", "csr")
def delete_contact(customer_id: int, contact_id: int):
    customer = load_or_404(Customer, customer_id, action="edit")
    contact = load_child_or_404(CustomerContact, contact_id, parent=customer, action="edit")
    with service_errors() as outcome:
        services.remove_contact(contact)
        db.session.commit()
    if outcome.ok:
        flash(_("Contact removed."), "success")
    return redirect(url_for("customers.detail", customer_id=customer.id))
