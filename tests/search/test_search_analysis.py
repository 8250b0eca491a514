"""The bilingual analyzer and the query syntax."""
from datetime import datetime

from portal.search.analysis import analyze, query_units
from portal.search.query import parse


def test_chinese_pairs_words_and_run_ends_are_indexed():
    terms = analyze("储罐仓储费率")
    assert {"储罐", "罐仓", "仓储", "储费", "费率"} <= set(terms)  # every pair of neighbours
    assert "率" in terms  # the last character alone: no pair starts with it
    assert not {"储", "罐", "仓", "费"} & set(terms)  # elsewhere a pair starting with it stands for it
    assert {"准备就绪", "通知书"} <= set(analyze("船舶准备就绪通知书"))  # jieba words of three or more characters


def test_every_character_is_findable_as_a_pair_prefix_or_alone():
    text = "储罐区泄漏，罐"
    terms = analyze(text)
    for ch in set(text) - {"，"}:
        assert any(t.startswith(ch) for t in terms), ch


def test_english_is_lowercased_and_stemmed():
    assert analyze("Tanks CLEANED") == ["tank", "clean"]


def test_codes_are_kept_whole_and_as_parts():
    terms = analyze("按照GB 50160执行, order ORD-2024-0012, vessel IMO 9321483")
    assert "gb50160" in terms and "50160" in terms
    assert "ord2024-12" in terms  # numbers without their leading zeros
    assert "imo9321483" in terms


def test_query_units_match_the_index_side():
    units = query_units("仓储费 gb 50160 Tanks")
    assert [u.kind for u in units] == ["cjk", "code", "word"]
    assert units[0].terms == ("仓", "储", "费")
    assert units[1].terms[0] == "gb50160"
    assert units[2].terms == ("tank",)


def test_query_syntax():
    p = parse('kind:complaint customer:sino "heating coil" -draft date:2024-01..2024-06 仓储费')
    assert p.kinds == ["complaint"]
    assert p.customers == ["SINO"]
    assert p.phrases == ["heating coil"]
    assert p.exclude == ["draft"]
    assert p.text == "仓储费"
    assert p.start == datetime(2024, 1, 1) and p.end == datetime(2024, 7, 1)


def test_single_dates_and_open_ranges():
    p = parse("after:2024-03-01 before:2024-04-01")
    assert p.start == datetime(2024, 3, 2) and p.end == datetime(2024, 4, 1)
    p = parse("date:2023")
    assert p.start == datetime(2023, 1, 1) and p.end == datetime(2024, 1, 1)
    p = parse("date:nonsense words")
    assert p.start is None and p.end is None and p.text == "words"


def test_phrase_sequences_and_their_quick_test():
    from portal.search.analysis import phrase_hint, sequence

    cases = [("heating coils", "The Heating coils leaked", True), ("happy customers", "a happy customer", True),
             ("GB 50160", "per GB50160-2008", True), ("储罐 tank", "储罐 tank", True),
             ("tank 储罐", "tank储罐区", True), ("coil heating", "heating coil", False),
             ("储罐区", "储罐 区", True), ("heating coil", "heating the coil", False)]
    for phrase, text, holds in cases:
        assert (sequence(phrase) in sequence(text)) is holds, (phrase, text)
        if holds:
            assert phrase_hint(phrase).search(text), (phrase, text)


def test_indexing_counts_the_same_terms_as_the_tokens():
    """Indexing counts `terms()` (no token objects); it must be exactly what the tokenizer yields."""
    from collections import Counter

    from portal.search.analysis import ANALYZER, BilingualTokenizer
    from portal.search.store import make_schema

    texts = ["储罐 TK-101 加热盘管泄漏，仓储费率按 GB 50160 执行。", "罐", "The ship's heating coils leaked at "
             "berth 3 (IMO 9321483, ORD-2024-0012); 客户's survey", "", "   ", "ábc 东西 naïve café's", "A1 B-2 c3"]
    for tokenizer in (ANALYZER, BilingualTokenizer(singles="all")):
        for text in texts:
            assert Counter(tokenizer.terms(text)) == Counter(t.text for t in tokenizer(text)), text
    field = make_schema()["title"]
    counted = {term: (freq, weight) for term, freq, weight, _v in field.format.word_values(texts[0], ANALYZER)}
    assert counted["储罐"] == (1, 3.0) and counted["gb50160"] == (1, 3.0)  # the title's boost
    assert sum(freq for freq, _w in counted.values()) == len(analyze(texts[0]))


def _whole_text_holds(text, phrase, exact):
    """The definition: the phrase's tokens in a row among the whole text's (a phrase of no words: nowhere)."""
    from portal.search.analysis import phrase_hint, sequence

    return sequence(phrase) != "\0\0" and bool(phrase_hint(phrase).search(text)) and sequence(phrase, exact=exact) in sequence(text, exact=exact)


def test_a_phrase_is_found_around_its_hints_as_in_the_whole_text():
    """Phrases are checked only where their hint matches, widened to whole tokens: the same answer as the
    whole text's tokens, for words inside longer words, padded numbers, overlapping and repeated
    candidates, possessives, British spellings and Chinese."""
    import random

    from portal.search.analysis import holds_phrase, phrase_hint, sequence

    cases = [
        ("supermanagement of change", "management of change", False),
        ("the management of changes was held", "management of change", False),
        ("tank 0012 and tank 112", "tank 12", False),
        ("tank 112", "tank 12", False),
        ("tanktank tank", "tank tank", False),
        ("tank tank tank", "tank tank", False),
        ("the vapour recovery unit", "vapor recovery", False),
        ("the customer's customs clearance", "customs clearance", True),
        ("the customer's customs clearance", "customer customs", False),
        ("召开变更管理会议", "变更管理", False),
        ("变更变更管理", "变更管理", False),
        ("Heating coils checked", "heating coil", True),
        ("Heating coils checked", "heating coil", False),
    ]
    words = ["tank", "tanks", "tanktank", "12", "0012", "112", "management", "supermanagement", "of", "change",
             "changes", "vapour", "vapor", "customer's", "customs", "变", "更", "管理", "变更", "-", ",", "_"]
    rng = random.Random(19)
    for _ in range(3000):
        chosen = [rng.choice(words) for _ in range(rng.randint(2, 12))]
        text = " ".join(chosen)
        text = text.replace(" - ", "-") if rng.random() < 0.3 else text
        if rng.random() < 0.5:  # words of the text, in a row, written another way
            at = rng.randrange(len(chosen) - 1)
            phrase = " ".join(rng.choice([w, w.upper(), w + "s"]) for w in chosen[at:at + rng.randint(2, 3)])
        else:
            phrase = " ".join(rng.choice(words[:16]) for _ in range(rng.randint(2, 3)))
        cases.append((text, phrase, rng.random() < 0.3))
    found = 0
    for text, phrase, exact in cases:
        expected = _whole_text_holds(text, phrase, exact)
        wanted = sequence(phrase, exact=exact)
        assert holds_phrase(text, wanted, phrase_hint(phrase), exact=exact) == expected, (text, phrase, exact)
        found += expected
    assert 500 < found < len(cases) - 500  # both answers well represented
