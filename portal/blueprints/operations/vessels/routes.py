"""Vessel calls and the berth plan: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....models import User
from ....permissions import load_child_or_404, load_or_404, require
from ....timeutil import local_today, to_local
from ....web import arg_date, arg_int, page_args, post_change, render, send_download
from ...admin.services import staff_choices
from ...customers.models import Customer, CustomerContact
from ...customers.services import customer_choices
from ..models import OPEN_STATES, SHIP_KINDS, Order, Product, Tank, code_and_names
from . import plan as berth_plan
from . import services
from .forms import (
    BerthForm,
    CallForm,
    DetailsForm,
    InformForm,
    ParcelForm,
    PublishForm,
    StatusForm,
    TellForm,
    TimesForm,
    VesselForm,
)
from .models import (
    ACTUAL_TIMES,
    CALL_STATUSES,
    PLAN_TIMES,
    TIME_LABELS,
    Berth,
    BerthPlanVersion,
    CallParcel,
    Vessel,
    VesselCall,
)

bp = Blueprint("vessels", __name__, url_prefix="/vessels")

CS = ("cs_manager", "csr")


@bp.app_template_global("order_vessel_call")
def order_vessel_call(order):
    """The call carrying an order's parcel (for the order page), or None."""
    return services.call_for_order(order)


@bp.app_template_global("vessel_eta_revision")
def vessel_eta_revision(call):
    return services.eta_change_summary(call)


@bp.app_template_global("vessel_customers_to_inform")
def vessel_customers_to_inform(call):
    return {c.id for c in services.customers_to_inform(call)}


def _local(value):
    return to_local(value).replace(tzinfo=None) if value else None


def _call_url(call: VesselCall) -> str:
    return url_for("operations.vessels.call_detail", call_id=call.id)


# ------------------------------------------------------------------------------------------ choices

def _vessel_choices():
    return [(v.id, v.choice_label) for v in db.session.scalars(select(Vessel).order_by(Vessel.name))]


def _agent_choices():
    rows = db.session.execute(select(CustomerContact.id, CustomerContact.name, Customer.code)
                              .join(Customer, Customer.id == CustomerContact.customer_id)
                              .order_by(Customer.code, CustomerContact.name)).all()
    return [(cid, f"{name} ({code})") for cid, name, code in rows]


def _berth_choices(include_id=None):
    """The active berths, and the call's own berth should it be inactive now (its names only)."""
    rows = db.session.execute(select(Berth.id, Berth.code, Berth.name_en, Berth.name_zh)
                              .where(or_(Berth.active.is_(True), Berth.id == include_id)).order_by(Berth.code))
    return [(berth_id, code_and_names(code, en, zh)) for berth_id, code, en, zh in rows]


def _product_choices():
    rows = db.session.execute(select(Product.id, Product.code, Product.name_en, Product.name_zh).order_by(Product.code))
    return [(product_id, code_and_names(code, en, zh)) for product_id, code, en, zh in rows]


def _tank_choices():
    return [(tid, code) for tid, code in db.session.execute(select(Tank.id, Tank.code).order_by(Tank.code))]


def _order_choices():
    rows = db.session.execute(
        select(Order.id, Order.number, Customer.code, Product.code, Order.quantity, Order.unit)
        .join(Customer, Customer.id == Order.customer_id).join(Product, Product.id == Order.product_id)
        .where(Order.kind.in_(SHIP_KINDS), Order.state.in_(OPEN_STATES))
        .order_by(Order.number.desc()).limit(500))
    return [(oid, f"{number} · {customer} · {product} · {quantity.normalize():f} {unit}")
            for oid, number, customer, product, quantity, unit in rows]


def _owner_choices():
    return staff_choices(cs_only=True, blank=False)


# --------------------------------------------------------------------------------------------- calls

