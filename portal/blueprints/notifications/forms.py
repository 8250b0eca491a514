"""Forms of the notifications pages: action buttons (CSRF only) and the user's notice switches."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets


class ConfirmForm(FlaskForm):
    """An action button (resend, retry now): validates the CSRF token."""


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):  # an unknown value is dropped, not an error (a kind removed since)
        self.data = [v for v in (self.data or []) if v in {c[0] for c in self.choices}]


class NoticeSettingsForm(FlaskForm):
    kinds = MultiCheckboxField(_l("E-mail me about"), choices=[])
