"""Search benchmark: our Whoosh index vs SQLite FTS5, on a seeded bilingual corpus.

    python bench/search_bench.py [--records N] [--queries Q] [--seed S] [--skip-app]

Measures, side by side in one run:
  * rebuild throughput (records/s), index size and peak memory (each build in a fresh process):
    the portal's rebuild (one writer process per CPU, each writing its own segment), one writer,
    with every Chinese character indexed alone beside the pairs, and with character offsets
    (chars=True, what Whoosh's pinpoint highlighter needs), to show what each costs;
  * query latency p50/p95/p99 over mixed Chinese/English/code queries through the portal's own query
    path (acl filter, total, facet counts, the first page of 20): without snippets, with the portal's
    snippets marked from stored text, with Whoosh's pinpoint highlighter (on the chars=True index)
    and its default highlighter, on a searcher that has served the queries before, and with a new
    searcher per query (nothing remembered);
  * SQLite FTS5 with the trigram tokenizer and FTS5 over jieba-segmented text (snippets, acl filter,
    counts and facets), and the ratios ours / FTS5;
  * the delay from a committed save to the record being findable, through the real portal
    (change log -> after-commit sync -> search).
The corpus: records of about 300 words, glossary terms mixed with words drawn by frequency from
jieba's dictionary and from a generated English-like vocabulary, so common words match many records
and rare ones few.
Timings are printed, never asserted.
"""

import argparse
import gc
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# ---------------------------------------------------------------- corpus
# Domain terms (the glossary's words) carry a realistic share of each record; the rest of the text is drawn
# from a large vocabulary with Zipf-like frequencies: Chinese words from jieba's own dictionary (weighted by
# their corpus frequency), English-like words generated from syllables. So common words match many
# records and rare ones few, as in a real archive, instead of every query matching nearly everything.
ZH_TERMS = ("储罐 仓储费 周转费 装卸费 码头 泊位 船舶 靠泊 卸货 装货 汽车装车 倒罐 货权转移 账面库存 实际库存 检尺 空高 "
            "视体积 标准体积 密度 损溢 差异 容差 日报 月度报告 预计抵港 准备就绪通知书 船代 海事局 报关 保税 完税 提单 "
            "投诉 根本原因 纠正措施 预防措施 变更管理 操作回顾会议 客户满意度调查 安全 健康 环境 质量 归档 保管期限 "
            "销毁 管线 阀门 泄漏 加热 氮封 清罐 商检 放行 甲醇 乙二醇 柴油 石脑油 苯乙烯 温度 压力 液位 消防 应急 "
            "演练 整改 检查 记录 客服代表 客户 合同 费率 发票 计量 流量计 取样 化验 污染 异味 罐区 防火堤 泵房").split()
ZH_GLUE = "的 了 在 和 对 进行 按照 根据 已经 需要 由于 因此 并且 要求 及时 相关 有关 本次 该".split()
EN_TERMS = ("tank terminal vessel berth jetty pipeline valve leak complaint customer heating nitrogen blanketing "
            "cleaning survey inspection loss measurement invoice storage fee throughput demurrage ullage sample "
            "quality contamination methanol glycol diesel naphtha styrene meeting minutes action deadline safety "
            "fire drill emergency regulation permit customs release lading gauging density variance tolerance "
            "report monthly daily pump hose flange gasket coil temperature pressure level agent declaration "
            "bonded corrective preventive root cause change management review satisfaction retention").split()
EN_GLUE = "the a of and to in for on was were is with by from at after before during our their".split()
CUSTOMERS = ["SINO", "PETRO", "CNOOC", "VITOL", "TRAFI", "GLENC", "SHELL", "BPOIL", "ZHEJ", "HUAYI"]
KINDS = ["complaint", "minutes", "regulation"]
ZH_VOCAB_SIZE = 30000
EN_VOCAB_SIZE = 20000
DOMAIN_SHARE = 0.2  # share of content words that are glossary terms


