"""Survey forms: all validation of user input lives here (the answer form is built per questionnaire version)."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ...forms import SelectField
from ..complaints.models import ACTION_TYPES
from .models import CAMPAIGN_KINDS, CATEGORIES, MODES, NA_LABEL, QUESTION_KINDS, RATING_LABELS

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def _sc(pairs):
    return [SelectChoice(k, v) for k, v in pairs]


def _choices(mapping, blank=False):
    out = _sc(mapping.items())
    return [SelectChoice("", "—")] + out if blank else out


def in_range(form, field):
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.", first=EARLIEST.isoformat(),
                                 last=LATEST.isoformat()))


class QuestionnaireForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)], description=_l("e.g. CSAT"))
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])

    def validate_code(self, field):
        field.data = (field.data or "").strip().upper()
        if not re.fullmatch(r"[A-Z0-9_-]{2,30}", field.data):
            raise ValidationError(_l("2-30 capital letters, digits, - or _."))


class SectionForm(FlaskForm):
    title_zh = StringField(_l("Section title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Section title (English)"), validators=[DataRequired(), Length(max=200)])


class QuestionForm(FlaskForm):
    section_id = SelectField(_l("Section"), coerce=int, validators=[DataRequired(message=_l("Choose the section."))])
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=40)],
                      description=_l("Keep the same key in later versions so that results compare year on year"))
    kind = SelectField(_l("Type"), choices=_choices(QUESTION_KINDS))
    text_zh = TextAreaField(_l("Question (Chinese)"), validators=[DataRequired(), Length(max=2000)])
    text_en = TextAreaField(_l("Question (English)"), validators=[DataRequired(), Length(max=2000)])
    category = SelectField(_l("Service category"), choices=_choices(CATEGORIES, blank=True), validators=[Optional()])
    mandatory = BooleanField(_l("Required"))
    allow_na = BooleanField(_l("Offer \"not applicable\""))
    options = TextAreaField(_l("Choices"), validators=[Optional(), Length(max=4000)],
                            description=_l("One a line, \"中文 / English\""))

    def __init__(self, *args, sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.section_id.choices = [(0, "—")] + [(s.id, f"{s.title_zh} / {s.title_en}") for s in sections]

    def validate_key(self, field):
        field.data = (field.data or "").strip().lower()
        if not re.fullmatch(r"[a-z0-9_]{2,40}", field.data):
            raise ValidationError(_l("2-40 small letters, digits or _."))

    def validate_category(self, field):
        if self.kind.data == "rating" and not field.data:
            raise ValidationError(_l("A rating question needs its service category."))


class CampaignForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=_choices(CAMPAIGN_KINDS))
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2099)])
    version_id = SelectField(_l("Questionnaire version"), coerce=int,
                             validators=[DataRequired(message=_l("Choose the questionnaire version."))])
    opens_on = DateField(_l("Opens on"), validators=[DataRequired(), in_range])
    closes_on = DateField(_l("Closes on"), validators=[DataRequired(), in_range],
                          description=_l("The personal links expire at the end of this day"))
    reminder_on = DateField(_l("Reminder due on"), validators=[Optional(), in_range])
    invitation_zh = TextAreaField(_l("Invitation text (Chinese)"), validators=[Optional(), Length(max=5000)],
                                  description=_l("Empty: the standard text. {name}, {link}, {year}, {closes} are filled in."))
    invitation_en = TextAreaField(_l("Invitation text (English)"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, version_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.version_id.choices = [(0, "—")] + list(version_choices)

    def validate_year(self, field):
        if self.kind.data == "yearly" and not field.data:
            raise ValidationError(_l("A yearly campaign needs its year."))

    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_l("The campaign closes before it opens."))


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class InviteForm(FlaskForm):
    customer_ids = MultiCheckboxField(_l("Customers"), coerce=int,
                                      validators=[DataRequired(message=_l("Choose at least one customer."))])
    language = SelectField(_l("Language of the invitation"),
                           choices=_sc([("", _l("From the contact")), ("zh", _l("Chinese")), ("en", _l("English"))]),
                           validators=[Optional()])

    def __init__(self, *args, customer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_ids.choices = list(customer_choices)


class FollowUpForm(FlaskForm):
    """A corrective action raised from an answer (a CAPA action like a complaint's): owner and due date required."""
    kind = SelectField(_l("Type"), choices=_sc(list(ACTION_TYPES.items())), default="corrective")
    description = TextAreaField(_l("Corrective action"), validators=[DataRequired(), Length(max=4000)])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[DataRequired(), in_range])

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = list(staff_choices)

    def validate_owner_id(self, field):
        if not field.data:
            raise ValidationError(_l("Name the owner."))


