"""Chinese and English queries over real regulation texts find the right file first."""
import pytest

from portal import search
from portal.extensions import db

ZH = ["fire-protection-law.md", "hazardous-chemicals-safety-regulations.md", "port-law.md",
      "metrology-law.md", "customs-law.md", "archives-law.md"]
EN = ["29-cfr-1910-119-process-safety-management.md", "33-cfr-154-facilities-transferring-oil-hazmat-bulk-selected.md",
      "40-cfr-112-7-spcc-plan-general-requirements.md"]


@pytest.fixture
def corpus(app, kit, corpus_dir):
    docs = {}
    for name in [f"regulations-zh/{n}" for n in ZH] + [f"regulations-en/{n}" for n in EN]:
        title, body = kit.corpus_text(name, corpus_dir)
        docs[name.split("/")[1]] = kit.Doc(title=title, body=body)
    db.session.add_all(docs.values())
    db.session.commit()
    return docs


@pytest.mark.parametrize("query, expected", [
    ("消防安全责任制", "fire-protection-law.md"),
    ("危险化学品 安全", "hazardous-chemicals-safety-regulations.md"),
    ("港口经营人", "port-law.md"),
    ("计量器具", "metrology-law.md"),
    ("海关 进出境", "customs-law.md"),
    ("档案馆", "archives-law.md"),
    ("process safety information", "29-cfr-1910-119-process-safety-management.md"),
    ('"Spill Prevention, Control, and Countermeasure"', "40-cfr-112-7-spcc-plan-general-requirements.md"),
    ("transfer hose", "33-cfr-154-facilities-transferring-oil-hazmat-bulk-selected.md"),
])
def test_characteristic_phrases_find_the_right_file_first(corpus, make_user, query, expected):
    user = make_user("reader", "staff")
    results = search.search(query, user=user)
    assert results.hits, query
    assert results.hits[0].id == corpus[expected].id, [h.title for h in results.hits]


def test_one_chinese_character_finds_records_containing_it(corpus, make_user):
    user = make_user("reader", "staff")
    results = search.search("罐", user=user)
    bodies = {d.id for name, d in corpus.items() if "罐" in d.body}
    assert bodies and {h.id for h in results.hits} == bodies


def test_a_word_inside_a_longer_word_matches(app, add_doc, make_user):
    user = make_user("reader", "staff")
    doc = add_doc("收费标准", "本码头储罐的仓储费率按月结算。")
    assert [h.id for h in search.search("仓储费", user=user).hits] == [doc.id]
    assert [h.id for h in search.search("费率", user=user).hits] == [doc.id]
    assert search.search("仓储费用", user=user).total == 0


def test_codes_match_however_they_are_typed(app, add_doc, make_user):
    user = make_user("reader", "staff")
    doc = add_doc("储罐区防火间距", "依据GB 50160第6章；船舶 IMO 9321483；订单 ORD-2024-0012。")
    add_doc("Other", "order 2024 number 12 gb")
    for q in ("GB 50160", "gb50160", "GB-50160", "IMO9321483", "ORD-2024-0012"):
        assert [h.id for h in search.search(q, user=user).hits] == [doc.id], q
