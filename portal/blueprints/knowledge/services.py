"""Knowledge domain logic: services flush, routes and CLI commands commit.

Dates that depend on "today" take it as a parameter (an injectable clock); routes pass local_today().
"""
from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import frontmatter
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ...delegation import refuse_own
from ...extensions import db
from ...models import Department, User
from ...outbox import path_for, queue_message
from ...storage import atomic_write, safe_path, sha256_bytes
from ...pdf import render_pdf_anywhere
from ...services import ServiceError, file_record, has_filer
from ...timeutil import local_now, to_local, utcnow
from .models import (
    APPROVED, DRAFT, IN_REVIEW, KINDS, PUBLISHED, SUPERSEDED, Acknowledgement, Announcement,
    AnnouncementRecipient, Citation, Page, QuizQuestion, Revision, StepProgress, TrainingAssignment, TrainingPlan,
    TrainingStep, is_approver, is_editor,
)


log = logging.getLogger(__name__)


class KnowledgeError(ServiceError):
    """A request the knowledge base refuses (wrong state, wrong role)."""


# --- slugs, links, text ---------------------------------------------------------------------------

_SLUG_STRIP = re.compile(r"[^\w\u4e00-\u9fff-]+")
WIKI_RE = re.compile(r"\[\[([^\[\]|\n]+?)(?:\|[^\[\]\n]+?)?\]\]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip().lower()
    text = _SLUG_STRIP.sub("-", text.replace("_", "-"))
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return text[:120] or "page"


def unique_slug(base: str) -> str:
    slug, n = slugify(base), 2
    candidate = slug
    while db.session.scalar(db.select(Page.id).filter_by(slug=candidate)) is not None:
        candidate = f"{slug}-{n}"[:120]
        n += 1
    return candidate


def guess_lang(text: str) -> str:
    sample = (text or "")[:4000]
    letters = sum(1 for ch in sample if ch.isalpha())
    cjk = len(_CJK.findall(sample))
    return "zh" if letters and cjk / letters > 0.2 else "en"


def page_by_slug(slug: str) -> Page | None:
    return db.session.scalar(db.select(Page).filter_by(slug=slug))


def link_resolver(user=None):
    """[[slug]] -> URL of the page when it exists and the user may see it."""

    def resolve(slug: str) -> str | None:
        page = page_by_slug(slugify(slug)) or page_by_slug(slug)
        if page is None or (user is not None and not page.can_view(user)):
            return None
        return url_for("knowledge.view", slug=page.slug)

    return resolve


def wiki_slugs(body: str) -> list[str]:
    return [m.group(1).strip() for m in WIKI_RE.finditer(body or "")]


# --- revisions and approval -----------------------------------------------------------------------


def _next_number(page: Page) -> int:
    return (page.revisions[-1].number + 1) if page.revisions else 1


def _author_fields(user, author_name: str | None) -> dict:
    if user is not None and getattr(user, "id", None):
        return {"author_id": user.id, "author_name": user.username}
    return {"author_id": None, "author_name": author_name or "system"}


def update_citations(page: Page, extra_slugs=()) -> None:
    """Citations = [[slug]] links to regulation pages in the visible body, plus explicit ones."""
    body = page.current_revision.body if page.current_revision else (page.latest_revision.body if page.latest_revision else "")
    wanted: dict[int, Page] = {}
    for slug in list(wiki_slugs(body)) + list(extra_slugs):
        target = page_by_slug(slug) or page_by_slug(slugify(slug))
        if target is not None and target.kind == "regulation" and target.id != page.id:
            wanted[target.id] = target
    existing = {c.target_id: c for c in page.citations}
    for tid, cit in existing.items():
        if tid not in wanted:
            page.citations.remove(cit)
    for tid, target in wanted.items():
        if tid not in existing:
            page.citations.append(Citation(target=target))


def _publish(page: Page, rev: Revision, *, status: str) -> None:
    previous = page.current_revision
    if previous is not None and previous is not rev and previous.status in (APPROVED, PUBLISHED):
        previous.status = SUPERSEDED
    rev.status = status
    page.current_revision = rev
    page.title = rev.title
    page.title_zh = rev.title_zh


def add_revision(page: Page, *, title: str, body: str, user=None, note: str = "", title_zh: str = "",
                 author_name: str | None = None, status: str | None = None, version: str = "",
                 cites=()) -> Revision:
    """Every save is a revision. Procedures save drafts; regulations and guides publish at once."""
    if page.kind == "procedure":
        status = status or DRAFT
        for r in page.revisions:
            if r.status == IN_REVIEW:
                r.status = DRAFT  # a new edit takes an open review back to draft
    else:
        status = status or PUBLISHED
    rev = Revision(
        number=_next_number(page), title=(title or page.title).strip(), title_zh=(title_zh or "").strip(),
        body=body or "", note=(note or "")[:500], status=DRAFT, version=version or page.version,
        content_sha=sha256_bytes((body or "").encode("utf-8")), **_author_fields(user, author_name),
    )
    page.revisions.append(rev)
    db.session.add(rev)
    if status in (PUBLISHED, APPROVED):
        _publish(page, rev, status=status)
        if status == APPROVED:
            rev.approved_at = utcnow()
            rev.approved_by_id = getattr(user, "id", None) if user is not None and is_approver(user) else None
    else:
        rev.status = status
        if status == IN_REVIEW:
            rev.submitted_at = utcnow()
    if page.kind != "procedure" and not page.title:
        page.title = rev.title
    if not page.title:
        page.title = rev.title
    db.session.flush()
    update_citations(page, cites)
    db.session.flush()
    return rev


def create_page(*, kind: str, title: str, body: str = "", user=None, slug: str | None = None,
                title_zh: str = "", note: str = "", **fields) -> Page:
    if kind not in KINDS:
        raise KnowledgeError(f"unknown kind {kind!r}")
    page = Page(
        kind=kind, slug=unique_slug(slug or title), title=title.strip(), title_zh=(title_zh or "").strip(),
        lang=fields.pop("lang", None) or guess_lang(title + body),
        created_by_id=getattr(user, "id", None),
    )
    for key, value in fields.items():
        setattr(page, key, value)
    db.session.add(page)
    db.session.flush()
    add_revision(page, title=title, title_zh=title_zh, body=body, user=user, note=note or "Created")
    return page


def submit_for_review(page: Page, user) -> Revision:
    if page.kind != "procedure":
        raise KnowledgeError("only procedures go through review")
    if not is_editor(user):
        raise KnowledgeError("only editors may submit a procedure for review")
    rev = page.pending_revision
    if rev is None or rev.status != DRAFT:
        raise KnowledgeError(_l("There is no draft to submit."))
    rev.status = IN_REVIEW
    rev.submitted_at = utcnow()
    rev.review_comment = ""
    db.session.flush()
    return rev


CHANGES = ("minor", "major")


def next_version(version: str, change: str = "minor") -> str:
    """The version after `version`: a minor change 1.1 -> 1.2, a major change 1.1 -> 2.0."""
    m = re.match(r"^\s*(\d+)(?:\.(\d+))?", version or "")
    if not m:
        return "1.0"
    major, minor = int(m.group(1)), int(m.group(2) or 0)
    return f"{major + 1}.0" if change == "major" else f"{major}.{minor + 1}"


def approve(page: Page, user, *, today: date, reannounce: bool = False, change: str = "minor") -> Revision:
    """A cs_manager approves the revision in review: it becomes the current version, the old one is superseded.

    The approver says whether it is a minor change (1.1 -> 1.2) or a major one (1.1 -> 2.0); the first
    approval keeps the page's version (1.0 when it has none)."""
    if not is_approver(user):
        raise KnowledgeError(_l("Only a customer service manager may approve."))
    if change not in CHANGES:
        raise KnowledgeError(f"unknown kind of change {change!r}")
    rev = page.pending_revision
    if rev is None or rev.status != IN_REVIEW:
        raise KnowledgeError(_l("There is no revision in review."))
    refuse_own(user, rev.author_id)
    previous = page.current_revision
    _publish(page, rev, status=APPROVED)
    rev.approved_by_id = user.id
    rev.approved_at = utcnow()
    page.version = next_version(page.version, change) if previous is not None else (page.version or "1.0")
    rev.version = page.version
    page.next_review_date = add_months(today, page.review_months or 12)
    page.review_reason = ""
    db.session.flush()
    update_citations(page)
    flag_rereads(page, rev)
    if reannounce and previous is not None:
        reannounce_page(page, rev, user, today=today)
    db.session.flush()
    return rev


def send_back(page: Page, user, comment: str) -> Revision:
    if not is_approver(user):
        raise KnowledgeError(_l("Only a customer service manager may send a procedure back."))
    rev = page.pending_revision
    if rev is None or rev.status != IN_REVIEW:
        raise KnowledgeError(_l("There is no revision in review."))
    rev.status = DRAFT
    rev.review_comment = comment.strip()
    db.session.flush()
    return rev


def revert(page: Page, revision: Revision, user) -> Revision:
    """Revert = a new revision with the old content (a draft for procedures)."""
    if revision.page_id != page.id:
        raise KnowledgeError("revision of another page")
    return add_revision(page, title=revision.title, title_zh=revision.title_zh, body=revision.body, user=user,
                        note=f"Reverted to revision {revision.number}")


def update_page_fields(page: Page, **fields) -> None:
    for key, value in fields.items():
        setattr(page, key, value)
    db.session.flush()


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = min(d.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31,
                      31, 30, 31, 30, 31][month - 1])
    return date(year, month, day)


