"""Customer forms: all validation of user input lives here."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...extensions import db
from ...forms import SelectField, check_email
from .models import Customer

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,19}$")



class CustomerForm(FlaskForm):
    code = StringField(
        _l("Customer code"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("2-20 capital letters, digits, - or _, e.g. SINOCHEM"),
    )
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=200)])
    long_term = BooleanField(_l("Long-term customer (periodic review meetings)"))
    daily_report_time = TimeField(_l("Agreed daily stock report time"), validators=[Optional()])
    report_recipients = TextAreaField(
        _l("Daily report recipients"), validators=[Optional(), Length(max=4000)], description=_l("One e-mail address per line")
    )
    csr_id = SelectField(_l("Responsible CSR"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])
    aliases = TextAreaField(_l("Former names and other names"), validators=[Optional(), Length(max=4000)],
                            description=_l("One a line; searching for any of them finds the customer's records"))

    def __init__(self, *args, customer: Customer | None = None, csr_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._customer = customer
        self.csr_id.choices = [(0, "—")] + list(csr_choices)

    def validate_code(self, field):
        value = (field.data or "").strip().upper()
        if not CODE_RE.match(value):
            raise ValidationError(_l("Use 2-20 capital letters, digits, - or _."))
        existing = db.session.scalar(db.select(Customer).filter_by(code=value))
        if existing is not None and (self._customer is None or existing.id != self._customer.id):
            raise ValidationError(_l("The code %(code)s is already used by %(name)s.", code=value, name=existing.name_en))
        field.data = value

    def validate_report_recipients(self, field):
        lines = [line.strip() for line in re.split(r"[\n,;]+", field.data or "") if line.strip()]
        field.data = "\n".join(check_email(line) for line in lines)

    def validate_name_en(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(_l("This field is required."))


class ContactForm(FlaskForm):
    name = StringField(_l("Contact name"), validators=[DataRequired(), Length(max=120)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])

    def validate_email(self, field):
        if field.data and field.data.strip():
            field.data = check_email(field.data.strip())
