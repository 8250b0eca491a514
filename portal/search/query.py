"""Querying: the query syntax, acl filtering, counts and facets, ranking, snippets, suggestions,
more-like-this."""
from __future__ import annotations

import heapq
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from whoosh import query as Q
from whoosh.analysis import STOP_WORDS

from . import synonyms
from .analysis import ANALYZER, Unit, query_units
from .context import CONTEXT
from .docsets import PhraseText, as_filter, docsets, runnable
from .highlight import Marks, snippet, strip_markdown
from .registry import KINDS
from .store import META_KEY

log = logging.getLogger("portal.search")

MATCH = "content"  # the field every query must match (title + body + refs), or else CONTEXT
MATCHED_FIELDS = (MATCH, CONTEXT)  # a record matches a word in its text or in its context
BOOST_FIELDS = ("title", "refs")  # matches here lift a record


# ---------------------------------------------------------------- results
@dataclass
class Hit:
    key: str
    kind: str
    id: Any
    title: str
    url: str
    snippet: Markup
    customer: str
    date: datetime | None
    score: float
    kind_label: Any = field(default="", repr=False)
    record: Any = field(default=None, repr=False, compare=False)
    snippets: list = field(default_factory=list, repr=False, compare=False)  # (label, extract) per matched field


@dataclass
class Facet:
    value: str
    label: Any
    count: int


@dataclass
class Results:
    query: str
    hits: list[Hit]
    total: int
    facets: dict[str, list[Facet]]
    suggestion: str | None
    page: int
    per_page: int
    sort: str = "relevance"
    parsed: "ParsedQuery | None" = None
    also_searched: list[str] = field(default_factory=list)  # glossary synonyms searched as well
    expanded: bool = True  # whether synonyms were asked for
    jump: str | None = None  # the one record an exact reference names: its page

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, *, left_edge=2, left_current=2, right_current=4, right_edge=2):
        """Page numbers with None for gaps (as Flask-SQLAlchemy's pagination)."""
        pages = self.pages
        last = 0
        for n in range(1, pages + 1):
            if (n <= left_edge or self.page - left_current - 1 < n < self.page + right_current
                    or n > pages - right_edge):
                if last + 1 != n:
                    yield None
                yield n
                last = n

    def __iter__(self):
        return iter(self.hits)

    def __len__(self):
        return len(self.hits)


# ---------------------------------------------------------------- query syntax
_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<field>kind|type|customer|date|year|after|before|from|to):(?P<fval>"[^"]*"|\S+)'
    r'|"(?P<phrase>[^"]*)"?|(?P<word>\S+))'
)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass
class ParsedQuery:
    text: str = ""  # free text (positive)
    phrases: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)  # words and phrases to exclude
    kinds: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None  # exclusive

    @property
    def empty(self) -> bool:
        return not (self.text.strip() or self.phrases)


def _date_span(value: str) -> tuple[datetime, datetime] | None:
    m = _DATE.match(value.strip())
    if not m:
        return None
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            start = datetime(y, int(mo), int(d))
            return start, start + timedelta(days=1)
        if mo:
            start = datetime(y, int(mo), 1)
            end = datetime(y + (int(mo) == 12), int(mo) % 12 + 1, 1)
            return start, end
        return datetime(y, 1, 1), datetime(y + 1, 1, 1)
    except (ValueError, OverflowError):  # year 0 or past 9999: no such date
        return None


def parse(q: str) -> ParsedQuery:
    """kind:complaint customer:CODE date:2024-01..2024-06 after:/before: "a phrase" -word free text."""
    p = ParsedQuery()
    free: list[str] = []
    for m in _TOKEN.finditer(q or ""):
        neg = bool(m.group("neg"))
        if m.group("field"):
            name, value = m.group("field"), m.group("fval").strip('"')
            if name in ("kind", "type"):
                p.kinds += [v.lower() for v in value.split(",") if v]
            elif name == "customer":
                p.customers += [v.upper() for v in value.split(",") if v]
            elif name in ("date", "year"):
                lo, sep, hi = value.partition("..")
                a, b = _date_span(lo) if lo else None, _date_span(hi) if hi else None
                if a or b:
                    p.start = a[0] if a else None
                    p.end = b[1] if b else (a[1] if a and not sep else None)
            elif name in ("after", "from"):
                span = _date_span(value)
                if span:
                    p.start = span[0] if name == "from" else span[1]
            elif name in ("before", "to"):
                span = _date_span(value)
                if span:
                    p.end = span[0] if name == "before" else span[1]
        elif m.group("phrase") is not None:
            (p.exclude if neg else p.phrases).append(m.group("phrase"))
        else:
            word = m.group("word")
            if neg and len(word) > 0:
                p.exclude.append(word)
            elif neg:
                free.append("-")
            else:
                free.append(word)
    p.text = " ".join(free)
    return p