# --- diff -----------------------------------------------------------------------------------------


@dataclass
class DiffRow:
    tag: str  # equal / insert / delete / replace
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def diff_rows(old: str, new: str, *, context: int | None = 3) -> list[DiffRow | None]:
    """Side-by-side rows; None marks skipped unchanged lines."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    groups = matcher.get_grouped_opcodes(context) if context is not None else [matcher.get_opcodes()]
    rows: list[DiffRow | None] = []
    for gi, group in enumerate(groups):
        if gi:
            rows.append(None)
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for k in range(i2 - i1):
                    rows.append(DiffRow("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]))
            else:
                n = max(i2 - i1, j2 - j1)
                for k in range(n):
                    left = a[i1 + k] if i1 + k < i2 else None
                    right = b[j1 + k] if j1 + k < j2 else None
                    row_tag = "replace" if left is not None and right is not None else ("delete" if right is None else "insert")
                    rows.append(DiffRow(row_tag, i1 + k + 1 if left is not None else None, left or "",
                                        j1 + k + 1 if right is not None else None, right or ""))
    return rows


def inline_diff(old: str, new: str, *, context: int = 3) -> list[tuple[str, str]]:
    """Unified (inline) diff as (sign, line) pairs: ' ', '-', '+', or '@' for a hunk header."""
    out = []
    for line in difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), lineterm="", n=context):
        if line.startswith(("---", "+++")):
            continue
        out.append((line[0], line[1:] if line[0] in " +-" else line))
    return out


# --- reviews ---------------------------------------------------------------------------------------


def due_for_review(today: date, within_days: int = 30):
    """Procedures whose next review date is within `within_days` (overdue ones first)."""
    return db.session.scalars(due_for_review_select(today, within_days)).all()


def due_for_review_select(today: date, within_days: int = 30):
    limit = today + timedelta(days=within_days)
    return (db.select(Page).filter(Page.kind == "procedure", Page.next_review_date.is_not(None),
                                   Page.next_review_date <= limit).order_by(Page.next_review_date, Page.title, Page.id))


def due_for_review_count(today: date, within_days: int = 30) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(
        due_for_review_select(today, within_days).order_by(None).subquery()))


def citing_pages(regulation: Page) -> list[Page]:
    return db.session.scalars(
        db.select(Page).join(Citation, Citation.page_id == Page.id).filter(Citation.target_id == regulation.id)
        .order_by(Page.title)
    ).all()


def open_review(page: Page, *, reason: str, today: date, user=None) -> None:
    """Make a procedure due for review now, with the reason shown on its page."""
    if page.kind != "procedure":
        raise KnowledgeError("only procedures have reviews")
    page.next_review_date = min(page.next_review_date or today, today)
    page.review_reason = reason[:1000]
    db.session.flush()


# --- import / export ------------------------------------------------------------------------------

_DATE_ZH = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_DOCNO_ZH = re.compile(r"(?:中华人民共和国)?((?:国务院令|主席令)第[\d一二三四五六七八九十百零〇]+号)")
_CFR = re.compile(r"^(\d+)\s+CFR\s+((?:Part\s+)?[\d.]+)")
_CFR_AUTHORITY = {"29": "US Department of Labor, OSHA", "33": "US Coast Guard", "40": "US Environmental Protection Agency"}

PAGE_FIELDS = ("owner_department", "version", "next_review_date", "review_months", "authority", "doc_number",
               "jurisdiction", "issued_on", "effective_on", "reg_status", "source_url", "summary", "tags", "lang",
               "title_zh")
_FM_NAMES = {"next_review_date": "next_review", "issued_on": "issued", "effective_on": "effective",
             "reg_status": "status"}


def _as_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _as_str(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v).strip() for v in value if str(v).strip())
    return str(value).strip()


def _split_title(body: str) -> tuple[str, str]:
    """The first `# heading` as title and the body without it."""
    lines = body.splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if line.startswith("# "):
            rest = lines[i + 1:]
            while rest and not rest[0].strip():
                rest = rest[1:]
            return line[2:].strip(), "\n".join(rest)
        break
    return "", body


def _regulation_defaults(title: str, body: str) -> dict:
    out: dict = {}
    info = body.split("<!-- INFO END -->", 1)[0] if "<!-- INFO END -->" in body else ""
    m = _CFR.match(title)
    if m:
        out["doc_number"] = f"{m.group(1)} CFR {m.group(2)}"
        out["authority"] = _CFR_AUTHORITY.get(m.group(1), "US federal government")
        out["jurisdiction"] = "foreign"
    elif _CJK.search(title):
        out["jurisdiction"] = "national"
        if "全国人民代表大会常务委员会" in info:
            out["authority"] = "全国人民代表大会常务委员会"
        elif "国务院" in info or "国务院" in title:
            out["authority"] = "国务院"
        docno = _DOCNO_ZH.search(info)
        if docno:
            out["doc_number"] = docno.group(1)
        dates = [date(int(y), int(mo), int(d)) for y, mo, d in _DATE_ZH.findall(info)]
        if dates:
            out["issued_on"] = dates[0]
            out["effective_on"] = dates[-1]
        lines = [ln.strip() for ln in info.splitlines() if ln.strip() and not ln.startswith("#")]
        if lines:
            out["summary"] = "\n".join(lines)
    out.setdefault("reg_status", "in_force")
    return out


@dataclass
class ParsedPage:
    slug: str
    kind: str
    title: str
    body: str
    status: str  # revision status wanted
    fields: dict
    cites: list[str]
    superseded_by: str


def parse_markdown(text: str, *, default_slug: str, kind: str | None = None) -> ParsedPage:
    post = frontmatter.loads(text.lstrip("\ufeff"))
    meta = dict(post.metadata or {})
    body = post.content.replace("\r\n", "\n")
    title = _as_str(meta.get("title"))
    if not title:
        title, body = _split_title(body)
    title = title or default_slug
    kind = kind or _as_str(meta.get("kind")) or "guide"
    if kind not in KINDS:
        raise KnowledgeError(f"unknown kind {kind!r}")
    slug = slugify(_as_str(meta.get("slug")) or default_slug)
    fields: dict = {}
    for field in PAGE_FIELDS:
        name = _FM_NAMES.get(field, field)
        if field == "reg_status" and kind != "regulation":
            continue
        if name not in meta:
            continue
        value = meta[name]
        if field in ("next_review_date", "issued_on", "effective_on"):
            fields[field] = _as_date(value)
        elif field == "review_months":
            try:
                fields[field] = int(value)
            except (TypeError, ValueError):
                pass
        else:
            fields[field] = _as_str(value)
    if kind == "regulation":
        for key, value in _regulation_defaults(title, body).items():
            fields.setdefault(key, value)
    fields.setdefault("lang", guess_lang(title + "\n" + body))
    status = _as_str(meta.get("status")).lower().replace(" ", "_").replace("-", "_")
    if kind == "procedure":
        status = status if status in (DRAFT, IN_REVIEW, APPROVED) else (DRAFT if not meta else APPROVED)
    else:
        status = PUBLISHED
    cites = meta.get("cites") or []
    if isinstance(cites, str):
        cites = [c.strip() for c in cites.split(",") if c.strip()]
    return ParsedPage(slug, kind, title, body.strip("\n") + "\n", status, fields, [str(c) for c in cites],
                      _as_str(meta.get("superseded_by")))


def _reference_revision(page: Page, parsed: ParsedPage) -> Revision | None:
    """What an imported file is compared with: the approved version for an approved procedure file
    (a newer draft in the portal does not make an unchanged file "changed"), else the latest revision."""
    if page.kind == "procedure" and parsed.status == APPROVED and page.current_revision is not None:
        return page.current_revision
    return page.latest_revision


def _differs(page: Page, parsed: ParsedPage) -> bool:
    latest = _reference_revision(page, parsed)
    if latest is None or latest.body != parsed.body or latest.title != parsed.title:
        return True
    if page.kind == "procedure" and latest.status != parsed.status and not (
        parsed.status == APPROVED and latest.status == APPROVED
    ):
        return True
    for key, value in parsed.fields.items():
        if (getattr(page, key) or None) != (value or None):
            return True
    if sorted(c.target.slug for c in page.citations) != sorted(
        p.slug for p in (page_by_slug(s) for s in parsed.cites) if p is not None and p.kind == "regulation"
    ) and parsed.cites:
        return True
    if (page.superseded_by.slug if page.superseded_by else "") != parsed.superseded_by:
        return True
    return False


def import_text(text: str, *, default_slug: str, kind: str | None = None, user=None,
                source: str = "") -> tuple[Page, str]:
    """Create or update one page; returns (page, "created" | "updated" | "unchanged")."""
    parsed = parse_markdown(text, default_slug=default_slug, kind=kind)
    page = page_by_slug(parsed.slug)
    note = f"Imported from {source}" if source else "Imported"
    if page is None:
        fields = dict(parsed.fields)
        page = Page(kind=parsed.kind, slug=parsed.slug, title=parsed.title, created_by_id=getattr(user, "id", None))
        for key, value in fields.items():
            setattr(page, key, value if value is not None else getattr(page, key))
        db.session.add(page)
        db.session.flush()
        action = "created"
    elif not _differs(page, parsed):
        return page, "unchanged"
    else:
        if page.kind != parsed.kind:
            raise KnowledgeError(f"{parsed.slug}: is a {page.kind}, not a {parsed.kind}")
        for key, value in parsed.fields.items():
            setattr(page, key, value)
        action = "updated"
    latest = _reference_revision(page, parsed)
    if latest is not None and latest.body == parsed.body and latest.title == parsed.title and (
        page.kind != "procedure" or latest.status == parsed.status
    ):
        update_citations(page, parsed.cites)  # metadata-only change
    else:
        add_revision(page, title=parsed.title, title_zh=parsed.fields.get("title_zh", ""), body=parsed.body,
                     user=user, note=note, author_name="import", status=parsed.status, cites=parsed.cites)
    if parsed.superseded_by:
        page.superseded_by = page_by_slug(slugify(parsed.superseded_by))
    elif page.superseded_by_id:
        page.superseded_by = None
    db.session.flush()
    return page, action


def markdown_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".md", ".markdown")
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


def import_path(path: str | Path, *, kind: str | None = None, user=None) -> list[tuple[str, str]]:
    """Import a file or a folder of Markdown; regulations first, so procedures can cite them."""
    root = Path(path)
    if not root.exists():
        raise KnowledgeError(f"{path}: no such file or folder")
    files = markdown_files(root)
    parsed_kind = []
    for f in files:
        text = f.read_bytes().decode("utf-8")
        k = kind or (frontmatter.loads(text.lstrip("\ufeff")).metadata or {}).get("kind") or "guide"
        parsed_kind.append((0 if k == "regulation" else 1, f, text))
    results = []
    for _order, f, text in sorted(parsed_kind, key=lambda t: (t[0], str(t[1]))):
        page, action = import_text(text, default_slug=f.stem, kind=kind, user=user, source=f.name)
        results.append((page.slug, action))
    # a second pass resolves citations and superseded-by links to pages imported later
    for _order, f, text in parsed_kind:
        parsed = parse_markdown(text, default_slug=f.stem, kind=kind)
        page = page_by_slug(parsed.slug)
        if page is not None and parsed.cites:
            update_citations(page, parsed.cites)
        if page is not None and parsed.superseded_by and page.superseded_by is None:
            page.superseded_by = page_by_slug(slugify(parsed.superseded_by))
    db.session.flush()
    return results


def import_knowledge_dir(user=None) -> list[tuple[str, str]]:
    """Import the department's own pages from KNOWLEDGE_DIR (through the storage helpers)."""
    root = safe_path(current_app.config["KNOWLEDGE_DIR"])
    if not root.is_dir():
        return []
    return import_path(root, user=user)


