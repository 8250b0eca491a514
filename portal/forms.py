"""Validators and fields shared by the forms of every module."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from flask_wtf import FlaskForm
from wtforms import SelectField as WtformsSelectField
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.fields import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

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


class LongSelect(Select):
    """wtforms' ``Select``, the same HTML to the byte, without building a choice object and its attributes per
    option: the lists of customers, tanks, products, contracts and ship orders run to hundreds of options. Choices
    other than plain (value, label) pairs render through ``Select`` itself."""

    def __call__(self, field, **kwargs):
        choices = field.choices
        if self.multiple or not isinstance(choices, list):
            return super().__call__(field, **kwargs)
        pairs = []
        for choice in choices:
            if type(choice) is tuple and len(choice) == 2:
                pairs.append(choice)
            elif type(choice) is SelectChoice and not choice.render_kw and choice.optgroup is None:
                pairs.append((choice.value, choice.label))
            else:
                return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        coerce, data = field.coerce, field.data
        for value, label in pairs:
            attr = escape(str(value) if isinstance(value, bool) else value).replace(Markup('"'), Markup("&quot;"))
            selected = "selected " if coerce(value) == data else ""
            html.append(f'<option {selected}value="{attr}">{escape(label or value)}</option>')
        html.append("</select>")
        return Markup("".join(html))


class SelectField(WtformsSelectField):
    """The drop-down of every form: wtforms' own, drawn by ``LongSelect`` (the same HTML, quicker). Lists that
    grow with the years (staff, customers, orders, tanks) would otherwise cost a page about 0.05 ms an option."""

    widget = LongSelect()


class LanguageForm(FlaskForm):
    """The language switch in the page header (posted to main.set_language)."""

    language = SelectField(_l("Language"), choices=choices([("en", "English"), ("zh_Hans", "简体中文")]))
