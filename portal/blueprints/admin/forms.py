from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ...extensions import db
from ...forms import MultiCheckboxField, SelectField, check_email, choices
from ...models import ROLES, Department, User
from ...web import DATE_MAX, DATE_MIN
from ...passwords import check_password

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "cs_manager": _l("CS manager"),
    "csr": _l("Customer service representative"),
    "records_officer": _l("Records officer"),
    "staff": _l("Staff"),
}



class UserForm(FlaskForm):
    username = StringField(
        _l("User name"),
        validators=[DataRequired(), Length(min=2, max=64), Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, dot, dash and underscore only."))],
    )
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    department_id = SelectField(_l("Department"), coerce=int, validators=[Optional()])
    roles = MultiCheckboxField(_l("Roles"), choices=choices((r, ROLE_LABELS[r]) for r in ROLES))
    language = SelectField(_l("Language"), choices=choices([("", "—"), ("en", "English"), ("zh_Hans", "简体中文")]), validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)
    # No Optional() here: it would stop the chain before validate_password, which requires a
    # password for new users.
    password = PasswordField(_l("Initial password"), validators=[Length(max=256)])

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user
        departments = db.session.scalars(db.select(Department).order_by(Department.code))
        self.department_id.choices = [(0, "—")] + [(d.id, d.label) for d in departments]

    def validate_username(self, field):
        existing = db.session.scalar(db.select(User).filter(db.func.lower(User.username) == field.data.lower()))
        if existing is not None and (self._user is None or existing.id != self._user.id):
            raise ValidationError(_l("This user name is taken."))

    def validate_email(self, field):
        if field.data and field.data.strip():
            field.data = check_email(field.data.strip())

    def validate_roles(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one role."))

    def validate_password(self, field):
        if self._user is None and not field.data:
            raise ValidationError(_l("Set an initial password."))
        if field.data:
            check_password(field.data, username=self.username.data or "", admin="admin" in (self.roles.data or ()))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user

    def validate_password(self, field):
        user = self._user
        check_password(field.data, username=user.username if user else "", admin=bool(user and user.has_role("admin")))


class DepartmentForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20), Regexp(r"^[A-Z0-9-]+$", message=_l("Capital letters, digits and dashes only."))])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=120)])

    def __init__(self, *args, department: Department | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._department = department

    def validate_code(self, field):
        existing = db.session.scalar(db.select(Department).filter_by(code=field.data))
        if existing is not None and (self._department is None or existing.id != self._department.id):
            raise ValidationError(_l("This code is already used."))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = StringField(_l("User"), validators=[Optional(), Length(max=64)])
    entity = StringField(_l("Record type"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def _within_bounds(self, field):
        if field.data is not None and not DATE_MIN <= field.data <= DATE_MAX:
            raise ValidationError(_l("Choose a date between %(first)s and %(last)s.", first=DATE_MIN.isoformat(),
                                     last=DATE_MAX.isoformat()))

    validate_date_from = _within_bounds
    validate_date_to = _within_bounds