def page_front_matter(page: Page) -> dict:
    meta: dict = {"slug": page.slug, "kind": page.kind, "title": (page.current_revision or page.latest_revision).title}
    rev = page.current_revision or page.latest_revision
    if rev.title_zh or page.title_zh:
        meta["title_zh"] = rev.title_zh or page.title_zh
    meta["lang"] = page.lang
    if page.tags:
        meta["tags"] = page.tags
    if page.kind == "procedure":
        meta["status"] = APPROVED if page.current_revision is not None else rev.status
        for key in ("owner_department", "version"):
            if getattr(page, key):
                meta[key] = getattr(page, key)
        if page.next_review_date:
            meta["next_review"] = page.next_review_date
        meta["review_months"] = page.review_months
    if page.kind == "regulation":
        meta["status"] = page.reg_status or "in_force"
        for key in ("authority", "doc_number", "jurisdiction", "source_url", "summary"):
            if getattr(page, key):
                meta[key] = getattr(page, key)
        if page.issued_on:
            meta["issued"] = page.issued_on
        if page.effective_on:
            meta["effective"] = page.effective_on
        if page.superseded_by:
            meta["superseded_by"] = page.superseded_by.slug
    if page.citations:
        meta["cites"] = sorted(c.target.slug for c in page.citations)
    return meta


