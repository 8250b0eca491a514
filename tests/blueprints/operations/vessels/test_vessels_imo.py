"""IMO numbers: the check digit (valid, invalid, wrong length) in the service and on the vessel form."""
from __future__ import annotations

import pytest

from portal.blueprints.operations.vessels.models import Vessel
from portal.blueprints.operations.vessels.services import imo_valid
from portal.extensions import db


@pytest.mark.parametrize("imo", ["9074729", "9415167", "9143518", "9321483"])
def test_real_imo_numbers_are_valid(imo):
    assert imo_valid(imo)


@pytest.mark.parametrize("imo", ["9074728", "9074720", "1234568", "9415161"])
def test_a_wrong_check_digit_is_refused(imo):
    assert not imo_valid(imo)


@pytest.mark.parametrize("imo", ["", "907472", "90747290", "907472a", "9O74729", "٩٠٧٤٧٢٩"])
def test_wrong_length_or_not_digits_is_refused(imo):
    assert not imo_valid(imo)


def _post(client, **over):
    data = {"name": "MT Test", "imo": "9074729", "flag": "Panama", "loa_m": "180", "draught_m": "11", "dwt": "45000"}
    data.update(over)
    return client.post("/operations/vessels/ships/new", data=data)


def test_vessel_form_refuses_bad_imo_on_the_field(client, login, terminal):
    login("csr")
    short = _post(client, imo="907472")
    assert short.status_code == 200
    assert "An IMO number has 7 digits." in short.get_data(as_text=True)
    wrong = _post(client, imo="9074728")
    assert "The check digit does not match" in wrong.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Vessel.id))) == 0


def test_vessel_form_accepts_the_imo_prefix_and_refuses_a_duplicate(client, login, terminal):
    login("csr")
    assert _post(client, imo="IMO 9074729").status_code == 302
    vessel = db.session.scalar(db.select(Vessel))
    assert vessel.imo == "9074729"
    again = _post(client, name="Other", imo="9074729")
    assert again.status_code == 200
    assert "A vessel with IMO number 9074729 exists already." in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Vessel.id))) == 1


def test_only_csrs_and_managers_edit_vessels(client, login, terminal):
    login("staff")
    assert client.get("/operations/vessels/ships").status_code == 200
    assert _post(client).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Vessel.id))) == 0
