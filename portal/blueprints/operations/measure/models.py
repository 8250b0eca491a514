"""Tank gauging data, calibration (strapping) tables by certificate, and dips with their computed quantities."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ....extensions import db
from ....models import CreatedByMixin, TimestampMixin, UTCDateTime
from ..models import Product, Tank, _Viewable

STANDARD_LABELS = {"gbt": _l("GB/T 1885 (20 °C)"), "astm": _l("ASTM D1250 / API MPMS 11.1 (15 °C)")}
GROUP_LABELS = {"crude": _l("Crude oil (tables A)"), "products": _l("Refined products (tables B)"),
                "lubricants": _l("Lubricating oils (tables D)")}
METHODS = {"innage": _l("Innage"), "ullage": _l("Ullage")}
DENSITY_MODES = {"lab20": _l("Laboratory density at the base temperature"),
                 "observed": _l("Observed density at a temperature"),
                 "hydrometer": _l("Glass hydrometer reading at a temperature")}
OBSERVED_MODES = frozenset({"observed", "hydrometer"})  # a density read at a temperature (not at the base)


class TankGauging(_Viewable, TimestampMixin, db.Model):
    """How a tank is gauged: reference height, floating roof and its correction, the standard used."""

    __tablename__ = "ops_measure_tank"
    __audit_label__ = _l("Tank gauging data")
    __audit_fields__ = {
        "tank_id": _l("Tank"), "reference_height_mm": _l("Reference height (mm)"), "floating_roof": _l("Floating roof"),
        "roof_mass_kg": _l("Roof mass (kg)"), "roof_floats_mm": _l("Roof floats from (mm)"),
        "standard": _l("Volume correction standard"), "max_step_mm": _l("Largest step of the calibration table (mm)"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id", ondelete="CASCADE"), unique=True, nullable=False)
    reference_height_mm: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 1), nullable=True)
    floating_roof: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    roof_mass_kg: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 1), nullable=True)
    roof_floats_mm: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 1), nullable=True)
    standard: Mapped[str] = mapped_column(String(10), default="gbt", nullable=False)
    max_step_mm: Mapped[int] = mapped_column(Integer, default=100, nullable=False)

    tank: Mapped[Tank] = relationship()


class ProductExpansion(_Viewable, TimestampMixin, db.Model):
    """A chemical's or vegetable oil's linear expansion coefficient (per °C), used instead of the petroleum tables."""

    __tablename__ = "ops_measure_product"
    __audit_label__ = _l("Expansion coefficient")
    __audit_fields__ = {"product_id": _l("Product"), "coefficient": _l("Linear expansion coefficient (1/°C)")}

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id", ondelete="CASCADE"), unique=True, nullable=False)
    coefficient: Mapped[Decimal] = mapped_column(Numeric(10, 8), nullable=False)

    product: Mapped[Product] = relationship()


class CalibrationTable(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    """One calibration certificate of a tank and its table (height mm -> volume m³); the newest in force is used."""

    __tablename__ = "ops_measure_calibration"
    __table_args__ = (UniqueConstraint("tank_id", "certificate_number", name="uq_ops_measure_calibration_cert"),)
    __audit_label__ = _l("Calibration table")
    __audit_fields__ = {
        "tank_id": _l("Tank"), "certificate_number": _l("Certificate number"), "certificate_date": _l("Certificate date"),
        "body": _l("Calibrated by"), "valid_from": _l("In force from"), "roof_correction": _l("Apply the roof correction"),
        "archive_record_id": _l("Filed certificate"), "source_filename": _l("Imported file"),
        "point_count": _l("Points"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id", ondelete="CASCADE"), nullable=False, index=True)
    certificate_number: Mapped[str] = mapped_column(String(60), nullable=False)
    certificate_date: Mapped[date] = mapped_column(Date, nullable=False)
    body: Mapped[str] = mapped_column(String(160), nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    roof_correction: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    archive_record_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    source_filename: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    point_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    tank: Mapped[Tank] = relationship()
    points: Mapped[list["CalibrationPoint"]] = relationship(
        back_populates="table", cascade="all, delete-orphan", order_by="CalibrationPoint.height_mm")
    fractions: Mapped[list["CalibrationFraction"]] = relationship(
        back_populates="table", cascade="all, delete-orphan", order_by="(CalibrationFraction.from_mm, CalibrationFraction.mm)")


class CalibrationPoint(db.Model):
    __tablename__ = "ops_measure_calibration_point"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("ops_measure_calibration.id", ondelete="CASCADE"),
                                          nullable=False, index=True)
    height_mm: Mapped[Decimal] = mapped_column(Numeric(10, 1), nullable=False)
    volume_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)

    table: Mapped[CalibrationTable] = relationship(back_populates="points")


class CalibrationFraction(db.Model):
    """The fraction table of a band of heights: the volume of each millimetre (1-9) above a whole centimetre."""

    __tablename__ = "ops_measure_calibration_fraction"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("ops_measure_calibration.id", ondelete="CASCADE"),
                                          nullable=False, index=True)
    from_mm: Mapped[Decimal] = mapped_column(Numeric(10, 1), nullable=False)
    to_mm: Mapped[Decimal] = mapped_column(Numeric(10, 1), nullable=False)
    mm: Mapped[int] = mapped_column(Integer, nullable=False)
    volume_m3: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)

    table: Mapped[CalibrationTable] = relationship(back_populates="fractions")


class Dip(_Viewable, TimestampMixin, CreatedByMixin, db.Model):
    """A hand dip of a tank and the quantities computed from it (all figures stored as shown and printed)."""

    __tablename__ = "ops_measure_dip"
    __audit_label__ = _l("Tank dip")
    __audit_fields__ = {
        "tank_id": _l("Tank"), "product_id": _l("Product"), "calibration_id": _l("Calibration table"),
        "taken_at": _l("Dipped at"), "day": _l("Day"), "method": _l("Method"), "reading_mm": _l("Reading (mm)"),
        "innage_mm": _l("Innage (mm)"), "water_mm": _l("Free-water dip (mm)"), "temperatures": _l("Temperatures (°C)"),
        "temperature": _l("Product temperature (°C)"), "density_mode": _l("Density given as"),
        "density_input": _l("Density entered (kg/m³)"), "density_temperature": _l("Density temperature (°C)"),
        "standard": _l("Volume correction standard"), "vcf_group": _l("Volume-correction group"),
        "coefficient": _l("Linear expansion coefficient (1/°C)"), "density_base": _l("Density at the base temperature"),
        "tov_m3": _l("Total observed volume (m³)"), "water_m3": _l("Free water (m³)"), "roof_m3": _l("Roof correction (m³)"),
        "gov_m3": _l("Gross observed volume (m³)"), "vcf": _l("Volume correction factor"),
        "gsv_m3": _l("Gross standard volume (m³)"), "mass_vacuum_kg": _l("Mass in vacuum (kg)"),
        "mass_air_kg": _l("Mass in air (kg)"), "density_20": _l("Density at 20 °C (kg/m³)"),
        "v20_m3": _l("Volume at 20 °C (m³)"), "remarks": _l("Remarks"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    tank_id: Mapped[int] = mapped_column(ForeignKey("ops_tank.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ops_product.id"), nullable=False)
    calibration_id: Mapped[int] = mapped_column(ForeignKey("ops_measure_calibration.id"), nullable=False)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    reading_mm: Mapped[Decimal] = mapped_column(Numeric(10, 1), nullable=False)
    innage_mm: Mapped[Decimal] = mapped_column(Numeric(10, 1), nullable=False)
    water_mm: Mapped[Decimal] = mapped_column(Numeric(10, 1), nullable=False)
    temperatures: Mapped[str] = mapped_column(String(200), nullable=False)
    temperature: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    density_mode: Mapped[str] = mapped_column(String(10), nullable=False)
    density_input: Mapped[Decimal] = mapped_column(Numeric(8, 1), nullable=False)
    density_temperature: Mapped[Optional[Decimal]] = mapped_column(Numeric(6, 2), nullable=True)
    standard: Mapped[str] = mapped_column(String(10), nullable=False)
    vcf_group: Mapped[str] = mapped_column(String(20), nullable=False)
    coefficient: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 8), nullable=True)
    density_base: Mapped[Decimal] = mapped_column(Numeric(8, 1), nullable=False)
    tov_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    water_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    roof_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    gov_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    vcf: Mapped[Decimal] = mapped_column(Numeric(7, 5), nullable=False)
    gsv_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    mass_vacuum_kg: Mapped[Decimal] = mapped_column(Numeric(16, 0), nullable=False)
    mass_air_kg: Mapped[Decimal] = mapped_column(Numeric(16, 0), nullable=False)
    density_20: Mapped[Decimal] = mapped_column(Numeric(8, 1), nullable=False)
    v20_m3: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    remarks: Mapped[str] = mapped_column(Text, default="", nullable=False)

    tank: Mapped[Tank] = relationship()
    product: Mapped[Product] = relationship()
    calibration: Mapped[CalibrationTable] = relationship()