def export_page(page: Page) -> str:
    rev = page.current_revision or page.latest_revision
    post = frontmatter.Post(rev.body, **page_front_matter(page))
    return frontmatter.dumps(post, sort_keys=False, allow_unicode=True) + "\n"


def export_all(dest: str | Path) -> int:
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    count = 0
    for page in db.session.scalars(db.select(Page).order_by(Page.slug)):
        if page.latest_revision is None:
            continue
        target = safe_path(root, f"{page.slug}.md")
        atomic_write(target, export_page(page).encode("utf-8"))
        count += 1
    return count


# --- announcements --------------------------------------------------------------------------------


def resolve_recipients(*, roles=(), department_ids=(), user_ids=()) -> list[User]:
    users = db.session.scalars(db.select(User).filter(User.active.is_(True)).order_by(User.username)).all()
    roles, department_ids, user_ids = set(roles), set(department_ids), set(user_ids)
    return [u for u in users if (u.role_names & roles) or (u.department_id in department_ids) or (u.id in user_ids)]


def announce(page: Page, user, *, revision: Revision | None = None, roles=(), department_ids=(), user_ids=(),
             due_date: date | None = None, message: str = "") -> Announcement:
    if not is_approver(user):
        raise KnowledgeError("only a customer service manager may announce")
    revision = revision or page.current_revision
    if revision is None or not revision.is_published:
        raise KnowledgeError(_l("Only a published version can be announced."))
    recipients = resolve_recipients(roles=roles, department_ids=department_ids, user_ids=user_ids)
    if not recipients:
        raise KnowledgeError(_l("Nobody matches the chosen roles, departments and users."))
    deps = db.session.scalars(db.select(Department).filter(Department.id.in_(list(department_ids) or [0]))).all()
    ann = Announcement(page=page, revision=revision, message=message.strip(), due_date=due_date,
                       target_roles=",".join(sorted(set(roles))), target_departments=", ".join(d.code for d in deps),
                       created_by_id=user.id)
    for u in recipients:
        ann.recipients.append(AnnouncementRecipient(user_id=u.id))
    db.session.add(ann)
    db.session.flush()
    queue_message(recipients, "announcement", {"title": page.title, "title_zh": page.title_zh, "due": due_date,
                                               "path": path_for("knowledge.view", slug=page.slug)},
                  kind="announcement", record=ann, user=user)
    return ann


