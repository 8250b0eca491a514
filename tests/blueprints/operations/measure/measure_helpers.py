"""Helpers of the tank dip tests: calibration table files and a tank ready to be dipped."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.blueprints.operations.measure import services


def table_csv(rows) -> bytes:
    lines = ["height_mm,volume_m3"] + [f"{h},{v}" for h, v in rows]
    return ("\n".join(lines) + "\n").encode()


def straight_rows(top_mm: int = 12000, step: int = 100, m3_per_mm: Decimal = Decimal("1")):
    """A table of 1 m³ per mm (by default): easy to check by hand."""
    return [(h, (Decimal(h) * m3_per_mm).quantize(Decimal("0.001"))) for h in range(0, top_mm + 1, step)]


def ready_tank(tank, *, standard="gbt", reference=Decimal("12500.0"), roof=None, roof_floats=None,
               roof_correction=False, number="CERT-1", valid_from=date(2020, 1, 1), rows=None, user=None):
    services.save_gauging(tank, reference_height_mm=reference, floating_roof=roof is not None, roof_mass_kg=roof,
                          roof_floats_mm=roof_floats, standard=standard, max_step_mm=100, user=user)
    return services.import_calibration(
        tank, certificate_number=number, certificate_date=valid_from, body="Ningbo Institute of Measurement",
        valid_from=valid_from, roof_correction=roof_correction,
        table_file=("table.csv", table_csv(rows or straight_rows())), user=user)
