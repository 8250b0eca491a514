"""Operations register: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...permissions import load_child_or_404, load_or_404, require
from ...timeutil import local_now, to_local, utcnow
from ...web import arg_date, arg_int, is_fragment_request, page_args, render, service_errors
from ..admin.services import staff_choices
from ..customers.services import customer_choices
from . import imports, services, verification
from .forms import (
    CompleteForm,
    ContractForm,
    EventForm,
    ImportForm,
    LeaseForm,
    OrderForm,
    ProductForm,
    RateItemForm,
    ReasonForm,
    TankForm,
    VerifyForm,
    filter_options,
)
from .models import (
    EVENT_KINDS,
    OPEN_STATES,
    ORDER_KINDS,
    ORDER_STATES,
    TANK_STATUSES,
    WITH_OPERATIONS,
    Contract,
    Order,
    OrderEvent,
    Product,
    RateItem,
    Tank,
    TankLease,
)

bp = Blueprint("operations", __name__, url_prefix="/operations")


@bp.context_processor
def _template_helpers():
    return {"filter_options": filter_options}

CS = ("cs_manager", "csr")
# Operations staff acknowledge, start and complete the orders handed over to them.
OPS = ("cs_manager", "csr", "staff")


@bp.get("/")
def index():
    counts = services.order_status_counts()
    open_orders = sum(counts.get(s, 0) for s in OPEN_STATES)
    tanks = db.session.scalar(db.select(db.func.count(Tank.id))) or 0
    products = db.session.scalar(db.select(db.func.count(Product.id)).filter(Product.retired.is_(False))) or 0
    contracts = db.session.scalar(db.select(db.func.count(Contract.id))) or 0
    behind = db.session.scalars(db.select(Order).filter(Order.ops_behind).order_by(Order.planned_start)).all()
    return render("operations/index.html", open_orders=open_orders, tanks=tanks, products=products,
                  contracts=contracts, counts=counts, states=ORDER_STATES, behind=behind)


# ------------------------------------------------------------------------------------------ products

@bp.get("/products")
def products():
    q = request.args.get("q", "").strip()[:100]
    show_retired = request.args.get("retired") == "1"
    page, per_page = page_args(50)
    pagination = db.paginate(services.list_products(q, include_retired=show_retired), page=page, per_page=per_page,
                             error_out=False)
    return render("operations/products.html", fragment="operations/_product_rows.html", pagination=pagination, q=q,
                  show_retired=show_retired)


@bp.route("/products/new", methods=["GET", "POST"])
@require(*CS)
def product_new():
    form = ProductForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            product = services.save_product(form.values(), None, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Product %(code)s saved.", code=product.code), "success")
            return redirect(url_for("operations.products"))
    return render("operations/product_form.html", form=form, product=None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@require(*CS)
def product_edit(product_id: int):
    product = load_or_404(Product, product_id, action="edit")
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_product(form.values(), product, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Product %(code)s saved.", code=product.code), "success")
            return redirect(url_for("operations.products"))
    return render("operations/product_form.html", form=form, product=product, in_use=services.product_in_use(product))


@bp.post("/products/<int:product_id>/retire")
@require(*CS)
def product_retire(product_id: int):
    product = load_or_404(Product, product_id, action="edit")
    services.retire_product(product, current_user, retired=not product.retired)
    db.session.commit()
    flash(_("Product %(code)s retired.", code=product.code) if product.retired
          else _("Product %(code)s back in use.", code=product.code), "success")
    return redirect(url_for("operations.products"))


@bp.post("/products/<int:product_id>/delete")
@require(*CS)
def product_delete(product_id: int):
    product = load_or_404(Product, product_id, action="edit")
    code = product.code
    with service_errors() as outcome:
        services.delete_product(product, current_user)
        db.session.commit()
    if outcome.ok:
        flash(_("Product %(code)s deleted.", code=code), "success")
        return redirect(url_for("operations.products"))
    return redirect(url_for("operations.product_edit", product_id=product_id))


# --------------------------------------------------------------------------------------------- tanks

@bp.get("/tanks")
def tanks():
    area = request.args.get("area", "")[:40]
    status = request.args.get("status", "")
    status = status if status in TANK_STATUSES else ""
    q = request.args.get("q", "").strip()[:40]
    customer_id = arg_int("customer")
    product_id = arg_int("product")
    page, per_page = page_args(50)
    pagination = db.paginate(services.list_tanks(q, area=area, status=status, customer_id=customer_id,
                                                 product_id=product_id), page=page, per_page=per_page, error_out=False)
    # The filter form's choices only for the whole page (an htmx request gets the rows alone).
    choices = {} if is_fragment_request() else {
        "areas": services.tank_areas(), "customers": customer_choices(active_only=False),
        "products": services.product_choices()}
    return render("operations/tanks.html", fragment="operations/_tank_rows.html", pagination=pagination, area=area,
                  status=status, q=q, customer_id=customer_id, product_id=product_id, statuses=TANK_STATUSES,
                  **choices)


@bp.route("/tanks/new", methods=["GET", "POST"])
@require(*CS)
def tank_new():
    form = TankForm(product_choices=services.product_choices())
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            tank = services.save_tank(form.values(), None, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Tank %(code)s saved.", code=tank.code), "success")
            return redirect(url_for("operations.tank_detail", tank_id=tank.id))
    return render("operations/tank_form.html", form=form, tank=None)


def _lease_form(tank: Tank, form: LeaseForm | None = None) -> LeaseForm | None:
    """The form to add a lease; None for those who cannot edit the tank (the page shows it to editors only)."""
    if form is None and not tank.can_edit(current_user):
        return None
    return form or LeaseForm(prefix="lease", customer_choices=customer_choices(),
                             contract_choices=services.contract_choices())


def _tank_page(tank: Tank, lease_form: LeaseForm | None = None):
    orders = db.session.scalars(services.list_orders(tank_id=tank.id).options(selectinload(Order.customer))
                                .limit(30)).all()
    return render("operations/tank.html", tank=tank, lease_form=_lease_form(tank, lease_form), orders=orders,
                  stock=services.tank_stock_by_customer(tank), tank_total=services.book_stock(tank_id=tank.id),
                  today=to_local(utcnow()).date())


@bp.get("/tanks/<int:tank_id>")
def tank_detail(tank_id: int):
    tank = load_or_404(Tank, tank_id)
    return _tank_page(tank)


@bp.route("/tanks/<int:tank_id>/edit", methods=["GET", "POST"])
@require(*CS)
def tank_edit(tank_id: int):
    tank = load_or_404(Tank, tank_id, action="edit")
    form = TankForm(obj=tank, product_choices=services.product_choices(tank.product_id))
    if request.method == "GET":
        form.product_id.data = tank.product_id or 0
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_tank(form.values(), tank, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Tank %(code)s saved.", code=tank.code), "success")
            return redirect(url_for("operations.tank_detail", tank_id=tank.id))
    return render("operations/tank_form.html", form=form, tank=tank)


@bp.post("/tanks/<int:tank_id>/leases")
@require(*CS)
def lease_add(tank_id: int):
    tank = load_or_404(Tank, tank_id, action="edit")
    form = _lease_form(tank)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.add_lease(tank, form.customer_id.data, form.starts_on.data, form.ends_on.data, current_user,
                               contract_id=form.contract_id.data or None)
            db.session.commit()
        if outcome.ok:
            flash(_("Lease added."), "success")
            return redirect(url_for("operations.tank_detail", tank_id=tank.id))
    return _tank_page(tank, form)


@bp.post("/tanks/<int:tank_id>/leases/<int:lease_id>/delete")
@require(*CS)
def lease_remove(tank_id: int, lease_id: int):
    tank = load_or_404(Tank, tank_id, action="edit")
    lease = load_child_or_404(TankLease, lease_id, parent=tank, action="edit")
    services.remove_lease(lease, current_user)
    db.session.commit()
    flash(_("Lease removed."), "success")
    return redirect(url_for("operations.tank_detail", tank_id=tank.id))


# ----------------------------------------------------------------------------------------- contracts

@bp.get("/contracts")
def contracts():
    customer_id = arg_int("customer")
    rows = db.session.scalars(services.list_contracts(customer_id)).all()
    return render("operations/contracts.html", contracts=rows, customer_id=customer_id,
                  customers=customer_choices(active_only=False), today=to_local(utcnow()).date())


@bp.route("/contracts/new", methods=["GET", "POST"])
@require(*CS)
def contract_new():
    form = ContractForm(customer_choices=customer_choices())
    if request.method == "GET" and arg_int("customer"):
        form.customer_id.data = arg_int("customer")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            contract = services.save_contract(form.values(), None, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Contract %(number)s saved.", number=contract.number), "success")
            return redirect(url_for("operations.contract_detail", contract_id=contract.id))
    return render("operations/contract_form.html", form=form, contract=None)


@bp.get("/contracts/<int:contract_id>")
def contract_detail(contract_id: int):
    contract = load_or_404(Contract, contract_id)
    return render("operations/contract.html", contract=contract, rate_form=RateItemForm(prefix="rate"))


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@require(*CS)
def contract_edit(contract_id: int):
    contract = load_or_404(Contract, contract_id, action="edit")
    form = ContractForm(obj=contract, customer_choices=customer_choices(active_only=False))
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_contract(form.values(), contract, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Contract %(number)s saved.", number=contract.number), "success")
            return redirect(url_for("operations.contract_detail", contract_id=contract.id))
    return render("operations/contract_form.html", form=form, contract=contract)


@bp.post("/contracts/<int:contract_id>/rates")
@require(*CS)
def rate_add(contract_id: int):
    contract = load_or_404(Contract, contract_id, action="edit")
    form = RateItemForm(prefix="rate")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.add_rate_item(contract, form.kind.data, (form.description.data or "").strip(), form.rate.data,
                                   form.unit.data, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Rate item added."), "success")
            return redirect(url_for("operations.contract_detail", contract_id=contract.id))
    return render("operations/contract.html", contract=contract, rate_form=form)


@bp.post("/contracts/<int:contract_id>/rates/<int:item_id>/delete")
@require(*CS)
def rate_remove(contract_id: int, item_id: int):
    contract = load_or_404(Contract, contract_id, action="edit")
    item = load_child_or_404(RateItem, item_id, parent=contract, action="edit")
    services.remove_rate_item(item, current_user)
    db.session.commit()
    flash(_("Rate item removed."), "success")
    return redirect(url_for("operations.contract_detail", contract_id=contract.id))


# -------------------------------------------------------------------------------------------- import

@bp.route("/import", methods=["GET", "POST"])
@require(*CS)
def import_master():
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            form.file.errors.append(_("Choose a file."))
        else:
            with service_errors(form, field="file") as outcome:
                result = imports.import_file(form.what.data, upload.filename, upload.read(), current_user)
                db.session.commit()
            if outcome.ok:
                flash(_("Imported: %(created)s new, %(updated)s updated.", created=result.created,
                        updated=result.updated), "success")
                return redirect(url_for("operations.import_master"))
            errors = getattr(outcome.error, "errors", [])
    return render("operations/import.html", form=form, errors=errors, columns=imports.COLUMNS)


# -------------------------------------------------------------------------------------------- orders

def _order_filters() -> dict:
    state = request.args.get("state", "")
    kind = request.args.get("kind", "")
    return {
        "customer_id": arg_int("customer"), "product_id": arg_int("product"), "tank_id": arg_int("tank"),
        "state": state if state in ORDER_STATES or state == "open" else "",
        "kind": kind if kind in ORDER_KINDS else "",
        "date_from": arg_date("from"), "date_to": arg_date("to"), "q": request.args.get("q", "").strip()[:60],
        "owner_id": current_user.id if request.args.get("mine") and current_user.is_authenticated else None,
    }


@bp.get("/orders")
def orders():
    filters = _order_filters()
    page, per_page = page_args()
    pagination = services.paginate_orders(services.list_orders(**filters), page=page, per_page=per_page)
    # The filter form's choices only for the whole page (an htmx request gets the rows alone).
    choices = {} if is_fragment_request() else {
        "customers": customer_choices(active_only=False), "products": services.product_choices(),
        "tanks": services.tank_choices()}
    return render("operations/orders.html", fragment="operations/_order_rows.html", pagination=pagination,
                  filters=filters, states=ORDER_STATES, kinds=ORDER_KINDS, **choices)


def _order_form(order: Order | None = None, **kwargs) -> OrderForm:
    return OrderForm(customer_choices=customer_choices(active_only=order is not None),
                     product_choices=services.product_choices(order.product_id if order else None),
                     tank_choices=services.tank_choices(), owner_choices=staff_choices(cs_only=True, blank=False),
                     **kwargs)


def _upload(form: OrderForm):
    f = form.instruction_file.data
    if f is not None and getattr(f, "filename", ""):
        return f.filename, f.read()
    return None


@bp.route("/orders/new", methods=["GET", "POST"])
@require(*CS)
def order_new():
    form = _order_form()
    if request.method == "GET":
        for key in ("customer", "tank", "product"):
            if arg_int(key):
                getattr(form, f"{key}_id").data = arg_int(key)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            order = services.create_order(form.values(), current_user, instruction_file=_upload(form))
            db.session.commit()
        if outcome.ok:
            flash(_("Order %(number)s received.", number=order.number), "success")
            return redirect(url_for("operations.order_detail", order_id=order.id))
    return render("operations/order_form.html", form=form, order=None,
                  checks=verification.run_rules(verification.draft_from_values(form.loose_values()))
                  if request.method == "POST" else None)


@bp.post("/orders/check")
@require(*CS)
def order_check():
    """The rules on the order form's values as they are typed (an htmx fragment)."""
    form = _order_form(meta={"csrf": False})
    form.validate()
    order = None
    order_id = arg_int("order")
    if order_id:
        order = load_or_404(Order, order_id, action="edit")
    results = verification.run_rules(verification.draft_from_values(form.loose_values(), order))
    return render("operations/_checks.html", checks=results)


