from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ...forms import choices

MIN_PASSWORD = 10


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


def password_rules(form, field):
    value = field.data or ""
    if len(value) < MIN_PASSWORD:
        raise ValidationError(_l("Use at least %(n)s characters.", n=MIN_PASSWORD))
    if value.isdigit() or value.isalpha():
        raise ValidationError(_l("Mix letters with digits or symbols."))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256), password_rules])
    confirm = PasswordField(
        _l("Repeat new password"), validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))]
    )


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=choices([("en", "English"), ("zh_Hans", "简体中文")]))
