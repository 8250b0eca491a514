"""Calibration tables, gauging data and dips: import and validation, interpolation, the quantity computation.

Services flush, never commit. ``tank_physical(tank, day)`` is the entry point for other parts of the
operations register (reconciliation, reports): the computed quantities of the latest dip of that day.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from ....extensions import db
from ....services import ServiceError, file_record
from ....timeutil import to_local
from ..imports import ImportFailed, LineError, read_rows
from ..models import Product, Tank
from ..periods import check_open
from . import vcf as vcfmod
from .models import (
    DENSITY_MODES,
    OBSERVED_MODES,
    CalibrationFraction,
    CalibrationPoint,
    CalibrationTable,
    Dip,
    ProductExpansion,
    TankGauging,
)

MM = Decimal("0.1")
M3 = Decimal("0.001")
KG = Decimal("1")
AIR_BUOYANCY = Decimal("1.1")  # kg/m³: mass in air = GSV x (density - 1.1), GB/T 1885 and ASTM D1250 Table 56
TABLE_COLUMNS = {"height_mm": ("height_mm", "height", "高度", "高度_mm"), "volume_m3": ("volume_m3", "volume", "容积", "容积_m3")}
FRACTION_COLUMNS = ("from_mm", "to_mm", "mm", "volume_m3")


class MeasureError(ServiceError):
    pass


def _q(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------- gauging data

def gauging_for(tank: Tank) -> TankGauging | None:
    return db.session.scalar(db.select(TankGauging).filter_by(tank_id=tank.id))


def save_gauging(tank: Tank, *, reference_height_mm, floating_roof: bool, roof_mass_kg, roof_floats_mm,
                 standard: str, max_step_mm: int, user=None) -> TankGauging:
    if standard not in vcfmod.STANDARDS:
        raise MeasureError(_l("Choose a volume correction standard."), field="standard")
    if floating_roof and not roof_mass_kg:
        raise MeasureError(_l("A floating roof needs its mass for the roof correction."), field="roof_mass_kg")
    gauging = gauging_for(tank) or TankGauging(tank_id=tank.id)
    gauging.reference_height_mm = reference_height_mm
    gauging.floating_roof = bool(floating_roof)
    gauging.roof_mass_kg = roof_mass_kg if floating_roof else None
    gauging.roof_floats_mm = roof_floats_mm if floating_roof else None
    gauging.standard = standard
    gauging.max_step_mm = max_step_mm
    db.session.add(gauging)
    db.session.flush()
    return gauging


def expansion_for(product: Product) -> ProductExpansion | None:
    return db.session.scalar(db.select(ProductExpansion).filter_by(product_id=product.id))


def save_expansion(product: Product, coefficient: Decimal | None) -> ProductExpansion | None:
    row = expansion_for(product)
    if coefficient is None:
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return None
    if not Decimal("0") < coefficient < Decimal("0.01"):
        raise MeasureError(_l("The expansion coefficient must be between 0 and 0.01 per °C."), field="coefficient")
    row = row or ProductExpansion(product_id=product.id)
    row.coefficient = coefficient
    db.session.add(row)
    db.session.flush()
    return row


# ----------------------------------------------------------------------------------- calibration tables

def _number(text: str, places: Decimal) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").strip())
    except (InvalidOperation, AttributeError):
        return None
    if not value.is_finite():
        return None
    return value


def _column(header: list[str], names) -> str | None:
    for name in names:
        if name in header:
            return name
    return None


def parse_table(filename: str, data: bytes, max_step_mm: int) -> list[tuple[Decimal, Decimal]]:
    """The (height mm, volume m³) points of a calibration table file; every problem reported by its line."""
    header, rows = read_rows(filename, data)
    h_col, v_col = _column(header, TABLE_COLUMNS["height_mm"]), _column(header, TABLE_COLUMNS["volume_m3"])
    if not h_col or not v_col:
        raise ImportFailed([LineError(1, _l("The first row must name the columns height_mm and volume_m3."))])
    errors: list[LineError] = []
    points: list[tuple[Decimal, Decimal]] = []
    previous: tuple[int, Decimal, Decimal] | None = None
    step = Decimal(max_step_mm)
    for line, values in rows:
        height, volume = _number(values.get(h_col, ""), MM), _number(values.get(v_col, ""), M3)
        if height is None or volume is None:
            errors.append(LineError(line, _l("Height and volume must be numbers.")))
            continue
        if height < 0 or volume < 0:
            errors.append(LineError(line, _l("Height and volume cannot be negative.")))
            continue
        if previous is not None:
            _line, last_h, last_v = previous
            if height <= last_h:
                errors.append(LineError(line, _l("Height %(height)s mm is not above the previous row's %(previous)s mm.",
                                                 height=height, previous=last_h)))
            elif volume <= last_v:
                errors.append(LineError(line, _l("Volume %(volume)s m³ is not above the previous row's %(previous)s m³.",
                                                 volume=volume, previous=last_v)))
            elif height - last_h > step:
                errors.append(LineError(line, _l("A gap of %(gap)s mm from the previous row: at most %(step)s mm allowed.",
                                                 gap=height - last_h, step=max_step_mm)))
        previous = (line, height, volume)
        points.append((_q(height, MM), _q(volume, M3)))
    if len(points) < 2 and not errors:
        errors.append(LineError(1, _l("A calibration table needs at least two rows.")))
    if errors:
        raise ImportFailed(errors)
    return points


def parse_fractions(filename: str, data: bytes) -> list[tuple[Decimal, Decimal, int, Decimal]]:
    """Fraction table rows (from_mm, to_mm, mm 1-9, volume m³): the volume of each millimetre above a whole
    centimetre, for the band of heights from_mm <= h < to_mm."""
    header, rows = read_rows(filename, data)
    missing = [c for c in FRACTION_COLUMNS if c not in header]
    if missing:
        raise ImportFailed([LineError(1, _l("Missing column(s): %(columns)s.", columns=", ".join(missing)))])
    errors: list[LineError] = []
    out = []
    for line, values in rows:
        lo, hi = _number(values["from_mm"], MM), _number(values["to_mm"], MM)
        mm, volume = _number(values["mm"], MM), _number(values["volume_m3"], M3)
        if None in (lo, hi, mm, volume):
            errors.append(LineError(line, _l("from_mm, to_mm, mm and volume_m3 must be numbers.")))
            continue
        if mm != mm.to_integral_value() or not 1 <= mm <= 9:
            errors.append(LineError(line, _l("mm must be a whole number from 1 to 9.")))
            continue
        if hi <= lo or volume <= 0:
            errors.append(LineError(line, _l("to_mm must be above from_mm and the volume above zero.")))
            continue
        out.append((lo, hi, int(mm), _q(volume, Decimal("0.0001"))))
    by_band: dict[tuple, list] = {}
    for lo, hi, mm, volume in out:
        by_band.setdefault((lo, hi), []).append((mm, volume))
    for (lo, hi), entries in by_band.items():
        entries.sort()
        if any(b[1] <= a[1] for a, b in zip(entries, entries[1:])):
            errors.append(LineError(1, _l("The fraction volumes of %(lo)s-%(hi)s mm must increase with the millimetres.",
                                          lo=lo, hi=hi)))
    if errors:
        raise ImportFailed(errors)
    return out


def import_calibration(tank: Tank, *, certificate_number: str, certificate_date: date, body: str, valid_from: date,
                       roof_correction: bool, table_file: tuple[str, bytes],
                       fraction_file: tuple[str, bytes] | None = None,
                       certificate_file: tuple[str, bytes] | None = None, user=None) -> CalibrationTable:
    """Check the whole table (and fraction table) first, then create the version; one problem and nothing is kept."""
    gauging = gauging_for(tank)
    max_step = gauging.max_step_mm if gauging else 100
    number = (certificate_number or "").strip()
    if db.session.scalar(db.select(CalibrationTable.id).filter_by(tank_id=tank.id, certificate_number=number)):
        raise MeasureError(_l("Certificate %(number)s is already imported for this tank.", number=number),
                           field="certificate_number")
    points = _on_field("table_file", parse_table, *table_file, max_step)
    fractions = _on_field("fraction_file", parse_fractions, *fraction_file) if fraction_file else []
    table = CalibrationTable(tank_id=tank.id, certificate_number=number, certificate_date=certificate_date,
                             body=body.strip(), valid_from=valid_from, roof_correction=bool(roof_correction),
                             source_filename=table_file[0][:255], point_count=len(points), created_by=user)
    db.session.add(table)
    db.session.flush()
    db.session.execute(db.insert(CalibrationPoint), [
        {"table_id": table.id, "height_mm": h, "volume_m3": v} for h, v in points])
    if fractions:
        db.session.execute(db.insert(CalibrationFraction), [
            {"table_id": table.id, "from_mm": lo, "to_mm": hi, "mm": mm, "volume_m3": v} for lo, hi, mm, v in fractions])
    if certificate_file:
        record = _on_field(
            "certificate_file", file_record, kind="certificate", title=f"Tank calibration certificate {tank.code} {number} / 油罐容积表检定证书",
            files=[certificate_file], user=user, event_date=certificate_date,
            source_key=f"ops-calibration:{tank.id}:{number}",
            description=f"{body.strip()}, {certificate_date.isoformat()}, in force from {valid_from.isoformat()}")
        table.archive_record_id = record.id
    db.session.flush()
    return table


def _on_field(name: str, fn, *args, **kwargs):
    """Run fn; a refused file (a ServiceError without a field or on "file") is shown on the form field `name`."""
    try:
        return fn(*args, **kwargs)
    except ImportFailed:
        raise
    except ServiceError as exc:
        if exc.field in (None, "file"):
            exc.field = name
        raise


def table_in_force(tank: Tank, day: date) -> CalibrationTable | None:
    return db.session.scalar(
        db.select(CalibrationTable).where(CalibrationTable.tank_id == tank.id, CalibrationTable.valid_from <= day)
        .order_by(CalibrationTable.valid_from.desc(), CalibrationTable.certificate_date.desc(), CalibrationTable.id.desc())
        .limit(1))


def _points(table: CalibrationTable) -> list[tuple[Decimal, Decimal]]:
    return [tuple(r) for r in db.session.execute(
        db.select(CalibrationPoint.height_mm, CalibrationPoint.volume_m3)
        .where(CalibrationPoint.table_id == table.id).order_by(CalibrationPoint.height_mm))]


def _fraction(table: CalibrationTable, whole_cm: Decimal, mm: Decimal) -> Decimal | None:
    """The fraction-table volume of `mm` (0-10, may have a decimal) above the whole centimetre, or None."""
    rows = {r.mm: r.volume_m3 for r in db.session.scalars(
        db.select(CalibrationFraction).where(CalibrationFraction.table_id == table.id,
                                             CalibrationFraction.from_mm <= whole_cm, CalibrationFraction.to_mm > whole_cm))}
    if not rows:
        return None
    lo = int(mm)
    low = Decimal(0) if lo == 0 else rows.get(lo)
    if low is None:
        return None
    if mm == lo:
        return low
    high = rows.get(lo + 1)
    if high is None:
        return None
    return low + (high - low) * (mm - lo)


def volume_at(table: CalibrationTable, height_mm: Decimal) -> Decimal:
    """The table's volume at `height_mm` (m³, 3 decimals): the whole centimetre plus its fraction-table millimetres
    where a fraction table covers that height, else linear interpolation between the two neighbouring rows."""
    height = Decimal(height_mm)
    points = _points(table)
    if not points or height < points[0][0] or height > points[-1][0]:
        raise MeasureError(_l("%(height)s mm is outside the calibration table (%(low)s to %(high)s mm).",
                              height=height, low=points[0][0] if points else 0, high=points[-1][0] if points else 0))
    exact = dict(points)
    if height in exact:
        return _q(exact[height], M3)
    whole = (height / 10).to_integral_value(rounding="ROUND_FLOOR") * 10
    if whole in exact:
        extra = _fraction(table, whole, height - whole)
        if extra is not None:
            return _q(exact[whole] + extra, M3)
    for (h1, v1), (h2, v2) in zip(points, points[1:]):
        if h1 <= height <= h2:
            return _q(v1 + (v2 - v1) * (height - h1) / (h2 - h1), M3)
    raise MeasureError(_l("%(height)s mm is outside the calibration table.", height=height))  # pragma: no cover


# ----------------------------------------------------------------------------------------- computation

@dataclass
class Step:
    code: str
    value: Decimal
    unit: str
    detail: str = ""


@dataclass
class Computation:
    innage_mm: Decimal
    tov_m3: Decimal
    water_m3: Decimal
    roof_m3: Decimal
    gov_m3: Decimal
    temperature: Decimal
    density_base: Decimal
    density_20: Decimal
    vcf: Decimal
    gsv_m3: Decimal
    mass_vacuum_kg: Decimal
    mass_air_kg: Decimal
    v20_m3: Decimal
    standard: str
    group: str
    coefficient: Decimal | None
    steps: list[Step] = field(default_factory=list)

    @property
    def base_temperature(self) -> Decimal:
        return vcfmod.STANDARDS[self.standard]


def correction_of(product: Product) -> tuple[str, Decimal | None]:
    """(commodity group, linear coefficient) of a product: a petroleum group, or "linear" with its coefficient."""
    expansion = expansion_for(product)
    if expansion is not None:
        return "linear", expansion.coefficient
    group = vcfmod.group_for(product.vcf_group)
    if group is None:
        raise MeasureError(_l("Product %(code)s has neither a volume-correction group (54A, 54B, 54D) nor an "
                              "expansion coefficient.", code=product.code))
    return group, None


def _average(temperatures: list[Decimal]) -> Decimal:
    if not temperatures:
        raise MeasureError(_l("Give at least one temperature."), field="temperatures")
    return _q(sum(temperatures) / len(temperatures), Decimal("0.1"))


def compute(tank: Tank, table: CalibrationTable, product: Product, *, method: str, reading_mm: Decimal,
            water_mm: Decimal, temperatures: list[Decimal], density_mode: str, density: Decimal,
            density_temperature: Decimal | None = None, gauging: TankGauging | None = None) -> Computation:
    """Every step from the dip to the masses (TOV -> free water -> roof -> GOV -> VCF -> GSV -> masses)."""
    gauging = gauging if gauging is not None else gauging_for(tank)
    standard = gauging.standard if gauging else "gbt"
    base = vcfmod.STANDARDS[standard]
    group, coefficient = correction_of(product)
    steps: list[Step] = []
    reading = Decimal(reading_mm)
    if method == "ullage":
        if not gauging or gauging.reference_height_mm is None:
            raise MeasureError(_l("An ullage needs the tank's reference height: enter it in the gauging data."),
                               field="reading_mm")
        innage = gauging.reference_height_mm - reading
        if innage < 0:
            raise MeasureError(_l("The ullage is larger than the reference height."), field="reading_mm")
        steps.append(Step("innage", innage, "mm", f"{gauging.reference_height_mm} − {reading}"))
    elif method == "innage":
        innage = reading
        steps.append(Step("innage", innage, "mm"))
    else:
        raise MeasureError(_l("Choose innage or ullage."), field="method")
    if water_mm < 0 or water_mm > innage:
        raise MeasureError(_l("The free-water dip must be between 0 and the innage."), field="water_mm")
    try:
        tov = volume_at(table, innage)
    except MeasureError as exc:
        raise MeasureError(exc.message, field="reading_mm") from None
    steps.append(Step("tov", tov, "m³", f"{table.certificate_number} @ {innage} mm"))
    water = volume_at(table, water_mm) if water_mm > 0 else Decimal("0.000")
    water = _q(water, M3)
    steps.append(Step("water", water, "m³", f"@ {water_mm} mm"))
    temperature = _average(temperatures)
    steps.append(Step("temperature", temperature, "°C", " / ".join(str(t) for t in temperatures)))
    try:
        if group == "linear":
            if density_mode == "lab20":
                density20 = _q(Decimal(density), MM)
            else:
                read = Decimal(density)
                if density_mode == "hydrometer":  # the glass expands too: the reading is corrected first
                    read = read * Decimal(repr(vcfmod.hydrometer_correction(float(density_temperature), 20.0)))
                density20 = vcfmod.linear_density_at_base(coefficient, read, density_temperature)
            density_base = density20 if base == 20 else _q(density20 / vcfmod.vcf_linear(coefficient, base), MM)
            factor = vcfmod.vcf_linear(coefficient, temperature, base)
            density_t = density_base * factor
        else:
            if density_mode == "lab20":
                density_base = vcfmod.density_at_base(standard, group, density, Decimal("20"))
                density20 = _q(Decimal(density), MM)
            else:
                glass = density_mode == "hydrometer"
                density_base = vcfmod.density_at_base(standard, group, density, density_temperature,
                                                      glass_hydrometer=glass)
                density20 = vcfmod.density_at_base("gbt", group, density, density_temperature, glass_hydrometer=glass)
            factor = vcfmod.vcf(standard, group, density_base, temperature)
            density_t = density_base * factor
    except vcfmod.VcfError as exc:
        raise MeasureError(_l("The volume correction cannot be computed: %(reason)s", reason=str(exc)),
                           field="density") from None
    if density_mode in OBSERVED_MODES:
        how = f", {_l('glass hydrometer reading, corrected for the glass')}" if density_mode == "hydrometer" else ""
        steps.append(Step("density_observed", _q(Decimal(density), MM), "kg/m³", f"@ {density_temperature} °C{how}"))
    steps.append(Step("density_base", density_base, "kg/m³", f"{base} °C"))
    roof = Decimal("0.000")
    if (gauging and gauging.floating_roof and table.roof_correction and gauging.roof_mass_kg
            and (gauging.roof_floats_mm is None or innage >= gauging.roof_floats_mm)):
        roof = _q(gauging.roof_mass_kg / density_t, M3)
        steps.append(Step("roof", roof, "m³", f"{gauging.roof_mass_kg} kg / {_q(density_t, MM)} kg/m³"))
    gov = tov - water - roof
    if gov < 0:
        raise MeasureError(_l("The free water and roof correction exceed the total observed volume."), field="water_mm")
    steps.append(Step("gov", gov, "m³", "TOV − FW" + (" − roof" if roof else "")))
    steps.append(Step("vcf", factor, "", f"{standard.upper()} {group}" + (f" β={coefficient}" if coefficient else "")))
    gsv = _q(gov * factor, M3)
    steps.append(Step("gsv", gsv, "m³", f"GOV × VCF, {base} °C"))
    mass_vac = _q(gsv * density_base, KG)
    steps.append(Step("mass_vacuum", mass_vac, "kg", "GSV × ρ"))
    mass_air = _q(gsv * (density_base - AIR_BUOYANCY), KG)
    steps.append(Step("mass_air", mass_air, "kg", "GSV × (ρ − 1.1)"))
    v20 = gsv if base == 20 else _q(mass_vac / density20, M3)
    if base != 20:
        steps.append(Step("v20", v20, "m³", f"mass / ρ20 ({density20})"))
    return Computation(innage_mm=innage, tov_m3=tov, water_m3=water, roof_m3=roof, gov_m3=gov, temperature=temperature,
                       density_base=density_base, density_20=density20, vcf=factor, gsv_m3=gsv, mass_vacuum_kg=mass_vac,
                       mass_air_kg=mass_air, v20_m3=v20, standard=standard, group=group, coefficient=coefficient,
                       steps=steps)


def parse_temperatures(text: str) -> list[Decimal]:
    values = []
    for part in (text or "").replace(";", " ").replace(",", " ").replace("/", " ").split():
        try:
            value = Decimal(part)
        except InvalidOperation:
            raise MeasureError(_l("Temperatures must be numbers separated by spaces."), field="temperatures") from None
        if not value.is_finite() or not Decimal("-50") <= value <= Decimal("150"):
            raise MeasureError(_l("Temperatures must be between -50 °C and 150 °C."), field="temperatures")
        values.append(value)
    if not values:
        raise MeasureError(_l("Give at least one temperature."), field="temperatures")
    if len(values) > 10:
        raise MeasureError(_l("At most 10 temperature levels."), field="temperatures")
    return values


def record_dip(tank: Tank, *, taken_at: datetime, method: str, reading_mm: Decimal, water_mm: Decimal,
               temperatures: list[Decimal], density_mode: str, density: Decimal, density_temperature=None,
               product: Product | None = None, remarks: str = "", user=None) -> Dip:
    product = product or tank.product
    if product is None:
        raise MeasureError(_l("The tank has no product: set its product first."))
    day = to_local(taken_at).date()
    check_open(day, field="taken_at")  # a signed-off month takes no dip (operations/periods.py)
    table = table_in_force(tank, day)
    if table is None:
        raise MeasureError(_l("Tank %(tank)s has no calibration table in force on %(day)s.", tank=tank.code, day=day))
    if density_mode not in DENSITY_MODES:
        raise MeasureError(_l("Choose how the density is given."), field="density_mode")
    if density_mode in OBSERVED_MODES and density_temperature is None:
        raise MeasureError(_l("Give the temperature of the observed density."), field="density_temperature")
    result = compute(tank, table, product, method=method, reading_mm=reading_mm, water_mm=water_mm,
                     temperatures=temperatures, density_mode=density_mode, density=density,
                     density_temperature=density_temperature)
    dip = Dip(tank_id=tank.id, product_id=product.id, calibration_id=table.id, taken_at=taken_at, day=day, method=method,
              reading_mm=reading_mm, innage_mm=result.innage_mm, water_mm=water_mm,
              temperatures=" ".join(str(t) for t in temperatures), temperature=result.temperature,
              density_mode=density_mode, density_input=_q(Decimal(density), MM),
              density_temperature=density_temperature if density_mode in OBSERVED_MODES else None,
              standard=result.standard, vcf_group=result.group, coefficient=result.coefficient,
              density_base=result.density_base, density_20=result.density_20, tov_m3=result.tov_m3,
              water_m3=result.water_m3, roof_m3=result.roof_m3, gov_m3=result.gov_m3, vcf=result.vcf,
              gsv_m3=result.gsv_m3, v20_m3=result.v20_m3, mass_vacuum_kg=result.mass_vacuum_kg,
              mass_air_kg=result.mass_air_kg, remarks=remarks or "", created_by=user)
    db.session.add(dip)
    db.session.flush()
    return dip


def recompute(dip: Dip) -> Computation:
    """The steps of a recorded dip, computed again from its inputs with the table it used."""
    return compute(dip.tank, dip.calibration, dip.product, method=dip.method, reading_mm=dip.reading_mm,
                   water_mm=dip.water_mm, temperatures=parse_temperatures(dip.temperatures), density_mode=dip.density_mode,
                   density=dip.density_input, density_temperature=dip.density_temperature)


def latest_dip(tank: Tank, day: date) -> Dip | None:
    return db.session.scalar(db.select(Dip).where(Dip.tank_id == tank.id, Dip.day == day)
                             .order_by(Dip.taken_at.desc(), Dip.id.desc()).limit(1))


def tank_physical(tank: Tank, day: date) -> dict | None:
    """The computed quantities of the latest dip of `tank` on `day` (local date), or None when it was not dipped.

    Keys: dip_id, taken_at (UTC), product_id, standard, base_temperature (°C), temperature (°C), innage_mm,
    tov_m3, water_m3, roof_m3, gov_m3, vcf, gsv_m3 (at the base temperature), density_base, density_20 (kg/m³),
    v20_m3 (m³ at 20 °C), mass_vacuum_kg, mass_air_kg, t (mass in air, tonnes). All Decimal.
    """
    dip = latest_dip(tank, day)
    if dip is None:
        return None
    return {
        "dip_id": dip.id, "taken_at": dip.taken_at, "product_id": dip.product_id, "standard": dip.standard,
        "base_temperature": vcfmod.STANDARDS[dip.standard], "temperature": dip.temperature, "innage_mm": dip.innage_mm,
        "tov_m3": dip.tov_m3, "water_m3": dip.water_m3, "roof_m3": dip.roof_m3, "gov_m3": dip.gov_m3, "vcf": dip.vcf,
        "gsv_m3": dip.gsv_m3, "density_base": dip.density_base, "density_20": dip.density_20, "v20_m3": dip.v20_m3,
        "mass_vacuum_kg": dip.mass_vacuum_kg, "mass_air_kg": dip.mass_air_kg,
        "t": (dip.mass_air_kg / 1000).quantize(M3),
    }