class Vocabulary:
    """Seeded word lists with cumulative weights for fast weighted draws."""

    def __init__(self, seed: int):
        import itertools

        rng = random.Random(seed * 7919 + 3)
        zh = self._jieba_words()
        self.zh = [w for w, _ in zh]
        self.zh_cum = list(itertools.accumulate(f ** 0.85 for _, f in zh))
        syllables = [c + v for c in "b c d f g h k l m n p r s t v w z st tr pl gr ch sh".split() for v in
                     ("a", "e", "i", "o", "u", "ai", "ea", "ou", "io")]
        en, seen = [], set(EN_TERMS) | set(EN_GLUE)
        while len(en) < EN_VOCAB_SIZE:
            word = "".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
            word += rng.choice(("", "", "n", "r", "s", "t", "ng", "l"))
            if len(word) > 2 and word not in seen:
                seen.add(word)
                en.append(word)
        self.en = en
        self.en_cum = list(itertools.accumulate(1 / (rank + 10) ** 1.05 for rank in range(len(en))))

    @staticmethod
    def _jieba_words() -> list[tuple[str, int]]:
        import re

        import jieba

        cjk = re.compile(f"^[{CJK}]{{2,4}}$")
        words = []
        with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as fh:
            for line in fh:
                word, freq, *_ = line.split()
                if cjk.match(word) and int(freq) >= 5:
                    words.append((word, int(freq)))
        words.sort(key=lambda wf: (-wf[1], wf[0]))
        return words[:ZH_VOCAB_SIZE]

    def zh_word(self, rng) -> str:
        return rng.choices(self.zh, cum_weights=self.zh_cum)[0]

    def en_word(self, rng) -> str:
        return rng.choices(self.en, cum_weights=self.en_cum)[0]


CJK = "\u4e00-\u9fff"


def _code(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.3:
        return f"ORD-{rng.choice((2023, 2024, 2025))}-{rng.randint(1, 9999):04d}"
    if choice < 0.5:
        return f"IMO {rng.randint(9000000, 9999999)}"
    if choice < 0.7:
        return rng.choice(("GB 50160", "GB 30871", "GB/T 12345-2008", "GB 15603", "AQ 3035"))
    return f"T-{rng.randint(101, 350)}"


def _zh_sentence(rng, vocab) -> str:
    parts = []
    for _ in range(rng.randint(5, 12)):
        parts.append(rng.choice(ZH_TERMS) if rng.random() < DOMAIN_SHARE else vocab.zh_word(rng))
        if rng.random() < 0.4:
            parts.append(rng.choice(ZH_GLUE))
    return "".join(parts) + "。"


def _en_sentence(rng, vocab) -> str:
    words = []
    for _ in range(rng.randint(8, 18)):
        r = rng.random()
        words.append(rng.choice(EN_GLUE) if r < 0.4 else rng.choice(EN_TERMS) if r < 0.4 + DOMAIN_SHARE * 0.6
                     else vocab.en_word(rng))
    if rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), _code(rng))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


_VOCAB: dict[int, Vocabulary] = {}


def vocabulary(seed: int) -> Vocabulary:
    if seed not in _VOCAB:
        _VOCAB[seed] = Vocabulary(seed)
    return _VOCAB[seed]


def make_corpus(n: int, seed: int) -> list[dict]:
    """n records; about 300 words each (a Chinese word counts as one), Chinese and English mixed."""
    vocab = vocabulary(seed)
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        kind = KINDS[i % 3]
        target_words = {"complaint": 250, "minutes": 350, "regulation": 300}[kind]
        zh_share = {"complaint": 0.5, "minutes": 0.5, "regulation": 0.8}[kind]
        sentences, words = [], 0
        while words < target_words:
            if rng.random() < zh_share:
                s = _zh_sentence(rng, vocab)
                words += len(s) // 2
            else:
                s = _en_sentence(rng, vocab)
                words += s.count(" ") + 1
            sentences.append(s)
        title_zh = "".join([rng.choice(ZH_TERMS), vocab.zh_word(rng), rng.choice(ZH_TERMS)])
        title_en = " ".join([rng.choice(EN_TERMS), vocab.en_word(rng), rng.choice(EN_TERMS)])
        restricted = rng.random() < 0.1
        year = rng.choice((2022, 2023, 2024, 2025))
        docs.append({
            "key": f"{kind}:{i + 1}",
            "kind": kind,
            "title": f"{title_en.title()} {title_zh}",
            "body": " ".join(sentences),
            "refs": _code(rng),
            "customer": rng.choice(CUSTOMERS),
            "year": year,
            "month": rng.randint(1, 12),
            "acl": "role:admin role:cs_manager user:7" if restricted else "all",
        })
    return docs


CORPUS_DIR = Path(os.environ.get("PORTAL_CORPUS_DIR") or ROOT.parent / "shared" / "corpus")
LONG_MIN, LONG_MAX = 20_000, 300_000  # characters of a long document (an archived PDF's text, a regulation)


