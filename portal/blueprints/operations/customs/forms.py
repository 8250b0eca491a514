"""Forms of customs clearance: all validation of user input lives here."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ....forms import SelectField, choices
from ....timeutil import local_today
from ..stock.forms import LocalDateTimeField, _not_future
from .models import ENTRY_KINDS, ENTRY_UNITS


def _not_future_day(form, field):
    if field.data and field.data > local_today():
        raise ValidationError(_l("This day is in the future."))


class EntryForm(FlaskForm):
    declaration_no = StringField(_l("Declaration number"), validators=[
        DataRequired(), Length(max=40),
        Regexp(r"^\s*[A-Za-z0-9][A-Za-z0-9/-]{2,39}\s*$",
               message=_l("A declaration number is 3 to 40 letters, digits, '-' or '/'."))])
    kind = SelectField(_l("Kind of entry"), choices=choices(ENTRY_KINDS.items()))
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    to_customer_id = SelectField(_l("Receiving bonded owner (transfers)"), coerce=int, validators=[Optional()])
    broker_contact_id = SelectField(_l("Customs broker (contact)"), coerce=int, validators=[Optional()])
    broker_name = StringField(_l("Customs broker"), validators=[Optional(), Length(max=200)])
    order_number = StringField(_l("Parcel (order number)"), validators=[Optional(), Length(max=20)])
    product_id = SelectField(_l("Product"), coerce=int, validators=[DataRequired(message=_l("Choose the product."))])
    tank_id = SelectField(_l("Tank"), coerce=int, validators=[DataRequired(message=_l("Choose the tank."))])
    quantity = DecimalField(_l("Quantity"), places=3, validators=[
        DataRequired(), NumberRange(min=Decimal("0.001"), max=Decimal("10000000"))])
    unit = SelectField(_l("Unit"), choices=choices(ENTRY_UNITS.items()))
    density_20 = DecimalField(_l("Density at 20 °C (kg/m³), empty: the product's typical density"), places=2,
                              validators=[Optional(), NumberRange(min=Decimal("500"), max=Decimal("2000"))])
    lodged_on = DateField(_l("Lodged on"), validators=[DataRequired(), _not_future_day])
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=4000)])

    def __init__(self, *args, customer_choices=(), contact_choices=(), product_choices=(), tank_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.to_customer_id.choices = [(0, "—")] + list(customer_choices)
        self.broker_contact_id.choices = [(0, "—")] + list(contact_choices)
        self.product_id.choices = [(0, "—")] + list(product_choices)
        self.tank_id.choices = [(0, "—")] + list(tank_choices)

    def values(self) -> dict:
        return {
            "declaration_no": self.declaration_no.data, "kind": self.kind.data, "customer_id": self.customer_id.data,
            "to_customer_id": self.to_customer_id.data or None, "broker_contact_id": self.broker_contact_id.data or None,
            "broker_name": self.broker_name.data, "order_number": (self.order_number.data or "").strip(),
            "product_id": self.product_id.data, "tank_id": self.tank_id.data, "quantity": self.quantity.data,
            "unit": self.unit.data, "density_20": self.density_20.data, "lodged_on": self.lodged_on.data,
            "remarks": self.remarks.data,
        }


class ReleaseForm(FlaskForm):
    released_at = LocalDateTimeField(_l("Released by customs at"), validators=[DataRequired(), _not_future])


class CloseForm(FlaskForm):
    closed_on = DateField(_l("Closed on"), validators=[DataRequired(), _not_future_day])


class DocumentForm(FlaskForm):
    title = StringField(_l("Document title"), validators=[Optional(), Length(max=300)])
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file."))])
