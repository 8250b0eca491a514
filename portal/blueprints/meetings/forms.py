"""Review meeting forms: all validation of user input lives here."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ...forms import SelectField, check_email

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def in_range(form, field):
    """Meeting dates, periods and due dates lie between 2000 and 2099 (reviews are counted back and
    forward in months from them)."""
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.", first=EARLIEST.isoformat(),
                                 last=LATEST.isoformat()))


class MeetingForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    meeting_date = DateField(_l("Meeting date"), validators=[DataRequired(), in_range])
    period_start = DateField(_l("Period from"), validators=[Optional(), in_range],
                             description=_l("Empty: from the previous meeting with this customer"))
    period_end = DateField(_l("Period to"), validators=[Optional(), in_range], description=_l("Empty: the meeting date"))
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    agenda = TextAreaField(_l("Agenda"), validators=[Optional(), Length(max=10000)])

    def __init__(self, *args, customer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)

    def validate_period_end(self, field):
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(_l("The period ends before it starts."))


class MinutesForm(FlaskForm):
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    agenda = TextAreaField(_l("Agenda"), validators=[Optional(), Length(max=10000)])
    minutes = TextAreaField(_l("Minutes (Markdown)"), validators=[Optional(), Length(max=100000)])
    decisions = TextAreaField(_l("Decisions"), validators=[Optional(), Length(max=20000)])


class PreviewForm(FlaskForm):
    """The minutes text sent while typing (htmx sends this field only; the CSRF token travels in the
    request header, which CSRFProtect checks for every POST)."""

    class Meta:
        csrf = False

    minutes = TextAreaField(validators=[Optional(), Length(max=100000)])


class AttendeeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    internal = BooleanField(_l("Our staff"))

    def validate_email(self, field):
        if field.data and field.data.strip():
            field.data = check_email(field.data.strip())


class ActionItemForm(FlaskForm):
    description = TextAreaField(_l("Action"), validators=[DataRequired(), Length(max=4000)])
    owner_id = SelectField(_l("Owner (our staff)"), coerce=int, validators=[Optional()])
    owner_name = StringField(_l("or owner at the customer"), validators=[Optional(), Length(max=120)])
    due_date = DateField(_l("Due date"), validators=[Optional(), in_range])

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = list(staff_choices)

    def validate_owner_name(self, field):
        if not self.owner_id.data and not (field.data or "").strip():
            raise ValidationError(_l("Name the owner."))


class CloseActionForm(FlaskForm):
    note = StringField(_l("Closing note"), validators=[Optional(), Length(max=1000)])


class CirculateForm(FlaskForm):
    recipients = TextAreaField(_l("Distribution list"), validators=[DataRequired(), Length(max=4000)],
                               description=_l("One e-mail address per line"))

    def validate_recipients(self, field):
        lines = [line.strip() for line in re.split(r"[\n,;]+", field.data or "") if line.strip()]
        field.data = "\n".join(check_email(line) for line in lines)


class ConfirmForm(FlaskForm):
    confirmed_by = StringField(_l("Confirmed by (customer)"), validators=[DataRequired(), Length(max=200)])
    version = IntegerField(_l("Version"), validators=[DataRequired(), NumberRange(min=1, max=10000)])


class CadenceForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    interval_months = IntegerField(_l("Every (months)"), default=3, validators=[DataRequired(), NumberRange(min=1, max=24)])

    def __init__(self, *args, customer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