def make_long_documents(count: int, seed: int, start: int = 0) -> list[dict]:
    """count long records (archived PDFs' extracted text and regulations) of 20,000 to 300,000
    characters, made from the public regulation texts of the corpus: their paragraphs drawn in another
    order for each document, with a document number, a customer and a few words of the generated
    vocabulary in each paragraph, so no two are the same. Kind `archive`."""
    vocab = vocabulary(seed)
    rng = random.Random(seed * 31 + 17)
    paragraphs = []
    for folder in ("regulations-zh", "regulations-en"):
        for path in sorted((CORPUS_DIR / folder).glob("*.md")):
            paragraphs += [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 40]
    if not paragraphs:
        raise SystemExit(f"no regulation texts in {CORPUS_DIR} for the long documents")
    docs = []
    for i in range(start, start + count):
        target = rng.randint(LONG_MIN, LONG_MAX)
        number = f"AR-{rng.choice((2022, 2023, 2024, 2025))}-{i + 1:05d}"
        parts, size = [], 0
        while size < target:
            para = rng.choice(paragraphs)
            extra = " ".join(vocab.zh_word(rng) if rng.random() < 0.5 else vocab.en_word(rng) for _ in range(4))
            parts.append(f"{para} {extra}")
            size += len(parts[-1]) + 2
        body = "\n\n".join(parts)[:target]
        year = rng.choice((2022, 2023, 2024, 2025))
        docs.append({
            "key": f"archive:{i + 1}", "kind": "archive", "title": f"{number} {parts[0][:40]}", "body": body,
            "refs": number, "customer": rng.choice(CUSTOMERS), "year": year, "month": rng.randint(1, 12),
            "acl": "all",
        })
    return docs


def bench_corpus(n: int, seed: int) -> list[dict]:
    """The benchmark's corpus: n short records and, with SEARCH_BENCH_LONG set (--long), that many long
    documents after them."""
    docs = make_corpus(n, seed)
    long = int(os.environ.get("SEARCH_BENCH_LONG") or 0)
    return docs + make_long_documents(long, seed) if long else docs


def make_queries(count: int, seed: int, draw: int = 1) -> list[str]:
    """What staff type: glossary terms, less common words, codes, two-word and mixed queries, one character.
    Over the corpus of `seed`; another `draw` gives other queries of the same kinds."""
    vocab = vocabulary(seed)
    rng = random.Random(seed + draw)
    mid_zh = vocab.zh[200:8000]
    mid_en = vocab.en[100:5000]
    out = []
    for i in range(count):
        r = i % 10
        if r < 2:
            out.append(rng.choice(ZH_TERMS))
        elif r == 2:
            out.append(rng.choice(mid_zh))
        elif r == 3:
            out.append(f"{rng.choice(ZH_TERMS)} {rng.choice(ZH_TERMS + mid_zh[:500])}")
        elif r == 4:
            out.append(rng.choice("罐泵阀油船"))
        elif r == 5:
            out.append(" ".join(rng.sample(EN_TERMS, rng.choice((1, 2)))))
        elif r == 6:
            out.append(f"{rng.choice(EN_TERMS)} {rng.choice(mid_en)}")
        elif r == 7:
            out.append(rng.choice(("GB 50160", "GB 30871", "AQ 3035", f"T-{rng.randint(101, 350)}",
                                   f"ORD-2024-{rng.randint(1, 9999):04d}")))
        elif r == 8:
            out.append(f'"{rng.choice(EN_TERMS)} {rng.choice(EN_TERMS)}"' if rng.random() < 0.3
                       else f"{rng.choice(EN_TERMS)} {rng.choice(ZH_TERMS)}")
        else:
            out.append(rng.choice(ZH_TERMS) + rng.choice(ZH_TERMS))
    return out


def rebuild_procs() -> int:
    from portal.search.store import default_rebuild_procs

    return default_rebuild_procs()


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- Whoosh (ours)
def _whoosh_docs(docs):
    from datetime import datetime

    from portal.search.store import document_fields

    for d in docs:
        yield document_fields(key=d["key"], kind=d["kind"], title=d["title"], body=d["body"], refs=d["refs"],
                              customer=d["customer"], date=datetime(d["year"], d["month"], 1),
                              acl=d["acl"].split())


