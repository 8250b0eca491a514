"""`flask operations vcf` and `flask operations dip` for operators and auditors."""
from __future__ import annotations


from portal.extensions import db

from measure_helpers import ready_tank


def test_vcf_prints_the_factor_to_five_decimals(runner):
    # Table 54B: density 842.8 kg/m³ at 15 °C, 22.5 °C -> 0.9937 printed to 4 decimals (see test_measure_vcf)
    result = runner.invoke(args=["operations", "vcf", "--standard", "astm", "--group", "products",
                                 "--density", "842.8", "--temperature", "22.5"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0.99369"
    result = runner.invoke(args=["operations", "vcf", "--standard", "gbt", "--group", "crude",
                                 "--density", "870", "--temperature", "20"])
    assert result.output.strip() == "1.00000"


def test_vcf_refuses_what_the_tables_do_not_cover(runner):
    result = runner.invoke(args=["operations", "vcf", "--standard", "astm", "--group", "lubricants",
                                 "--density", "700", "--temperature", "20"])
    assert result.exit_code == 1 and "outside" in result.output
    result = runner.invoke(args=["operations", "vcf", "--standard", "iso", "--group", "crude",
                                 "--density", "870", "--temperature", "20"])
    assert result.exit_code == 2
    result = runner.invoke(args=["operations", "vcf", "--standard", "astm", "--group", "crude",
                                 "--density", "heavy", "--temperature", "20"])
    assert result.exit_code == 1 and "must be a number" in result.output


def test_dip_prints_every_step(terminal, runner):
    ready_tank(terminal.t1)
    db.session.commit()
    result = runner.invoke(args=["operations", "dip", "--tank", "T-101", "--innage-mm", "8000", "--water-mm", "50",
                                 "--temperature", "25", "--density20", "840"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "CERT-1" in lines[0] and "GBT" in lines[0]
    for label, value in (("Total observed volume", "8000.000 m³"), ("Free water", "50.000 m³"),
                         ("Gross observed volume", "7950.000 m³"), ("Volume correction factor", "0.99577"),
                         ("Gross standard volume", "7916.372 m³"), ("Mass in vacuum", "6649752 kg"),
                         ("Mass in air", "6641044 kg")):
        assert any(label in line and value in line for line in lines), (label, result.output)


def test_dip_explains_what_is_missing(terminal, runner):
    result = runner.invoke(args=["operations", "dip", "--tank", "T-999", "--innage-mm", "8000", "--temperature", "25",
                                 "--density20", "840"])
    assert result.exit_code == 1 and "no tank T-999" in result.output
    result = runner.invoke(args=["operations", "dip", "--tank", "T-101", "--innage-mm", "8000", "--temperature", "25",
                                 "--density20", "840"])
    assert result.exit_code == 1 and "no calibration table" in result.output
    ready_tank(terminal.t1)
    db.session.commit()
    result = runner.invoke(args=["operations", "dip", "--tank", "T-101", "--innage-mm", "99999", "--temperature", "25",
                                 "--density20", "840"])
    assert result.exit_code == 1 and "outside the calibration table" in result.output


def test_the_calculator_page(terminal, client, login):
    login("staff")
    page = client.get("/operations/measure/vcf?standard=astm&group=products&density=842.8&temperature=22.5")
    assert page.status_code == 200 and 'id="vcf-result">0.99369<' in page.get_data(as_text=True)
    page = client.get("/operations/measure/vcf?standard=astm&group=lubricants&density=700&temperature=20")
    assert page.status_code == 200 and "do not cover" in page.get_data(as_text=True)
    page = client.get("/operations/measure/vcf?standard=astm&group=crude&density=abc&temperature=20")
    assert page.status_code == 200 and "vcf-result" not in page.get_data(as_text=True)
    assert client.get("/operations/measure/vcf").status_code == 200
