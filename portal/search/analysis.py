"""Bilingual analysis: jieba on runs of Chinese characters, words elsewhere, codes kept whole.

One tokenizer serves indexing and querying. Chinese runs are segmented by jieba (dictionary only, no
HMM); every pair of neighbouring characters is also indexed at its own position, so a Chinese query
matches as the pairs it is made of (a two-character query is a single term) however jieba split the
record: 仓储费 inside 仓储费率 still matches. Jieba's words of three or more characters are indexed too
and lift records that hold the query as a word. A single character is indexed alone only where no
pair starts with it (the last character of a run), so a one-character query (罐) is "a pair starting
with 罐, or 罐 alone" (a prefix): every other character starts a pair. Indexing every character
as well (singles="all") costs about 45 % more postings; the benchmark measures both.
English words are lower-cased and stemmed. Codes such as "GB 50160", "ORD-2024-0012" or
"IMO 9321483" are indexed whole (normalised) and as their parts.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem as _porter_stem

log = logging.getLogger(__name__)

CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = f"[{CJK_CLASS}]+"
# Codes in documents: an upper-case prefix, optional "/T", then a space or hyphen and digits
# ("GB 50160", "GB/T 12345-2008", "IMO 9321483", "ORD-2024-0012"), or letters glued to digits ("TK101").
_B = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"
_CODE_DOC = (rf"{_B}[A-Z]{{1,6}}(?:/[A-Z]{{1,2}})?[ \-]?\d{{2,}}(?:[\-./]\d+)*[A-Za-z]?{_E}"
             rf"|{_B}[A-Za-z]{{1,6}}-?\d+(?:[\-./]\d+)*[A-Za-z]?{_E}")
# In queries people type codes in lower case too: the query side builds "whole code OR phrase of parts".
_CODE_QUERY = (rf"{_B}[A-Za-z]{{1,6}}(?:/[A-Za-z]{{1,2}})?[ \-]?\d{{2,}}(?:[\-./]\d+)*[A-Za-z]?{_E}"
               rf"|{_B}[A-Za-z]{{1,6}}-?\d+(?:[\-./]\d+)*[A-Za-z]?{_E}")
_WORD = rf"[^\W_{CJK_CLASS}]+(?:['’][A-Za-z]+)?"
# A tank written the Chinese way (204号罐, 204#罐, 204罐): its number is the tank code T-204.
_TANK = r"(?<![A-Za-z0-9\-])\d{2,4}(?=\s*(?:号|#)?\s*储?罐)"
# In a query the tank's words go with it: 204号罐 asks for T-204, however the record writes it.
_TANK_QUERY = r"(?<![A-Za-z0-9\-])\d{2,4}\s*(?:号|#)?\s*储?罐(?![\u3400-\u9fff])"

DOC_PATTERN = re.compile(rf"(?P<tank>{_TANK})|(?P<code>{_CODE_DOC})|(?P<cjk>{_CJK_RUN})|(?P<word>{_WORD})")
QUERY_PATTERN = re.compile(rf"(?P<tank>{_TANK_QUERY})|(?P<tankdoc>{_TANK})|(?P<code>{_CODE_QUERY})|(?P<cjk>{_CJK_RUN})|(?P<word>{_WORD})")
_PARTS = re.compile(r"[A-Za-z]+|\d+")

# ---------------------------------------------------------------- jieba, loaded once per process
_jieba_lock = threading.Lock()
_jieba_cache_dir: str | None = None
_jieba_ready = False


def configure_jieba(cache_dir: str | os.PathLike) -> None:
    """Put jieba's dictionary cache in cache_dir (the app's instance folder), not /tmp."""
    global _jieba_cache_dir
    _jieba_cache_dir = str(cache_dir)


def _dt():
    global _jieba_ready
    import jieba

    if _jieba_ready:
        return jieba.dt
    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)
            cache_dir = _jieba_cache_dir or str(Path(__file__).resolve().parents[2] / "instance")
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            jieba.dt.tmp_dir = cache_dir
            jieba.dt.cache_file = "jieba.cache"
            jieba.dt.initialize()
            _jieba_ready = True
    return jieba.dt


def load_jieba() -> None:
    _dt()


def segment(run: str) -> list[str]:
    """Jieba words of a run of Chinese characters (dictionary only)."""
    dt = _dt()
    return list(dt.cut(run, HMM=False))


# ---------------------------------------------------------------- English
# Words Porter's stemmer would run together with another word of the trade: `customs` (the authority,
# 海关) and `customer` both stem to "custom". These keep a stem of their own.
PROTECTED = {"customs": "customs", "customer": "customer", "customers": "customer"}
# British spellings folded to the American ones before stemming (vapour and vapor are one word);
# `tonne` (metric) stays apart from `ton`.
_BRITISH = [
    (re.compile(r"^(vap|harb|col|lab|behavi|neighb|fav|od|hum|rum|flav|arm|hon|sav|endeav)our(s|ed|ing|ful|less)?$"),
     r"\1or\2"),
    (re.compile(r"^(kilo|milli|centi|deci)?(lit|met)re(s|d)?$"), r"\1\2er\3"),
    (re.compile(r"^(cent|fib|theat|calib|sab|lust|spect|manoeuv)re(s|d)?$"), r"\1er\2"),
    (re.compile(r"^programme(s)?$"), r"program\1"),
    (re.compile(r"^catalogue(s|d)?$"), r"catalog\1"),
    (re.compile(r"^(analy|paraly|cataly)s(e|ed|es|ing)$"), r"\1z\2"),
]


def fold_spelling(word: str) -> str:
    """The American spelling of a lower-case British word (vapour -> vapor, litres -> liters)."""
    if len(word) < 4 or not word.isascii():
        return word
    for pattern, repl in _BRITISH:
        if pattern.match(word):
            return pattern.sub(repl, word)
    return word


@lru_cache(maxsize=50000)
def stem(word: str) -> str:
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    protected = PROTECTED.get(word)
    if protected:
        return protected
    return _porter_stem(fold_spelling(word))


def number(digits: str) -> str:
    """A run of digits without its leading zeros (00019 -> 19): numbers match however they are padded."""
    return digits.lstrip("0") or "0"


@lru_cache(maxsize=100_000)
def normalise_word(word: str) -> str:
    """A word as the index holds it (lower case, no possessive, numbers unpadded, stemmed). Cached: snippets
    normalise every word of a hit's text to find the matches, and the same words recur."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if word.isdigit():
        return number(word)
    return stem(word)