def build_whoosh(args) -> dict:
    """Run in a fresh process: index the corpus, report rate, size and peak memory (of the feeding
    process and, with several writer processes, the largest of them)."""
    path, n, seed, procs, singles, cache_dir, *rest = args
    chars = bool(rest and rest[0])
    from whoosh import index

    from portal.search import analysis
    from portal.search.store import BulkWriter, make_schema

    analysis.configure_jieba(cache_dir)
    analysis.load_jieba()
    docs = bench_corpus(n, seed)
    schema = make_schema()
    if chars:  # character offsets in the index, for Whoosh's pinpoint highlights
        from whoosh.fields import TEXT

        schema.remove("content")
        schema.add("content", TEXT(analyzer=analysis.ANALYZER, stored=True, chars=True))
    if singles != "edge":
        tok = analysis.BilingualTokenizer(singles=singles)
        for name in ("title", "content", "refs"):
            schema[name].analyzer = tok
            schema[name].format.analyzer = tok if hasattr(schema[name].format, "analyzer") else None
    Path(path).mkdir(parents=True)
    ix = index.create_in(path, schema)
    rss_before = peak_mb()
    t0 = time.perf_counter()
    writer = BulkWriter(ix, procs=procs)
    for doc in _whoosh_docs(docs):
        writer.add_document(**doc)
    writer.add_document(key="__meta__", kind="__meta__", seq=0, gaps="{}")
    writer.commit()
    elapsed = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"rate": len(docs) / elapsed, "seconds": elapsed, "size_mb": dir_size(Path(path)) / 1e6,
            "peak_mb": max(peak_mb(), children), "base_mb": rss_before, "chars_per_s": sum(len(d["body"]) for d in docs) / elapsed}


