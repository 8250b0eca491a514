"""What staff mean: customer names, categories, glossary synonyms, spellings, references, similar
records, labelled extracts, over the demonstration terminal's records."""
import pytest

from portal import search
from portal.extensions import db
from portal.models import User
from portal.search.analysis import analyze, query_units


@pytest.fixture
def admin(demo_app):
    return db.session.scalar(db.select(User).where(User.username == "admin"))


@pytest.fixture
def admin_client(demo_app):
    client = demo_app.test_client()
    response = client.post("/auth/login", data={"username": "admin", "password": "admin-demo-2026"})
    assert response.status_code == 302
    return client


def _keys(results, n=5):
    return [h.key for h in results.hits[:n]]


def _complaints(**where):
    from portal.blueprints.complaints.models import Complaint

    stmt = db.select(Complaint)
    for name, value in where.items():
        stmt = stmt.where(getattr(Complaint, name) == value)
    return list(db.session.scalars(stmt))


def _customer(code):
    from portal.blueprints.customers.models import Customer

    return db.session.scalar(db.select(Customer).where(Customer.code == code))


# ---------------------------------------------------------------- record context
def test_a_customer_name_finds_and_ranks_that_customers_records_first(admin):
    for query, code in (("益海嘉里", "WILMAR"), ("Trafigura", "TRAFIG"), ("托克", "TRAFIG")):
        results = search.search(query, user=admin)
        assert results.total > 1, query
        assert all(h.customer == code for h in results.hits[:5]), (query, [h.key for h in results.hits[:5]])
    narrowed = search.search("customer:SINOCHEM 短量", user=admin, expand=False)
    named = search.search("Sinochem 短量", user=admin, expand=False)
    assert {h.key for h in narrowed.hits} <= {h.key for h in named.hits} and narrowed.total >= 3


def test_a_category_word_finds_that_categorys_complaints_in_either_language(admin):
    quality = {f"complaint:{c.id}" for c in _complaints(category="quality")}
    assert quality
    for query in ("质量", "quality"):
        top = _keys(search.search(query, user=admin, per_page=len(quality)), len(quality))
        assert set(top) == quality, query


def test_an_alias_finds_the_customers_records_and_a_rename_reindexes_them(admin):
    customer = _customer("TRAFIG")
    assert search.search("Puma Oil Trading", user=admin, expand=False).total == 0
    customer.aliases = "Puma Oil Trading"
    db.session.commit()
    results = search.search("Puma Oil Trading", user=admin, expand=False)
    assert results.total > 1 and all(h.customer == "TRAFIG" for h in results.hits)
    assert any(h.kind != "customer" for h in results.hits)
    labels = [str(label) for h in results.hits for label, _text in h.snippets]
    assert "Customer, category, state" in labels  # the extract says why a record matched


# ---------------------------------------------------------------- glossary synonyms
def test_glossary_synonyms_bridge_the_languages_below_exact_matches(admin):
    typed = search.search("柴油短量", user=admin, expand=False)
    english = search.search("diesel shortage", user=admin, expand=False)
    assert typed.total and english.total == 0 or english.total < typed.total
    expanded = search.search("diesel shortage", user=admin)
    assert {h.key for h in typed.hits[:5]} <= {h.key for h in expanded.hits}
    assert "柴油" in expanded.also_searched and "短量" in expanded.also_searched
    assert search.search("ullage", user=admin).also_searched[:2] == ["空高", "空距"]
    assert "变更管理" in search.search("MOC", user=admin).also_searched


def test_records_holding_what_was_typed_rank_before_synonym_matches(admin):
    results = search.search("ullage", user=admin, per_page=50)
    typed = {h.key for h in search.search("ullage", user=admin, expand=False, per_page=50).hits}
    keys = [h.key for h in results.hits]
    assert typed and keys[:len(typed)] == [k for k in keys if k in typed]


def test_a_glossary_change_takes_effect_without_a_rebuild(admin):
    from portal.blueprints.knowledge import glossary

    assert search.search("bitumen", user=admin).total == 0
    before = search.search("沥青", user=admin, expand=False).total
    glossary.add_entry(english="bitumen; asphalt", chinese="沥青")
    db.session.commit()
    after = search.search("diesel", user=admin)
    assert "柴油" in after.also_searched
    found = search.search("bitumen", user=admin)
    assert "沥青" in found.also_searched and found.total == before
    entry = next(e for e in glossary.entries() if e.english.startswith("bitumen"))
    glossary.delete_entry(entry)
    db.session.commit()
    assert search.search("bitumen", user=admin).also_searched == []


def test_expansion_can_be_turned_off_for_one_query_on_the_page(admin_client):
    client = admin_client
    html = client.get("/search/?q=ullage").get_data(as_text=True)
    assert "空高" in html and "exact=1" in html
    html = client.get("/search/?q=ullage&exact=1").get_data(as_text=True)
    assert "Also searched" not in html


def test_glossary_csv_round_trip_and_bad_files_change_nothing(admin):
    from portal.blueprints.knowledge import glossary
    from portal.services import ServiceError

    data = glossary.export_csv()
    count = len(glossary.entries())
    assert count > 20 and "柴油".encode() in data
    with pytest.raises(ServiceError):
        glossary.import_csv(b"term,meaning\nx,y\n")
    db.session.rollback()
    assert len(glossary.entries()) == count
    assert glossary.import_csv("english,chinese\nbitumen,沥青\n".encode()) == 1
    db.session.commit()
    assert search.search("bitumen", user=admin).also_searched == ["沥青"]
    assert glossary.import_csv(data) == count


# ---------------------------------------------------------------- morphology
def test_customs_and_customer_are_different_words():
    assert analyze("customs") != analyze("customer")
    assert analyze("customers") == analyze("customer")