def reannounce_page(page: Page, revision: Revision, user, *, today: date) -> Announcement | None:
    """Ask the recipients of the page's last announcement to acknowledge the new version."""
    last = db.session.scalar(
        db.select(Announcement).filter(Announcement.page_id == page.id, Announcement.revision_id != revision.id)
        .order_by(Announcement.id.desc())
    )
    if last is None:
        return None
    due = today + ((last.due_date - last.created_at.date()) if last.due_date else timedelta(days=7))
    return announce(page, user, revision=revision, user_ids=[r.user_id for r in last.recipients], due_date=due,
                    message=f"New version {revision.version or revision.number}: please read it again.")


def acknowledged_at(user_id: int, revision_id: int) -> datetime | None:
    ack = db.session.scalar(db.select(Acknowledgement).filter_by(user_id=user_id, revision_id=revision_id))
    return ack.at if ack else None


def acknowledge(user, revision: Revision) -> Acknowledgement:
    ack = db.session.scalar(db.select(Acknowledgement).filter_by(user_id=user.id, revision_id=revision.id))
    if ack is None:
        ack = Acknowledgement(user_id=user.id, revision_id=revision.id, at=utcnow())
        db.session.add(ack)
        db.session.flush()
    return ack


def to_read(user, *, pages: bool = False) -> list[Announcement]:
    """Announcements to the user whose version the user has not acknowledged yet (``pages``: with their pages)."""
    acked = db.select(Acknowledgement.revision_id).filter(Acknowledgement.user_id == user.id)
    stmt = (
        db.select(Announcement).join(AnnouncementRecipient)
        .filter(AnnouncementRecipient.user_id == user.id, Announcement.revision_id.not_in(acked))
        .order_by(Announcement.due_date.is_(None), Announcement.due_date, Announcement.id)
    )
    if pages:
        stmt = stmt.options(selectinload(Announcement.page))
    return db.session.scalars(stmt).unique().all()


