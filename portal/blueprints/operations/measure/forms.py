"""Forms of tank dips and calibration tables: all validation of user input lives here."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ....forms import SelectField, choices
from ....timeutil import from_local, utcnow
from ..stock.forms import LocalDateTimeField
from .models import DENSITY_MODES, GROUP_LABELS, METHODS, OBSERVED_MODES, STANDARD_LABELS

HEIGHT = dict(min=Decimal("0"), max=Decimal("40000"))


class GaugingForm(FlaskForm):
    reference_height_mm = DecimalField(_l("Reference height (mm)"), places=1, validators=[
        Optional(), NumberRange(min=Decimal("100"), max=Decimal("40000"))],
        description=_l("From the dip plate to the reference point of the gauge hatch; needed for ullages."))
    standard = SelectField(_l("Volume correction standard"), choices=choices(STANDARD_LABELS.items()))
    max_step_mm = IntegerField(_l("Largest step of the calibration table (mm)"), default=100,
                               validators=[InputRequired(), NumberRange(min=1, max=1000)])
    floating_roof = BooleanField(_l("Floating roof"))
    roof_mass_kg = DecimalField(_l("Roof mass (kg)"), places=1, validators=[
        Optional(), NumberRange(min=Decimal("1"), max=Decimal("10000000"))])
    roof_floats_mm = DecimalField(_l("Roof floats from (mm)"), places=1, validators=[Optional(), NumberRange(**HEIGHT)],
                                  description=_l("Below this level the roof rests on its legs: no roof correction."))


class ExpansionForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=int, validators=[DataRequired(message=_l("Choose the product."))])
    coefficient = DecimalField(_l("Linear expansion coefficient (1/°C)"), places=8, validators=[
        Optional(), NumberRange(min=Decimal("0.00000001"), max=Decimal("0.00999999"))],
        description=_l("e.g. 0.00119 for methanol; leave empty to use the petroleum tables."))

    def __init__(self, *args, product_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.product_id.choices = [(0, "—")] + list(product_choices)


class CalibrationForm(FlaskForm):
    certificate_number = StringField(_l("Certificate number"), validators=[DataRequired(), Length(max=60)])
    certificate_date = DateField(_l("Certificate date"), validators=[DataRequired()])
    body = StringField(_l("Calibrated by"), validators=[DataRequired(), Length(max=160)],
                       description=_l("The calibration body named on the certificate."))
    valid_from = DateField(_l("In force from"), validators=[DataRequired()])
    roof_correction = BooleanField(_l("Apply the roof correction"),
                                   description=_l("Tick when the certificate says the table is without the floating roof."))
    table_file = FileField(_l("Calibration table (CSV or XLSX)"),
                           description=_l("Columns height_mm and volume_m3, heights increasing."))
    fraction_file = FileField(_l("Fraction table (optional)"),
                              description=_l("Columns from_mm, to_mm, mm (1-9), volume_m3."))
    certificate_file = FileField(_l("Certificate (PDF or image, optional)"))

    def validate_valid_from(self, field):
        if field.data and self.certificate_date.data and field.data < self.certificate_date.data:
            raise ValidationError(_l("A table cannot be in force before its certificate date."))


def _not_future(form, field):
    if field.data and from_local(field.data) > utcnow().replace(second=59):
        raise ValidationError(_l("This time is in the future."))


class DipForm(FlaskForm):
    taken_at = LocalDateTimeField(_l("Dipped at"), validators=[DataRequired(), _not_future])
    method = SelectField(_l("Method"), choices=choices(METHODS.items()))
    reading_mm = DecimalField(_l("Reading (mm)"), places=1, validators=[InputRequired(), NumberRange(**HEIGHT)],
                              description=_l("The innage, or the ullage from the reference point."))
    water_mm = DecimalField(_l("Free-water dip (mm)"), places=1, default=Decimal("0"),
                            validators=[InputRequired(), NumberRange(**HEIGHT)])
    temperatures = StringField(_l("Temperatures (°C)"), validators=[DataRequired(), Length(max=200)],
                               description=_l("One per level (upper, middle, lower), separated by spaces: the average is used."))
    density_mode = SelectField(_l("Density given as"), choices=choices(DENSITY_MODES.items()))
    density = DecimalField(_l("Density (kg/m³)"), places=1, validators=[
        InputRequired(), NumberRange(min=Decimal("500"), max=Decimal("1500"))],
        description=_l("Laboratory density at 20 °C, or the density observed at the temperature below."))
    density_temperature = DecimalField(_l("Density temperature (°C)"), places=2, validators=[
        Optional(), NumberRange(min=Decimal("-50"), max=Decimal("150"))])
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=2000)])

    def validate_density_temperature(self, field):
        if self.density_mode.data in OBSERVED_MODES and field.data is None:
            raise ValidationError(_l("Give the temperature of the observed density."))


class VcfForm(FlaskForm):
    """The volume correction factor calculator (a GET form: nothing is saved)."""

    class Meta:
        csrf = False

    standard = SelectField(_l("Volume correction standard"), choices=choices(STANDARD_LABELS.items()))
    group = SelectField(_l("Commodity group"), choices=choices(GROUP_LABELS.items()))
    density = DecimalField(_l("Density at the base temperature (kg/m³)"), places=1, validators=[
        InputRequired(), NumberRange(min=Decimal("500"), max=Decimal("1500"))])
    temperature = DecimalField(_l("Temperature (°C)"), places=2, validators=[
        InputRequired(), NumberRange(min=Decimal("-50"), max=Decimal("150"))])