def test_customs_does_not_find_customer_records(admin):
    for query in ("customs", '"customs"'):
        results = search.search(query, user=admin, expand=False, per_page=100)
        assert results.total
        assert all("customs" in (h.title + str(h.snippet)).lower() or "海关" in h.title for h in results.hits
                   if h.kind == "inquiry"), query
    assert search.search("customs", user=admin, expand=False).total != search.search(
        "customer", user=admin, expand=False).total


@pytest.mark.parametrize("british, american", [("vapour", "vapor"), ("litres", "liters"), ("metre", "meter"),
                                                ("harbour", "harbor"), ("programme", "program")])
def test_british_and_american_spellings_are_one_word(british, american):
    assert analyze(british) == analyze(american)


def test_tonne_is_kept_apart_from_ton():
    assert analyze("tonne") != analyze("ton")


def test_vapour_recovery_finds_the_vapor_recovery_regulation(admin):
    british = _keys(search.search("vapour recovery", user=admin, expand=False))
    assert british and british == _keys(search.search("vapor recovery", user=admin, expand=False))


def test_quoted_phrases_match_as_typed(app, add_doc, make_user):
    user = make_user("reader", "staff")
    coils = add_doc("Heating coils", "the heating coils leaked")
    coil = add_doc("Heating coil", "the heating coil leaked")
    assert {h.id for h in search.search("heating coil", user=user).hits} == {coils.id, coil.id}
    assert [h.id for h in search.search('"heating coil"', user=user).hits] == [coil.id]
    assert [h.id for h in search.search('"heating coils"', user=user).hits] == [coils.id]


def test_quoted_phrases_whose_words_change_a_letter_when_stemmed(app, add_doc, make_user):
    """days -> dai, copies -> copi: the phrase is still found, by itself and in quotes."""
    user = make_user("reader", "staff")
    notice = add_doc("Notice period", "Report the variance within 30 days of the dip.")
    copies = add_doc("Copies", "Two copies sent to the broker.")
    add_doc("Other", "Thirty day notice; 30 hours; copy kept.")
    assert [h.id for h in search.search('"30 days"', user=user).hits] == [notice.id]
    assert [h.id for h in search.search('"copies sent"', user=user).hits] == [copies.id]


# ---------------------------------------------------------------- references
@pytest.mark.parametrize("typed", ["CMP-00019", "cmp 19", "CMP19", "cmp-19"])
def test_a_complaint_reference_however_typed_finds_it_first(admin, typed):
    assert _keys(search.search(typed, user=admin))[:1] == ["complaint:19"]


def test_numbers_without_leading_zeros_match_both_ways():
    assert query_units("cmp 19")[0].terms[0] == query_units("CMP-00019")[0].terms[0] == "cmp19"
    assert "cmp19" in analyze("投诉 CMP-00019 已关闭") and "cmp19" in analyze("see CMP 19")
    assert "ar2026-1" in analyze("AR-2026-0001") and query_units("AR-2026-1")[0].terms[0] == "ar2026-1"


def test_tank_codes_however_written():
    assert query_units("T-204")[0].terms[0] == query_units("T204")[0].terms[0] == "t204"
    assert query_units("204号罐")[0].terms[0] == "t204"
    assert "t204" in analyze("204号罐液位异常") and "t204" in analyze("tank T204")


def test_a_tank_written_the_chinese_way_finds_the_tanks_records(admin):
    assert _keys(search.search("204号罐", user=admin), 10) == _keys(search.search("T-204", user=admin), 10)
    assert search.search("204号罐", user=admin).total > 0


def test_an_exact_reference_opens_the_record(admin_client):
    client = admin_client
    response = client.get("/search/?q=cmp+19")
    assert response.status_code == 302 and response.headers["Location"].endswith("/complaints/19")
    assert client.get("/search/?q=cmp+19&stay=1").status_code == 200
    assert client.get("/search/?q=diesel").status_code == 200


# ---------------------------------------------------------------- similar records
def test_similar_records_are_of_the_same_kind_and_share_rare_terms(admin):
    from portal.blueprints.complaints.models import Complaint
    from portal.blueprints.complaints.services import similar_to_text

    complaint = db.session.get(Complaint, 19)
    hits = search.similar(complaint, user=admin)
    assert hits and all(h.kind == "complaint" for h in hits)
    assert "柴油" in hits[0].title or "短量" in hits[0].title
    typed = similar_to_text(complaint.title + " " + complaint.description, admin)
    assert typed and all(h.kind == "complaint" for h in typed)


# ---------------------------------------------------------------- access
def test_access_rules_hold_for_expanded_queries_similar_records_and_suggestions(admin):
    from portal.blueprints.complaints.models import Complaint

    complaint = db.session.get(Complaint, 19)
    outsider = next(u for u in db.session.scalars(db.select(User).order_by(User.id))
                    if not u.is_manager and u.id not in complaint.named_user_ids())
    assert "complaint:19" in {h.key for h in search.search("diesel shortage", user=outsider, per_page=200).hits}
    complaint.restricted = True
    db.session.commit()
    for query in ("diesel shortage", "柴油短量", "cmp 19", "Sinochem 短量"):
        assert "complaint:19" not in {h.key for h in search.search(query, user=outsider, per_page=200).hits}
        assert "complaint:19" in {h.key for h in search.search(query, user=admin, per_page=200).hits}
    other = db.session.get(Complaint, 17)
    assert "complaint:19" not in {h.key for h in search.similar(other, user=outsider, limit=50)}
    assert "complaint:19" not in {h.key for h in search.suggest("CMP-0001", user=outsider, limit=50)}
    assert search.search("cmp 19", user=outsider).jump is None
