"""Archive forms: filing, metadata, versions, holds, plan import, batches. All validation of input is here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DateField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from ...extensions import db
from ...forms import SelectField, choices
from ..customers.models import Customer
from ...web import INT_MAX
from .models import EVENT, Series


def series_choices(*, with_blank: bool = False):
    rows = db.session.scalars(db.select(Series).filter_by(active=True).order_by(Series.code))
    out = [(s.id, f"{s.code} · {s.title_en}" + (f" / {s.title_zh}" if s.title_zh else "")) for s in rows]
    return ([(0, "—")] if with_blank else []) + out


def customer_choices():
    rows = db.session.scalars(db.select(Customer).order_by(Customer.code))
    return [(0, "—")] + [(c.id, c.choice_label) for c in rows]


def _read_files(field) -> list[tuple[str, bytes]]:
    files = []
    for storage in field.data or []:
        if storage is None or not getattr(storage, "filename", ""):
            continue
        files.append((storage.filename, storage.read()))
    return files


def _get(model, ident):
    """The row with this id, or None for no id, a missing one, or a number no id can be."""
    return db.session.get(model, ident) if isinstance(ident, int) and 0 < ident <= INT_MAX else None


class RecordMetaMixin:
    def _init_choices(self):
        self.series_id.choices = series_choices()
        self.customer_id.choices = customer_choices()

    def validate_series_id(self, field):
        series = _get(Series, field.data)
        if series is None:
            raise ValidationError(_l("Choose a series of the file plan."))
        self.series = series

    def validate_event_date(self, field):
        series = _get(Series, self.series_id.data)
        if field.data and self.record_date.data and field.data < self.record_date.data:
            raise ValidationError(_l("The event date cannot be before the document date."))
        if series is not None and series.trigger == EVENT and series.trigger_label and field.data is None:
            # allowed: the retention clock starts when the event is recorded later
            return


class FileRecordForm(RecordMetaMixin, FlaskForm):
    files = MultipleFileField(_l("Files"), description=_l(
        "PDF, Word, Excel, images (PNG, JPEG, TIFF), text, CSV or e-mail (.eml); several files at once if they belong together."))
    series_id = SelectField(_l("Series"), coerce=int, validators=[DataRequired(message=_l("Choose a series of the file plan."))])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[Optional()])
    record_date = DateField(_l("Document date"), validators=[DataRequired()])
    event_date = DateField(_l("Event date"), validators=[Optional()], description=_l(
        "For series counted from an event (contract end, case closed, superseded): the date it happened."))
    restricted = BooleanField(_l("Restricted (only managers and the people named on it may see it)"))
    allow_duplicate = BooleanField(_l("File it again anyway"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_choices()
        self.uploaded: list[tuple[str, bytes]] = []

    def validate_files(self, field):
        self.uploaded = _read_files(field)
        if not self.uploaded:
            raise ValidationError(_l("Choose at least one file."))


class MetadataForm(RecordMetaMixin, FlaskForm):
    series_id = SelectField(_l("Series"), coerce=int, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[Optional()])
    record_date = DateField(_l("Document date"), validators=[DataRequired()])
    event_date = DateField(_l("Event date"), validators=[Optional()])
    restricted = BooleanField(_l("Restricted (only managers and the people named on it may see it)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_choices()


class VersionForm(FlaskForm):
    files = MultipleFileField(_l("Files of the new version"), validators=[])

    def validate_files(self, field):
        self.uploaded = _read_files(field)
        if not self.uploaded:
            raise ValidationError(_l("Choose at least one file."))


class HoldForm(FlaskForm):
    scope = SelectField(_l("Hold applies to"), choices=choices([("record", _l("One record")), ("series", _l("A series")),
                                                                ("customer", _l("Everything of a customer"))]))
    record_ref = StringField(_l("Record reference"), validators=[Optional(), Length(max=30)],
                             description=_l("e.g. AR-2024-00012"))
    series_id = SelectField(_l("Series"), coerce=int, validators=[Optional()])
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)],
                           description=_l("e.g. litigation, customs audit, complaint under investigation"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.series_id.choices = series_choices(with_blank=True)
        self.customer_id.choices = customer_choices()
        self.target = None

    def validate_scope(self, field):
        from .models import ArchiveRecord

        if field.data == "record":
            ref = (self.record_ref.data or "").strip().upper()
            record = db.session.scalar(db.select(ArchiveRecord).filter_by(reference=ref)) if ref else None
            if record is None or not record.can_view(current_user):  # a restricted one is not confirmed either
                raise ValidationError(_l("No record with this reference."))
            self.target = {"record": record}
        elif field.data == "series":
            series = _get(Series, self.series_id.data)
            if series is None:
                raise ValidationError(_l("Choose the series."))
            self.target = {"series": series}
        else:
            if _get(Customer, self.customer_id.data) is None:
                raise ValidationError(_l("Choose the customer."))
            self.target = {"customer_id": self.customer_id.data}


class RecordHoldForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the hold"), validators=[DataRequired(), Length(max=4000)])


class ReleaseForm(FlaskForm):
    note = TextAreaField(_l("Why is the hold released?"), validators=[DataRequired(), Length(max=4000)])


class PlanImportForm(FlaskForm):
    csv_file = FileField(_l("CSV file"), description=_l(
        "Columns: series_code, series_title, retention, trigger, disposition, source (optional: title_zh, parent_code, description)."))

    def validate_csv_file(self, field):
        storage = field.data
        if storage is None or not getattr(storage, "filename", ""):
            raise ValidationError(_l("Choose a CSV file."))
        data = storage.read()
        try:
            self.text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_l("The file is not UTF-8 text.")) from None
        self.filename = storage.filename


class ProposeForm(FlaskForm):
    as_of = DateField(_l("Due as of"), validators=[DataRequired()])
    record_id = SelectMultipleField(_l("Records"), coerce=int, validate_choice=False)
    include_restricted = BooleanField(_l("Include the restricted records that are due and not skipped"))
    note = TextAreaField(_l("Note for the approver"), validators=[Optional(), Length(max=4000)])
    transfer_to = StringField(_l("Receiving party (for transfers)"), validators=[Optional(), Length(max=200)])

    def record_ids(self) -> list[int]:
        return [rid for rid in (self.record_id.data or []) if 0 < rid < 2**31]


class DecisionForm(FlaskForm):
    decision = StringField(_l("Decision"), validators=[AnyOf(("approve", "reject"))])  # the button pressed
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class ReviewDecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices([("extend", _l("Keep until a new date")),
                                                            ("destroy", _l("Destroy in a later batch"))]))
    until = DateField(_l("Keep until"), validators=[Optional()])
    note = StringField(_l("Appraisal note"), validators=[Optional(), Length(max=1000)])

    def validate_until(self, field):
        if self.decision.data == "extend" and not field.data:
            raise ValidationError(_l("Give the date until which the record is kept."))


class ExecuteForm(FlaskForm):
    dry_run = BooleanField(_l("Dry run"))
