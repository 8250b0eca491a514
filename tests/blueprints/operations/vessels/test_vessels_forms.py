"""Drop-downs render through a quicker widget (every form's, through portal.forms.SelectField): the same HTML, to the byte, as wtforms' own."""
from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import Select

from portal.blueprints.operations.vessels.forms import ParcelForm
from portal.forms import LongSelect

CHOICES = [(0, "—"), (1, 'Sino <"chem"> & Co'), (2, "中化 / Sinochem"), (3, ""), (4, _l("Berth")), (5, "five")]


def _pair(**field_kw):
    class Form(FlaskForm):
        quick = SelectField("Quick", widget=LongSelect(), **field_kw)
        plain = SelectField("Plain", widget=Select(), **field_kw)

    return Form


@pytest.mark.parametrize("kw, choices, data", [
    (dict(coerce=int, validators=[DataRequired()]), CHOICES, 2),
    (dict(coerce=int, validators=[Optional()]), CHOICES, None),
    (dict(coerce=int), CHOICES, 0),
    (dict(), [SelectChoice("t", "t"), SelectChoice("m3", _l("Berth")), SelectChoice('a"b', "<q>")], 'a"b'),
    (dict(), [("x", "X"), ("y", "Y")], "y"),
    (dict(coerce=int), [(1, "one"), (2, "two", {"data-x": "1"})], 2),  # with attributes: wtforms renders it
    (dict(), [SelectChoice("a", "A", optgroup="G"), SelectChoice("b", "B")], "a"),
])
def test_quick_select_renders_what_wtforms_renders(app, kw, choices, data):
    Form = _pair(**kw)
    with app.test_request_context():
        form = Form(meta={"csrf": False})
        for name in ("quick", "plain"):
            getattr(form, name).choices = list(choices)
            getattr(form, name).data = data
        quick, plain = str(form.quick(class_="wide")), str(form.plain(class_="wide"))
        assert quick.replace("quick", "plain").replace("Quick", "Plain") == plain
        assert str(form.quick()).replace("quick", "plain") == str(form.plain())


def test_the_parcel_form_lists_render_as_before(app):
    with app.test_request_context():
        form = ParcelForm(prefix="parcel", meta={"csrf": False},
                          customer_choices=[(7, "SINOCHEM 中化 / Sinochem & <Co>")], order_choices=[(9, "ORD-1 · A · B · 1 t")],
                          product_choices=[(3, "GO")], tank_choices=[(4, "T-101")])
        form.tank_id.data = 4
        for name in ("customer_id", "order_id", "product_id", "tank_id"):
            field = getattr(form, name)
            assert isinstance(field.widget, LongSelect)
            assert str(field()) == str(Select()(field))
        assert '<option selected value="4">T-101</option>' in str(form.tank_id())
