"""Vessel call and berth plan forms: all validation of user input lives here."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ....forms import MultiCheckboxField, SelectField, check_email
from ..forms import CODE_RE, LocalDateTimeField
from .models import ACTUAL_TIMES, PARCEL_UNITS, PLAN_TIMES, TIME_LABELS, TOLD_HOW
from .services import imo_valid, normalise_imo


def _choices(mapping, blank: bool = False):
    out = [SelectChoice(k, v) for k, v in mapping.items()]
    return ([SelectChoice("", "—")] if blank else []) + out


class BerthForm(FlaskForm):
    code = StringField(_l("Berth code"), validators=[DataRequired(), Length(max=20)], description=_l("e.g. B1"))
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=120)])
    max_loa_m = DecimalField(_l("Maximum LOA (m)"), places=None,
                             validators=[InputRequired(), NumberRange(min=Decimal(10), max=Decimal(500))])
    max_draught_m = DecimalField(_l("Maximum draught (m)"), places=None,
                                 validators=[InputRequired(), NumberRange(min=Decimal(1), max=Decimal(30))])
    product_ids = MultiCheckboxField(_l("Products served"), coerce=int, validators=[Optional()],
                                     description=_l("The products the berth's lines can handle"))
    active = BooleanField(_l("Active"), default=True)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])

    def __init__(self, *args, product_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.product_ids.choices = list(product_choices)

    def validate_code(self, field):
        value = (field.data or "").strip().upper()
        if not CODE_RE.match(value):
            raise ValidationError(_l("Use 1-20 capital letters, digits, ., - or _."))
        field.data = value

    def values(self) -> dict:
        return {"code": self.code.data, "name_en": self.name_en.data.strip(), "name_zh": (self.name_zh.data or "").strip(),
                "max_loa_m": self.max_loa_m.data, "max_draught_m": self.max_draught_m.data,
                "active": bool(self.active.data), "notes": self.notes.data or ""}


class VesselForm(FlaskForm):
    name = StringField(_l("Vessel name"), validators=[DataRequired(), Length(max=120)])
    imo = StringField(_l("IMO number"), validators=[DataRequired(), Length(max=12)],
                      description=_l("7 digits; the last one is a check digit"))
    flag = StringField(_l("Flag"), validators=[Optional(), Length(max=60)])
    loa_m = DecimalField(_l("LOA (m)"), places=None, validators=[Optional(), NumberRange(min=Decimal(5), max=Decimal(500))])
    draught_m = DecimalField(_l("Draught (m)"), places=None,
                             validators=[Optional(), NumberRange(min=Decimal("0.5"), max=Decimal(30))])
    dwt = IntegerField(_l("DWT (t)"), validators=[Optional(), NumberRange(min=1, max=600000)])

    def validate_imo(self, field):
        value = normalise_imo(field.data)
        if len(value) != 7 or not value.isdigit():
            raise ValidationError(_l("An IMO number has 7 digits."))
        if not imo_valid(value):
            raise ValidationError(_l("The check digit does not match: not a valid IMO number."))
        field.data = value

    def values(self) -> dict:
        return {"name": self.name.data.strip(), "imo": self.imo.data, "flag": (self.flag.data or "").strip(),
                "loa_m": self.loa_m.data, "draught_m": self.draught_m.data, "dwt": self.dwt.data}


def _ordered(form, names):
    """ETA <= ETB <= ETC <= ETD as far as given: the error goes on the later field."""
    known = [(n, getattr(form, n).data) for n in names if getattr(form, n).data and not getattr(form, n).errors]
    ok = True
    for (_a, ta), (b, tb) in zip(known, known[1:]):
        if tb < ta:
            getattr(form, b).errors.append(_l("This time is before the one it follows (ETA, ETB, ETC, ETD in this order)."))
            ok = False
    return ok


class CallForm(FlaskForm):
    """A new call, or its details (the times and berth of an existing call change through TimesForm)."""

    vessel_id = SelectField(_l("Vessel"), coerce=int, validators=[DataRequired(message=_l("Choose the vessel."))])
    agent_contact_id = SelectField(_l("Ship's agent"), coerce=int, validators=[Optional()],
                                   description=_l("A contact of a customer (the agency)"))
    owner_id = SelectField(_l("Responsible CSR"), coerce=int, validators=[Optional()])
    last_port = StringField(_l("Last port"), validators=[Optional(), Length(max=80)])
    next_port = StringField(_l("Next port"), validators=[Optional(), Length(max=80)])
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=4000)])
    berth_id = SelectField(_l("Berth"), coerce=int, validators=[Optional()])
    eta = LocalDateTimeField(TIME_LABELS["eta"], validators=[DataRequired(message=_l("The ETA is needed."))])
    etb = LocalDateTimeField(TIME_LABELS["etb"], validators=[Optional()])
    etc = LocalDateTimeField(TIME_LABELS["etc"], validators=[Optional()])
    etd = LocalDateTimeField(TIME_LABELS["etd"], validators=[Optional()])

    def __init__(self, *args, vessel_choices=(), agent_choices=(), owner_choices=(), berth_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.vessel_id.choices = [(0, "—")] + list(vessel_choices)
        self.agent_contact_id.choices = [(0, "—")] + list(agent_choices)
        self.owner_id.choices = [(0, "—")] + list(owner_choices)
        self.berth_id.choices = [(0, "—")] + list(berth_choices)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return _ordered(self, PLAN_TIMES) and ok


class DetailsForm(FlaskForm):
    vessel_id = SelectField(_l("Vessel"), coerce=int, validators=[DataRequired(message=_l("Choose the vessel."))])
    agent_contact_id = SelectField(_l("Ship's agent"), coerce=int, validators=[Optional()])
    owner_id = SelectField(_l("Responsible CSR"), coerce=int, validators=[Optional()])
    last_port = StringField(_l("Last port"), validators=[Optional(), Length(max=80)])
    next_port = StringField(_l("Next port"), validators=[Optional(), Length(max=80)])
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=4000)])

    def __init__(self, *args, vessel_choices=(), agent_choices=(), owner_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.vessel_id.choices = [(0, "—")] + list(vessel_choices)
        self.agent_contact_id.choices = [(0, "—")] + list(agent_choices)
        self.owner_id.choices = [(0, "—")] + list(owner_choices)


class TimesForm(FlaskForm):
    """The call's berth, planned times and actual times; saving keeps a revision of what changed."""

    berth_id = SelectField(_l("Berth"), coerce=int, validators=[Optional()])
    eta = LocalDateTimeField(TIME_LABELS["eta"], validators=[DataRequired(message=_l("The ETA is needed."))])
    etb = LocalDateTimeField(TIME_LABELS["etb"], validators=[Optional()])
    etc = LocalDateTimeField(TIME_LABELS["etc"], validators=[Optional()])
    etd = LocalDateTimeField(TIME_LABELS["etd"], validators=[Optional()])
    nor_at = LocalDateTimeField(TIME_LABELS["nor_at"], validators=[Optional()])
    all_fast_at = LocalDateTimeField(TIME_LABELS["all_fast_at"], validators=[Optional()])
    hoses_on_at = LocalDateTimeField(TIME_LABELS["hoses_on_at"], validators=[Optional()])
    hoses_off_at = LocalDateTimeField(TIME_LABELS["hoses_off_at"], validators=[Optional()])
    departed_at = LocalDateTimeField(TIME_LABELS["departed_at"], validators=[Optional()])
    note = StringField(_l("Note on the change"), validators=[Optional(), Length(max=400)],
                       description=_l("e.g. the agent's message; shown with the revision"))

    def __init__(self, *args, berth_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.berth_id.choices = [(0, "—")] + list(berth_choices)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return _ordered(self, PLAN_TIMES) and ok

    def values(self) -> dict:
        out = {name: getattr(self, name).utc for name in PLAN_TIMES + ACTUAL_TIMES}
        out["berth_id"] = self.berth_id.data or None
        return out


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[DataRequired()])
    reason = StringField(_l("Reason (when cancelling)"), validators=[Optional(), Length(max=400)])

    def __init__(self, *args, status_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = list(status_choices)


class ParcelForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    order_id = SelectField(_l("Ship order"), coerce=int, validators=[Optional()],
                           description=_l("The customer's ship discharge or loading order, when there is one"))
    product_id = SelectField(_l("Product"), coerce=int, validators=[DataRequired(message=_l("Choose the product."))])
    tank_id = SelectField(_l("Tank"), coerce=int, validators=[Optional()])
    quantity = DecimalField(_l("Quantity"), places=None,
                            validators=[InputRequired(), NumberRange(min=Decimal("0.001"), max=Decimal(10**9))])
    unit = SelectField(_l("Unit"), choices=_choices(PARCEL_UNITS))

    def __init__(self, *args, customer_choices=(), order_choices=(), product_choices=(), tank_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.order_id.choices = [(0, "—")] + list(order_choices)
        self.product_id.choices = [(0, "—")] + list(product_choices)
        self.tank_id.choices = [(0, "—")] + list(tank_choices)


class InformForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    how = SelectField(_l("Informed how"), choices=_choices(TOLD_HOW), default="phone")

    def __init__(self, *args, customer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)


class PublishForm(FlaskForm):
    parties = MultiCheckboxField(_l("Parties told"), validators=[DataRequired(message=_l("Choose at least one party."))])
    how = SelectField(_l("How"), choices=_choices(TOLD_HOW), default="email")
    port_email = StringField(_l("Port authority's e-mail"), validators=[Optional(), Length(max=254)],
                             description=_l("Needed to send the plan to the port by e-mail"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=400)])

    def __init__(self, *args, party_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parties.choices = list(party_choices)

    def validate_port_email(self, field):
        if field.data and field.data.strip():
            field.data = check_email(field.data.strip())


class TellForm(FlaskForm):
    """Tell more parties of an already published version."""

    parties = MultiCheckboxField(_l("Parties told"), validators=[DataRequired(message=_l("Choose at least one party."))])
    how = SelectField(_l("How"), choices=_choices(TOLD_HOW), default="phone")
    port_email = StringField(_l("Port authority's e-mail"), validators=[Optional(), Length(max=254)])

    def __init__(self, *args, party_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parties.choices = list(party_choices)

    def validate_port_email(self, field):
        if field.data and field.data.strip():
            field.data = check_email(field.data.strip())