def _detail(order: Order, **forms):
    ctx = {
        "verify_form": VerifyForm(prefix="verify"), "reason_form": ReasonForm(prefix="close"),
        "complete_form": _complete_form(order),
    }
    ctx.update(forms)
    return render("operations/order.html", order=order, event_kinds=EVENT_KINDS, rule_labels=verification.RULE_LABELS,
                  field_labels={name: getattr(OrderForm, name).args[0] if hasattr(OrderForm, name)
                                else Order.__audit_fields__.get(name, name) for name in services.ORDER_FIELDS},
                  live=verification.run_rules(verification.draft_from_order(order)) if order.is_open else None,
                  complaint_link=services.complaint_link, customs_entries=services.customs_entries(order), **ctx)


def _complete_form(order: Order, formdata=None) -> CompleteForm:
    form = CompleteForm(prefix="done", formdata=formdata)
    if formdata is None:
        form.unit.data = order.unit
        form.actual_qty.data = order.quantity
        form.density_20.data = order.product.density_typical
        form.completed_at.data = local_now().replace(second=0, microsecond=0, tzinfo=None)
    return form


@bp.get("/orders/<int:order_id>")
def order_detail(order_id: int):
    order = load_or_404(Order, order_id)
    return _detail(order)


@bp.route("/orders/<int:order_id>/edit", methods=["GET", "POST"])
@require(*CS)
def order_edit(order_id: int):
    order = load_or_404(Order, order_id, action="edit")
    form = _order_form(order, obj=order)
    if request.method == "GET":
        form.planned_start.data = to_local(order.planned_start).replace(tzinfo=None) if order.planned_start else None
        form.planned_end.data = to_local(order.planned_end).replace(tzinfo=None) if order.planned_end else None
        form.to_tank_id.data = order.to_tank_id or 0
        form.counterparty_id.data = order.counterparty_id or 0
        form.owner_id.data = order.owner_id or 0
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            changes = services.amend_order(order, form.values(), current_user, reason=form.reason.data or "")
            upload = _upload(form)
            if upload:
                services.file_instruction(order, *upload, user=current_user)
            db.session.commit()
        if outcome.ok:
            if changes and order.version > 1 and order.state in WITH_OPERATIONS:
                flash(_("Order %(number)s amended: version %(version)s.", number=order.number, version=order.version),
                      "success")
            else:
                flash(_("Order %(number)s saved.", number=order.number), "success")
            return redirect(url_for("operations.order_detail", order_id=order.id))
    return render("operations/order_form.html", form=form, order=order, checks=None,
                  customs_entries=services.customs_entries(order))


