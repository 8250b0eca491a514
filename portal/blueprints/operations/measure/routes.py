"""Tank dips and calibration tables: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....permissions import load_child_or_404, load_or_404, require
from ....timeutil import local_now
from ....web import page_args, render, send_download, service_errors
from ..models import Product, Tank
from . import pdf, services, vcf
from .forms import CalibrationForm, DipForm, ExpansionForm, GaugingForm, VcfForm
from .models import CalibrationTable, Dip, ProductExpansion

bp = Blueprint("measure", __name__, url_prefix="/measure")

CS = ("cs_manager", "csr")


def _upload(field):
    data = field.data
    if data is None or not getattr(data, "filename", ""):
        return None
    return data.filename, data.read()


@bp.get("/")
def index():
    tanks = list(db.session.scalars(db.select(Tank).order_by(Tank.code).options(selectinload(Tank.product))))
    tables = {t.tank_id: t for t in db.session.scalars(
        db.select(CalibrationTable).order_by(CalibrationTable.valid_from, CalibrationTable.id))}
    page, per_page = page_args(30)
    dips = db.paginate(db.select(Dip).order_by(Dip.taken_at.desc(), Dip.id.desc())
                       .options(selectinload(Dip.tank), selectinload(Dip.product)),
                       page=page, per_page=per_page, error_out=False)
    expansions = list(db.session.scalars(db.select(ProductExpansion).options(selectinload(ProductExpansion.product))))
    return render("operations/measure/index.html", tanks=tanks, tables=tables, dips=dips, expansions=expansions)


def _tank_page(tank, gauging_form=None, status=200):
    gauging = services.gauging_for(tank)
    if gauging_form is None:
        gauging_form = GaugingForm(obj=gauging) if gauging else GaugingForm()
    tables = list(db.session.scalars(db.select(CalibrationTable).filter_by(tank_id=tank.id)
                                     .order_by(CalibrationTable.valid_from.desc(), CalibrationTable.id.desc())))
    dips = list(db.session.scalars(db.select(Dip).filter_by(tank_id=tank.id).order_by(Dip.taken_at.desc()).limit(20)))
    in_force = services.table_in_force(tank, local_now().date())
    return render("operations/measure/tank.html", tank=tank, gauging=gauging, form=gauging_form, tables=tables,
                  dips=dips, in_force=in_force), status


@bp.get("/tanks/<int:tank_id>")
def tank(tank_id: int):
    return _tank_page(load_or_404(Tank, tank_id))


@bp.post("/tanks/<int:tank_id>/gauging")
@require(*CS)
def gauging(tank_id: int):
    tank = load_or_404(Tank, tank_id, action="edit")
    form = GaugingForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_gauging(tank, reference_height_mm=form.reference_height_mm.data,
                                  floating_roof=form.floating_roof.data, roof_mass_kg=form.roof_mass_kg.data,
                                  roof_floats_mm=form.roof_floats_mm.data, standard=form.standard.data,
                                  max_step_mm=form.max_step_mm.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Gauging data of %(tank)s saved.", tank=tank.code), "success")
            return redirect(url_for("operations.measure.tank", tank_id=tank.id))
    return _tank_page(tank, form, 422)


@bp.route("/tanks/<int:tank_id>/calibrations/new", methods=["GET", "POST"])
@require(*CS)
def new_calibration(tank_id: int):
    tank = load_or_404(Tank, tank_id, action="edit")
    form = CalibrationForm()
    errors = []
    if form.validate_on_submit():
        table_file = _upload(form.table_file)
        if table_file is None:
            form.table_file.errors.append(_("Choose the calibration table file."))
        else:
            with service_errors(form, field="table_file") as outcome:
                table = services.import_calibration(
                    tank, certificate_number=form.certificate_number.data, certificate_date=form.certificate_date.data,
                    body=form.body.data, valid_from=form.valid_from.data, roof_correction=form.roof_correction.data,
                    table_file=table_file, fraction_file=_upload(form.fraction_file),
                    certificate_file=_upload(form.certificate_file), user=current_user)
                db.session.commit()
            if outcome.ok:
                flash(_("Calibration table %(number)s imported: %(count)s rows.", number=table.certificate_number,
                        count=table.point_count), "success")
                return redirect(url_for("operations.measure.calibration", tank_id=tank.id, table_id=table.id))
            errors = getattr(outcome.error, "errors", [])
    return render("operations/measure/calibration_form.html", tank=tank, form=form, errors=errors)


@bp.get("/tanks/<int:tank_id>/calibrations/<int:table_id>")
def calibration(tank_id: int, table_id: int):
    tank = load_or_404(Tank, tank_id)
    table = load_child_or_404(CalibrationTable, table_id, parent=tank)
    return render("operations/measure/calibration.html", tank=tank, table=table)


@bp.route("/tanks/<int:tank_id>/dips/new", methods=["GET", "POST"])
@require(*CS)
def new_dip(tank_id: int):
    tank = load_or_404(Tank, tank_id, action="edit")
    form = DipForm()
    if request.method == "GET":
        form.taken_at.data = local_now().replace(second=0, microsecond=0, tzinfo=None)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            dip = services.record_dip(
                tank, taken_at=form.taken_at.utc, method=form.method.data, reading_mm=form.reading_mm.data,
                water_mm=form.water_mm.data, temperatures=services.parse_temperatures(form.temperatures.data),
                density_mode=form.density_mode.data, density=form.density.data,
                density_temperature=form.density_temperature.data, remarks=form.remarks.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Dip of %(tank)s recorded.", tank=tank.code), "success")
            return redirect(url_for("operations.measure.dip", tank_id=tank.id, dip_id=dip.id))
    return render("operations/measure/dip_form.html", tank=tank, form=form,
                  table=services.table_in_force(tank, local_now().date()), gauging=services.gauging_for(tank))


@bp.get("/tanks/<int:tank_id>/dips/<int:dip_id>")
def dip(tank_id: int, dip_id: int):
    tank = load_or_404(Tank, tank_id)
    record = load_child_or_404(Dip, dip_id, parent=tank)
    return render("operations/measure/dip.html", tank=tank, dip=record, result=services.recompute(record))


@bp.get("/tanks/<int:tank_id>/dips/<int:dip_id>/pdf")
def dip_pdf(tank_id: int, dip_id: int):
    tank = load_or_404(Tank, tank_id)
    record = load_child_or_404(Dip, dip_id, parent=tank)
    return send_download(pdf.dip_pdf(record), pdf.filename(record), "application/pdf")


@bp.route("/expansion", methods=["GET", "POST"])
@require(*CS)
def expansion():
    products = list(db.session.scalars(db.select(Product).where(Product.retired.is_(False)).order_by(Product.code)))
    form = ExpansionForm(product_choices=[(p.id, p.choice_label) for p in products])
    if form.validate_on_submit():
        product = load_or_404(Product, form.product_id.data, action="edit")
        with service_errors(form) as outcome:
            services.save_expansion(product, form.coefficient.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Expansion coefficient of %(product)s saved.", product=product.code), "success")
            return redirect(url_for("operations.measure.index"))
    return render("operations/measure/expansion.html", form=form)


@bp.get("/vcf")
def vcf_calculator():
    form = VcfForm(request.args)
    factor = None
    if request.args and form.validate():
        try:
            factor = vcf.vcf(form.standard.data, form.group.data, form.density.data, form.temperature.data)
        except vcf.VcfError as exc:
            form.density.errors.append(_("The tables do not cover this: %(reason)s", reason=str(exc)))
    return render("operations/measure/vcf.html", form=form, factor=factor)
