"""Forms of the billing records: all validation of user input lives here."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ....forms import SelectField, choices
from ....timeutil import from_local, utcnow
from ..stock.forms import LocalDateTimeField
from .models import AGREED_HOW, SERVICE_KINDS, SERVICE_UNITS
from .services import parse_month


def _month(form, field):
    if parse_month(field.data) is None:
        raise ValidationError(_l("Give the month as YYYY-MM, e.g. 2026-11."))


def _not_future(form, field):
    if field.data and from_local(field.data) > utcnow().replace(second=59):
        raise ValidationError(_l("This time is in the future."))


class PrepareForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=7), _month])

    def __init__(self, *args, customer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)

    @property
    def month_date(self):
        return parse_month(self.month.data)


class ConfirmForm(FlaskForm):
    """A state change without fields (review, reopen, prepare again, export): CSRF only."""


class AgreementForm(FlaskForm):
    by_name = StringField(_l("Agreed by (name at the customer)"), validators=[DataRequired(), Length(max=200)])
    at = LocalDateTimeField(_l("Agreed at"), validators=[DataRequired(), _not_future])
    how = SelectField(_l("How"), choices=choices(AGREED_HOW.items()))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class CorrectionForm(FlaskForm):
    direction = SelectField(_l("Credit or debit"), choices=choices([
        ("credit", _l("Credit (the customer pays less)")), ("debit", _l("Debit (the customer pays more)"))]))
    amount = DecimalField(_l("Amount"), places=2, validators=[
        DataRequired(), NumberRange(min=Decimal("0.01"), max=Decimal("999999999999.99"))])
    quantity = DecimalField(_l("Quantity (optional, in the line's unit)"), places=6, validators=[
        Optional(), NumberRange(min=Decimal("0"), max=Decimal("1000000000"))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def validate_amount(self, field):
        if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError(_l("Give the amount with at most two decimals."))

    @property
    def signed_amount(self) -> Decimal:
        return -self.amount.data if self.direction.data == "credit" else self.amount.data


class ServiceForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    day = DateField(_l("Day"), validators=[DataRequired()])
    kind = SelectField(_l("Service"), choices=choices(SERVICE_KINDS.items()))
    description = StringField(_l("Description"), validators=[DataRequired(), Length(max=300)])
    quantity = DecimalField(_l("Quantity"), places=3, default=Decimal("1"), validators=[
        DataRequired(), NumberRange(min=Decimal("0.001"), max=Decimal("1000000"))])
    unit = SelectField(_l("Unit"), choices=choices(SERVICE_UNITS.items()))
    tank_id = SelectField(_l("Tank"), coerce=int, validators=[Optional()])
    order_number = StringField(_l("Order (optional)"), validators=[Optional(), Length(max=20)])
    event_id = SelectField(_l("Abnormal event of the order (optional)"), coerce=int, validators=[Optional()])

    def __init__(self, *args, customer_choices=(), tank_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.tank_id.choices = [(0, "—")] + list(tank_choices)
        self.event_id.choices = [(0, "—")]
