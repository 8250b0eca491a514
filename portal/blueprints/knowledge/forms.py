"""Knowledge forms: all validation of user input lives here."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectMultipleField, StringField, TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ...forms import SelectField
from ...extensions import db
from ...models import ROLES
from .models import JURISDICTIONS, KINDS, REG_STATES, Page
from .services import next_version, slugify

KIND_LABELS = {"regulation": _l("Regulation"), "procedure": _l("Procedure"), "guide": _l("Guide")}
JURISDICTION_LABELS = {"national": _l("National"), "provincial": _l("Provincial"), "port": _l("Port"),
                       "foreign": _l("Foreign")}
REG_STATE_LABELS = {"in_force": _l("In force"), "amended": _l("Amended"), "repealed": _l("Repealed")}
ROLE_LABELS = {"admin": _l("Administrator"), "cs_manager": _l("CS manager"), "csr": _l("CSR"),
               "records_officer": _l("Records officer"), "staff": _l("Staff")}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class PageForm(FlaskForm):
    kind = SelectField(_l("Kind"))
    slug = StringField(_l("Slug"), validators=[Optional(), Length(max=120)],
                       description=_l("Used in links: [[slug]]. Leave empty to derive it from the title."))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=300)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=500_000)],
                         description=_l("Headings, tables, lists; link other pages with [[slug]]."))
    note = StringField(_l("Change note"), validators=[Optional(), Length(max=500)])
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=300)])
    # procedures
    owner_department = StringField(_l("Owner department"), validators=[Optional(), Length(max=120)])
    next_review_date = DateField(_l("Next review date"), validators=[Optional()])
    review_months = IntegerField(_l("Review interval (months)"), default=12,
                                 validators=[Optional(), NumberRange(min=1, max=60)])
    # regulations
    authority = StringField(_l("Issuing authority"), validators=[Optional(), Length(max=200)])
    doc_number = StringField(_l("Document number"), validators=[Optional(), Length(max=120)])
    jurisdiction = SelectField(_l("Jurisdiction"), validators=[Optional()])
    issued_on = DateField(_l("Issued"), validators=[Optional()])
    effective_on = DateField(_l("Effective"), validators=[Optional()])
    reg_status = SelectField(_l("Status"), validators=[Optional()])
    superseded_by = StringField(_l("Superseded by (slug)"), validators=[Optional(), Length(max=120)])
    source_url = StringField(_l("Source URL"), validators=[Optional(), Length(max=500)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, page: Page | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._page = page
        self.kind.choices = [(k, KIND_LABELS[k]) for k in KINDS]
        self.jurisdiction.choices = [("", "—")] + [(j, JURISDICTION_LABELS[j]) for j in JURISDICTIONS]
        self.reg_status.choices = [(s, REG_STATE_LABELS[s]) for s in REG_STATES]

    def validate_slug(self, field):
        if not field.data:
            return
        value = slugify(field.data)
        existing = db.session.scalar(db.select(Page).filter_by(slug=value))
        if existing is not None and (self._page is None or existing.id != self._page.id):
            raise ValidationError(_l("The slug %(slug)s is already used.", slug=value))
        field.data = value

    def validate_superseded_by(self, field):
        value = (field.data or "").strip()
        if not value:
            field.data = ""
            return
        target = db.session.scalar(db.select(Page).filter_by(slug=slugify(value)))
        if target is None or target.kind != "regulation":
            raise ValidationError(_l("No regulation with this slug."))
        if self._page is not None and target.id == self._page.id:
            raise ValidationError(_l("A regulation cannot supersede itself."))
        field.data = target.slug

    def validate_source_url(self, field):
        value = (field.data or "").strip()
        if value and not re.match(r"^https?://", value):
            raise ValidationError(_l("Use an http or https address."))
        field.data = value


class SendBackForm(FlaskForm):
    comment = TextAreaField(_l("Comment for the author"), validators=[DataRequired(), Length(max=2000)])


class ApproveForm(FlaskForm):
    change = RadioField(_l("Kind of change"), default="minor", validators=[DataRequired()])
    reannounce = BooleanField(_l("Ask the last announcement's recipients to acknowledge this version"))

    def __init__(self, *args, page: Page | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        current = page.version if page is not None and page.current_revision is not None else ""
        if current:
            self.change.choices = [
                ("minor", _l("Minor change: version %(old)s becomes %(new)s", old=current,
                             new=next_version(current, "minor"))),
                ("major", _l("Major change: version %(old)s becomes %(new)s", old=current,
                             new=next_version(current, "major"))),
            ]
        else:
            self.change.choices = [("minor", _l("Minor change")), ("major", _l("Major change"))]


class AnnouncementForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"))
    departments = MultiCheckboxField(_l("Departments"), coerce=int)
    users = SelectMultipleField(_l("Named users"), coerce=int)
    due_date = DateField(_l("Acknowledge by"), validators=[DataRequired()])
    message = TextAreaField(_l("Message"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, department_choices=(), user_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.roles.choices = [(r, ROLE_LABELS[r]) for r in ROLES]
        self.departments.choices = list(department_choices)
        self.users.choices = list(user_choices)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and not (self.roles.data or self.departments.data or self.users.data):
            self.roles.errors.append(_l("Choose at least one role, department or user."))
            return False
        return ok


class PlanForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    pass_mark = IntegerField(_l("Pass mark (%)"), default=80, validators=[DataRequired(), NumberRange(min=1, max=100)])
    pages = MultiCheckboxField(_l("Pages in order"), coerce=int,
                               validators=[DataRequired(message=_l("Choose at least one page."))],
                               description=_l("Tick the pages to read; they are read in the order shown. "
                                              "Pages added later come after the ones already in the plan."))

    def __init__(self, *args, page_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.page_rows = list(page_choices)
        self.pages.choices = [(p.id, p.title) for p in self.page_rows]

    def chosen_pages(self) -> list[Page]:
        """The ticked pages in the order of the ticks."""
        by_id = {p.id: p for p in self.page_rows}
        return [by_id[i] for i in dict.fromkeys(self.pages.data or []) if i in by_id]


class QuestionForm(FlaskForm):
    step_id = SelectField(_l("Page"), coerce=int)
    text = StringField(_l("Question"), validators=[DataRequired(), Length(max=1000)])
    choices = TextAreaField(_l("Choices"), validators=[DataRequired(), Length(max=3000)],
                            description=_l("One choice per line; start correct ones with *."))

    def __init__(self, *args, step_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.step_id.choices = list(step_choices)

    def validate_choices(self, field):
        lines = [ln.strip() for ln in (field.data or "").splitlines() if ln.strip()]
        if len(lines) < 2:
            raise ValidationError(_l("Give at least two choices."))
        if not any(ln.startswith("*") for ln in lines):
            raise ValidationError(_l("Mark at least one correct choice with *."))

    def parsed(self) -> tuple[list[str], list[int]]:
        lines = [ln.strip() for ln in (self.choices.data or "").splitlines() if ln.strip()]
        return [ln.lstrip("*").strip() for ln in lines], [i for i, ln in enumerate(lines) if ln.startswith("*")]


class StepReadForm(FlaskForm):
    """A trainee has read a step's page; understood=1 is their "I have read and understood"."""

    understood = HiddenField(default="")