@bp.post("/orders/<int:order_id>/verify")
@require(*CS)
def order_verify(order_id: int):
    order = load_or_404(Order, order_id, action="edit")
    form = VerifyForm(prefix="verify")
    if form.validate_on_submit():
        with service_errors() as outcome:
            check = services.verify_order(order, current_user, form.warning_reason.data or "")
            db.session.commit()
        if outcome.ok:
            if check.passed:
                flash(_("Order %(number)s verified.", number=order.number), "success")
            elif any(r.outcome == "error" for r in check.results):
                flash(_("Verification failed: see the rules below."), "error")
            else:
                flash(_("Give a reason to pass the warnings."), "error")
    return redirect(url_for("operations.order_detail", order_id=order.id) + "#verification")


def _transition(order_id: int, fn, message: str, roles_action: str = "edit"):
    order = load_or_404(Order, order_id, action=roles_action)
    with service_errors() as outcome:
        fn(order, current_user)
        db.session.commit()
    if outcome.ok:
        flash(message % {"number": order.number}, "success")
    return redirect(url_for("operations.order_detail", order_id=order.id))


@bp.post("/orders/<int:order_id>/hand-over")
@require(*CS)
def order_hand_over(order_id: int):
    return _transition(order_id, services.hand_over, _("Order %(number)s handed over to operations."))


