"""Demonstration data: calibration tables of a few tanks (vertical cylinders, 10 mm rows, one with a fraction
table), their gauging data, methanol's expansion coefficient, and month-end and recent dips."""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from ....demo import register
from ....extensions import db
from ....models import User
from ....timeutil import from_local, local_today
from ..models import Product, Tank
from . import services
from .models import CalibrationFraction, CalibrationPoint, CalibrationTable

D = Decimal
# tank -> (diameter m, height mm, standard, reference height mm, floating roof mass kg, roof floats from mm)
TANKS = {
    "T-101": (D("28.0"), 17000, "gbt", D("17350.0"), None, None),
    "T-102": (D("36.0"), 19000, "gbt", D("19420.0"), D("28500.0"), D("1800.0")),
    "T-201": (D("20.0"), 16000, "gbt", D("16280.0"), None, None),
    "T-301": (D("24.0"), 17500, "astm", D("17800.0"), None, None),
}


def _points(diameter: Decimal, height_mm: int) -> list[tuple[Decimal, Decimal]]:
    area = D(str(math.pi)) / 4 * diameter * diameter  # m²
    points = []
    for h in range(0, height_mm + 1, 10):
        # a small bottom cone under the first 300 mm, then the shell (with slight out-of-round growth)
        dead = min(h, 300) / D(300) * D("2.150")
        shell = area * D(h) / 1000 * (1 + D(h) / D(5_000_000))
        points.append((D(h).quantize(D("0.1")), (dead + shell).quantize(D("0.001"))))
    return points


@register(65, "tank dips")
def load():
    if db.session.scalar(db.select(CalibrationTable.id).limit(1)) is not None:
        return
    csr = db.session.scalar(db.select(User).filter_by(username="csr"))
    tanks = {t.code: t for t in db.session.scalars(db.select(Tank).where(Tank.code.in_(list(TANKS))))}
    if not tanks:
        return
    today = local_today()
    certificate_day = date(today.year - 2, 3, 15)
    for code, (diameter, height, standard, ref, roof_mass, roof_floats) in TANKS.items():
        tank = tanks.get(code)
        if tank is None:
            continue
        services.save_gauging(tank, reference_height_mm=ref, floating_roof=roof_mass is not None, roof_mass_kg=roof_mass,
                              roof_floats_mm=roof_floats, standard=standard, max_step_mm=100, user=csr)
        for n, (issued, factor) in enumerate(((certificate_day, D("1")), (date(today.year - 1, 4, 2), D("1.0004")))):
            table = CalibrationTable(tank_id=tank.id, certificate_number=f"NBMI-{issued.year}-{code[2:]}{n + 1:02d}",
                                     certificate_date=issued, body="宁波市计量测试研究院 Ningbo Institute of Measurement",
                                     valid_from=issued, roof_correction=roof_mass is not None,
                                     source_filename=f"{code}-{issued.year}.xlsx", created_by=csr)
            points = [(h, (v * factor).quantize(D("0.001"))) for h, v in _points(diameter, height)]
            table.point_count = len(points)
            db.session.add(table)
            db.session.flush()
            db.session.execute(db.insert(CalibrationPoint),
                               [{"table_id": table.id, "height_mm": h, "volume_m3": v} for h, v in points])
            if code == "T-101":
                per_mm = (D(str(math.pi)) / 4 * diameter * diameter / 1000 * factor).quantize(D("0.0001"))
                db.session.execute(db.insert(CalibrationFraction), [
                    {"table_id": table.id, "from_mm": D("300"), "to_mm": D(height), "mm": mm, "volume_m3": per_mm * mm}
                    for mm in range(1, 10)])
    methanol = db.session.scalar(db.select(Product).filter_by(code="METHANOL"))
    if methanol is not None:
        services.save_expansion(methanol, D("0.00119"))
    month_end = today.replace(day=1) - timedelta(days=1)
    dips = {
        "T-101": [("innage", D("11234.0"), D("12.0"), [D("24.6"), D("24.1"), D("23.8")], "lab20", D("838.6"), None)],
        "T-102": [("ullage", D("7420.0"), D("0"), [D("22.4"), D("22.0"), D("21.7")], "observed", D("747.9"), D("21.5"))],
        "T-201": [("innage", D("9012.5"), D("0"), [D("19.2"), D("18.8")], "lab20", D("791.8"), None)],
        "T-301": [("innage", D("8870.0"), D("35.0"), [D("52.5"), D("51.0"), D("49.5")], "observed", D("962.3"), D("45.0"))],
    }
    for code, entries in dips.items():
        tank = tanks.get(code)
        if tank is None or tank.product is None:
            continue
        previous_end = month_end.replace(day=1) - timedelta(days=1)
        for day, shift in ((previous_end, D("-215.0")), (month_end, D("0"))):
            for method, reading, water, temps, mode, density, density_t in entries:
                reading_now = reading - shift if method == "ullage" else reading + shift
                services.record_dip(tank, taken_at=from_local(datetime.combine(day, time(16, 30))), method=method,
                                    reading_mm=reading_now, water_mm=water, temperatures=temps, density_mode=mode,
                                    density=density, density_temperature=density_t,
                                    remarks="Month-end dip with the customer's surveyor.",
                                    user=csr)