def _child(fn, args, queue):
    try:
        queue.put(("ok", fn(args)))
    except BaseException as exc:  # noqa: BLE001
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def in_fresh_process(fn, args):
    """Run fn(args) in a newly spawned (non-daemonic) process, so its peak memory is its own."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    status, value = queue.get()
    proc.join()
    if status != "ok":
        raise RuntimeError(value)
    return value


def _mark_formatter():
    """Whoosh formatter: <mark> around matches, the rest escaped (for Whoosh's own highlighters)."""
    from markupsafe import escape
    from whoosh.highlight import Formatter

    class MarkFormatter(Formatter):
        between = " … "

        def format_fragment(self, fragment, replace=False):
            text, index, parts = fragment.text, fragment.startchar, []
            for t in sorted(fragment.matches, key=lambda t: t.startchar):
                if t.startchar < index:
                    continue
                parts.append(str(escape(text[index:t.startchar])) + "<mark>"
                             + str(escape(text[t.startchar:t.endchar])) + "</mark>")
                index = t.endchar
            parts.append(str(escape(text[index:fragment.endchar])))
            return "".join(parts)

    return MarkFormatter()


def _save_one(ix, rng) -> None:
    """What a save does to the index: one record updated (its old version deleted, the new one added as
    a small segment) through the portal's writer, small segments merged as the portal's sync does."""
    from portal.search.store import META_KEY, document_fields, index_writer, merge_tail

    with ix.searcher() as s:
        while True:
            doc = rng.randrange(s.doc_count_all())
            if s.reader().is_deleted(doc):
                continue
            fields = s.stored_fields(doc)
            if fields.get("key") and fields["key"] != META_KEY:
                break
    writer = index_writer(ix)
    writer.update_document(**document_fields(
        key=fields["key"], kind=fields["kind"], title=fields.get("title"), body=fields.get("content", "") + " 已更新 edited",
        customer=fields.get("customer"), date=fields.get("date"), acl=(fields.get("acl") or "all").split()))
    writer.commit(mergetype=merge_tail)


def query_whoosh(path: str, queries: list[str], *, mode: str, reuse: bool = True, per_page: int = 20,
                 warm: list[str] | None = None, saves: bool = False) -> dict:
    """The portal's own query path (portal.search.query.execute: acl filter, total, facet counts, the
    first page) and, where stated, a marked snippet for every hit on the page, as the search page shows:
    "ours" cuts it from the stored text (the portal); "pinpoint" and "default" are Whoosh's highlighters
    (from stored character offsets, or re-tokenizing the text), which first need Whoosh to visit the
    page's documents to note the terms each matched."""
    from whoosh import query as Q
    from whoosh.highlight import ContextFragmenter, Highlighter, PinpointFragmenter

    from portal.search.docsets import DocList, clear_segment_cache, docsets, runnable
    from portal.search.highlight import Marks, snippet
    from portal.search.query import execute, parse
    from portal.search.store import open_index, refreshed_searcher

    ix = open_index(path)
    user_terms = ["all", "user:3", "role:csr"]
    fragmenter = PinpointFragmenter(maxchars=220, surround=60, autotrim=True) if mode == "pinpoint" \
        else ContextFragmenter(maxchars=220, surround=60)
    whoosh_hl = Highlighter(fragmenter=fragmenter, formatter=_mark_formatter())
    clear_segment_cache()  # nothing read before: a portal process that has just started
    searcher = ix.searcher()
    for q in warm or ():  # queries served before: the segment cache (and with reuse, the searcher's
        # memo) filled, as in a portal that has been running
        execute(searcher, parse(q), user_terms, per_page=per_page)
    times, hits_found = [], 0
    rng = random.Random(7)
    for q in queries:
        if saves:  # a save before each query (not timed); the query renews the searcher as the portal does
            _save_one(ix, rng)
        t0 = time.perf_counter()
        if saves:
            searcher = refreshed_searcher(ix, searcher) or ix.searcher()
        s = searcher if reuse else ix.searcher()
        p = parse(q)
        found = execute(s, p, user_terms, per_page=per_page)
        if mode == "ours":
            marks = Marks.from_query(p.text, p.phrases)
            for hit in found.hits:
                snippet(hit.fields["content"], marks)
        elif mode in ("pinpoint", "default") and found.hits:
            page = sorted(h.docnum for h in found.hits)
            results = s.search(Q.And([DocList(page, "content", "page", boost=0.0),
                                      runnable(found.query, docsets(s))]), limit=len(page), terms=True)
            results.highlighter = whoosh_hl
            for hit in results:
                hit.highlights("content", top=2)
        if not reuse:
            s.close()
        times.append((time.perf_counter() - t0) * 1000)
        hits_found += found.total > 0
    searcher.close()
    return {"p50": pct(times, 50), "p95": pct(times, 95), "p99": pct(times, 99), "with_hits": hits_found}


def _rss_mb() -> tuple[float, float]:
    """(resident now, resident at its highest) of this process, MB, from /proc/self/status."""
    found = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line[:5]] = int(line.split()[1]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def search_memory(args) -> dict:
    """In a fresh process, as a portal worker: the analyzer loaded, then the index opened and the query
    mix run (the queries, 240 others, then the queries again with snippets; saves between the last
    ones renew the searcher): resident memory before opening the index, after, and at its highest."""
    path, queries, other, cache_dir = args
    from portal.search import analysis
    from portal.search.highlight import Marks, snippet
    from portal.search.query import execute, parse
    from portal.search.store import open_index

    analysis.configure_jieba(cache_dir)
    analysis.load_jieba()
    gc.freeze()
    base, _ = _rss_mb()
    ix = open_index(path)
    s = ix.searcher()
    for q in list(queries) + list(other) + list(queries):
        p = parse(q)
        found = execute(s, p, ["all", "user:3", "role:csr"], per_page=20)
        marks = Marks.from_query(p.text, p.phrases)
        for hit in found.hits:
            snippet(hit.fields["content"], marks)
    now, high = _rss_mb()
    s.close()
    return {"base_mb": base, "after_mb": now, "peak_mb": high}


# ---------------------------------------------------------------- SQLite FTS5
def _jieba_text(text: str) -> str:
    from portal.search.analysis import CJK_CLASS, segment
    import re

    return re.sub(f"[{CJK_CLASS}]+", lambda m: " " + " ".join(segment(m.group())) + " ", text)


def build_fts(args) -> dict:
    path, n, seed, mode, cache_dir = args
    from portal.search import analysis

    analysis.configure_jieba(cache_dir)
    analysis.load_jieba()
    docs = bench_corpus(n, seed)
    con = sqlite3.connect(path)
    tokenize = "trigram" if mode == "trigram" else "unicode61"
    con.execute(f"CREATE VIRTUAL TABLE docs USING fts5(title, body, refs, tokenize='{tokenize}')")
    con.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY, kind TEXT, customer TEXT, year INT, acl TEXT)")
    t0 = time.perf_counter()
    with con:
        for i, d in enumerate(docs, 1):
            title, body, refs = d["title"], d["body"], d["refs"]
            if mode == "jieba":
                title, body, refs = _jieba_text(title), _jieba_text(body), _jieba_text(refs)
            con.execute("INSERT INTO docs(rowid, title, body, refs) VALUES (?, ?, ?, ?)", (i, title, body, refs))
            con.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?)", (i, d["kind"], d["customer"], d["year"], d["acl"]))
        con.execute("CREATE INDEX meta_acl ON meta(acl)")
    elapsed = time.perf_counter() - t0
    con.close()
    return {"rate": len(docs) / elapsed, "seconds": elapsed, "size_mb": os.path.getsize(path) / 1e6, "peak_mb": peak_mb()}