_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")


def normalise_code(code: str) -> str:
    """'GB 50160' -> 'gb50160'; 'ORD-2024-0012' -> 'ord2024-12'; 'GB/T 12345-2008' -> 'gb/t12345-2008';
    'CMP-00019', 'cmp 19' and 'CMP19' -> 'cmp19' (numbers without their leading zeros)."""
    code = code.lower()
    code = re.sub(r"^([a-z/]+)[ \-]+(?=\d)", r"\1", code)
    return _LEADING_ZEROS.sub("", re.sub(r"\s+", "", code))


def code_parts(code: str) -> list[str]:
    return [normalise_word(p) for p in _PARTS.findall(code)]


def tank_code(text: str) -> str:
    """The tank code of a tank written the Chinese way (204号罐 -> T-204)."""
    return "T-" + re.match(r"\d+", text).group()


# ---------------------------------------------------------------- the tokenizer
class BilingualTokenizer(Tokenizer):
    """Whoosh tokenizer (and complete analyzer) for mixed Chinese/English text.

    singles="edge" (the default) indexes a character alone only where no pair starts with it;
    singles="all" indexes every character beside the pairs (only for measuring what that costs).
    """

    def __init__(self, singles: str = "edge"):
        self.singles = singles

    def __eq__(self, other):
        return other.__class__ is self.__class__ and getattr(other, "singles", "edge") == self.singles

    def __hash__(self):
        return hash((self.__class__.__name__, self.singles))

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos = start_pos
        every_char = getattr(self, "singles", "edge") == "all"
        for m in DOC_PATTERN.finditer(value):
            kind = m.lastgroup
            text = m.group()
            start = m.start()
            if kind == "tank":
                kind, text = "code", tank_code(text)
            if kind == "word":
                t.text = normalise_word(text)
                t.boost = 1.0
                t.stopped = False
                if keeporiginal:
                    t.original = text
                if positions:
                    t.pos = pos
                if chars:
                    t.startchar, t.endchar = start_char + start, start_char + m.end()
                yield t
                pos += 1
            elif kind == "cjk":
                # in position order, at each character: the jieba word of three or more characters
                # starting here, the character alone (last of the run, or every_char), the pair starting
                # here (a two-character jieba word is that pair; a one-character word, its character)
                starts: dict[int, str] = {}
                offset = 0
                for word in segment(text):
                    starts[offset] = word
                    offset += len(word)
                base = start_char + start
                last = len(text) - 1
                for i, ch in enumerate(text):
                    word = starts.get(i)
                    for term, length in ((word if word and len(word) > 2 else None, len(word) if word else 0),
                                         (ch if i == last or every_char else None, 1),
                                         (text[i:i + 2] if i < last else None, 2)):
                        if not term:
                            continue
                        t.text = term
                        t.boost = 1.0
                        t.stopped = False
                        if positions:
                            t.pos = pos + i
                        if chars:
                            t.startchar = base + i
                            t.endchar = base + i + length
                        yield t
                pos += len(text)
            else:  # code: the whole code, then its parts at consecutive positions
                t.text = normalise_code(text)
                t.boost = 1.0
                t.stopped = False
                if positions:
                    t.pos = pos
                if chars:
                    t.startchar, t.endchar = start_char + start, start_char + m.end()
                yield t
                for pm in _PARTS.finditer(text):
                    t.text = normalise_word(pm.group())
                    if positions:
                        t.pos = pos
                    if chars:
                        t.startchar, t.endchar = start_char + start + pm.start(), start_char + start + pm.end()
                    yield t
                    pos += 1


    def terms(self, value: str) -> list[str]:
        """The terms __call__ yields for value, in no particular order: what indexing counts, without
        a token object per term."""
        out: list[str] = []
        every_char = getattr(self, "singles", "edge") == "all"
        for m in DOC_PATTERN.finditer(value):
            kind = m.lastgroup
            text = m.group()
            if kind == "tank":
                kind, text = "code", tank_code(text)
            if kind == "word":
                out.append(normalise_word(text))
            elif kind == "cjk":
                out += [word for word in segment(text) if len(word) > 2]
                out += map(str.__add__, text, text[1:])  # every pair
                if every_char:
                    out += text
                else:
                    out.append(text[-1])
            else:
                out.append(normalise_code(text))
                out += [normalise_word(part) for part in _PARTS.findall(text)]
        return out


