"""Forms of the notifications pages: action buttons (CSRF only) and the user's notice switches."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import Optional

from ...forms import MultiCheckboxField


class ConfirmForm(FlaskForm):
    """An action button (resend, retry now): validates the CSRF token."""


class NoticeSettingsForm(FlaskForm):
    kinds = MultiCheckboxField(_l("E-mail me about"), choices=[], validators=[Optional()])