def pending_announcement_for(user, page: Page) -> Announcement | None:
    for ann in to_read(user):
        if ann.page_id == page.id:
            return ann
    return None


def acknowledgement_requested(user, page: Page) -> Announcement | None:
    """The announcement asking the user to acknowledge the page's current version, if not done yet."""
    for ann in to_read(user):
        if ann.page_id == page.id and ann.revision_id == page.current_revision_id:
            return ann
    return None


@dataclass
class AckRow:
    user: User
    acknowledged_at: datetime | None
    overdue: bool


def announcement_status(ann: Announcement, today: date) -> list[AckRow]:
    acks = {a.user_id: a.at for a in db.session.scalars(
        db.select(Acknowledgement).filter(Acknowledgement.revision_id == ann.revision_id))}
    rows = []
    for r in sorted(ann.recipients, key=lambda r: r.user.username):
        at = acks.get(r.user_id)
        rows.append(AckRow(r.user, at, at is None and ann.due_date is not None and ann.due_date < today))
    return rows


def overdue_acknowledgements(today: date) -> list[tuple[Announcement, User]]:
    out = []
    anns = db.session.scalars(db.select(Announcement).filter(Announcement.due_date < today)
                              .order_by(Announcement.due_date)).all()
    for ann in anns:
        for row in announcement_status(ann, today):
            if row.overdue:
                out.append((ann, row.user))
    return out


def announcement_sheets(ann: Announcement, today: date) -> list[tuple[str, list, list]]:
    """The announcement and who acknowledged it, as sheets for the portal's XLSX writer (which keeps
    formula-like text as text and shows times in the portal's time zone)."""
    rev = ann.revision
    facts = [
        ["Page / 页面", ann.page.title],
        ["Page (Chinese) / 页面（中文）", ann.page.title_zh],
        ["Version / 版本", rev.version or str(rev.number)],
        ["Announced / 发布时间", ann.created_at],
        ["Due / 截止", ann.due_date],
    ]
    rows = []
    for row in announcement_status(ann, today):
        status = "acknowledged / 已确认" if row.acknowledged_at else ("overdue / 逾期" if row.overdue else "open / 待确认")
        rows.append([row.user.username, row.user.display_name,
                     row.user.department.code if row.user.department else "", row.acknowledged_at, status])
    header = ["User / 用户", "Name / 姓名", "Department / 部门", "Acknowledged at / 确认时间", "Status / 状态"]
    return [("Acknowledgements", header, rows), ("Announcement", ["Item / 项目", "Value / 内容"], facts)]


# --- training -------------------------------------------------------------------------------------


