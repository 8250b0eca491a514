"""Management of change forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from ...forms import SelectField

from .models import MOC_ITEM_KINDS, MOC_PERIODS


def _choices(mapping):
    return [SelectChoice(k, v) for k, v in mapping.items()]


class MocForm(FlaskForm):
    title = StringField(_l("Change"), validators=[DataRequired(), Length(max=200)])
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[Optional()])
    description = TextAreaField(_l("Description of the change"), validators=[DataRequired(), Length(max=20000)])
    technical_basis = TextAreaField(_l("Technical basis"), validators=[Optional(), Length(max=20000)])
    safety_health_impact = TextAreaField(_l("Impact on safety and health"), validators=[Optional(), Length(max=20000)])
    procedure_changes = TextAreaField(_l("Procedure changes needed"), validators=[Optional(), Length(max=20000)])
    customer_impact = TextAreaField(_l("Customer impact"), validators=[Optional(), Length(max=20000)])
    period = SelectField(_l("Time period"), choices=_choices(MOC_PERIODS))
    valid_until = DateField(_l("Temporary until"), validators=[Optional()])
    meeting_date = DateField(_l("MOC meeting date"), validators=[Optional()])
    attendees = TextAreaField(_l("Attendees (internal and external, one per line)"), validators=[Optional(), Length(max=4000)])
    agenda = TextAreaField(_l("Agenda"), validators=[Optional(), Length(max=10000)])
    minutes = TextAreaField(_l("Minutes (Markdown)"), validators=[Optional(), Length(max=50000)])
    decisions = TextAreaField(_l("Decisions"), validators=[Optional(), Length(max=10000)])

    def __init__(self, *args, customer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + [c for c in customer_choices if c[0]]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.period.data == "temporary" and not self.valid_until.data:
            self.valid_until.errors = [*self.valid_until.errors, _l("A temporary change needs an end date.")]
            ok = False
        return ok


class MocItemForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=_choices(MOC_ITEM_KINDS))
    description = StringField(_l("Description"), validators=[DataRequired(), Length(max=1000)])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = list(staff_choices)