# ---------------------------------------------------------------- building whoosh queries
def _cjk_run(chars, field: str = MATCH):
    """A run of Chinese characters: all its overlapping pairs (one pair: a term).

    One character alone is indexed only at the end of a run; elsewhere a pair starts with it, so a
    one-character query is a prefix query (the character, or any pair or word starting with it).
    The pairs are required as terms, not as a phrase: checking their positions in every candidate
    record made common Chinese queries ten times slower, and records holding all the pairs of a run
    of three or more characters but not the run itself are rare (quoted phrases still check).
    """
    if len(chars) == 1:
        return Q.Prefix(field, chars[0])
    pairs = list(dict.fromkeys("".join(chars[i:i + 2]) for i in range(len(chars) - 1)))
    return Q.Term(field, pairs[0]) if len(pairs) == 1 else Q.And([Q.Term(field, t) for t in pairs])


# Words of a typed question that no record needs to contain.
QUESTION_WORDS = frozenset("什么 怎么 怎样 如何 哪些 哪个 是否 为什么 多少 有没有 可以 需要 应该 规定 关于".split())
MIN_QUESTION_CHARS = 6  # shorter runs are taken as they are: 仓储费用 is not 仓储 or 费用


def _question_words(u: Unit) -> list[str]:
    if len(u.terms) < MIN_QUESTION_CHARS:
        return []
    return [w for w in u.words if len(w) > 1 and w not in QUESTION_WORDS]


def _unit_required(u: Unit, field: str = MATCH, looseness: int = 0, boost: float = 1.0):
    """What a record must contain for this unit: in its text or its context (field MATCH), or in the
    one field given."""
    if field == MATCH:
        return Q.Or([_unit_in(u, f, looseness) for f in MATCHED_FIELDS], boost=boost)
    return _unit_in(u, field, looseness)


def _unit_in(u: Unit, field: str = MATCH, looseness: int = 0):
    """What a field must contain for this unit.

    A Chinese run is first required whole. A typed question rarely stands word for word in a record,
    so looser passes (used only when the strict one finds nothing) require all of its jieba words
    (looseness 1) or any of them (looseness 2), words of one character left out.
    """
    if u.kind == "cjk" and looseness:
        words = _question_words(u)
        if len(words) > 1:
            parts = [_cjk_run(tuple(w), field) for w in words]
            return Q.And(parts) if looseness == 1 else Q.Or(parts)
    if u.kind == "word":
        return Q.Term(field, u.terms[0])
    if u.kind == "code":
        whole, *pieces = u.terms
        if len(pieces) > 1:
            return Q.Or([Q.Term(field, whole),
                         PhraseText(field, u.text, Q.And([Q.Term(field, piece) for piece in pieces]))])
        return Q.Term(field, whole)
    # Chinese: the run as a phrase of overlapping character pairs (matches however jieba split the
    # record); one pair is a single term, one character too
    return _cjk_run(u.terms, field)


def _unit_extras(u: Unit) -> list:
    """Optional terms that lift a record: the unit in the title or refs, jieba words of a Chinese run."""
    if u.kind == "word":
        return [Q.Term(f, u.terms[0]) for f in BOOST_FIELDS] + [Q.Term("tags", u.text.lower())]
    if u.kind == "code":
        return [Q.Term(f, u.terms[0]) for f in BOOST_FIELDS]
    words = [w for w in u.words if len(w) > 1] or list(u.terms[:1])
    return [Q.Term(f, w) for w in words for f in ("title", MATCH)]


def _unit_query(u: Unit, fields=None):
    """A unit on given fields only (suggestions: the title)."""
    if fields is None:
        extras = _unit_extras(u)
        return Q.AndMaybe(_unit_required(u), Q.Or(extras)) if extras else _unit_required(u)
    return Q.Or([_unit_required(u, f) for f in fields])


