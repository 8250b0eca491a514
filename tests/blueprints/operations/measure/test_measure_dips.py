"""Dips: every step from the dip to the masses, on the page and in the bilingual PDF; ullage, floating roof,
observed density, chemicals; the latest dip of a day for the reconciliation; roles and bad input."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal.blueprints.operations.measure import services, vcf
from portal.blueprints.operations.measure.models import Dip
from portal.extensions import db

from measure_helpers import ready_tank

AT = datetime(2026, 3, 31, 8, 30, tzinfo=UTC)  # 16:30 in Shanghai


def _dip(tank, **kw):
    values = dict(taken_at=AT, method="innage", reading_mm=Decimal("8000.0"), water_mm=Decimal("50.0"),
                  temperatures=[Decimal("25.4"), Decimal("25.0"), Decimal("24.6")], density_mode="lab20",
                  density=Decimal("840.0"))
    values.update(kw)
    return services.record_dip(tank, **values)


def test_every_step_of_a_gasoil_dip(terminal):
    ready_tank(terminal.t1)
    dip = _dip(terminal.t1)
    factor = vcf.vcf("gbt", "products", Decimal("840.0"), Decimal("25.0"))
    # the factor comes from the module (checked against the standard's examples and Table 54B in test_measure_vcf)
    assert factor == Decimal("0.99577")
    assert dip.innage_mm == Decimal("8000.0") and dip.tov_m3 == Decimal("8000.000") and dip.water_m3 == Decimal("50.000")
    assert dip.gov_m3 == Decimal("7950.000") and dip.temperature == Decimal("25.0") and dip.vcf == factor
    assert dip.gsv_m3 == Decimal("7916.372")  # 7950 x 0.99577 = 7916.37150
    assert dip.mass_vacuum_kg == Decimal("6649752")  # 7916.372 x 840.0 = 6649752.48
    assert dip.mass_air_kg == Decimal("6641044")  # 7916.372 x (840.0 - 1.1) = 6641044.47
    assert dip.v20_m3 == dip.gsv_m3 and dip.density_20 == Decimal("840.0")


def test_ullage_uses_the_reference_height_and_the_roof_floats(terminal):
    ready_tank(terminal.t1, reference=Decimal("12500.0"), roof=Decimal("25000.0"), roof_floats=Decimal("1500.0"),
               roof_correction=True)
    dip = _dip(terminal.t1, method="ullage", reading_mm=Decimal("4500.0"), water_mm=Decimal("0"))
    assert dip.innage_mm == Decimal("8000.0") and dip.tov_m3 == Decimal("8000.000")
    density_t = Decimal("840.0") * dip.vcf  # density at the tank temperature
    assert dip.roof_m3 == (Decimal("25000.0") / density_t).quantize(Decimal("0.001"))
    assert dip.gov_m3 == Decimal("8000.000") - dip.roof_m3
    low = _dip(terminal.t1, method="innage", reading_mm=Decimal("1200.0"), water_mm=Decimal("0"))
    assert low.roof_m3 == 0  # the roof rests on its legs below 1500 mm


def test_a_table_without_the_roof_flag_gets_no_roof_correction(terminal):
    ready_tank(terminal.t1, roof=Decimal("25000.0"), roof_floats=Decimal("1500.0"), roof_correction=False)
    assert _dip(terminal.t1).roof_m3 == 0


def test_observed_density_is_converted_and_astm_gives_the_volume_at_20(terminal):
    ready_tank(terminal.t1, standard="astm")
    dip = _dip(terminal.t1, density_mode="observed", density=Decimal("836.2"), density_temperature=Decimal("26.0"))
    assert dip.density_base == vcf.density_at_base("astm", "products", "836.2", "26.0")
    assert dip.density_20 == vcf.density_at_base("gbt", "products", "836.2", "26.0")
    assert dip.density_base > dip.density_20 > Decimal("836.2")
    assert dip.vcf == vcf.vcf("astm", "products", dip.density_base, Decimal("25.0"))
    assert dip.v20_m3 == (dip.mass_vacuum_kg / dip.density_20).quantize(Decimal("0.001"))
    assert dip.v20_m3 > dip.gsv_m3  # the same mass takes more room at 20 °C than at 15 °C


def test_a_glass_hydrometer_reading_is_corrected_for_the_glass(terminal):
    # a glass hydrometer read at 40 °C shows a little less than the density the printed tables 59x start from:
    # the reading is corrected first (the glass expands), so the density at 20 °C comes out lower than without
    ready_tank(terminal.t1)
    read = dict(density=Decimal("804.0"), density_temperature=Decimal("40.0"))
    meter = _dip(terminal.t1, density_mode="observed", **read)
    glass = _dip(terminal.t1, density_mode="hydrometer", **read)
    assert glass.density_20 == vcf.density_at_base("gbt", "products", "804.0", "40.0", glass_hydrometer=True)
    assert meter.density_20 - glass.density_20 == Decimal("0.4")  # 804 x 0.000023 x 20 = 0.37
    assert glass.density_mode == "hydrometer" and glass.density_temperature == Decimal("40.0")
    assert glass.mass_vacuum_kg < meter.mass_vacuum_kg


def test_the_dip_form_offers_the_glass_hydrometer(terminal, client, login):
    ready_tank(terminal.t1)
    login("csr")
    page = client.get(f"/operations/measure/tanks/{terminal.t1.id}/dips/new").get_data(as_text=True)
    assert 'value="hydrometer"' in page and "Glass hydrometer reading at a temperature" in page


def test_a_chemical_uses_its_linear_coefficient(terminal):
    services.save_expansion(terminal.methanol, Decimal("0.00119"))
    ready_tank(terminal.t3)
    dip = _dip(terminal.t3, density=Decimal("791.8"), temperatures=[Decimal("30.0")])
    assert dip.vcf_group == "linear" and dip.vcf == Decimal("0.98810")
    assert dip.gsv_m3 == Decimal("7855.395")  # 7950 x 0.9881 = 7855.395


def test_a_product_without_correction_is_refused(terminal):
    ready_tank(terminal.t3)
    with pytest.raises(services.MeasureError, match="neither a volume-correction group"):
        _dip(terminal.t3)


def test_tank_physical_is_the_latest_dip_of_the_day(terminal):
    ready_tank(terminal.t1)
    _dip(terminal.t1)
    later = _dip(terminal.t1, taken_at=AT.replace(hour=9), reading_mm=Decimal("7990.0"))
    physical = services.tank_physical(terminal.t1, date(2026, 3, 31))
    assert physical["dip_id"] == later.id and physical["gov_m3"] == Decimal("7940.000")
    assert physical["v20_m3"] == later.gsv_m3 and physical["t"] == (later.mass_air_kg / 1000).quantize(Decimal("0.001"))
    assert services.tank_physical(terminal.t1, date(2026, 4, 1)) is None


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_dip_page_and_pdf_show_every_step(terminal, client, login):
    login("csr")
    ready_tank(terminal.t1)
    db.session.commit()
    response = client.post(f"/operations/measure/tanks/{terminal.t1.id}/dips/new", data={
        "taken_at": "2026-03-31T16:30", "method": "innage", "reading_mm": "8000", "water_mm": "50",
        "temperatures": "25.4 25.0 24.6", "density_mode": "lab20", "density": "840.0", "density_temperature": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for figure in ("8,000.000", "50.000", "7,950.000", "0.99577", "7,916.372", "6,649,752", "6,641,044", "25.0"):
        assert figure in page
    dip = db.session.scalar(db.select(Dip))
    pdf = client.get(f"/operations/measure/tanks/{terminal.t1.id}/dips/{dip.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    for figure in ("8000.000", "7950.000", "0.99577", "7916.372", "6649752", "6641044", "T-101", "CERT-1"):
        assert figure in text
    assert "Gross standard volume" in text and "毛标准体积" in text


def test_staff_look_but_do_not_dip(terminal, client, login):
    ready_tank(terminal.t1)
    dip = _dip(terminal.t1)
    db.session.commit()
    login("staff")
    assert client.get(f"/operations/measure/tanks/{terminal.t1.id}/dips/{dip.id}").status_code == 200
    assert client.get(f"/operations/measure/tanks/{terminal.t1.id}/dips/new").status_code == 403
    assert client.post(f"/operations/measure/tanks/{terminal.t1.id}/dips/new", data={}).status_code == 403
    assert client.post(f"/operations/measure/tanks/{terminal.t1.id}/gauging", data={}).status_code == 403
    assert client.get(f"/operations/measure/tanks/{terminal.t2.id}/dips/{dip.id}").status_code == 404  # other tank


def test_signed_out_visitors_are_sent_to_sign_in(terminal, client):
    assert client.get("/operations/measure/").status_code in (302, 401)


@pytest.mark.parametrize("over,field,message", [
    ({"reading_mm": "13000"}, "reading_mm", "outside the calibration table"),
    ({"method": "ullage", "reading_mm": "13000"}, "reading_mm", "larger than the reference height"),
    ({"water_mm": "9000"}, "water_mm", "between 0 and the innage"),
    ({"temperatures": "25 abc"}, "temperatures", "must be numbers"),
    ({"temperatures": "25 400"}, "temperatures", "between -50"),
    ({"density_mode": "observed", "density_temperature": ""}, "density_temperature", "temperature of the observed density"),
    ({"density": "1400"}, "density", "volume correction cannot be computed"),
    ({"reading_mm": "x"}, "reading_mm", "Not a valid decimal"),
    ({"taken_at": "2099-01-01T10:00"}, "taken_at", "in the future"),
])
def test_bad_dip_input_is_shown_on_its_field(terminal, client, login, over, field, message):
    login("csr")
    ready_tank(terminal.t1)
    db.session.commit()
    data = {"taken_at": "2026-03-31T16:30", "method": "innage", "reading_mm": "8000", "water_mm": "50",
            "temperatures": "25", "density_mode": "lab20", "density": "840.0", "density_temperature": ""}
    data.update(over)
    response = client.post(f"/operations/measure/tanks/{terminal.t1.id}/dips/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert db.session.scalar(db.select(db.func.count(Dip.id))) == 0


def test_gauging_form_saves_and_refuses_a_roof_without_mass(terminal, client, login):
    login("csr")
    url = f"/operations/measure/tanks/{terminal.t1.id}/gauging"
    response = client.post(url, data={"reference_height_mm": "12500", "standard": "astm", "max_step_mm": "100",
                                      "floating_roof": "y", "roof_mass_kg": "", "roof_floats_mm": ""})
    assert response.status_code == 422 and "needs its mass" in response.get_data(as_text=True)
    response = client.post(url, data={"reference_height_mm": "12500", "standard": "astm", "max_step_mm": "100"})
    assert response.status_code == 302
    assert services.gauging_for(terminal.t1).standard == "astm"


def test_staff_do_not_set_coefficients(terminal, client, login):
    login("staff")
    assert client.get("/operations/measure/expansion").status_code == 403
    response = client.post("/operations/measure/expansion", data={"product_id": terminal.methanol.id, "coefficient": "0.001"})
    assert response.status_code == 403 and services.expansion_for(terminal.methanol) is None


def test_the_expansion_coefficient_page(terminal, client, login):
    login("csr")
    response = client.post("/operations/measure/expansion", data={"product_id": terminal.methanol.id, "coefficient": "0.02"})
    assert response.status_code == 200 and services.expansion_for(terminal.methanol) is None
    response = client.post("/operations/measure/expansion", data={"product_id": terminal.methanol.id,
                                                                  "coefficient": "0.00119"})
    assert response.status_code == 302
    assert services.expansion_for(terminal.methanol).coefficient == Decimal("0.00119")
    assert "0.00119" in client.get("/operations/measure/").get_data(as_text=True)
