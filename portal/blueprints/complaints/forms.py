"""Customer service forms: all validation of user input lives here."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DateTimeLocalField, HiddenField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...forms import MultiCheckboxField, SelectField
from ...timeutil import from_local, local_now, utcnow
from .models import (
    ACTION_STATUSES,
    ACTION_TYPES,
    CATEGORIES,
    CAUSE_CATEGORIES,
    CHANNELS,
    LANGUAGES,
    SEVERITIES,
)

DT_FORMAT = "%Y-%m-%dT%H:%M"


def _choices(mapping, blank: bool = False):
    out = [SelectChoice(k, v) for k, v in mapping.items()]
    return ([SelectChoice("", "—")] if blank else []) + out


class LocalDateTimeField(DateTimeLocalField):
    """A local wall-clock date and time in the form; ``utc`` gives it as aware UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", [DT_FORMAT, "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    @property
    def utc(self):
        return from_local(self.data) if self.data else None


def _not_future(form, field):
    if field.data and from_local(field.data) > utcnow().replace(second=59) :
        raise ValidationError(_l("This time is in the future."))


class InquiryForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    channel = SelectField(_l("Channel"), choices=_choices(CHANNELS))
    language = SelectField(_l("Language"), choices=_choices(LANGUAGES))
    received_at = LocalDateTimeField(_l("Received at"), validators=[DataRequired(), _not_future])
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    question = TextAreaField(_l("Question"), validators=[DataRequired(), Length(max=20000)])
    assigned_to_id = SelectField(_l("Assigned to"), coerce=int, validators=[Optional()],
                                 description=_l("Left at “—”: the customer's responsible CSR."))
    reply_to = StringField(_l("E-mail the acknowledgement and the answer to"), validators=[Optional(), Length(max=300)],
                           description=_l("The customer's e-mail address; leave empty to answer another way."))

    def validate_reply_to(self, field):
        from email_validator import EmailNotValidError, validate_email

        for address in (field.data or "").replace(",", " ").replace(";", " ").split():
            try:
                validate_email(address, check_deliverability=False)
            except EmailNotValidError:
                raise ValidationError(_l("%(value)s is not a valid e-mail address.", value=address)) from None

    def __init__(self, *args, customer_choices=(), staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.assigned_to_id.choices = list(staff_choices)
        if self.received_at.data is None and not self.is_submitted():
            self.received_at.data = local_now().replace(second=0, microsecond=0, tzinfo=None)


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=20000)])
    answered_at = LocalDateTimeField(_l("Answer sent at"), validators=[DataRequired(), _not_future])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.answered_at.data is None and not self.is_submitted():
            self.answered_at.data = local_now().replace(second=0, microsecond=0, tzinfo=None)


class AssignForm(FlaskForm):
    assigned_to_id = SelectField(_l("Assigned to"), coerce=int, validators=[Optional()])

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assigned_to_id.choices = list(staff_choices)


class EscalateForm(FlaskForm):
    note = TextAreaField(_l("Why is it complex? (note to the CS manager)"), validators=[DataRequired(), Length(max=4000)])


class ToComplaintForm(FlaskForm):
    category = SelectField(_l("Category"), choices=_choices(CATEGORIES))


class ComplaintForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    title = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Category"), choices=_choices(CATEGORIES))
    severity = SelectField(_l("Severity"), choices=_choices(SEVERITIES), default="medium")
    reference = StringField(_l("Related order / vessel / tank"), validators=[Optional(), Length(max=200)],
                            description=_l("Free reference, e.g. order number, vessel name, tank T-101"))
    received_at = LocalDateTimeField(_l("Received at"), validators=[DataRequired(), _not_future])
    language = SelectField(_l("Language"), choices=_choices(LANGUAGES))
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=20000)])
    customer_request = TextAreaField(_l("What the customer asks for"), validators=[Optional(), Length(max=10000)])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])
    restricted = BooleanField(_l("Restricted (only managers and the people named on it may see it)"))
    # Where the complaint is raised from ("<kind>:<id>", e.g. "survey_answer:12"), kept on the complaint.
    source = HiddenField()

    def __init__(self, *args, customer_choices=(), staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.owner_id.choices = list(staff_choices)
        if self.received_at.data is None and not self.is_submitted():
            self.received_at.data = local_now().replace(second=0, microsecond=0, tzinfo=None)

    def validate_source(self, field):
        """Anything but "<kind>:<id>" is dropped (the field is hidden, so nobody could correct it)."""
        field.data = field.data if re.fullmatch(r"[a-z_]{1,40}:\d{1,12}", field.data or "") else ""


class TransitionForm(FlaskForm):
    note = TextAreaField(_l("Note / reason"), validators=[Optional(), Length(max=4000)])


class InvestigationForm(FlaskForm):
    containment = TextAreaField(_l("Containment (immediate measures)"), validators=[Optional(), Length(max=10000)])
    why_1 = StringField(_l("Why 1"), validators=[Optional(), Length(max=1000)])
    why_2 = StringField(_l("Why 2"), validators=[Optional(), Length(max=1000)])
    why_3 = StringField(_l("Why 3"), validators=[Optional(), Length(max=1000)])
    why_4 = StringField(_l("Why 4"), validators=[Optional(), Length(max=1000)])
    why_5 = StringField(_l("Why 5"), validators=[Optional(), Length(max=1000)])
    root_cause = TextAreaField(_l("Root cause"), validators=[Optional(), Length(max=10000)])
    cause_category = SelectField(_l("Cause category"), choices=_choices(CAUSE_CATEGORIES, blank=True), validators=[Optional()])
    contributing_factors = TextAreaField(_l("Contributing factors"), validators=[Optional(), Length(max=10000)])

    def validate_root_cause(self, field):
        if (field.data or "").strip() and not self.cause_category.data:
            raise ValidationError(_l("Choose the cause category for the root cause."))


class ActionForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=_choices(ACTION_TYPES), default="corrective")
    description = TextAreaField(_l("Action"), validators=[DataRequired(), Length(max=4000)])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[DataRequired(message=_l("Choose the owner."))])
    department_id = SelectField(_l("Department"), coerce=int, validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[DataRequired()])

    def __init__(self, *args, staff_choices=(), department_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = list(staff_choices)
        self.department_id.choices = list(department_choices)


class ActionUpdateForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(ACTION_STATUSES))
    completion_note = TextAreaField(_l("Completion note"), validators=[Optional(), Length(max=4000)])

    def validate_completion_note(self, field):
        if self.status.data in ("done", "cancelled") and not (field.data or "").strip():
            raise ValidationError(_l("Describe what was done (completion note)."))


VERIFY_DECISIONS = {"accept": _l("Verified: the action was done and works"), "reject": _l("Not done: back to the owner")}


class ActionVerifyForm(FlaskForm):
    decision = SelectField(_l("Verification"), choices=_choices(VERIFY_DECISIONS))
    note = TextAreaField(_l("Verification note"), validators=[Optional(), Length(max=4000)],
                         description=_l("What you checked; what is missing when you send it back."))

    def validate_note(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Say what is missing before sending the action back."))


class EvaluationForm(FlaskForm):
    effectiveness = TextAreaField(_l("Effectiveness evaluation"), validators=[DataRequired(), Length(max=10000)],
                                  description=_l("Did the actions work? What evidence shows the problem has not recurred?"))


class AttachmentForm(FlaskForm):
    file = FileField(_l("Evidence file"), validators=[FileRequired()])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=300)])


class ReportForm(FlaskForm):
    recipient = StringField(_l("Sent to"), validators=[DataRequired(), Length(max=300)],
                            description=_l("Name or e-mail address of the customer contact"))


class LessonForm(FlaskForm):
    summary = TextAreaField(_l("Summary of the case"), validators=[DataRequired(), Length(max=10000)])
    prevention = TextAreaField(_l("Prevention: what we changed"), validators=[DataRequired(), Length(max=10000)])
    user_ids = MultiCheckboxField(_l("People"), coerce=int, validators=[Optional()])
    department_ids = MultiCheckboxField(_l("Departments"), coerce=int, validators=[Optional()])

    def __init__(self, *args, staff_choices=(), department_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_ids.choices = list(staff_choices)
        self.department_ids.choices = list(department_choices)

    def validate_user_ids(self, field):
        if not field.data and not self.department_ids.data:
            raise ValidationError(_l("Choose at least one person or department."))
