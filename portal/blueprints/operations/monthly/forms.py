"""Forms of the monthly reports: all validation of user input lives here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from .services import parse_month


def _month(form, field):
    if parse_month(field.data) is None:
        raise ValidationError(_l("Give the month as YYYY-MM, e.g. 2026-11."))


class SafetyForm(FlaskForm):
    days_without_lti = IntegerField(_l("Days without lost-time injury"), validators=[
        InputRequired(message=_l("Give the days without lost-time injury.")), NumberRange(min=0, max=100000)])
    incidents = IntegerField(_l("Incidents"), validators=[Optional(), NumberRange(min=0, max=10000)])
    near_misses = IntegerField(_l("Near misses"), validators=[Optional(), NumberRange(min=0, max=10000)])
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=2000)])


class IssueForm(FlaskForm):
    note = StringField(_l("Note (e.g. what was corrected)"), validators=[Optional(), Length(max=300)])


class ExportForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[InputRequired(), Length(max=7), _month])
