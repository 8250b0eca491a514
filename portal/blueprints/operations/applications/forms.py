"""Forms of the government applications: all validation of user input lives here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateTimeLocalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ....forms import SelectField, choices
from ....timeutil import from_local, local_now, utcnow
from .models import ANCHORS, AUTHORITIES, MAX_LEAD_HOURS
from .services import DOCUMENT_KINDS

DT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeField(DateTimeLocalField):
    """A local wall-clock date and time (the portal's time zone); ``utc`` gives it as aware UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", [DT_FORMAT, "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    @property
    def utc(self):
        return from_local(self.data) if self.data else None


def _not_future(form, field):
    if field.data and from_local(field.data) > utcnow().replace(second=59):
        raise ValidationError(_l("This time is in the future."))


def _now_local():
    return local_now().replace(second=0, microsecond=0, tzinfo=None)


class _WhenForm(FlaskForm):
    at = LocalDateTimeField(_l("When"), validators=[DataRequired(), _not_future])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.at.data is None and not self.is_submitted():
            self.at.data = _now_local()


class TypeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20), Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", message=_l("Letters, digits, '-', '_' and '.' only."))])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=160)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=160)])
    authority = SelectField(_l("Authority"), choices=choices(AUTHORITIES.items()))
    anchor = SelectField(_l("Due relative to"), choices=choices(ANCHORS.items()))
    lead_hours = IntegerField(_l("Lead time (hours)"), validators=[
        InputRequired(), NumberRange(min=-MAX_LEAD_HOURS, max=MAX_LEAD_HOURS)],
        description=_l("Negative: before that time (-24 = a day before); positive: after it."))
    documents = TextAreaField(_l("Documents needed"), validators=[Optional(), Length(max=4000)],
                              description=_l("One document per line."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)])
    active = BooleanField(_l("Active: new calls get this declaration"), default=True)

    def values(self) -> dict:
        return {"code": self.code.data or "", "name_en": (self.name_en.data or "").strip(),
                "name_zh": (self.name_zh.data or "").strip(), "authority": self.authority.data,
                "anchor": self.anchor.data, "lead_hours": self.lead_hours.data, "documents": self.documents.data or "",
                "description": (self.description.data or "").strip(), "sort_order": self.sort_order.data or 0,
                "active": bool(self.active.data)}


class SubmitForm(_WhenForm):
    reference_no = StringField(_l("Reference number of the submission"), validators=[DataRequired(), Length(max=80)])
    document = FileField(_l("Receipt (optional): filed in the archive with the call"))


class ResubmitForm(SubmitForm):
    pass


class ApproveForm(_WhenForm):
    approval_no = StringField(_l("Approval number"), validators=[DataRequired(), Length(max=80)])
    document = FileField(_l("Approval document (optional): filed in the archive with the call"))


class ReturnForm(_WhenForm):
    reason = TextAreaField(_l("Why the authority returned it"), validators=[DataRequired(), Length(max=4000)])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why this declaration is not needed"), validators=[DataRequired(), Length(max=4000)])


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Document"), choices=choices(DOCUMENT_KINDS.items()))
    document = FileField(_l("File"), validators=[FileRequired(message=_l("Choose the file."))])


def read_upload(field) -> tuple[str, bytes] | None:
    """(file name, bytes) of an uploaded file, or None when none was given."""
    upload = field.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    try:
        return upload.filename, upload.read()
    finally:
        upload.close()
