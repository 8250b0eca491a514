"""Forms of the stock book: all validation of user input lives here."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, DecimalField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ....forms import SelectField, check_email, choices
from ....timeutil import from_local, local_now, utcnow
from ..models import CUSTOMS_STATUSES
from .models import DIRECTIONS

DT_FORMAT = "%Y-%m-%dT%H:%M"
UNIT_CHOICES = [("t", _l("t")), ("m3", _l("m³ at 20 °C")), ("bbl", _l("bbl"))]


class LocalDateTimeField(DateTimeLocalField):
    """A local wall-clock date and time; ``utc`` gives it as aware UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", [DT_FORMAT, "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    @property
    def utc(self):
        return from_local(self.data) if self.data else None


def _not_future(form, field):
    if field.data and from_local(field.data) > utcnow().replace(second=59):
        raise ValidationError(_l("This time is in the future."))


class ReverseForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the reversal"), validators=[DataRequired(), Length(max=2000)])


class AdjustmentForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose the customer."))])
    tank_id = SelectField(_l("Tank"), coerce=int, validators=[DataRequired(message=_l("Choose the tank."))])
    product_id = SelectField(_l("Product"), coerce=int, validators=[DataRequired(message=_l("Choose the product."))])
    customs_status = SelectField(_l("Customs status"), choices=choices(CUSTOMS_STATUSES.items()))
    direction = SelectField(_l("Gain or loss"), choices=choices(DIRECTIONS.items()))
    quantity = DecimalField(_l("Quantity"), places=3, validators=[
        DataRequired(), NumberRange(min=Decimal("0.001"), max=Decimal("1000000"))])
    unit = SelectField(_l("Unit"), choices=choices(UNIT_CHOICES))
    density_20 = DecimalField(_l("Density at 20 °C (kg/m³)"), places=2, validators=[
        DataRequired(), NumberRange(min=Decimal("500"), max=Decimal("2000"))])
    occurred_at = LocalDateTimeField(_l("Found at"), validators=[DataRequired(), _not_future])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])

    def __init__(self, *args, customer_choices=(), tank_choices=(), product_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = [(0, "—")] + list(customer_choices)
        self.tank_id.choices = [(0, "—")] + list(tank_choices)
        self.product_id.choices = [(0, "—")] + list(product_choices)
        if self.occurred_at.data is None and not self.is_submitted():
            self.occurred_at.data = local_now().replace(second=0, microsecond=0, tzinfo=None)


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices([("approve", _l("Approve and post")), ("reject", _l("Reject"))]))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class CheckEntryForm(FlaskForm):
    """Physical stock per tank: fields ``m3_<tank id>`` and ``density_<tank id>`` added per tank."""

    @classmethod
    def for_tanks(cls, tanks, *args, **kwargs):
        class _Form(cls):
            pass

        for tank in tanks:
            setattr(_Form, f"m3_{tank.id}", DecimalField(
                _l("Physical m³ at 20 °C of %(tank)s", tank=tank.code), places=3,
                validators=[Optional(), NumberRange(min=Decimal(0), max=Decimal("10000000"))]))
            setattr(_Form, f"density_{tank.id}", DecimalField(
                _l("Density at 20 °C of %(tank)s", tank=tank.code), places=2,
                validators=[Optional(), NumberRange(min=Decimal("500"), max=Decimal("2000"))]))
        form = _Form(*args, **kwargs)
        form.tanks = list(tanks)
        return form

    def entered(self):
        """(tank, m³, density or None) for each tank given a figure."""
        out = []
        for tank in self.tanks:
            m3 = self[f"m3_{tank.id}"].data
            if m3 is not None:
                out.append((tank, m3, self[f"density_{tank.id}"].data))
        return out


class ImportForm(FlaskForm):
    file = FileField(_l("Terminal management system export (CSV or XLSX)"), validators=[FileRequired()])


class RemarkForm(FlaskForm):
    remark = TextAreaField(_l("Remark"), validators=[DataRequired(), Length(max=2000)])


class SignForm(FlaskForm):
    pass


class MarkSentForm(FlaskForm):
    recipients = TextAreaField(_l("Recipients (one e-mail address per line)"), validators=[DataRequired(), Length(max=4000)])

    def validate_recipients(self, field):
        field.data = "\n".join(check_email(line.strip()) for line in (field.data or "").splitlines() if line.strip())

    @property
    def recipient_list(self) -> list[str]:
        return [r for r in (self.recipients.data or "").splitlines() if r.strip()]