def _phrase_query(text: str, field: str = MATCH, *, exact: bool = True, boost: float = 1.0):
    """A quoted phrase: its words, codes and Chinese runs as for free text, in this order together;
    exact: its words as typed (not by their stems). In the record's text or its context (MATCH)."""
    units = query_units(text)
    if not units:
        return None
    fields = MATCHED_FIELDS if field == MATCH else (field,)
    alternatives = []
    for f in fields:
        required = [_unit_in(u, f) for u in units]
        single = units[0].kind if len(units) == 1 else None
        if single == "cjk" or (single == "word" and not exact):
            alternatives.append(required[0])
        else:  # several units, a code (typed in parts), or one word as typed
            alternatives.append(PhraseText(f, text, Q.And(required), exact=exact and single != "code"))
    return Q.Or(alternatives, boost=boost) if len(alternatives) > 1 or boost != 1.0 else alternatives[0]


def _synonym_query(text: str):
    """A glossary synonym: its words as for free text (several together in this order), scored below
    what was typed."""
    return _phrase_query(text, exact=False, boost=synonyms.WEIGHT)


def _expanded_run(u: Unit, found: list[tuple[str, list[str]]], looseness: int):
    """A Chinese run some of whose words have synonyms: the run as typed, or its words, each word
    or one of its synonyms (柴油短量: 柴油短量, or (柴油 or diesel) and (短量 or shortage))."""
    alts = dict(found)
    parts = []
    for word in u.words:
        if len(word) < 2:
            continue
        own = _unit_required(Unit("cjk", tuple(word), (word,), word))
        parts.append(Q.Or([own] + [_synonym_query(t) for t in alts[word]]) if word in alts else own)
    typed = _unit_required(u, looseness=looseness)
    return Q.Or([typed, Q.And(parts, boost=synonyms.WEIGHT)]) if parts else typed


def _positive_units(text: str) -> list[Unit]:
    units = query_units(text)
    kept = [u for u in units if not (u.kind == "word" and u.text.lower() in STOP_WORDS)]
    return kept or units


def can_loosen(p: ParsedQuery) -> bool:
    """Whether the query has a Chinese run of several words, which looser passes can split."""
    return any(u.kind == "cjk" and len(_question_words(u)) > 1 for u in _positive_units(p.text))


def build_query(p: ParsedQuery, looseness: int = 0, expansion: "synonyms.Expansion | None" = None):
    units = _positive_units(p.text)
    if expansion is None or expansion.empty:
        required = [_unit_required(u, looseness=looseness) for u in units]
    else:
        required = []
        i = 0
        while i < len(units):
            span = next(((a, b) for (a, b) in expansion.spans if a == i), None)
            if span is not None:
                typed = [_unit_required(u, looseness=looseness) for u in units[span[0]:span[1]]]
                typed_q = typed[0] if len(typed) == 1 else Q.And(typed)
                required.append(Q.Or([typed_q] + [_synonym_query(t) for t in expansion.spans[span]]))
                i = span[1]
                continue
            if i in expansion.inside:
                required.append(_expanded_run(units[i], expansion.inside[i], looseness))
            else:
                required.append(_unit_required(units[i], looseness=looseness))
            i += 1
    extras = [x for u in units for x in _unit_extras(u)]
    for phrase in p.phrases:
        q = _phrase_query(phrase)
        if q is not None:
            required.append(q)
            title_q = _phrase_query(phrase, "title")
            if title_q is not None:
                extras.append(title_q)
    if not required:
        if not p.empty:  # only punctuation or the like: nothing to look for
            return Q.NullQuery
        main = Q.Every()
    else:
        main = Q.And(required) if len(required) > 1 else required[0]
        if extras:
            main = Q.AndMaybe(main, Q.Or(extras))
    negs = [q for q in (_phrase_query(text, exact=False) for text in p.exclude) if q is not None]
    if negs:
        main = Q.AndNot(main, Q.Or(negs))
    return main