class LinkForm(FlaskForm):
    """Issue a new personal link (the old one stops working)."""


class ReportForm(FlaskForm):
    """File the results report in the archive."""


def _pick(lang: str, pair: tuple[str, str]) -> str:
    return pair[1] if lang == "en" else pair[0]


def answer_form_class(questions, lang: str, *, staff: bool = False) -> type[FlaskForm]:
    """A form with one field per question (``q<id>``), labelled in ``lang``; mandatory answers are checked by
    the service on submission only, so a draft may be incomplete."""

    class AnswerForm(FlaskForm):
        save = SubmitField(_l("Save draft"))
        submit = SubmitField(_l("Submit answers"))

        def values(self) -> dict[int, dict]:
            out = {}
            for q in questions:
                f = self[f"q{q.id}"]
                raw = {"value": None, "na": False, "choices": [], "text": ""}
                if q.kind in ("rating", "nps"):
                    if f.data == "na":
                        raw["na"] = True
                    elif f.data not in (None, "", "None"):
                        raw["value"] = int(f.data)
                elif q.kind == "single":
                    raw["choices"] = [int(f.data)] if f.data not in (None, "", "None") else []
                elif q.kind == "multiple":
                    raw["choices"] = [int(c) for c in (f.data or [])]
                else:
                    raw["text"] = f.data or ""
                out[q.id] = raw
            return out

    for q in questions:
        name = f"q{q.id}"
        if q.kind == "rating":
            choices = [(str(k), f"{k} {_pick(lang, RATING_LABELS[k])}") for k in range(1, 6)]
            if q.allow_na:
                choices.append(("na", _pick(lang, NA_LABEL)))
            field = RadioField(q.text(lang), choices=_sc(choices), validators=[Optional()])
        elif q.kind == "nps":
            field = RadioField(q.text(lang), choices=_sc((str(k), str(k)) for k in range(11)), validators=[Optional()])
        elif q.kind == "single":
            field = RadioField(q.text(lang), choices=_sc((str(i), _pick(lang, c)) for i, c in enumerate(q.choices)),
                               validators=[Optional()])
        elif q.kind == "multiple":
            field = MultiCheckboxField(q.text(lang), choices=_sc((str(i), _pick(lang, c)) for i, c in enumerate(q.choices)),
                                       validators=[Optional()])
        else:
            field = TextAreaField(q.text(lang), validators=[Optional(), Length(max=10000)])
        setattr(AnswerForm, name, field)
    if staff:
        AnswerForm.mode = SelectField(_l("How the answer was taken"), choices=_sc((k, v) for k, v in MODES.items() if k != "online"))
    return AnswerForm


def fill_answer_form(form, questions, answers: dict) -> None:
    """Put stored answers into a fresh form (GET)."""
    for q in questions:
        a = answers.get(q.id)
        if a is None:
            continue
        f = form[f"q{q.id}"]
        if q.kind in ("rating", "nps"):
            f.data = "na" if a.na else (str(a.value) if a.value is not None else None)
        elif q.kind == "single":
            f.data = str(a.chosen[0]) if a.chosen else None
        elif q.kind == "multiple":
            f.data = [str(c) for c in a.chosen]
        else:
            f.data = a.text
