"""Snippets cut from stored text, with the query's matches marked."""
from portal.search.highlight import SNIPPET_CHARS, Marks, snippet


def _marked(text, query):
    return str(snippet(text, Marks.from_query(query)))


def test_english_words_are_marked_by_their_stem():
    html = _marked("Two tanks were heated; the heating coil leaked.", "tank heating")
    assert "<mark>tanks</mark>" in html and "<mark>heated</mark>" in html and "<mark>heating</mark>" in html
    assert "<mark>coil</mark>" not in html


def test_codes_are_marked_however_they_are_written():
    html = _marked("Per GB 50160 and gb50160-2008, vessel IMO 9321483.", "GB50160 imo 9321483")
    assert "<mark>GB 50160</mark>" in html and "<mark>IMO 9321483</mark>" in html


def test_chinese_runs_and_single_characters_are_marked_as_written():
    assert "<mark>仓储费</mark>率" in _marked("本码头储罐的仓储费率按月结算。", "仓储费")
    html = _marked("储罐区的罐", "罐")
    assert html.count("<mark>罐</mark>") == 2


def test_html_in_the_record_is_escaped():
    html = _marked("<script>alert(1)</script> tank", "tank")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<mark>tank</mark>" in html


def test_long_text_gives_at_most_two_fragments_around_the_matches():
    text = ("filler words here " * 40) + "first tank match " + ("more filler text " * 40) + "second tank match"
    html = _marked(text, "tank")
    assert html.count("<mark>tank</mark>") == 2 and html.startswith("…")
    assert len(html) < 2 * SNIPPET_CHARS + 80


def test_no_match_gives_the_beginning_of_the_text():
    html = _marked("Nothing to see " * 30, "tank")
    assert "<mark>" not in html and html.startswith("Nothing to see") and html.endswith("…")


def test_words_are_marked_as_if_every_word_were_normalised(corpus_dir):
    """Only the places where a matching word can start are read, widened to whole words: the same marks as
    normalising every word of the text, over the public regulations and over made-up text with the hard
    cases (respellings, stems that change letters, possessives and apostrophes, padded numbers)."""
    import random
    import re

    from portal.search.analysis import normalise_word
    from portal.search.highlight import _WORDS

    def every_word(text, stems):
        return [m.span() for m in _WORDS.finditer(text) if normalise_word(m.group()) in stems]

    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus_dir.rglob("*.md"))[:12]]
    vocabulary = ["days", "day", "daily", "vapour", "vapor", "vapours", "relational", "relate", "customer's",
                  "customers", "customs", "don't", "o'clock", "0012", "12", "112", "12abc", "T204", "tanks",
                  "tank's", "Tank", "TANKER", "cries", "crying", "analysed", "analyzing", "litres", "kilolitre",
                  "储罐", "罐12", "_tank", "tank_", "’s", "'", "—", "abc'def", "x", "ties"]
    rng = random.Random(21)
    texts += [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 40))).replace(" '", "'")
              for _ in range(400)]
    queries = ["days", "vapour recovery", "relation customer", "customs tank", "12 tanks", "don't", "litre",
               "crying analyse", "discharge hose", "oil", "ti", "x", "shall facility operator", "abc'def"]
    marked = 0
    for text in texts:
        for query in queries:
            stems = Marks.from_query(query).stems
            expected = every_word(text, stems)
            assert Marks(stems=stems)._word_spans(text) == expected, (query, text[:200])
            marked += len(expected)
    assert marked > 1000
    assert re.search("oil", texts[1], re.I)  # the corpus was read