def fts_match(q: str, mode: str) -> str | None:
    from portal.search.query import parse

    p = parse(q)
    parts = []
    for phrase in p.phrases:
        parts.append('"' + phrase.replace('"', "") + '"')
    for word in p.text.split():
        if mode == "jieba":
            for w in _jieba_text(word).split():
                parts.append('"' + w.replace('"', "") + '"')
        else:
            parts.append('"' + word.replace('"', "") + '"')
    return " AND ".join(parts) or None


def query_fts(path: str, queries: list[str], mode: str) -> dict:
    """FTS5 doing what the search page does: the first 20 by bm25 (acl filter), snippets for those
    20 only, and the total and facet counts grouped in SQL."""
    con = sqlite3.connect(path)
    times, hits_found = [], 0
    top_sql = ("SELECT d.rowid FROM docs d JOIN meta m ON m.id = d.rowid "
               "WHERE docs MATCH ? AND m.acl IN ('all') ORDER BY d.rank LIMIT 20")
    snippet_sql = ("SELECT rowid, title, snippet(docs, 1, '<mark>', '</mark>', '…', 24) FROM docs "
                   "WHERE docs MATCH ? AND rowid IN ({})")
    facet_sql = ("SELECT m.kind, m.customer, m.year, count(*) FROM docs d JOIN meta m ON m.id = d.rowid "
                 "WHERE docs MATCH ? AND m.acl IN ('all') GROUP BY m.kind, m.customer, m.year")
    for q in queries:
        match = fts_match(q, mode)
        t0 = time.perf_counter()
        rows = []
        if match:
            try:
                ids = [r[0] for r in con.execute(top_sql, (match,))]
                if ids:
                    rows = con.execute(snippet_sql.format(",".join("?" * len(ids))), (match, *ids)).fetchall()
                groups = con.execute(facet_sql, (match,)).fetchall()
                sum(g[3] for g in groups)
            except sqlite3.OperationalError:
                rows = []
        times.append((time.perf_counter() - t0) * 1000)
        hits_found += bool(rows)
    con.close()
    return {"p50": pct(times, 50), "p95": pct(times, 95), "p99": pct(times, 99), "with_hits": hits_found}


# ---------------------------------------------------------------- save-to-findable through the portal
def _bench_model():
    from sqlalchemy import Integer, String, Text
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class BenchDoc(Base):
        __tablename__ = "bench_doc"
        __audit__ = False
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        title: Mapped[str] = mapped_column(String(300))
        body: Mapped[str] = mapped_column(Text)
        customer: Mapped[str] = mapped_column(String(20))
        acl: Mapped[str] = mapped_column(String(100))

    return BenchDoc