def create_plan(*, title: str, user, title_zh: str = "", description: str = "", pass_mark: int = 80,
                page_slugs=()) -> TrainingPlan:
    plan = TrainingPlan(title=title.strip(), title_zh=title_zh.strip(), description=description,
                        pass_mark=pass_mark, created_by_id=getattr(user, "id", None))
    db.session.add(plan)
    set_plan_pages(plan, page_slugs)
    db.session.flush()
    return plan


def update_plan(plan: TrainingPlan, *, title: str, title_zh: str = "", description: str = "", pass_mark: int = 80,
                pages=()) -> TrainingPlan:
    plan.title, plan.title_zh = title.strip(), (title_zh or "").strip()
    plan.description, plan.pass_mark = description or "", pass_mark
    set_plan_pages(plan, pages)
    return plan


def set_plan_pages(plan: TrainingPlan, pages) -> None:
    """Order the plan's steps as `pages` (Page rows or slugs); keeps existing steps (and their quizzes)
    for pages kept."""
    by_page = {s.page_id: s for s in plan.steps}
    new_steps, seen = [], set()
    for item in pages:
        page = item if isinstance(item, Page) else page_by_slug(str(item).strip()) if str(item).strip() else None
        if page is None:
            if isinstance(item, Page) or not str(item).strip():
                continue
            raise KnowledgeError(f"no page with the slug {str(item).strip()!r}")
        if page.id in seen:
            continue
        seen.add(page.id)
        step = by_page.get(page.id) or TrainingStep(page=page)
        step.position = len(new_steps)
        new_steps.append(step)
    plan.steps = new_steps
    db.session.flush()


def plan_page_choices(plan: TrainingPlan | None = None, query: str = "") -> list[Page]:
    """Pages a training plan can list: every published page (and those already in the plan), by kind
    and title; `query` filters by title, Chinese title, document number or slug."""
    stmt = db.select(Page).order_by(Page.kind, Page.title)
    in_plan = [s.page_id for s in plan.steps] if plan is not None else []
    stmt = stmt.filter(db.or_(Page.current_revision_id.is_not(None), Page.id.in_(in_plan or [0])))
    query = (query or "").strip()[:100]
    if query:
        like = f"%{query}%"
        stmt = stmt.filter(db.or_(Page.title.ilike(like), Page.title_zh.like(like), Page.doc_number.ilike(like),
                                  Page.slug.ilike(like)))
    return db.session.scalars(stmt).all()


def add_question(step: TrainingStep, *, text: str, choices: list[str], correct: list[int],
                 multiple: bool | None = None) -> QuizQuestion:
    choices = [c.strip() for c in choices if c.strip()]
    if len(choices) < 2:
        raise KnowledgeError(_l("Give at least two choices."))
    if not correct or any(i < 0 or i >= len(choices) for i in correct):
        raise KnowledgeError(_l("Mark at least one correct choice with *."))
    q = QuizQuestion(text=text.strip(), choices="\n".join(choices), correct=",".join(str(i) for i in sorted(set(correct))),
                     multiple=len(set(correct)) > 1 if multiple is None else multiple,
                     position=len(step.questions))
    step.questions.append(q)
    db.session.flush()
    return q


def assign(plan: TrainingPlan, trainee: User, *, due_date: date | None, user) -> TrainingAssignment:
    existing = db.session.scalar(db.select(TrainingAssignment).filter_by(plan_id=plan.id, user_id=trainee.id,
                                                                          completed_at=None))
    if existing is not None:
        existing.due_date = due_date
        db.session.flush()
        return existing
    a = TrainingAssignment(plan=plan, user_id=trainee.id, due_date=due_date, created_by_id=getattr(user, "id", None))
    db.session.add(a)
    db.session.flush()
    queue_message(trainee, "training_assigned", {"title": plan.title, "title_zh": plan.title_zh, "due": due_date,
                                                 "path": path_for("knowledge.assignment", assignment_id=a.id)},
                  kind="training", record=a, user=user)
    return a


def _progress(a: TrainingAssignment, step: TrainingStep) -> StepProgress:
    p = a.progress_for(step)
    if p is None:
        p = StepProgress(step_id=step.id, step=step)
        a.progress.append(p)
    return p


def step_done(a: TrainingAssignment, step: TrainingStep) -> bool:
    p = a.progress_for(step)
    if p is None or p.read_at is None or p.needs_reread:
        return False
    return not step.questions or p.quiz_passed_at is not None


def progress_summary(a: TrainingAssignment) -> dict:
    total = len(a.plan.steps)
    done = sum(1 for s in a.plan.steps if step_done(a, s))
    reread = [s for s in a.plan.steps if (p := a.progress_for(s)) is not None and p.needs_reread]
    return {"done": done, "total": total, "percent": int(round(100 * done / total)) if total else 100,
            "reread": reread, "complete": a.completed_at is not None}


