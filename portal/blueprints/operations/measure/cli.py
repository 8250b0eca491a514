"""`flask operations vcf` and `flask operations dip`: the volume correction factor and a dip's steps, printed."""
from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation

import click

from ....extensions import db
from ....timeutil import local_now
from ..models import Tank
from . import services, vcf
from .pdf import STEP_LABELS


def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)


def _decimal(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        _fail(f"{name} must be a number: {text!r}")
    if not value.is_finite():
        _fail(f"{name} must be a number: {text!r}")
    return value


def register(group: click.Group) -> None:
    """Add the measurement commands to the `operations` command group."""

    @group.command("vcf")
    @click.option("--standard", type=click.Choice(["astm", "gbt"]), required=True,
                  help="astm: ASTM D1250 / API MPMS 11.1, base 15 °C; gbt: GB/T 1885, base 20 °C.")
    @click.option("--group", "group_", type=click.Choice(["crude", "products", "lubricants"]), required=True)
    @click.option("--density", required=True, help="Density at the standard's base temperature, kg/m³.")
    @click.option("--temperature", required=True, help="Observed temperature, °C.")
    def vcf_cmd(standard: str, group_: str, density: str, temperature: str):
        """Print the volume correction factor to five decimals."""
        try:
            factor = vcf.vcf(standard, group_, _decimal(density, "density"), _decimal(temperature, "temperature"))
        except vcf.VcfError as exc:
            _fail(f"error: {exc}")
        click.echo(f"{factor}")

    @group.command("dip")
    @click.option("--tank", "tank_code", required=True, help="Tank code, e.g. T-101.")
    @click.option("--innage-mm", required=True)
    @click.option("--water-mm", default="0")
    @click.option("--temperature", required=True, help="Average product temperature, °C.")
    @click.option("--density20", required=True, help="Laboratory density at 20 °C, kg/m³.")
    def dip_cmd(tank_code: str, innage_mm: str, water_mm: str, temperature: str, density20: str):
        """Compute a dip with the tank's calibration table in force today and print every step (nothing is saved)."""
        tank = db.session.scalar(db.select(Tank).filter_by(code=tank_code))
        if tank is None:
            _fail(f"error: no tank {tank_code}")
        if tank.product is None:
            _fail(f"error: tank {tank_code} has no product")
        table = services.table_in_force(tank, local_now().date())
        if table is None:
            _fail(f"error: tank {tank_code} has no calibration table in force")
        try:
            result = services.compute(tank, table, tank.product, method="innage",
                                      reading_mm=_decimal(innage_mm, "innage"), water_mm=_decimal(water_mm, "water"),
                                      temperatures=[_decimal(temperature, "temperature")], density_mode="lab20",
                                      density=_decimal(density20, "density20"))
        except services.MeasureError as exc:
            _fail(f"error: {exc.message}")
        click.echo(f"Tank {tank.code}, {tank.product.code}, table {table.certificate_number} ({table.body}), "
                   f"{result.standard.upper()} base {result.base_temperature} °C")
        for step in result.steps:
            label = STEP_LABELS.get(step.code, step.code).split(" ", 1)[-1]
            value = f"{step.value} {step.unit}".strip()
            click.echo(f"  {label:<45} {value:>20}   {step.detail}")
