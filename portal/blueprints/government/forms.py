"""Government relations forms: all validation of user input lives here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from ...forms import SelectField


class AuthorityForm(FlaskForm):
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=200)])
    department = StringField(_l("Department"), validators=[Optional(), Length(max=200)])
    contacts = TextAreaField(_l("Contacts"), validators=[Optional(), Length(max=3000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class VisitForm(FlaskForm):
    authority_id = SelectField(_l("Authority"), coerce=int, validators=[DataRequired()])
    visit_date = DateField(_l("Date"), validators=[DataRequired()])
    attendees = TextAreaField(_l("Attendees"), validators=[Optional(), Length(max=2000)])
    topics = TextAreaField(_l("Topics"), validators=[DataRequired(), Length(max=5000)])
    outcomes = TextAreaField(_l("Outcomes"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, authority_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.authority_id.choices = list(authority_choices)


class ActionForm(FlaskForm):
    description = StringField(_l("Follow-up action"), validators=[DataRequired(), Length(max=1000)])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])

    def __init__(self, *args, user_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = list(user_choices)


class PermitForm(FlaskForm):
    number = StringField(_l("Number"), validators=[DataRequired(), Length(max=120)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=200)])
    authority_id = SelectField(_l("Authority"), coerce=int, validators=[Optional()])
    issued_on = DateField(_l("Issued"), validators=[Optional()])
    expires_on = DateField(_l("Expires"), validators=[Optional()])
    department_id = SelectField(_l("Responsible department"), coerce=int, validators=[Optional()])
    archive_ref = StringField(_l("Archive reference of the scan"), validators=[Optional(), Length(max=200)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, authority_choices=(), department_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.authority_id.choices = list(authority_choices)
        self.department_id.choices = [(0, "—")] + list(department_choices)

    def validate_expires_on(self, field):
        if field.data and self.issued_on.data and field.data < self.issued_on.data:
            raise ValidationError(_l("Expiry cannot be before the issue date."))
