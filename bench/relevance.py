"""Measured relevance: the department's own queries over the demonstration terminal and the public
regulation corpus, with the records each must find in the top 5.

    python bench/relevance.py [--queries bench/relevance.tsv] [--corpus DIR] [--no-expand] [--verbose]

The queries are data: bench/relevance.tsv, one a line, tab-separated: the query, the records it must find
(separated by spaces), a note. A record is named by its search key (`complaint:19`, `inquiry:3`,
`moc:1`), or `kb:<slug>` (a knowledge page), `cust:<CODE>` (a customer), `ar:<reference>` (an archive
record). Lines starting with # are comments.

It loads the demonstration terminal (as `make run` does) and every regulation of the corpus into a
temporary folder, builds the index and runs each query as the administrator, then prints per query
where its records came and, over all queries:
- hit@1: the first result is one of the query's records;
- hit@5: all of the query's records (up to five) are in the first five;
- MRR: the mean of 1 / the rank of the first of the query's records (0 when not in the first 20).
A query that finds nothing but offers "Did you mean …?" is counted with the results of the suggestion
(one click, as staff would).
"""
from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_TSV = Path(__file__).with_name("relevance.tsv")
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
DEPTH = 20


def read_queries(path: Path) -> list[tuple[str, list[str], str]]:
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row or not row[0].strip() or row[0].startswith("#"):
                continue
            query, expected = row[0].strip(), (row[1].split() if len(row) > 1 else [])
            note = row[2].strip() if len(row) > 2 else ""
            if query.lower() == "query":
                continue  # the header
            out.append((query, expected, note))
    return out


def load_terminal(folder: Path, corpus: Path | None):
    from portal import create_app
    from portal.extensions import db

    config = {
        "TESTING": True, "SECRET_KEY": "relevance", "INSTANCE_PATH": str(ROOT / "instance"),
        "DATABASE_URL": f"sqlite:///{folder / 'portal.db'}", "SEARCH_INDEX_DIR": str(folder / "index"),
        "ARCHIVE_DIR": str(folder / "archive"), "KNOWLEDGE_DIR": str(folder / "knowledge"),
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "SEARCH_SYNC_ON_COMMIT": False,
    }
    if corpus is not None:
        config["KNOWLEDGE_CORPUS_DIR"] = str(corpus)
    for key in ("ARCHIVE_DIR", "KNOWLEDGE_DIR"):
        Path(config[key]).mkdir(parents=True, exist_ok=True)
    for page in (ROOT / "knowledge").glob("*.md"):
        shutil.copy(page, Path(config["KNOWLEDGE_DIR"]) / page.name)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        if result.exit_code != 0:
            raise SystemExit(result.output)
        if corpus is not None and corpus.is_dir():
            _import_corpus(corpus)
    return app


def _import_corpus(corpus: Path) -> None:
    """Every regulation of the corpus as a knowledge page (the demo loads a selection)."""
    from portal.blueprints.knowledge import services
    from portal.blueprints.knowledge.models import Page
    from portal.extensions import db

    have = set(db.session.scalars(db.select(Page.slug)))
    for folder in ("regulations-zh", "regulations-en"):
        for path in sorted((corpus / folder).glob("*.md")):
            if path.stem in have:
                continue
            services.import_text(path.read_text(encoding="utf-8"), default_slug=path.stem, kind="regulation",
                                 source=path.name)
    db.session.commit()


def resolve(token: str) -> str | None:
    """The search key of a record named in the TSV."""
    from portal.extensions import db

    prefix, _, value = token.partition(":")
    if prefix == "kb":
        from portal.blueprints.knowledge.models import Page

        page = db.session.scalar(db.select(Page).where(Page.slug == value))
        return f"knowledge:{page.id}" if page else None
    if prefix == "cust":
        from portal.blueprints.customers.models import Customer

        customer = db.session.scalar(db.select(Customer).where(Customer.code == value))
        return f"customer:{customer.id}" if customer else None
    if prefix == "ar":
        from portal.blueprints.archive.models import ArchiveRecord

        record = db.session.scalar(db.select(ArchiveRecord).where(ArchiveRecord.reference == value))
        return f"record:{record.id}" if record else None
    return token


def measure(app, queries, *, expand: bool = True, verbose: bool = False) -> dict:
    from portal import search
    from portal.extensions import db
    from portal.models import User

    hit1 = hit5 = 0
    rr = 0.0
    misses = []
    with app.test_request_context():
        admin = db.session.scalar(db.select(User).where(User.username == "admin"))
        for query, expected, note in queries:
            keys = [resolve(t) for t in expected]
            if None in keys:
                misses.append((query, f"unknown record in {expected}"))
                continue
            results = search.search(query, user=admin, per_page=DEPTH, expand=expand)
            if not results.total and results.suggestion:  # a typo: one click on "Did you mean"
                results = search.search(results.suggestion, user=admin, per_page=DEPTH, expand=expand)
            found = [h.key for h in results.hits]
            ranks = [found.index(k) + 1 if k in found else None for k in keys]
            first = min((r for r in ranks if r), default=None)
            ok1 = bool(found) and found[0] in keys
            ok5 = all(r is not None and r <= 5 for r in ranks[:5])
            hit1 += ok1
            hit5 += ok5
            rr += 1.0 / first if first else 0.0
            if verbose or not ok5:
                print(f"{'ok ' if ok5 else 'MISS'}\t{query}\t{ranks}\t{found[:5]}\t{note}")
            if not ok5:
                misses.append((query, ranks))
    n = len(queries)
    return {"queries": n, "hit@1": hit1 / n, "hit@5": hit5 / n, "MRR": rr / n, "misses": misses}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=Path, default=DEFAULT_TSV)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-expand", action="store_true", help="glossary synonyms off")
    parser.add_argument("--verbose", action="store_true", help="print every query, not only misses")
    args = parser.parse_args(argv)
    queries = read_queries(args.queries)
    corpus = args.corpus if args.corpus.is_dir() else None
    if corpus is None:
        print(f"(the corpus is not at {args.corpus}: demo data only)")
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp:
        app = load_terminal(Path(tmp), corpus)
        with app.app_context():
            from portal import search

            search.rebuild(procs=1)
            figures = measure(app, queries, expand=not args.no_expand, verbose=args.verbose)
    print(f"queries {figures['queries']}  hit@1 {figures['hit@1']:.1%}  hit@5 {figures['hit@5']:.1%}  "
          f"MRR {figures['MRR']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
