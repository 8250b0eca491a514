"""Forms of the month end: all validation of user input lives here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from decimal import Decimal

from wtforms import DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ....forms import SelectField, choices
from ..models import CUSTOMS_STATUSES
from ..stock.forms import DIRECTIONS, UNIT_CHOICES
from .models import FIGURE_SOURCES
from .services import parse_month


class MonthForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])

    def validate_month(self, field):
        if parse_month(field.data) is None or len(field.data.strip()) != 7:
            raise ValidationError(_l("Give the month as YYYY-MM."))


class PrepareForm(FlaskForm):
    pass


class ImportFiguresForm(FlaskForm):
    source = SelectField(_l("File"), choices=choices(FIGURE_SOURCES.items()))
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired(message=_l("Choose a file."))])


class UseStockBookForm(FlaskForm):
    source = SelectField(_l("File"), choices=choices(FIGURE_SOURCES.items()))


class OwnerForm(FlaskForm):
    owner_id = SelectField(_l("Owner"), coerce=int)

    def __init__(self, *args, user_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = [(0, "—")] + list(user_choices)


class ProposeForm(FlaskForm):
    cause = TextAreaField(_l("Cause"), validators=[DataRequired(), Length(max=4000)])
    resolution = TextAreaField(_l("Resolution"), validators=[DataRequired(), Length(max=4000)])


class ApproveForm(FlaskForm):
    pass


class AcceptForm(FlaskForm):
    reason = TextAreaField(_l("Reason for accepting"), validators=[DataRequired(), Length(max=4000)])


class SignOffForm(FlaskForm):
    note = TextAreaField(_l("Sign-off note"), validators=[Optional(), Length(max=4000)])


class CorrectionForm(FlaskForm):
    """A correction of a signed-off month: a stock adjustment dated in the next open month."""

    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    tank_id = SelectField(_l("Tank"), coerce=int, validators=[DataRequired(message=_l("Choose the tank."))])
    product_id = SelectField(_l("Product"), coerce=int, validators=[DataRequired(message=_l("Choose the product."))])
    customs_status = SelectField(_l("Customs status"), choices=choices(CUSTOMS_STATUSES.items()))
    direction = SelectField(_l("Gain or loss"), choices=choices(DIRECTIONS.items()))
    quantity = DecimalField(_l("Quantity"), places=3, validators=[
        DataRequired(), NumberRange(min=Decimal("0.001"), max=Decimal("1000000"))])
    unit = SelectField(_l("Unit"), choices=choices(UNIT_CHOICES))
    density_20 = DecimalField(_l("Density at 20 °C (kg/m³)"), places=2, validators=[
        DataRequired(), NumberRange(min=Decimal("500"), max=Decimal("2000"))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])

    def __init__(self, *args, customer_choices=(), tank_choices=(), product_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.tank_id.choices = [(0, "—")] + list(tank_choices)
        self.product_id.choices = [(0, "—")] + list(product_choices)