@bp.get("/")
def index():
    status = request.args.get("status", "")
    status = status if status in CALL_STATUSES else ""
    berth_id = arg_int("berth")
    q = request.args.get("q", "").strip()[:80]
    day_from = arg_date("from")
    day_to = arg_date("to")
    query = (select(VesselCall).options(selectinload(VesselCall.vessel), selectinload(VesselCall.berth))
             .order_by(VesselCall.eta.desc(), VesselCall.id.desc()))
    if status:
        query = query.where(VesselCall.status == status)
    if berth_id:
        query = query.where(VesselCall.berth_id == berth_id)
    if q:
        like = f"%{q}%"
        query = query.join(Vessel, Vessel.id == VesselCall.vessel_id).where(
            or_(VesselCall.number.ilike(like), Vessel.name.ilike(like), Vessel.imo.ilike(like)))
    if day_from:
        query = query.where(VesselCall.eta >= berth_plan.window_bounds(day_from, day_from)[0])
    if day_to:
        query = query.where(VesselCall.eta < berth_plan.window_bounds(day_to, day_to)[1])
    page, per_page = page_args(50)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return render("operations/vessels/index.html", pagination=pagination, statuses=CALL_STATUSES, status=status,
                  berths=services.berths(), berth_id=berth_id, q=q, day_from=day_from, day_to=day_to,
                  to_tell=services.eta_changes_to_tell_count(limit=50))


def _call_form(**kwargs):
    return CallForm(vessel_choices=_vessel_choices(), agent_choices=_agent_choices(), owner_choices=_owner_choices(),
                    berth_choices=_berth_choices(), **kwargs)


@bp.route("/calls/new", methods=["GET", "POST"])
@require(*CS)
def call_new():
    form = _call_form()
    if request.method == "GET" and arg_int("vessel"):
        form.vessel_id.data = arg_int("vessel")

    def announce():
        vessel = load_or_404(Vessel, form.vessel_id.data)
        agent = db.session.get(CustomerContact, form.agent_contact_id.data) if form.agent_contact_id.data else None
        berth = db.session.get(Berth, form.berth_id.data) if form.berth_id.data else None
        owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else None
        return services.create_call(vessel, eta=form.eta.utc, etb=form.etb.utc, etc=form.etc.utc, etd=form.etd.utc,
                                    berth=berth, agent=agent, last_port=(form.last_port.data or "").strip(),
                                    next_port=(form.next_port.data or "").strip(), owner=owner,
                                    remarks=form.remarks.data or "", user=current_user)

    return post_change(form, announce, done=lambda call: _("Vessel call %(number)s announced.", number=call.number),
                       to=_call_url, page=lambda: render("operations/vessels/call_form.html", form=form, call=None))


def _times_form(call: VesselCall, formdata=None) -> TimesForm:
    form = TimesForm(prefix="times", formdata=formdata, berth_choices=_berth_choices(call.berth_id))
    if formdata is None:
        for name in PLAN_TIMES + ACTUAL_TIMES:
            getattr(form, name).data = _local(getattr(call, name))
        form.berth_id.data = call.berth_id or 0
    return form


def _status_form(call: VesselCall, formdata=None) -> StatusForm:
    return StatusForm(prefix="status", formdata=formdata,
                      status_choices=[(s, CALL_STATUSES[s]) for s in call.next_statuses])


def _parcel_form(formdata=None) -> ParcelForm:
    return ParcelForm(prefix="parcel", formdata=formdata, customer_choices=customer_choices(),
                      order_choices=_order_choices(), product_choices=_product_choices(), tank_choices=_tank_choices())


def _inform_form(call: VesselCall, formdata=None, to_inform=None) -> InformForm:
    to_inform = services.customers_to_inform(call) if to_inform is None else to_inform
    return InformForm(prefix="inform", formdata=formdata,
                      customer_choices=[(c.id, f"{c.code} {c.name_en}") for c in to_inform])


def _detail(call: VesselCall, status_code: int = 200, **forms):
    editing = call.can_edit(current_user)
    to_inform = services.customers_to_inform(call)
    ctx = {}
    if editing:
        ctx = {"times_form": _times_form(call), "status_form": _status_form(call), "parcel_form": _parcel_form(),
               "inform_form": _inform_form(call, to_inform=to_inform)}
        ctx.update(forms)
    conflicts = berth_plan.find_conflicts([call] + (berth_plan.calls_in_window(call.plan_start, call.plan_end,
                                                                               [call.berth_id]) if call.berth_id else []))
    return render("operations/vessels/call.html", call=call, editing=editing, time_labels=TIME_LABELS,
                  plan_times=PLAN_TIMES, actual_times=ACTUAL_TIMES, conflicts=conflicts.get(call.id, []),
                  to_inform=to_inform,
                  latest_eta=services.latest_eta_revision(call), revision_items=services.revision_items,
                  plan_from=to_local(call.plan_start).date(), **ctx), status_code