@bp.post("/orders/<int:order_id>/acknowledge")
@require(*OPS)
def order_acknowledge(order_id: int):
    return _transition(order_id, services.acknowledge, _("Operations hold the current version of %(number)s."), "view")


@bp.post("/orders/<int:order_id>/start")
@require(*OPS)
def order_start(order_id: int):
    return _transition(order_id, services.start_execution, _("Order %(number)s in execution."), "view")


@bp.post("/orders/<int:order_id>/complete")
@require(*OPS)
def order_complete(order_id: int):
    order = load_or_404(Order, order_id)
    form = _complete_form(order, formdata=request.form)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.complete_order(order, form.actual_qty.data, form.unit.data, form.density_20.data,
                                    form.completed_at.utc, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Order %(number)s completed.", number=order.number), "success")
            return redirect(url_for("operations.order_detail", order_id=order.id))
    return _detail(order, complete_form=form)


@bp.post("/orders/<int:order_id>/close/<any(cancelled,rejected):state>")
@require(*CS)
def order_close(order_id: int, state: str):
    order = load_or_404(Order, order_id, action="edit")
    form = ReasonForm(prefix="close")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.close_order(order, state, form.reason.data, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Order %(number)s cancelled.", number=order.number) if state == "cancelled"
                  else _("Order %(number)s rejected.", number=order.number), "success")
            return redirect(url_for("operations.order_detail", order_id=order.id))
    return _detail(order, reason_form=form)


# ------------------------------------------------------------------------------------ abnormal events

def _event_form(**kwargs) -> EventForm:
    return EventForm(staff_choices=staff_choices(blank=False), **kwargs)


@bp.route("/orders/<int:order_id>/events/new", methods=["GET", "POST"])
@require(*CS)
def event_new(order_id: int):
    order = load_or_404(Order, order_id, action="edit")
    form = _event_form()
    if request.method == "GET":
        form.occurred_at.data = local_now().replace(second=0, microsecond=0, tzinfo=None)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_event(order, form.values(), current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Event recorded."), "success")
            return redirect(url_for("operations.order_detail", order_id=order.id) + "#events")
    return render("operations/event_form.html", form=form, order=order, event=None)


@bp.route("/orders/<int:order_id>/events/<int:event_id>/edit", methods=["GET", "POST"])
@require(*CS)
def event_edit(order_id: int, event_id: int):
    order = load_or_404(Order, order_id, action="edit")
    event = load_child_or_404(OrderEvent, event_id, parent=order, action="edit")
    form = _event_form(obj=event)
    if request.method == "GET":
        form.occurred_at.data = to_local(event.occurred_at).replace(tzinfo=None)
        form.informed_at.data = to_local(event.informed_at).replace(tzinfo=None) if event.informed_at else None
        form.informed_by_id.data = event.informed_by_id or 0
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_event(order, form.values(), current_user, event=event)
            db.session.commit()
        if outcome.ok:
            flash(_("Event saved."), "success")
            return redirect(url_for("operations.order_detail", order_id=order.id) + "#events")
    return render("operations/event_form.html", form=form, order=order, event=event)


@bp.post("/orders/<int:order_id>/events/<int:event_id>/close")
@require(*CS)
def event_close(order_id: int, event_id: int):
    order = load_or_404(Order, order_id, action="edit")
    event = load_child_or_404(OrderEvent, event_id, parent=order, action="edit")
    with service_errors() as outcome:
        services.close_event(event, current_user)
        db.session.commit()
    if outcome.ok:
        flash(_("Event closed."), "success")
    return redirect(url_for("operations.order_detail", order_id=order.id) + "#events")
