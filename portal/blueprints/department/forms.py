"""Department forms: all validation of user input lives here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...forms import MultiCheckboxField, SelectField
from .models import REASONS


def _date_range(form, field):
    if form.starts_on.data and field.data and field.data < form.starts_on.data:
        raise ValidationError(_l("The end cannot be before the start."))


class ReassignForm(FlaskForm):
    customer_ids = MultiCheckboxField(_l("Customers"), coerce=int,
                                      validators=[DataRequired(message=_l("Choose at least one customer."))])
    to_user_id = SelectField(_l("New responsible CSR"), coerce=int,
                             validators=[DataRequired(message=_l("Choose the CSR who takes over."))])
    note = TextAreaField(_l("Handover note"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, customer_choices=(), staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_ids.choices = list(customer_choices)
        self.to_user_id.choices = [(0, "—")] + list(staff_choices)


class BackupForm(FlaskForm):
    backup_id = SelectField(_l("Backup CSR"), coerce=int, validators=[Optional()])

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.backup_id.choices = [(0, "—")] + list(staff_choices)


class AbsenceForm(FlaskForm):
    user_id = SelectField(_l("Who is away"), coerce=int, validators=[DataRequired(message=_l("Choose who is away."))])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired(), _date_range])
    reason = SelectField(_l("Reason"), choices=[SelectChoice(k, v) for k, v in REASONS.items()])
    cover_id = SelectField(_l("Cover for all customers"), coerce=int, validators=[Optional()])
    handover_note = TextAreaField(_l("Handover note (what is in flight)"), validators=[Optional(), Length(max=10000)])

    def __init__(self, *args, people=(), staff_choices=(), customers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = list(people)
        self.cover_id.choices = [(0, "—")] + list(staff_choices)
        self.customers = list(customers)
        self.staff = [(0, "—")] + list(staff_choices)

    def customer_covers(self) -> dict[int, int]:
        """Per-customer covers from the ``cover_<customer id>`` selects (known customers and staff only)."""
        from flask import request

        formdata = request.form
        out = {}
        allowed = {v for v, _label in self.staff}
        for customer in self.customers:
            raw = formdata.get(f"cover_{customer.id}", "")
            if raw.isdigit() and int(raw) in allowed and int(raw):
                out[customer.id] = int(raw)
        return out


class ActingForm(FlaskForm):
    deputy_id = SelectField(_l("Acting manager"), coerce=int, validators=[DataRequired(message=_l("Choose the acting manager."))])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired(), _date_range])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.deputy_id.choices = [(0, "—")] + list(staff_choices)


class ConfirmForm(FlaskForm):
    """A button that changes something (CSRF only)."""
