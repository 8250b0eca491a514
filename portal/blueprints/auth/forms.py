from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ...forms import SelectField, choices
from ...passwords import check_password


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Repeat new password"), validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))]
    )

    def validate_new(self, field):
        check_password(field.data, username=current_user.username, admin=current_user.has_role("admin"))

    @property
    def posted(self) -> bool:
        """This form (not the language form on the same page) was sent."""
        return self.is_submitted() and bool(self.new.raw_data)


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=choices([("en", "English"), ("zh_Hans", "简体中文")]))