@bp.get("/calls/<int:call_id>")
def call_detail(call_id: int):
    return _detail(load_or_404(VesselCall, call_id))


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
@require(*CS)
def call_edit(call_id: int):
    call = load_or_404(VesselCall, call_id, action="edit")
    form = DetailsForm(obj=call, vessel_choices=_vessel_choices(), agent_choices=_agent_choices(),
                       owner_choices=_owner_choices())
    if request.method == "GET":
        form.agent_contact_id.data = call.agent_contact_id or 0
        form.owner_id.data = call.owner_id or 0

    def save():
        vessel = load_or_404(Vessel, form.vessel_id.data)
        agent = db.session.get(CustomerContact, form.agent_contact_id.data) if form.agent_contact_id.data else None
        owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else None
        services.update_details(call, vessel=vessel, agent=agent, owner=owner,
                                last_port=(form.last_port.data or "").strip(),
                                next_port=(form.next_port.data or "").strip(), remarks=form.remarks.data or "")

    return post_change(form, save, done=lambda _result: _("Vessel call %(number)s saved.", number=call.number),
                       to=_call_url(call),
                       page=lambda: render("operations/vessels/call_form.html", form=form, call=call))


def _post_on_call(call: VesselCall, name: str, form, change, done):
    """A form of the call page posted: on success back to the page, else the page with the form's errors (422)."""
    return post_change(form, change, done=done, to=_call_url(call),
                       page=lambda: _detail(call, 422, **{f"{name}_form": form}))


@bp.post("/calls/<int:call_id>/times")
@require(*CS)
def call_times(call_id: int):
    call = load_or_404(VesselCall, call_id, action="edit")
    form = _times_form(call, formdata=request.form)
    return _post_on_call(
        call, "times", form,
        lambda: services.change_times(call, user=current_user, note=form.note.data or "", **form.values()),
        lambda revision: (_("Times and berth saved."), "success") if revision else (_("Nothing changed."), "info"))


@bp.post("/calls/<int:call_id>/status")
@require(*CS)
def call_status(call_id: int):
    call = load_or_404(VesselCall, call_id, action="edit")
    form = _status_form(call, formdata=request.form)
    return _post_on_call(
        call, "status", form,
        lambda: services.set_status(call, form.status.data, user=current_user, reason=form.reason.data or ""),
        lambda _result: _("Vessel call %(number)s is now %(status)s.", number=call.number, status=call.status_label))


@bp.post("/calls/<int:call_id>/parcels")
@require(*CS)
def parcel_add(call_id: int):
    call = load_or_404(VesselCall, call_id, action="edit")
    form = _parcel_form(formdata=request.form)

    def add():
        customer = load_or_404(Customer, form.customer_id.data)
        product = load_or_404(Product, form.product_id.data)
        order = load_or_404(Order, form.order_id.data) if form.order_id.data else None
        tank = load_or_404(Tank, form.tank_id.data) if form.tank_id.data else None
        services.add_parcel(call, customer=customer, product=product, quantity=form.quantity.data, unit=form.unit.data,
                            order=order, tank=tank)

    return _post_on_call(call, "parcel", form, add, _("Cargo parcel added."))


@bp.post("/calls/<int:call_id>/parcels/<int:parcel_id>/delete")
@require(*CS)
def parcel_delete(call_id: int, parcel_id: int):
    call = load_or_404(VesselCall, call_id, action="edit")
    parcel = load_child_or_404(CallParcel, parcel_id, parent=call, action="edit")
    return post_change(None, lambda: services.remove_parcel(parcel), done=_("Cargo parcel removed."),
                       to=_call_url(call))