def save_to_findable(args) -> dict:
    n, seed, saves, workdir = args
    from sqlalchemy import insert

    from portal import create_app
    from portal import search
    from portal.extensions import db
    from portal.search.registry import register_kind

    BenchDoc = _bench_model()
    register_kind("benchdoc", BenchDoc, document=lambda d: {"title": d.title, "body": d.body, "customer": d.customer},
                  url=lambda d: "", acl=lambda d: d.acl.split())
    work = Path(workdir)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "INSTANCE_PATH": str(work / "instance"),
                      "DATABASE_URL": f"sqlite:///{work / 'bench.db'}", "SEARCH_INDEX_DIR": str(work / "index")})
    gc.freeze()  # as wsgi.py does

    class Admin:
        id = 1
        is_authenticated = True
        is_manager = True

        def acl_terms(self):
            return ["all", "role:admin"]

    out = {}
    with app.app_context():
        db.create_all()
        BenchDoc.metadata.create_all(db.engine)
        docs = make_corpus(n, seed)
        with db.engine.begin() as conn:
            conn.execute(insert(BenchDoc.__table__), [
                {"title": d["title"], "body": d["body"], "customer": d["customer"], "acl": d["acl"]} for d in docs])
        t0 = time.perf_counter()
        search.get_store().rebuild(procs=rebuild_procs())
        out["portal_rebuild_rate"] = n / (time.perf_counter() - t0)
        delays, after = [], []
        common = ["储罐", "heating", "码头 berth", "预防措施"]
        user = Admin()
        for word in common:  # the portal has been in use: these were searched before the saves
            with app.test_request_context():
                search.search(word, user=user)
        for i in range(saves):
            word = f"zqx{seed}x{i}marker"
            t0 = time.perf_counter()
            db.session.add(BenchDoc(title=f"Saved record {i}", body=f"{word} 储罐 heating", customer="SINO", acl="all"))
            db.session.commit()
            while True:
                with app.test_request_context():
                    if search.search(word, user=user).total:
                        break
                if time.perf_counter() - t0 > 30:
                    break
            delays.append((time.perf_counter() - t0) * 1000)
            t1 = time.perf_counter()  # then a common word, on the searcher the save made new
            with app.test_request_context():
                search.search(common[i % len(common)], user=user)
            after.append((time.perf_counter() - t1) * 1000)
        out.update(save_p50=pct(delays, 50), save_max=max(delays), after_p50=pct(after, 50), after_max=max(after))
    return out


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--queries", type=int, default=240)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--saves", type=int, default=20)
    ap.add_argument("--skip-app", action="store_true", help="skip the save-to-findable measurement")
    ap.add_argument("--skip-variants", action="store_true", help="skip the one-writer and every-character builds")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--long", type=int, default=0,
                    help="add this many long documents (20,000 to 300,000 characters) beside the records")
    ap.add_argument("--skip-default-highlighter", action="store_true",
                    help="leave out the row of Whoosh's default highlighter (it re-tokenizes every hit's text: "
                         "minutes a query with long documents)")
    ap.add_argument("--skip-chars", action="store_true", help="skip the chars=True build and its pinpoint row")
    ap.add_argument("--skip-fts", action="store_true", help="skip the SQLite FTS5 builds and rows")
    ap.add_argument("--reuse", action="store_true",
                    help="no builds: measure memory and queries on the indexes an earlier run left in --workdir")
    ap.add_argument("--no-fast-path", action="store_true",
                    help="Whoosh's own writer and readers only (as with PORTAL_SEARCH_FAST_PATH=0)")
    args = ap.parse_args()
    if args.no_fast_path:
        os.environ["PORTAL_SEARCH_FAST_PATH"] = "0"  # before the search layer loads, here and in every process
    if args.long:
        os.environ["SEARCH_BENCH_LONG"] = str(args.long)  # read by bench_corpus, here and in every process
    work = Path(args.workdir or tempfile.mkdtemp(prefix="search-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cache_dir = str(work / "instance")
    Path(cache_dir).mkdir(exist_ok=True)
    n = args.records
    queries = make_queries(args.queries, args.seed)
    other = make_queries(args.queries, args.seed, draw=2)  # what a running portal served before
    print(f"search benchmark: {n} records and {args.long} long documents, {len(queries)} queries, seed {args.seed}, "
          f"{os.cpu_count()} CPU(s)")
    print(f"work dir: {work}")
    sample = make_corpus(min(n, 200), args.seed)
    avg_chars = statistics.mean(len(d["body"]) for d in sample)
    print(f"corpus: complaint/minutes/regulation-like records, ~{avg_chars:.0f} characters of mixed Chinese/English each")

    rows = []
    procs = rebuild_procs()
    ours = tri = jb = None
    if args.reuse:  # the indexes of an earlier run in --workdir: measure memory and queries only
        if not (work / "whoosh").is_dir():
            raise SystemExit(f"--reuse: no index in {work / 'whoosh'}")
        print(f"reusing the indexes in {work}: Whoosh {dir_size(work / 'whoosh') / 1e6:.1f} MB")
    else:
        ours = in_fresh_process(build_whoosh, (str(work / "whoosh"), n, args.seed, procs, "edge", cache_dir))
        rows.append((f"Whoosh, our analyzer, {procs} writer process(es) (rebuild)", ours))
        if not args.skip_variants:
            if procs > 1:
                one = in_fresh_process(build_whoosh, (str(work / "whoosh-1"), n, args.seed, 1, "edge", cache_dir))
                rows.append(("Whoosh, our analyzer, 1 writer", one))
            every = in_fresh_process(build_whoosh, (str(work / "whoosh-all"), n, args.seed, procs, "all", cache_dir))
            rows.append((f"Whoosh, every character alone too, {procs} process(es)", every))
        if not args.skip_chars:
            chars = in_fresh_process(build_whoosh, (str(work / "whoosh-chars"), n, args.seed, procs, "edge", cache_dir,
                                                    True))
            rows.append((f"Whoosh, with character offsets (chars=True), {procs} process(es)", chars))
        if not args.skip_fts:
            tri = in_fresh_process(build_fts, (str(work / "fts-trigram.db"), n, args.seed, "trigram", cache_dir))
            rows.append(("SQLite FTS5 trigram", tri))
            jb = in_fresh_process(build_fts, (str(work / "fts-jieba.db"), n, args.seed, "jieba", cache_dir))
            rows.append(("SQLite FTS5 over jieba-segmented text", jb))

        print("\n== build")
        print(f"{'engine':60} {'records/s':>10} {'seconds':>8} {'size MB':>8} {'peak MB':>8}")
        for name, r in rows:
            print(f"{name:60} {r['rate']:10.0f} {r['seconds']:8.1f} {r['size_mb']:8.1f} {r['peak_mb']:8.0f}")
        if jb:
            print(f"index size ours / FTS5 over jieba: {ours['size_mb'] / jb['size_mb']:.2f}x")
        print(f"ours indexed {ours['chars_per_s'] / 1000:.0f}k characters/s")
    mem = in_fresh_process(search_memory, (str(work / "whoosh"), queries, other, cache_dir))
    print(f"memory of one portal process (resident, /proc/self/status): {mem['base_mb']:.0f} MB before opening "
          f"the index, {mem['after_mb']:.0f} MB after {3 * len(queries)} queries with snippets, peak "
          f"{mem['peak_mb']:.0f} MB; search's share {mem['peak_mb'] - mem['base_mb']:.0f} MB, four workers "
          f"{4 * (mem['peak_mb'] - mem['base_mb']):.0f} MB")

    from portal.search import analysis

    analysis.configure_jieba(cache_dir)
    analysis.load_jieba()
    gc.freeze()  # as the portal process does once started (wsgi.py)
    index_dir = str(work / "whoosh")
    runs = [
        ("Whoosh, no snippets", dict(mode="none")),
        ("Whoosh, snippets marked from stored text (portal)", dict(mode="ours")),
        ("Whoosh, default highlighter (re-tokenizes)", dict(mode="default")),
        ("Whoosh, portal snippets, after 240 other queries", dict(mode="ours", warm=other)),
        ("Whoosh, portal snippets, after these same queries", dict(mode="ours", warm=queries)),
        ("Whoosh, portal snippets, searcher opened anew per query", dict(mode="ours", reuse=False, warm=queries)),
        ("Whoosh, portal snippets, new searcher after each save",  # last: the saves change the index
         dict(mode="ours", warm=queries, saves=True)),
    ]
    if args.skip_default_highlighter:
        runs = [(label, how) for label, how in runs if how["mode"] != "default"]
    qrows = []
    for label, how in runs:
        qrows.append((label, query_whoosh(index_dir, queries, **how)))
        print(f"  measured: {label}", flush=True)
    if (work / "whoosh-chars").is_dir():
        qrows.insert(2, ("Whoosh, pinpoint highlights, chars=True index",
                         query_whoosh(str(work / "whoosh-chars"), queries, mode="pinpoint")))
    for label, name in (("trigram", "fts-trigram.db"), ("jieba-segmented", "fts-jieba.db")):
        if (work / name).is_file():
            qrows.append((f"SQLite FTS5 {label}, snippets", query_fts(str(work / name), queries, label.split("-")[0])))
    print("\n== queries: acl filter, total, facet counts, first page of 20 (highlighted where stated), milliseconds")
    print(f"{'engine':60} {'p50':>7} {'p95':>7} {'p99':>7} {'queries with hits':>18}")
    for name, r in qrows:
        print(f"{name:60} {r['p50']:7.1f} {r['p95']:7.1f} {r['p99']:7.1f} {r['with_hits']:>12}/{len(queries)}")

    q = dict(qrows)
    ours_q = q["Whoosh, snippets marked from stored text (portal)"]
    print("\n== ratios ours / FTS5 (lower is better for latency, higher for build rate)")
    for label, fts_b, row in (("trigram", tri, "SQLite FTS5 trigram, snippets"),
                              ("jieba", jb, "SQLite FTS5 jieba-segmented, snippets")):
        if row in q:
            rate = f"   build rate {ours['rate'] / fts_b['rate']:.2f}x" if ours and fts_b else ""
            print(f"FTS5 {label:8}  p95 with highlights {ours_q['p95'] / q[row]['p95']:.2f}x{rate}")

    if not args.skip_app:
        app = in_fresh_process(save_to_findable, (n, args.seed, args.saves, str(work / "app")))
        print("\n== through the portal (SQLite database, change log, after-commit sync)")
        print(f"rebuild from the database (flask search rebuild path): {app['portal_rebuild_rate']:.0f} records/s")
        print(f"save to findable: p50 {app['save_p50']:.0f} ms, max {app['save_max']:.0f} ms over {args.saves} saves")
        print(f"a common word searched right after each save: p50 {app['after_p50']:.0f} ms, "
              f"max {app['after_max']:.0f} ms")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"records": n}, ensure_ascii=False))


if __name__ == "__main__":
    main()
