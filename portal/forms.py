"""Validators and fields shared by the forms of every module."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

try:  # WTForms 3.3 deprecates (value, label) tuples in choices=...
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choices(pairs) -> list:
    """(value, label) pairs as choices for SelectField / SelectMultipleField, on every WTForms version.

    Use it for choices given in a field's declaration; assigning `field.choices = [...]` in a form's
    __init__ takes plain tuples without a warning.
    """
    if SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def check_email(value: str) -> str:
    """Return the normalised address, or raise a ValidationError naming the bad value."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(_l("%(value)s is not a valid e-mail address.", value=value)) from exc


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LanguageForm(FlaskForm):
    """The language switch in the page header (posted to main.set_language)."""

    language = SelectField(_l("Language"), choices=choices([("en", "English"), ("zh_Hans", "简体中文")]))
