"""A restricted record never shows for a user who may not see it, anywhere search answers."""
import pytest

from portal import search
from portal.extensions import db


@pytest.fixture
def people(make_user):
    return {
        "owner": make_user("owner", "csr"),
        "other": make_user("other", "csr"),
        "manager": make_user("boss", "cs_manager"),
    }


@pytest.fixture
def secret(kit, people):
    db.session.add(kit.Doc(title="Ordinary berth note", body="Jetty inspection routine", customer="OPEN"))
    doc = kit.Doc(title="Confidential settlement", body="Jetty inspection settlement 赔偿 agreement",
                  customer="HUSH", restricted=True, owner_id=people["owner"].id)
    db.session.add(doc)
    db.session.commit()
    return doc


def _keys(hits):
    return {h.key for h in hits}


def test_restricted_record_is_hidden_from_others_everywhere(secret, people):
    other = people["other"]
    key = f"testdoc:{secret.id}"
    results = search.search("jetty inspection", user=other)
    assert key not in _keys(results.hits)
    assert results.total == 1  # the count does not include it
    assert [f.value for f in results.facets["customer"]] == ["OPEN"]
    assert sum(f.count for f in results.facets["kind"]) == 1
    assert search.search("赔偿", user=other).total == 0
    assert search.search("customer:HUSH", user=other).total == 0
    assert key not in _keys(search.suggest("Confidential", user=other))
    assert key not in _keys(search.similar_text("jetty inspection settlement agreement", user=other, limit=10))


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_restricted_record_appears_for_those_who_may_see_it(secret, people, who):
    user = people[who]
    key = f"testdoc:{secret.id}"
    results = search.search("jetty inspection", user=user)
    assert key in _keys(results.hits) and results.total == 2
    assert {f.value for f in results.facets["customer"]} == {"OPEN", "HUSH"}
    assert key in _keys(search.search("赔偿", user=user).hits)
    assert key in _keys(search.suggest("Confidential", user=user))
    assert key in _keys(search.similar_text("settlement agreement 赔偿", user=user, limit=10))


def test_hits_are_rechecked_with_can_view(secret, people, kit):
    # the index still says "all" (as if stale), but the record itself now says no
    secret_key = f"testdoc:{secret.id}"
    search.get_store().index_keys([secret_key])
    original = kit.Doc.can_view
    kit.Doc.can_view = lambda self, user: False
    try:
        assert secret_key not in _keys(search.search("settlement", user=people["manager"]).hits)
    finally:
        kit.Doc.can_view = original


def test_similar_records_of_chosen_kinds(kit, people):
    docs = [kit.Doc(title=t, body=b) for t, b in [
        ("Odour complaint tank 5", "strong odour near tank 5 during loading of naphtha"),
        ("Odour complaint tank 7", "odour complaint from neighbours during naphtha loading at tank 7"),
        ("Invoice query", "customer asks about storage fee invoice"),
    ]]
    db.session.add_all(docs)
    db.session.commit()
    hits = search.similar(docs[0], user=people["other"], kinds=["testdoc"], limit=2)
    assert hits and hits[0].id == docs[1].id
    assert docs[0].id not in {h.id for h in hits}
    assert search.similar(docs[0], user=people["other"], kinds=["customer"]) == []
