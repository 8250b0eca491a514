"""Helpers of the month-end tests: stock in the book at a time, a tank dipped at the month's end."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from portal.blueprints.operations.measure import services as measure
from portal.blueprints.operations.stock import services as stock

MONTH = date(2026, 3, 1)
IN_MONTH = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
MONTH_END_DIP = datetime(2026, 3, 31, 8, 30, tzinfo=UTC)  # 16:30 in Shanghai, the last day of March


def table_csv(top_mm: int = 12000, step: int = 100) -> bytes:
    """A straight table of 1 m³ per mm: the volume is the innage in mm."""
    lines = ["height_mm,volume_m3"] + [f"{h},{Decimal(h):.3f}" for h in range(0, top_mm + 1, step)]
    return ("\n".join(lines) + "\n").encode()


def calibrate(tank, user=None):
    measure.save_gauging(tank, reference_height_mm=Decimal("12500.0"), floating_roof=False, roof_mass_kg=None,
                         roof_floats_mm=None, standard="gbt", max_step_mm=100, user=user)
    return measure.import_calibration(tank, certificate_number=f"CERT-{tank.code}", certificate_date=date(2020, 1, 1),
                                      body="Ningbo Institute of Measurement", valid_from=date(2020, 1, 1),
                                      roof_correction=False, table_file=("table.csv", table_csv()), user=user)


def dip(tank, innage_mm, *, at=MONTH_END_DIP, temperature="20.0", density="840.0", user=None):
    """A dip at 20 °C with a laboratory density at 20 °C: v20 = innage m³, mass in air = v20 x (density − 1.1)."""
    return measure.record_dip(tank, taken_at=at, method="innage", reading_mm=Decimal(innage_mm),
                              water_mm=Decimal("0.0"), temperatures=[Decimal(temperature)], density_mode="lab20",
                              density=Decimal(density), user=user)


def book(customer, tank, product, kg, m3, *, at=IN_MONTH, customs_status="duty_paid", user=None):
    return stock.post_movement(customer_id=customer.id, tank_id=tank.id, product_id=product.id,
                               customs_status=customs_status, kg=Decimal(kg), m3=Decimal(m3), at=at, user=user)