@bp.post("/calls/<int:call_id>/informed")
@require(*CS)
def call_informed(call_id: int):
    call = load_or_404(VesselCall, call_id, action="edit")
    form = _inform_form(call, formdata=request.form)

    def inform():
        customer = load_or_404(Customer, form.customer_id.data)
        services.mark_informed(call, customer, how=form.how.data, user=current_user)
        return customer

    return _post_on_call(call, "inform", form, inform,
                         lambda customer: _("%(customer)s marked as told of the new ETA.", customer=customer.code))


@bp.get("/eta-changes")
def eta_changes():
    return render("operations/vessels/eta_changes.html", rows=services.eta_change_rows())


# -------------------------------------------------------------------------------------------- berths

@bp.get("/berths")
def berths():
    return render("operations/vessels/berths.html", berths=services.berths())


def _berth_page(berth: Berth | None):
    """A new berth (``berth`` None) or a berth's edit page, and its form posted."""
    form = BerthForm(obj=berth, product_choices=_product_choices())
    if request.method == "GET" and berth is not None:
        form.product_ids.data = [p.id for p in berth.products]

    def save():
        products = db.session.scalars(select(Product).where(Product.id.in_(form.product_ids.data or []))).all()
        return services.save_berth(berth, form.values(), products, current_user)

    return post_change(form, save, done=lambda saved: _("Berth %(code)s saved.", code=saved.code),
                       to=url_for("operations.vessels.berths"),
                       page=lambda: render("operations/vessels/berth_form.html", form=form, berth=berth))


@bp.route("/berths/new", methods=["GET", "POST"])
@require(*CS)
def berth_new():
    return _berth_page(None)


@bp.route("/berths/<int:berth_id>/edit", methods=["GET", "POST"])
@require(*CS)
def berth_edit(berth_id: int):
    return _berth_page(load_or_404(Berth, berth_id, action="edit"))


# ------------------------------------------------------------------------------------------- vessels

@bp.get("/ships")
def ships():
    q = request.args.get("q", "").strip()[:80]
    query = select(Vessel).order_by(Vessel.name)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Vessel.name.ilike(like), Vessel.imo.ilike(like)))
    page, per_page = page_args(50)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return render("operations/vessels/ships.html", pagination=pagination, q=q)


def _ship_page(vessel: Vessel | None):
    """A new vessel (``vessel`` None) or a vessel's edit page, and its form posted."""
    form = VesselForm(obj=vessel)
    return post_change(form, lambda: services.save_vessel(vessel, form.values(), current_user),
                       done=lambda saved: _("Vessel %(name)s saved.", name=saved.name),
                       to=url_for("operations.vessels.ships"),
                       page=lambda: render("operations/vessels/ship_form.html", form=form, vessel=vessel))


@bp.route("/ships/new", methods=["GET", "POST"])
@require(*CS)
def ship_new():
    return _ship_page(None)


@bp.route("/ships/<int:vessel_id>/edit", methods=["GET", "POST"])
@require(*CS)
def ship_edit(vessel_id: int):
    return _ship_page(load_or_404(Vessel, vessel_id, action="edit"))


# ---------------------------------------------------------------------------------------- berth plan

def _window():
    """The plan's window from ?from= and ?to= (local days, inclusive); 7 days from today by default."""
    start = arg_date("from", local_today())
    end = arg_date("to", start + timedelta(days=berth_plan.DEFAULT_DAYS - 1))
    note = None
    if end < start:
        end, note = start + timedelta(days=berth_plan.DEFAULT_DAYS - 1), _("The end was before the start: showing 7 days.")
    if (end - start).days + 1 > berth_plan.MAX_DAYS:
        end = start + timedelta(days=berth_plan.MAX_DAYS - 1)
        note = _("A plan shows at most %(days)s days.", days=berth_plan.MAX_DAYS)
    return start, end, note


def _party_choices(plan, port_email=""):
    return [(p.key, p.choice_label) for p in services.parties_for([b.call for b in plan.bars], port_email)]