def mark_read(a: TrainingAssignment, step: TrainingStep, *, understood: bool = False,
              certificate_prefix: str = "KB") -> StepProgress:
    """The trainee has read the step's page. With `understood` (their explicit "I have read and
    understood"), it is also their acknowledgement of the page's current version when an announcement
    asks them for one."""
    page = step.page
    p = _progress(a, step)
    p.read_at = utcnow()
    p.read_revision_id = page.current_revision_id
    p.needs_reread = False
    db.session.flush()
    if understood and acknowledgement_requested(a.user, page) is not None:
        acknowledge(a.user, page.current_revision)
    _maybe_complete(a, certificate_prefix)
    return p


def grade(questions: list[QuizQuestion], answers: dict[int, list[int]]) -> int:
    """Percent of questions answered exactly right (all and only the correct choices)."""
    if not questions:
        return 100
    right = sum(1 for q in questions if set(answers.get(q.id, [])) == q.correct_set)
    return int(round(100 * right / len(questions)))


@dataclass
class QuestionResult:
    """How one question of an attempt went: `wrong_choices` were picked and are not correct;
    `missed` are correct and were not picked (shown only once the quiz is passed)."""

    question: QuizQuestion
    right: bool
    wrong_choices: set[int]
    missed: set[int]


def quiz_results(questions: list[QuizQuestion], answers: dict[int, list[int]]) -> dict[int, QuestionResult]:
    out = {}
    for q in questions:
        chosen = set(answers.get(q.id, []))
        out[q.id] = QuestionResult(q, chosen == q.correct_set, chosen - q.correct_set, q.correct_set - chosen)
    return out


def submit_quiz(a: TrainingAssignment, step: TrainingStep, answers: dict[int, list[int]]) -> tuple[int, bool]:
    score = grade(step.questions, answers)
    p = _progress(a, step)
    p.attempts += 1
    p.quiz_score = max(score, p.quiz_score or 0)
    passed = score >= a.plan.pass_mark
    if passed and p.quiz_passed_at is None:
        p.quiz_passed_at = utcnow()
    db.session.flush()
    _maybe_complete(a)
    return score, passed


def _maybe_complete(a: TrainingAssignment, prefix: str = "KB") -> None:
    if a.completed_at is None and a.plan.steps and all(step_done(a, s) for s in a.plan.steps):
        a.completed_at = utcnow()
        a.certificate_no = f"{prefix}-{to_local(a.completed_at):%Y}-{a.id:05d}"
        db.session.flush()
        file_certificate(a)


# --- training certificates ------------------------------------------------------------------------


def certificate_context(a: TrainingAssignment) -> dict:
    """What the certificate prints, every date in the portal's time zone (stored times are UTC)."""
    read_on = {}
    for step in a.plan.steps:
        p = a.progress_for(step)
        read_on[step.id] = to_local(p.read_at).date() if p is not None and p.read_at else None
    return {"a": a, "lang": "zh-Hans", "completed_on": to_local(a.completed_at).date(), "read_on": read_on,
            "generated_at": local_now().strftime("%Y-%m-%d %H:%M")}


def certificate_pdf(a: TrainingAssignment) -> bytes:
    return render_pdf_anywhere("pdf/knowledge_certificate.html", **certificate_context(a))


def certificate_filename(a: TrainingAssignment) -> str:
    return f"certificate-{a.certificate_no}.pdf"


def file_certificate(a: TrainingAssignment):
    """File the certificate in the archive (kind training_certificate, series CS-07-01), once per
    assignment; the record's title and file name carry the certificate number, so search finds it."""
    if not has_filer():
        log.warning("training certificate %s not filed: no archive filing service is registered", a.certificate_no)
        return None
    completed_on = to_local(a.completed_at).date()
    plan_title = " · ".join(t for t in (a.plan.title, a.plan.title_zh) if t)
    return file_record(
        kind="training_certificate",
        title=f"Training certificate {a.certificate_no} · {a.user.display_name} · {plan_title}",
        files=[(certificate_filename(a), certificate_pdf(a))],
        user=a.user,
        source_key=f"training-certificate:{a.id}",
        record_date=completed_on,
        event_date=completed_on,
        description=f"培训证书 {a.certificate_no}: {a.user.display_name} ({a.user.username}) completed {plan_title} "
                    f"on {completed_on.isoformat()}.",
    )


def flag_rereads(page: Page, new_revision: Revision) -> int:
    """Trainees who read an older version of the page are asked to read it again."""
    stmt = (db.select(StepProgress).join(TrainingStep).filter(TrainingStep.page_id == page.id,
                                                            StepProgress.read_at.is_not(None)))
    n = 0
    for p in db.session.scalars(stmt):
        if p.read_revision_id != new_revision.id:
            p.needs_reread = True
            n += 1
    db.session.flush()
    return n


def my_assignments(user) -> list[TrainingAssignment]:
    return db.session.scalars(db.select(TrainingAssignment).filter_by(user_id=user.id)
                              .order_by(TrainingAssignment.completed_at.is_not(None), TrainingAssignment.due_date)).all()