ANALYZER = BilingualTokenizer()


# ---------------------------------------------------------------- query-side units
@dataclass(frozen=True)
class Unit:
    """One thing a query asks for: a word, a code (whole or its parts as a phrase) or a Chinese run."""

    kind: str  # "word" | "code" | "cjk"
    terms: tuple[str, ...]  # word: (stem,); code: (whole, part1, part2...); cjk: characters
    words: tuple[str, ...] = ()  # cjk: jieba words of the run (used for scoring)
    text: str = ""


def query_units(text: str) -> list[Unit]:
    units: list[Unit] = []
    for m in QUERY_PATTERN.finditer(text):
        kind = m.lastgroup
        raw = m.group()
        if kind in ("tank", "tankdoc"):
            kind, raw = "code", tank_code(raw)
        if kind == "word":
            units.append(Unit("word", (normalise_word(raw),), text=raw))
        elif kind == "cjk":
            words = tuple(w for w in segment(raw))
            units.append(Unit("cjk", tuple(raw), words, text=raw))
        else:
            units.append(Unit("code", (normalise_code(raw), *code_parts(raw)), text=raw))
    return units


_SEQUENCE = re.compile(rf"[{CJK_CLASS}]|[^\W\d_{CJK_CLASS}]+|\d+")


def sequence(text: str, exact: bool = False) -> str:
    """The text as one string of normalised tokens between NUL separators: each Chinese character,
    each run of letters (lower-cased, stemmed), each run of digits (without leading zeros). A phrase
    occurs in a text when its sequence is a substring of the text's (the index keeps no positions;
    phrases are checked here). exact: words only lower-cased, not stemmed or respelled (a quoted
    phrase is matched as typed: "customs" is not "customer", "heating coils" not "heating coil")."""
    out = []
    for token in _SEQUENCE.findall(text or ""):
        if len(token) == 1 and "\u3400" <= token <= "\ufaff":
            out.append(token)
        elif exact:
            out.append(number(token) if token.isdigit() else token.lower())
        else:
            out.append(normalise_word(token))
    return "\0" + "\0".join(out) + "\0"