@bp.get("/plan")
def plan():
    start, end, note = _window()
    the_plan = berth_plan.build_plan(start, end)
    days = timedelta(days=the_plan.days)
    links = {"prev": (start - days, start - timedelta(days=1)), "next": (end + timedelta(days=1), end + days),
             "d30": (start, start + timedelta(days=29)), "d90": (start, start + timedelta(days=89)),
             "this": (start, end)}
    return render("operations/vessels/plan.html", plan=the_plan, note=note,
                  call_url=url_for("operations.vessels.call_detail", call_id=0)[:-1], tones=berth_plan.STATUS_TONES,
                  current=services.current_version(), behind=services.parties_behind(),
                  links={k: {"from": a.isoformat(), "to": b.isoformat()} for k, (a, b) in links.items()})


@bp.route("/plan/publish", methods=["GET", "POST"])
@require(*CS)
def plan_publish():
    """Publish the window's plan as the next version, telling the parties chosen (the plan's customers and
    agents, operations, the port)."""
    start, end, note = _window()
    the_plan = berth_plan.build_plan(start, end)
    form = PublishForm(prefix="publish", party_choices=_party_choices(the_plan))
    return post_change(
        form, lambda: services.publish_plan(start, end, party_keys=form.parties.data, how=form.how.data,
                                            note=form.note.data or "", port_email=form.port_email.data or "",
                                            user=current_user),
        done=lambda version: _("Berth plan version %(number)s published.", number=version.number),
        to=lambda version: url_for("operations.vessels.plan_version", version_id=version.id),
        page=lambda: (render("operations/vessels/plan_publish.html", plan=the_plan, note=note, form=form,
                             current=services.current_version(),
                             window={"from": start.isoformat(), "to": end.isoformat()}), 422 if form.errors else 200))


@bp.get("/plan/versions")
def plan_versions():
    page, per_page = page_args(25)
    pagination = db.paginate(select(BerthPlanVersion).order_by(BerthPlanVersion.number.desc())
                             .options(selectinload(BerthPlanVersion.notices), selectinload(BerthPlanVersion.published_by)),
                             page=page, per_page=per_page, error_out=False)
    return render("operations/vessels/plan_versions.html", pagination=pagination, behind=services.parties_behind(),
                  current=services.current_version())


def _version_calls(version):
    ids = [c["id"] for b in version.content.get("berths", []) for c in b.get("calls", [])]
    return db.session.scalars(select(VesselCall).where(VesselCall.id.in_(ids))
                              .options(selectinload(VesselCall.parcels))).all()


def _tell_form(version, formdata=None):
    return TellForm(prefix="tell", formdata=formdata,
                    party_choices=[(p.key, p.choice_label) for p in services.parties_for(_version_calls(version))])


def _version_page(version, tell_form=None, status_code=200):
    return render("operations/vessels/plan_version.html", version=version, content=version.content,
                  current=services.current_version(), tell_form=tell_form if tell_form is not None else (
                      _tell_form(version) if current_user.has_role("admin", *CS) else None),
                  frozen_conflicts=berth_plan.frozen_conflicts, local_text=berth_plan.to_local_text), status_code


@bp.get("/plan/versions/<int:version_id>")
def plan_version(version_id: int):
    return _version_page(load_or_404(BerthPlanVersion, version_id))


@bp.post("/plan/versions/<int:version_id>/tell")
@require(*CS)
def plan_version_tell(version_id: int):
    version = load_or_404(BerthPlanVersion, version_id, action="edit")
    form = _tell_form(version, formdata=request.form)

    def tell():
        by_key = {p.key: p for p in services.parties_for(_version_calls(version), form.port_email.data or "")}
        services.tell_parties(version, [by_key[k] for k in form.parties.data if k in by_key], how=form.how.data,
                              user=current_user)

    return post_change(form, tell, done=_("Recorded who was told of version %(number)s.", number=version.number),
                       to=url_for("operations.vessels.plan_version", version_id=version.id),
                       page=lambda: _version_page(version, form, 422))


@bp.get("/plan/versions/<int:version_id>/pdf")
def plan_version_pdf(version_id: int):
    version = load_or_404(BerthPlanVersion, version_id)
    return send_download(services.plan_pdf(version), services.plan_pdf_name(version), "application/pdf")
