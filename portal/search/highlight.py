"""Snippets with the query's matches marked, cut from a record's stored text.

The index keeps neither positions nor character offsets: offsets made every posting block a third heavier
to write and to read back, for the sake of the twenty records a page shows. Those records' text is
stored anyway, so their matches are found here, in the same terms the analyzer uses (English words by
their stem, codes whole or by their parts, Chinese runs as written, a single character wherever it
stands), with regular expressions over a few kilobytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from .analysis import _PARTS, _WORD, CJK_CLASS, Unit, normalise_word, number, query_units, word_start

SNIPPET_CHARS = 220  # characters of one fragment
SURROUND = 60  # characters shown before the first match of a fragment
FRAGMENTS = 2
_WORDS = re.compile(_WORD)
_CJK = re.compile(f"[{CJK_CLASS}]+")
_IN_WORD = re.compile(rf"[^\W_{CJK_CLASS}]|['’]")  # what a word (_WORD) can hold
_LETTER = re.compile(rf"[^\W_{CJK_CLASS}]")  # a letter or digit of a word: a word does not start after one


@dataclass
class Marks:
    """What to mark: stems of English words, patterns for codes and Chinese text."""

    stems: set[str] = field(default_factory=set)
    patterns: list[re.Pattern] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.stems or self.patterns)

    @classmethod
    def from_units(cls, units: list[Unit]) -> "Marks":
        marks = cls()
        for u in units:
            if u.kind == "word":
                marks.stems.add(u.terms[0])
            elif u.kind == "code":
                parts = [("0*" + re.escape(number(p))) if p.isdigit() else re.escape(p)
                         for p in _PARTS.findall(u.text)]  # as the analyzer splits codes
                if parts:
                    marks.patterns.append(re.compile(
                        r"(?<![A-Za-z0-9])" + r"[\s\-/]{0,2}".join(parts) + r"(?![A-Za-z0-9])", re.I))
            else:
                # the run as written, or where the record has it only in pieces, its jieba words
                pieces = [u.text] + [w for w in u.words if len(w) > 1 and w != u.text]
                marks.patterns.append(re.compile("|".join(re.escape(p) for p in pieces)))
        return marks

    @classmethod
    def from_query(cls, text: str, phrases=()) -> "Marks":
        units = query_units(text)
        for phrase in phrases:
            units += query_units(phrase)
        return cls.from_units(units)

    @classmethod
    def from_terms(cls, terms) -> "Marks":
        """From index terms (stems, Chinese words and pairs), as more-like-this picks them."""
        marks = cls()
        chinese = []
        for term in terms:
            if _CJK.fullmatch(term):
                chinese.append(term)
            elif term.isalpha():
                marks.stems.add(term)
        if chinese:
            chinese.sort(key=len, reverse=True)
            marks.patterns.append(re.compile("|".join(re.escape(t) for t in chinese)))
        return marks

    def _word_spans(self, text: str) -> list[tuple[int, int]]:
        """The words of the text whose normalised form is one of the stems. Only the places where a word
        starts as one of them could are read (a regular expression finds them), each widened to the
        characters no word can cross: a long document is not normalised word by word."""
        stems = self.stems
        # (the check of the letter before is not a look-behind of the pattern: compiling the class of every
        # CJK range again for each query's pattern cost more than the search)
        hint = re.compile(f"(?:{'|'.join(word_start(s) for s in sorted(stems))})", re.I)
        found: list[tuple[int, int]] = []
        pos, size = 0, len(text)
        while (m := hint.search(text, pos)) is not None:
            start, end = m.start(), m.end()
            if start and _LETTER.match(text, start - 1):  # inside a word: not where a query word starts
                pos = start + 1
                continue
            while start > 0 and _IN_WORD.match(text, start - 1):
                start -= 1
            while end < size and _IN_WORD.match(text, end):
                end += 1
            found += [w.span() for w in _WORDS.finditer(text, start, end) if normalise_word(w.group()) in stems]
            pos = max(end, m.start() + 1)
        return found

    def spans(self, text: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        if self.stems:
            found += self._word_spans(text)
        for pattern in self.patterns:
            found += [m.span() for m in pattern.finditer(text)]
        found.sort()
        merged: list[list[int]] = []
        for a, b in found:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return [(a, b) for a, b in merged]


_MD_LINES = [
    (re.compile(r"^[ \t]*(?:```|~~~).*$", re.M), ""),  # code fences
    (re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.M), ""),  # |---|---|
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M), r"\1"),  # ## headings
    (re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M), ""),  # > quotes
    (re.compile(r"^([ \t]*)[-*+][ \t]+(?:\[[ xX]\][ \t]+)?", re.M), r"\1"),  # bullets, task boxes
]
_MD_INLINE = [
    (re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),  # [text](url), ![alt](src)
    (re.compile(r"\*\*|__|~~|`+"), ""),  # strong, strike, code
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *em*
    (re.compile(r"[ \t]*\|[ \t]*"), " "),  # table cells
]


def strip_markdown(text: str) -> str:
    """Text as it reads on the page: Markdown marks (headings, table rules and pipes, emphasis, link
    targets, quotes, bullets) removed. Indexed bodies are plain text already (portal.markdown.
    to_plain_text); this is the guard for text indexed before, or from files that hold Markdown."""
    if not text:
        return ""
    for pattern, repl in _MD_LINES:
        text = pattern.sub(repl, text)
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    return text


def _fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, list]]:
    """Windows of SNIPPET_CHARS around runs of matches, best (most matches) first."""
    out = []
    i = 0
    while i < len(spans):
        start = max(0, spans[i][0] - SURROUND)
        if start:  # begin at a word boundary where the text has one near
            space = text.find(" ", start, spans[i][0])
            if 0 <= space - start < 20:
                start = space + 1
        end = min(len(text), start + SNIPPET_CHARS)
        inside = []
        while i < len(spans) and spans[i][1] <= end:
            inside.append(spans[i])
            i += 1
        if not inside:  # a match longer than a window
            inside.append((spans[i][0], min(spans[i][1], end)))
            i += 1
        out.append((start, end, inside))
    out.sort(key=lambda f: (-len(f[2]), f[0]))
    return out


def snippet(text: str, marks: Marks, *, plain_fallback: bool = True) -> Markup:
    """Up to two fragments of text with the matches in <mark>, everything else escaped."""
    text = text or ""
    spans = marks.spans(text) if not marks.empty else []
    if not spans:
        if not plain_fallback:
            return Markup("")
        flat = " ".join(text.split())
        if len(flat) > SNIPPET_CHARS:
            flat = flat[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        return Markup(escape(flat))
    chosen = sorted(_fragments(text, spans)[:FRAGMENTS])
    parts = []
    for start, end, inside in chosen:
        out = ["… " if start > 0 else ""]
        index = start
        for a, b in inside:
            out.append(str(escape(text[index:a])))
            out.append("<mark>" + str(escape(text[a:b])) + "</mark>")
            index = b
        out.append(str(escape(text[index:end])))
        if end < len(text):
            out.append(" …")
        parts.append(" ".join("".join(out).split()))
    return Markup(" ".join(parts).replace("… …", "…"))