def word_start(stem: str) -> str:
    """A regular expression of how a word normalised to ``stem`` starts: a number padded with zeros, or the
    stem but its last two letters (stemming and respelling change no more: days -> dai, vapour -> vapor,
    relational -> relat)."""
    if stem.isdigit():
        return "0*" + re.escape(stem)
    return re.escape(stem[:max(1, len(stem) - 2)])


def phrase_hint(text: str) -> re.Pattern:
    """A quick test a text must pass to hold the phrase (checked exactly by sequence() afterwards):
    its tokens in order, English words by the first letters of their stem, anything but letters and
    digits between them."""
    letters = f"[^\\W\\d_{CJK_CLASS}]*"
    parts = []
    for token in _SEQUENCE.findall(text or ""):
        if token[0].isdigit():
            parts.append("0*" + re.escape(number(token)))
        elif re.match(f"[{CJK_CLASS}]", token):
            parts.append(re.escape(token))
        else:
            parts.append(word_start(normalise_word(token)) + letters)
    return re.compile(r"[\W_]*".join(parts), re.IGNORECASE)


def _same_token(a: str, b: str) -> bool:
    """Whether neighbouring characters belong to one token of sequence(): a run of letters or of digits."""
    if a.isdigit() or b.isdigit():
        return a.isdigit() and b.isdigit()
    return _LETTER.match(a) is not None and _LETTER.match(b) is not None


_LETTER = re.compile(rf"[^\W\d_{CJK_CLASS}]")


def holds_phrase(text: str, wanted: str, hint: re.Pattern, *, exact: bool = False) -> bool:
    """Whether the text holds the phrase whose sequence() is ``wanted`` and whose phrase_hint() is ``hint``.

    Only the places the hint finds are turned into tokens, each widened to whole tokens: the hint, tried
    at the start of an occurrence, matches exactly that occurrence (its parts are greedy), so looking at
    every place it matches, overlapping ones included, finds what sequence() of the whole text would."""
    if not wanted.strip("\0"):  # a phrase of no words is in no text
        return False
    pos = 0
    while (found := hint.search(text, pos)) is not None:
        start, end = found.span()
        while start > 0 and _same_token(text[start - 1], text[start]):
            start -= 1
        while 0 < end < len(text) and _same_token(text[end - 1], text[end]):
            end += 1
        if wanted in sequence(text[start:end], exact=exact):
            return True
        pos = found.start() + 1
    return False


def analyze(text: str) -> list[str]:
    """The index terms of a text (for tests and key-term extraction)."""
    return [t.text for t in ANALYZER(text)]
