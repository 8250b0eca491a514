"""The /search page, its live fragment, facets, highlights, suggestions and the scoped box."""
from datetime import date

from flask import render_template_string


def test_page_without_query_explains_the_syntax(client, login):
    login("csr")
    response = client.get("/search/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="q"' in html and "kind:complaint" in html


def test_results_with_facets_and_escaped_highlights(client, login, add_doc):
    login("csr")
    add_doc("Heating coil leak", "The <script>alert(1)</script> heating coil of tank T-101 leaked.",
            customer="SINO", day=date(2024, 5, 2))
    add_doc("Heating schedule", "Heating of tank T-205 for the winter.", customer="PETRO", day=date(2023, 1, 9))
    html = client.get("/search/?q=heating+coil").get_data(as_text=True)
    assert "Heating coil leak" in html and "Heating schedule" not in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<mark>heating</mark>" in html and "<mark>coil</mark>" in html
    html = client.get("/search/?q=heating").get_data(as_text=True)
    assert 'class="facet facet-customer"' in html and "SINO" in html and "PETRO" in html
    assert "2024" in html and "2023" in html
    # a facet narrows the results
    html = client.get("/search/?q=heating&customer=PETRO").get_data(as_text=True)
    assert "Heating schedule" in html and "Heating coil leak" not in html
    html = client.get("/search/?q=heating&year=2024").get_data(as_text=True)
    assert "Heating coil leak" in html and "Heating schedule" not in html


def test_htmx_request_gets_only_the_results_fragment(client, login, add_doc):
    login("csr")
    add_doc("Heating coil leak", "heating coil")
    response = client.get("/search/?q=coil", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Heating coil leak" in html


def test_sort_by_date_and_pagination(client, login, kit):
    from portal.extensions import db

    login("csr")
    db.session.add_all([kit.Doc(title=f"Pump report {i}", body="pump", day=date(2024, 1, 1 + i)) for i in range(25)])
    db.session.commit()
    html = client.get("/search/?q=pump&sort=date").get_data(as_text=True)
    assert html.index("Pump report 24") < html.index("Pump report 23")
    assert "Pump report 0<" not in html  # on page 2
    html = client.get("/search/?q=pump&sort=date&page=2").get_data(as_text=True)
    assert "Pump report 0<" in html and "Pump report 24<" not in html


def test_did_you_mean_and_helpful_empty_state(client, login, add_doc):
    login("csr")
    add_doc("Demurrage claim", "demurrage for the vessel")
    html = client.get("/search/?q=demurage").get_data(as_text=True)
    assert "Nothing found" in html
    assert "demurrage" in html and "Did you mean" in html


def test_exclusion_phrase_and_kind_syntax(client, login, add_doc):
    login("csr")
    add_doc("Valve report", "valve inspection draft")
    add_doc("Valve final", "valve inspection final")
    html = client.get("/search/?q=valve+-draft").get_data(as_text=True)
    assert "Valve final" in html and "Valve report" not in html
    html = client.get('/search/?q="inspection final"').get_data(as_text=True)
    assert "Valve final" in html and "Valve report" not in html
    html = client.get("/search/?q=valve+kind:customer").get_data(as_text=True)
    assert "Valve final" not in html


def test_suggestions_for_the_top_bar(client, login, add_doc):
    login("csr")
    add_doc("Nitrogen blanketing procedure", "tank nitrogen")
    html = client.get("/search/suggest?q=nitro", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Nitrogen blanketing procedure" in html and "/testdoc/" in html
    assert client.get("/search/suggest?q=").status_code == 200


def test_scoped_box_searches_one_kind(app, client, login, add_doc):
    login("csr")
    with app.test_request_context():
        html = render_template_string('{% include "search/_scoped_box.html" %}', scope_kinds=["testdoc"],
                                      scope_label="documents")
    assert 'name="kind" value="testdoc"' in html and 'action="/search/"' in html
    add_doc("Berth schedule", "berth")
    assert "Berth schedule" in client.get("/search/?q=berth&kind=testdoc").get_data(as_text=True)


def test_search_needs_sign_in(client):
    assert client.get("/search/?q=x").status_code == 302


def test_a_query_of_punctuation_finds_nothing(client, login, add_doc):
    login("csr")
    add_doc("Valve report", "valve")
    html = client.get("/search/?q=%3F%3F%3F").get_data(as_text=True)
    assert "Valve report" not in html and "Nothing found" in html


NOT_FOUND = ["page=99999999999999999999", "page=9223372036854775808", "page=-1", "page=0", "page=abc", "page=1e3",
             "year=99999", "year=-1", "year=0", "year=abc"]
ANSWERED = ["q=tank&date=1", "q=date:9999-12-31", "q=before:0001-01-01", "q=after:9999-12-31", "q=date:0000",
            "q=date:2024-13..99999", "q=tank&customer=" + "X" * 500, "q=tank&kind=nope&sort=nope",
            "q=" + "罐" * 1000, "q=tank&page=3", "year=2024", "q=tank&year=2024&page=2"]


def test_query_string_values_never_answer_a_server_error(client, login, add_doc):
    login("csr")
    add_doc("Tank heating", "Heating coil of tank T-12.", customer="SINO", day=date(2024, 5, 2))
    for query in NOT_FOUND:
        assert client.get(f"/search/?q=tank&{query}").status_code == 404, query
    for query in ANSWERED:
        assert client.get(f"/search/?{query}").status_code == 200, query
    assert client.get("/search/suggest?q=" + "tank " * 200).status_code == 200