def acl_terms_for(user) -> list[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(user.acl_terms())


# ---------------------------------------------------------------- snippets
FIELD_LABELS = {MATCH: _l("Text"), CONTEXT: _l("Customer, category, state")}


def _holds(fields: dict, marks: Marks | None) -> bool:
    """Whether the record's text or context holds any of what was typed."""
    if marks is None or marks.empty:
        return False
    return any(marks.spans(fields.get(name) or "") for name in (MATCH, CONTEXT))


def _snippets(fields: dict, marks: Marks | None, text: Markup | None = None) -> list[tuple[Any, Markup]]:
    """One extract per field the query matched (the record's text, its context), labelled. ``text``: the
    record's text's extract with its matches, when already cut."""
    if marks is None or marks.empty:
        return []
    out = []
    if text is None:
        text = _snippet(fields, marks, fallback=False)
    if text:
        out.append((FIELD_LABELS[MATCH], text))
    context = " · ".join(line for line in (fields.get(CONTEXT) or "").splitlines() if line.strip())
    if context and marks.spans(context):
        out.append((FIELD_LABELS[CONTEXT], snippet(context, marks, plain_fallback=False)))
    return out


def _snippet(fields: dict, marks: Marks | None, fallback: bool = True) -> Markup:
    content = fields.get(MATCH, "") or ""
    title = fields.get("title", "") or ""
    if title and content.startswith(title):
        content = title + strip_markdown(content[len(title):])
    else:
        content = strip_markdown(content)
    if marks is not None and not marks.empty:
        html = snippet(content, marks, plain_fallback=False)
        if html or not fallback:
            return html
    if title and content.startswith(title):
        content = content[len(title):]
    return snippet(content, Marks())


# ---------------------------------------------------------------- records and hits
def _load_rows(keys: list[str]) -> dict[str, Any]:
    from ..extensions import db

    rows: dict[str, Any] = {}
    by_kind: dict[str, list[str]] = {}
    for key in keys:
        name, _, ident = key.partition(":")
        if name in KINDS:
            by_kind.setdefault(name, []).append(ident)
    for name, idents in by_kind.items():
        kind = KINDS[name]
        pk = kind.model.__mapper__.primary_key[0]
        try:
            values = [pk.type.python_type(i) for i in idents]
        except (TypeError, ValueError, NotImplementedError):
            values = idents
        for row in db.session.scalars(db.select(kind.model).where(pk.in_(values))):
            rows[kind.key(row)] = row
    return rows


def _can_view(row, user) -> bool:
    check = getattr(row, "can_view", None)
    return True if check is None else bool(check(user))


def _url(kind, row) -> str:
    try:
        return kind.url(row) or ""
    except Exception:  # noqa: BLE001 - e.g. url_for outside a request
        return ""


def _aware(value):
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class Ranked(NamedTuple):
    """A document of the index on a page of results."""

    docnum: int
    fields: dict
    score: float


def make_hits(found, user, *, marks: Marks | None = None, limit: int | None = None,
              denied: set | None = None, wider: Marks | None = None) -> list[Hit]:
    """Hits for ranked documents: records loaded, re-checked with can_view, snippets cut. The documents
    left out (a record gone, or one that says no: the index is behind) are added to `denied`."""
    found = list(found)
    rows = _load_rows([r.fields["key"] for r in found])
    out: list[Hit] = []
    for docnum, f, score in found:
        key = f["key"]
        row = rows.get(key)
        if row is None or not _can_view(row, user):
            if denied is not None:
                denied.add((docnum, key))
            continue  # stale index entry, or the record says no
        kind = KINDS[f["kind"]]
        record_marks = marks
        if wider is not None and not _holds(f, marks):
            record_marks = wider
        marked = _snippet(f, record_marks, fallback=False)  # the text's extract around its matches, once
        out.append(Hit(
            key=key, kind=kind.name, id=getattr(row, "id", key.partition(":")[2]), title=f.get("title") or key,
            url=_url(kind, row), snippet=marked or _snippet(f, None), customer=f.get("customer") or "",
            date=_aware(f.get("date")), score=float(score or 0.0), kind_label=kind.label, record=row,
            snippets=_snippets(f, record_marks, marked),
        ))
        if limit and len(out) >= limit:
            break
    return out


def _whoosh_found(results) -> list[Ranked]:
    return [Ranked(h.docnum, h.fields(), h.score) for h in results]


# ---------------------------------------------------------------- the operations
FACETS = ("kind", "customer", "year")


RANK_ALL = 3000  # above this many matches, a shortlist is ranked (see _shortlist)


def _title_query(p: ParsedQuery):
    """Any of the query's words, codes, Chinese runs or phrases in a title."""
    parts = [_unit_required(u, "title") for u in _positive_units(p.text)]
    parts += [q for q in (_phrase_query(phrase, "title") for phrase in p.phrases) if q is not None]
    return Q.Or(parts) if parts else None


def _shortlist(p: ParsedQuery, matched: frozenset, memo, size: int = RANK_ALL) -> frozenset:
    """The records ranked when a query matches more than RANK_ALL: those holding a query word in the
    title, then the most recent, up to `size`. Scoring every one of tens of thousands of matches one
    by one in Python is what made common words slow; a title hit or a recent record is what staff
    look for first, and BM25 still orders the shortlist."""
    title_q = _title_query(p)
    titled = memo.docs(title_q) & matched if title_q is not None else frozenset()
    if len(titled) >= size:
        return frozenset(memo.newest(titled, size))
    return titled | frozenset(memo.newest(matched - titled, size - len(titled)))


def _scoring_terms(q) -> list[tuple[str, str, float]]:
    """The (field, text, boost) terms that rank a query's matches: every term it asks for, required or
    optional, except those it excludes; a term asked for twice counts twice, as Whoosh scores it; a
    prefix (one Chinese character) ranks nothing."""
    found: dict[tuple[str, str], float] = {}

    def walk(node, boost=1.0):
        if isinstance(node, Q.Term):
            key = (node.fieldname, node.text)
            found[key] = found.get(key, 0.0) + boost * node.boost
        elif isinstance(node, PhraseText):
            walk(node.required, boost * node.boost)
        elif isinstance(node, Q.AndNot):
            walk(node.a, boost)
        elif isinstance(node, Q.AndMaybe):
            walk(node.a, boost)
            walk(node.b, boost)
        elif isinstance(node, (Q.And, Q.Or)):
            for sub in node.subqueries:
                walk(sub, boost * node.boost)

    walk(q)
    return [(field, text, boost) for (field, text), boost in found.items()]


def _ranked(candidates, tiers, scores: dict[int, float], recency, count: int) -> list[int]:
    """The first count candidates ordered by the tiers they are in (the first tier first, then the second,
    as a tuple of flags compares), then score, then recency. The candidates are split by the tiers with
    set operations, and each part, best first, ranked by score and recency only: the same order as one
    ranking by (flags, score, recency), without a key of flags for each of thousands of candidates."""
    parts = [candidates]
    for tier in tiers:
        parts = [piece for part in parts for piece in (part & tier, part - tier)]

    def key(d):
        return scores[d], recency[d]

    out: list[int] = []
    for part in parts:
        if len(out) >= count:
            break
        if part:
            out += heapq.nlargest(count - len(out), part, key=key)
    return out


def _page_hits(searcher, p: ParsedQuery, q, matched: frozenset, memo, *, sort: str, start: int, stop: int,
               tiers=()):
    """The page's documents, in order: by BM25 over the query's terms (relevance) or by date.

    Ranking is computed from the memo's term weights (Whoosh's formula and constants), not by
    Whoosh's matchers, which decode every posting block of every common term again for each query.
    `tiers`: sets of documents ranked before the others whatever their score, the first set first
    (records holding what was typed before those found by a synonym only; the records of a customer
    the query names).
    """
    recency = memo.recency()
    terms = _scoring_terms(q) if sort == "relevance" else []
    scores: dict[int, float] = {}
    if terms:
        candidates = matched if len(matched) <= RANK_ALL else _shortlist(p, matched, memo)
        scores = memo.scores(terms, candidates)
        order = _ranked(candidates, [t for t in tiers if t and t != matched], scores, recency, stop)
        if len(order) < stop and len(candidates) < len(matched):  # pages past the shortlist: newest first
            order += memo.newest(matched - candidates, stop - len(order))
        order = order[start:stop]
    else:
        order = memo.newest(matched, stop)[start:stop]
    stored = dict(memo.stored_many(sorted(order)))  # the page's records read together, segment by segment
    return [Ranked(d, stored[d], scores.get(d, 0.0)) for d in order]


@dataclass
class Found:
    """What the index says for a query, before records are loaded: the page's Whoosh hits, the total,
    facet counts and the documents the user may see."""

    hits: list
    total: int
    counts: dict[str, Counter]
    allowed: frozenset
    query: Any
    also_searched: list = field(default_factory=list)


def named_customers(p: ParsedQuery, memo) -> tuple[frozenset, frozenset]:
    """The customers the query names (their own records) and all their documents: customers whose
    title (code and names) or context (former names, aliases) holds every word of the query that a
    customer record holds."""
    units = _positive_units(p.text)
    nothing = (frozenset(), frozenset())
    if not units or "customer" not in KINDS:
        return nothing
    customers = memo.term("kind", "customer")
    if not customers:
        return nothing
    holding = []
    for u in units:
        q = Q.Or([_unit_in(u, "title"), _unit_in(u, CONTEXT)])
        docs = memo.docs(q) & customers
        if docs:
            holding.append(docs)
    if not holding:
        return nothing
    named = frozenset.intersection(*map(frozenset, holding))
    if not named or len(named) > 3:  # a word many customers share names none of them
        return nothing
    column = memo.column("customer")
    codes = {column[d] for d in named} - {"", b"", None}
    out: set[int] = set()
    for code in codes:
        out |= memo.term("customer", code.decode() if isinstance(code, bytes) else code)
    return named, frozenset(out)


def _in_titles(p: ParsedQuery, memo) -> frozenset:
    """The documents whose title holds every word of the query (a person's or a page's name)."""
    units = _positive_units(p.text)
    if not units or p.phrases:
        return frozenset()
    return memo.docs(Q.And([_unit_in(u, "title") for u in units]))


def in_context(p: ParsedQuery, memo) -> frozenset:
    """The documents whose context holds every word of the query: a query naming a category, state or
    kind (质量, quality complaint) ranks the records that are of it first."""
    units = _positive_units(p.text)
    if not units or p.phrases:
        return frozenset()
    return memo.docs(Q.And([_unit_in(u, CONTEXT) for u in units]))


def execute(searcher, p: ParsedQuery, acl_terms, *, kinds=(), customers=(), page: int = 1, per_page: int = 20,
            sort: str = "relevance", facets: bool = True, exclude=frozenset(), expand: bool = True) -> Found:
    """Run a parsed query for a user's acl terms on a searcher (the portal and the benchmark share it).
    `exclude`: documents the user may not open after all (counted nowhere). `expand`: glossary
    synonyms of the query's words match too, ranked below what was typed."""
    memo = docsets(searcher)
    allowed = memo.filter(acl_terms, kinds=kinds, customers=customers, start=p.start, end=p.end)
    if exclude:
        allowed = allowed - exclude
    q = build_query(p)
    matched = memo.docs(q) & allowed
    typed = matched
    also: list[str] = []
    expansion = synonyms.expand(_positive_units(p.text)) if expand and p.text.strip() else None
    if expansion is not None and not expansion.empty:
        wider = build_query(p, expansion=expansion)
        more = memo.docs(wider) & allowed
        also = expansion.searched
        if len(more) > len(matched):
            q, matched = wider, more
    if not matched and can_loosen(p):
        for looseness in (1, 2):
            q = build_query(p, looseness)
            matched = typed = memo.docs(q) & allowed
            if matched:
                break
    if p.empty:
        sort = "date"
    tiers = ()
    if matched and not p.empty:
        # what was typed before synonyms; a named customer's own record, then records whose title holds
        # every word, then that customer's records and records of a category, state or kind named
        customer_records, of_customers = named_customers(p, memo)
        tiers = (typed, customer_records & matched, _in_titles(p, memo) & matched,
                 (of_customers | in_context(p, memo)) & matched)
    hits = _page_hits(searcher, p, q, matched, memo, sort="date" if sort == "date" else "relevance",
                      start=(page - 1) * per_page, stop=page * per_page, tiers=tiers) if matched else []
    counts = {name: memo.counts(name, matched) for name in FACETS} if facets else {}
    return Found(hits, len(matched), counts, allowed, q, also)


def warm_up(searcher) -> int:
    """Read what every query reads before any word of it: the acl sets, the dates that rank (and the
    documents in their order), the facet columns and the text lengths BM25 weighs, and the glossary's
    synonym table. A new process (a gunicorn worker) calls it before it takes requests, else its first
    search reads them all (about a second with five years of records). Returns how many documents the
    index holds."""
    memo = docsets(searcher)
    for term in searcher.lexicon("acl"):  # each user's set is then a union of sets already read
        memo.term("acl", term.decode() if isinstance(term, bytes) else term)
    memo.order()
    for name in FACETS:
        memo.column(name)
    for name in (*MATCHED_FIELDS, *BOOST_FIELDS):
        memo.lengths(name)
        memo.average_length(name)
    synonyms.table()
    return searcher.doc_count()


RECHECK_ROUNDS = 4  # a page with records the index should not have let in is computed again without them


def _repair(store, keys, indexed: dict) -> None:
    """Re-index keys whose indexed acl let in a user the record refuses, or whose record is gone. A
    record whose current acl still lets in someone its can_view refuses is a registration error (the
    kind's acl must grant exactly who can_view lets in): logged, left out of the counts all the same."""
    from ..extensions import db
    from .store import load_documents

    current = load_documents(db.session, keys)
    behind = [k for k in keys if current.get(k) is None or current[k]["acl"] != indexed.get(k)]
    wrong = [k for k in keys if k not in behind]
    if wrong:
        log.error("search: the acl of %s grants more than can_view (fix the kind's acl)", ", ".join(wrong[:10]))
    if not behind:
        return
    log.warning("search: index acl behind the database for %s; re-indexing", ", ".join(behind[:10]))
    try:
        store.index_keys(behind, timeout=0)
    except Exception as exc:  # noqa: BLE001 - busy writer: `flask search check --fix` repairs it
        log.warning("search: could not re-index %s now (%s)", ", ".join(behind[:10]), exc)


def run_search(store, query: str, *, user, kinds=None, customer=None, page: int = 1, per_page: int = 20,
               sort: str = "relevance", highlight: bool = True, facets: bool = True, expand: bool = True) -> Results:
    p = parse(query or "")
    kinds = list(kinds or []) + p.kinds
    if isinstance(customer, str):
        customer = [customer] if customer else []
    customers = list(customer or []) + p.customers
    page = max(1, int(page or 1))
    per_page = max(1, min(200, int(per_page or 20)))
    empty = Results(query or "", [], 0, {}, None, page, per_page, sort, p, expanded=expand)
    if p.empty and not (kinds or customers or p.start or p.end):
        return empty
    terms = acl_terms_for(user)
    if not terms:
        return empty
    searcher = store.searcher()
    marks = Marks.from_query(p.text, p.phrases) if highlight else None
    exclude: frozenset = frozenset()
    for _round in range(RECHECK_ROUNDS):
        found = execute(searcher, p, terms, kinds=kinds, customers=customers, page=page, per_page=per_page,
                        sort=sort, facets=facets, exclude=exclude, expand=expand)
        denied: set = set()
        wider = None  # a record found by a synonym only: its extract marks the synonym
        if marks is not None and found.also_searched:
            wider = Marks.from_query(p.text, [*p.phrases, *found.also_searched])
        hits = make_hits(found.hits, user, marks=marks, denied=denied, wider=wider)
        if not denied:
            break
        # The index let in records that say no (or are gone): count them nowhere (total, facets,
        # pages), run again without them, and re-index those whose acl is behind the database.
        exclude = exclude | {d for d, _ in denied}
        indexed = {r.fields["key"]: r.fields.get("acl") for r in found.hits}
        _repair(store, sorted(k for _, k in denied), indexed)
    facet_map: dict[str, list[Facet]] = {}
    for name, counts in found.counts.items():
        items = []
        for value, count in counts.items():
            value = value.decode() if isinstance(value, bytes) else str(value or "")
            if not value or value == META_KEY:
                continue
            label = KINDS[value].label if name == "kind" and value in KINDS else value
            items.append(Facet(value, label, int(count)))
        key = (lambda f: f.value) if name == "year" else (lambda f: -f.count)
        items.sort(key=key, reverse=(name == "year"))
        facet_map[name] = items
    suggestion = None
    if found.total == 0 and not p.empty:
        suggestion = did_you_mean(store, searcher, query, p, found.allowed)
    jump = _reference_jump(searcher, p, hits, found.allowed) if page == 1 else None
    return Results(query or "", hits, found.total, facet_map, suggestion, page, per_page, sort, p,
                   also_searched=found.also_searched, expanded=expand, jump=jump)


def _reference_jump(searcher, p: ParsedQuery, hits: list[Hit], allowed) -> str | None:
    """The page of the one record whose reference the query is (`cmp 19`, `CMP-00019`, `204号罐` when
    one record is that tank's): the query is one code, and one record the user may see has it among
    its references."""
    if p.phrases or p.exclude or not hits:
        return None
    units = _positive_units(p.text)
    if len(units) != 1 or units[0].kind != "code":
        return None
    holders = docsets(searcher).term("refs", units[0].terms[0]) & allowed
    if len(holders) != 1:
        return None
    first = hits[0]
    if searcher.stored_fields(next(iter(holders))).get("key") != first.key:
        return None
    return first.url or None


def did_you_mean(store, searcher, query: str, p: ParsedQuery, allowed) -> str | None:
    words = re.findall(r"(?<![\w:\-])[A-Za-z]{4,}(?![\w:])", p.text)
    if not words:
        return None
    corrector = searcher.corrector("spell")
    memo = docsets(searcher)
    options = {}
    for word in words:
        if searcher.doc_frequency("spell", word.lower()):
            continue  # a word the records hold is not a typo
        found = corrector.suggest(word.lower(), limit=3, maxdist=2)
        if found and found[0] != word.lower():
            options[word] = found

    def spelled(choice: dict) -> str:
        out = query
        for word, option in choice.items():
            out = re.sub(rf"(?<![\w:]){re.escape(word)}(?![\w:])", option, out, count=1)
        return out

    def finds(text: str) -> bool:
        return bool(memo.docs(build_query(parse(text))) & allowed)

    # the closest spelling of each word; else, one word at a time, its next closest ones (storge: not
    # "store" when "store fee old rate" finds nothing, but "storage")
    choice = {word: found[0] for word, found in options.items()}
    if not choice:
        return None
    if finds(spelled(choice)):
        return spelled(choice)
    for word, found in options.items():
        for option in found[1:]:
            if finds(spelled({**choice, word: option})):
                return spelled({**choice, word: option})
    return None


def run_suggest(store, prefix: str, *, user, limit: int = 8) -> list[Hit]:
    prefix = (prefix or "").strip()
    if not prefix:
        return []
    terms = acl_terms_for(user)
    if not terms:
        return []
    units = query_units(prefix)
    if not units:
        return []
    parts = [_unit_query(u, fields=("title",)) for u in units[:-1]]
    last = units[-1]
    open_end = not prefix[-1].isspace()
    if last.kind == "word" and open_end:
        parts.append(Q.Or([Q.Prefix("spell", last.text.lower()), Q.Prefix("title", last.terms[0])]))
    elif last.kind == "code" and open_end:
        parts.append(Q.Or([Q.Prefix("title", last.terms[0]), _unit_query(last, fields=("title",))]))
    else:
        parts.append(_unit_query(last, fields=("title",)))
    searcher = store.searcher()
    memo = docsets(searcher)
    allowed = memo.allowed(terms)
    if not allowed:
        return []
    results = searcher.search(runnable(Q.And(parts), memo), filter=as_filter(allowed), limit=limit * 8)
    found = _whoosh_found(results)
    # A prefix scores every match alike: show first the titles with the most words starting with what
    # is being typed, then those it begins ("Vito" puts the customer "VITOLAP Vitol Asia" before a
    # letter that names VITOLAP once).
    typed = re.findall(r"\w+", prefix.lower())
    if typed and open_end:
        start = typed[-1]

        def closeness(r) -> tuple[int, bool]:
            title = (r.fields.get("title") or "").lower()
            return -sum(w.startswith(start) for w in re.findall(r"\w+", title)), not title.startswith(start)

        found.sort(key=closeness)
    return make_hits(found, user, limit=limit)


COMMON_SHARE = 0.1  # a term in more than this share of the records is boilerplate for "similar"


def key_terms(text: str, searcher, *, top: int = 25) -> list[tuple[str, float]]:
    """The terms that characterise a text: its rare ones (tanks, products, causes), weighted by the
    square of their rarity; terms most records hold (boilerplate, plain numbers, dates) are left out."""
    counts = Counter(t.text for t in ANALYZER(text or ""))
    n = searcher.doc_count() or 1
    common = max(5, n * COMMON_SHARE)
    scored = []
    for term, tf in counts.items():
        if term in STOP_WORDS or (len(term) == 1 and not term.isascii()) or (len(term) < 3 and term.isascii()):
            continue
        if term.isdigit():
            continue
        df = searcher.doc_frequency(MATCH, term)
        if df == 0 or df > common:
            continue
        idf = math.log(1 + n / df)
        scored.append((term, (1 + math.log(tf)) * idf * idf))
    scored.sort(key=lambda x: -x[1])
    return scored[:top]


def run_similar_text(store, text: str, *, user, kinds=None, limit: int = 5, exclude_keys=()) -> list[Hit]:
    acl = acl_terms_for(user)
    if not acl or not (text or "").strip():
        return []
    searcher = store.searcher()
    memo = docsets(searcher)
    allowed = memo.filter(acl, kinds=kinds)
    for key in exclude_keys:
        allowed = allowed - memo.term("key", key)
    terms = key_terms(text, searcher)
    if not terms or not allowed:
        return []
    top = terms[0][1]
    q = Q.Or([Q.Term(f, t, boost=w / top) for t, w in terms for f in ("title", MATCH)])
    results = searcher.search(q, filter=as_filter(allowed), limit=limit * 3 + 5)
    return make_hits(_whoosh_found(results), user, marks=Marks.from_terms([t for t, _ in terms]), limit=limit)


def run_similar(store, record, *, user, kinds=None, limit: int = 5) -> list[Hit]:
    """Records like this one: of its own kind unless `kinds` names others."""
    from .registry import kind_for_object
    from .store import build_document

    kind = kind_for_object(record)
    if kind is None:
        return []
    kinds = list(kinds) if kinds else [kind.name]
    doc = build_document(kind, record)
    text = f"{doc['title']}\n{doc[MATCH]}"
    return run_similar_text(store, text, user=user, kinds=kinds, limit=limit, exclude_keys=(doc["key"],))