class AssignForm(FlaskForm):
    user_id = SelectField(_l("Trainee"), coerce=int, validators=[DataRequired()])
    due_date = DateField(_l("Due date"), validators=[DataRequired()])

    def __init__(self, *args, user_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = list(user_choices)


def quiz_form(questions, formdata=None):
    """A form with one field per question: radio buttons (single) or check boxes (multiple choice)."""

    class QuizForm(FlaskForm):
        pass

    for q in questions:
        if q.multiple:
            field = MultiCheckboxField(q.text, coerce=int)
        else:
            field = RadioField(q.text, coerce=int, validators=[Optional()])
        setattr(QuizForm, f"q{q.id}", field)
    form = QuizForm(formdata=formdata) if formdata is not None else QuizForm()
    for q in questions:
        getattr(form, f"q{q.id}").choices = list(enumerate(q.choice_list))
    return form


def quiz_answers(form, questions) -> dict[int, list[int]]:
    out = {}
    for q in questions:
        data = getattr(form, f"q{q.id}").data
        if data is None:
            out[q.id] = []
        elif isinstance(data, list):
            out[q.id] = [int(x) for x in data]
        else:
            out[q.id] = [int(data)]
    return out


class GlossaryImportForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l(
        "Columns: english, chinese, abbreviations, note; several terms in a cell separated by ;. "
        "The file replaces the whole glossary."))

    def validate_file(self, field):
        storage = field.data
        if storage is None or not getattr(storage, "filename", ""):
            raise ValidationError(_l("Choose a CSV file."))
        self.data_bytes = storage.read()


class GlossaryEntryForm(FlaskForm):
    english = StringField(_l("English term(s)"), validators=[Optional(), Length(max=500)],
                          description=_l("Several terms separated by ;"))
    chinese = StringField(_l("Chinese term(s)"), validators=[Optional(), Length(max=500)])
    abbreviations = StringField(_l("Abbreviations"), validators=[Optional(), Length(max=200)])
    note = StringField(_l("Meaning"), validators=[Optional(), Length(max=500)])


class GlossaryDeleteForm(FlaskForm):
    pass
