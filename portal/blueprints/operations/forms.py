"""Operations forms: all validation of user input lives here."""
from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from wtforms import BooleanField, DateField, DateTimeLocalField, DecimalField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ...forms import SelectField
from ...timeutil import from_local
from .models import (
    CURRENCIES,
    CUSTOMS_STATUSES,
    EVENT_KINDS,
    INFORMED_HOW,
    ORDER_KINDS,
    PRODUCT_CLASSES,
    RATE_KINDS,
    RATE_UNITS,
    TANK_STATUSES,
    UNITS,
)

def filter_options(choices, selected) -> Markup:
    """The options of a list's filter select (hundreds of customers or tanks) in one string, as the template loop
    wrote them: ``<option value="ID" selected>LABEL</option>``, the chosen one marked."""
    return Markup("".join(f'<option value="{escape(value)}" {"selected" if value == selected else ""}>{escape(label)}</option>'
                          for value, label in choices))


CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,19}$")
DT_FORMAT = "%Y-%m-%dT%H:%M"


def _choices(mapping, blank: bool = False):
    out = [SelectChoice(k, v) for k, v in mapping.items()]
    return ([SelectChoice("", "—")] if blank else []) + out


class LocalDateTimeField(DateTimeLocalField):
    """A local wall-clock date and time in the form; ``utc`` gives it as aware UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", [DT_FORMAT, "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    @property
    def utc(self):
        return from_local(self.data) if self.data else None


def _code(field):
    value = (field.data or "").strip().upper()
    if not CODE_RE.match(value):
        raise ValidationError(_l("Use 1-20 capital letters, digits, ., - or _."))
    field.data = value


class ProductForm(FlaskForm):
    code = StringField(_l("Product code"), validators=[DataRequired(), Length(max=20)], description=_l("e.g. GASOIL-10PPM"))
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=120)])
    product_class = SelectField(_l("Product class"), choices=_choices(PRODUCT_CLASSES))
    vcf_group = StringField(_l("Volume-correction group"), validators=[Optional(), Length(max=20)],
                            description=_l("e.g. 54B (fuel oils), 54A (crude), 54D (lubricants)"))
    un_number = StringField(_l("UN number"), validators=[Optional(), Length(max=10)])
    hazard_class = StringField(_l("Hazard class"), validators=[Optional(), Length(max=10)])
    density_min = DecimalField(_l("Density at 20 °C, from (kg/m³)"), places=None,
                               validators=[InputRequired(), NumberRange(min=Decimal(500), max=Decimal(2000))])
    density_max = DecimalField(_l("Density at 20 °C, to (kg/m³)"), places=None,
                               validators=[InputRequired(), NumberRange(min=Decimal(500), max=Decimal(2000))])
    compatibility_group = StringField(_l("Compatibility group"), validators=[Optional(), Length(max=30)],
                                      description=_l("Products of one group may follow each other in a tank without cleaning"))
    stock_tolerance_pct = DecimalField(_l("Stock check tolerance (%)"), places=None, default=Decimal("0.300"),
                                       validators=[InputRequired(), NumberRange(min=Decimal(0), max=Decimal(10))])

    def validate_code(self, field):
        _code(field)

    def values(self) -> dict:
        return {
            "code": self.code.data, "name_en": self.name_en.data.strip(), "name_zh": (self.name_zh.data or "").strip(),
            "product_class": self.product_class.data, "vcf_group": (self.vcf_group.data or "").strip(),
            "un_number": (self.un_number.data or "").strip(), "hazard_class": (self.hazard_class.data or "").strip(),
            "density_min": self.density_min.data, "density_max": self.density_max.data,
            "compatibility_group": (self.compatibility_group.data or "").strip(),
            "stock_tolerance_pct": self.stock_tolerance_pct.data,
        }


class TankForm(FlaskForm):
    code = StringField(_l("Tank code"), validators=[DataRequired(), Length(max=20)], description=_l("e.g. T-204"))
    area = StringField(_l("Area"), validators=[DataRequired(), Length(max=40)])
    nominal_m3 = DecimalField(_l("Nominal capacity (m³)"), places=None,
                              validators=[InputRequired(), NumberRange(min=Decimal(1), max=Decimal(500000))])
    safe_fill_m3 = DecimalField(_l("Safe fill (m³)"), places=None,
                                validators=[InputRequired(), NumberRange(min=Decimal(1), max=Decimal(500000))])
    heated = BooleanField(_l("Heated"))
    bonded = BooleanField(_l("Bonded (customs supervised)"))
    product_id = SelectField(_l("Current product"), coerce=int, validators=[Optional()])
    status = SelectField(_l("Status"), choices=_choices(TANK_STATUSES))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])

    def __init__(self, *args, product_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.product_id.choices = [(0, "—")] + list(product_choices)

    def validate_code(self, field):
        _code(field)

    def values(self) -> dict:
        return {"code": self.code.data, "area": self.area.data.strip(), "nominal_m3": self.nominal_m3.data,
                "safe_fill_m3": self.safe_fill_m3.data, "heated": self.heated.data, "bonded": self.bonded.data,
                "product_id": self.product_id.data or None, "status": self.status.data, "notes": self.notes.data or ""}


class LeaseForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    contract_id = SelectField(_l("Contract"), coerce=int, validators=[Optional()])
    starts_on = DateField(_l("From"), validators=[DataRequired()])
    ends_on = DateField(_l("To (inclusive, empty: open)"), validators=[Optional()])

    def __init__(self, *args, customer_choices=(), contract_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.contract_id.choices = [(0, "—")] + list(contract_choices)


class ContractForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    number = StringField(_l("Contract number"), validators=[DataRequired(), Length(max=40)])
    starts_on = DateField(_l("From"), validators=[DataRequired()])
    ends_on = DateField(_l("To (inclusive, empty: open)"), validators=[Optional()])
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c, c) for c in CURRENCIES])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])

    def __init__(self, *args, customer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)

    def values(self) -> dict:
        return {"customer_id": self.customer_id.data, "number": self.number.data.strip(), "starts_on": self.starts_on.data,
                "ends_on": self.ends_on.data, "currency": self.currency.data, "notes": self.notes.data or ""}


class RateItemForm(FlaskForm):
    kind = SelectField(_l("Rate item"), choices=_choices(RATE_KINDS))
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    rate = DecimalField(_l("Rate"), places=None, validators=[InputRequired(), NumberRange(min=Decimal(0), max=Decimal(10**9))])
    unit = SelectField(_l("Unit"), choices=_choices(RATE_UNITS))


class ImportForm(FlaskForm):
    what = SelectField(_l("What the file holds"), choices=[
        SelectChoice("products", _l("Products")), SelectChoice("tanks", _l("Tanks")), SelectChoice("leases", _l("Leases"))])
    file = FileField(_l("CSV or XLSX file"))


# ----------------------------------------------------------------------------------------------- orders

class OrderForm(FlaskForm):
    kind = SelectField(_l("Kind of order"), choices=_choices(ORDER_KINDS))
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    owner_id = SelectField(_l("Responsible CSR"), coerce=int, validators=[Optional()],
                           description=_l("Left at —: the customer's responsible CSR"))
    product_id = SelectField(_l("Product"), coerce=int, validators=[DataRequired(message=_l("Choose the product."))])
    tank_id = SelectField(_l("Tank"), coerce=int, validators=[DataRequired(message=_l("Choose the tank."))])
    to_tank_id = SelectField(_l("Receiving tank (transfers)"), coerce=int, validators=[Optional()])
    counterparty_id = SelectField(_l("Receiving customer (transfer of ownership)"), coerce=int, validators=[Optional()])
    quantity = DecimalField(_l("Quantity"), places=None, validators=[InputRequired(), NumberRange(min=Decimal("0.001"), max=Decimal(10**9))])
    unit = SelectField(_l("Unit"), choices=_choices(UNITS))
    customs_status = SelectField(_l("Customs status"), choices=_choices(CUSTOMS_STATUSES), default="duty_paid")
    planned_start = LocalDateTimeField(_l("Planned start"), validators=[Optional()])
    planned_end = LocalDateTimeField(_l("Planned end"), validators=[Optional()])
    vessel_name = StringField(_l("Vessel"), validators=[Optional(), Length(max=120)])
    truck_plates = StringField(_l("Truck plates"), validators=[Optional(), Length(max=400)],
                               description=_l("Separate several plates with commas"))
    instruction_ref = StringField(_l("Customer's instruction reference"), validators=[Optional(), Length(max=120)],
                                  description=_l("The reference of the customer's letter or e-mail"))
    instruction_file = FileField(_l("Customer's instruction (file)"),
                                 description=_l("Filed in the archive's order series"))
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=4000)])
    reason = StringField(_l("Reason for the amendment"), validators=[Optional(), Length(max=400)],
                         description=_l("Required once the order is handed over: operations see it"))

    def __init__(self, *args, customer_choices=(), product_choices=(), tank_choices=(), owner_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.owner_id.choices = [(0, "—")] + list(owner_choices)
        self.counterparty_id.choices = [(0, "—")] + list(customer_choices)
        self.product_id.choices = [(0, "—")] + list(product_choices)
        self.tank_id.choices = [(0, "—")] + list(tank_choices)
        self.to_tank_id.choices = [(0, "—")] + list(tank_choices)

    def validate_planned_end(self, field):
        if field.data and self.planned_start.data and field.data < self.planned_start.data:
            raise ValidationError(_l("The planned window ends before it starts."))

    def values(self) -> dict:
        return {
            "kind": self.kind.data, "customer_id": self.customer_id.data, "product_id": self.product_id.data,
            "owner_id": self.owner_id.data or None,
            "tank_id": self.tank_id.data, "to_tank_id": self.to_tank_id.data or None,
            "counterparty_id": self.counterparty_id.data or None, "quantity": self.quantity.data, "unit": self.unit.data,
            "customs_status": self.customs_status.data,
            "planned_start": self.planned_start.utc, "planned_end": self.planned_end.utc,
            "vessel_name": self.vessel_name.data or "", "truck_plates": self.truck_plates.data or "",
            "instruction_ref": self.instruction_ref.data or "", "remarks": self.remarks.data or "",
        }

    def loose_values(self) -> dict:
        """The values as far as they could be read (for the live check while the form is being typed)."""
        def num(field):
            try:
                return int(field.raw_data[0]) if field.raw_data and field.raw_data[0] else None
            except (TypeError, ValueError):
                return None

        def dec(field):
            try:
                return Decimal(field.raw_data[0].replace(",", "")) if field.raw_data and field.raw_data[0] else None
            except (ArithmeticError, ValueError):
                return None

        start = self.planned_start.data if not self.planned_start.errors else None
        return {
            "kind": self.kind.data, "customer_id": num(self.customer_id), "product_id": num(self.product_id),
            "tank_id": num(self.tank_id), "to_tank_id": num(self.to_tank_id), "counterparty_id": num(self.counterparty_id),
            "quantity": dec(self.quantity), "unit": self.unit.data, "customs_status": self.customs_status.data,
            "planned_start": from_local(start) if start else None,
            "vessel_name": self.vessel_name.data or "",
        }


class VerifyForm(FlaskForm):
    warning_reason = TextAreaField(_l("Reason to pass the warnings"), validators=[Optional(), Length(max=2000)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class CompleteForm(FlaskForm):
    actual_qty = DecimalField(_l("Actual quantity"), places=None,
                              validators=[InputRequired(), NumberRange(min=Decimal("0.001"), max=Decimal(10**9))])
    unit = SelectField(_l("Unit"), choices=_choices(UNITS))
    density_20 = DecimalField(_l("Density at 20 °C (kg/m³)"), places=None,
                              validators=[InputRequired(), NumberRange(min=Decimal(500), max=Decimal(2000))])
    completed_at = LocalDateTimeField(_l("Completed at"), validators=[DataRequired()])


class EventForm(FlaskForm):
    kind = SelectField(_l("What happened"), choices=_choices(EVENT_KINDS))
    occurred_at = LocalDateTimeField(_l("When"), validators=[DataRequired()])
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=8000)])
    impact = TextAreaField(_l("Impact"), validators=[Optional(), Length(max=4000)])
    informed_at = LocalDateTimeField(_l("Customer informed at"), validators=[Optional()])
    informed_by_id = SelectField(_l("Informed by"), coerce=int, validators=[Optional()])
    informed_how = SelectField(_l("Informed how"), choices=_choices(INFORMED_HOW, blank=True), validators=[Optional()])

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.informed_by_id.choices = [(0, "—")] + list(staff_choices)

    def values(self) -> dict:
        return {"kind": self.kind.data, "occurred_at": self.occurred_at.utc, "description": self.description.data,
                "impact": self.impact.data or "", "informed_at": self.informed_at.utc,
                "informed_by_id": self.informed_by_id.data or None, "informed_how": self.informed_how.data or ""}
