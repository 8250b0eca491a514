"""Configuration: defaults, then PORTAL_* environment variables, then the mapping given to create_app."""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "SEARCH_INDEX_DIR": None,  # None: instance/search-index
    "ARCHIVE_DIR": str(ROOT / "archive"),
    "KNOWLEDGE_DIR": str(ROOT / "knowledge"),
    "TIMEZONE": "Asia/Shanghai",
    "MAX_UPLOAD_MB": 25,
    "BABEL_DEFAULT_LOCALE": "en",
    "LANGUAGES": ("en", "zh_Hans"),
    "WORKDAY_START": "08:30",
    "WORKDAY_END": "17:30",
    # Extra days for years the chinese-calendar package does not know yet:
    # ISO dates, holidays and make-up working days.
    "EXTRA_HOLIDAYS": (),
    "EXTRA_WORKDAYS": (),
    "FISCAL_YEAR_END": "12-31",  # MM-DD; China's fiscal year is the calendar year
    "SEARCH_LOG_RETENTION_DAYS": 30,
    "SEARCH_WRITER_TIMEOUT": 2.0,
    "SEARCH_SYNC_ON_COMMIT": True,
    "SEARCH_GAP_TIMEOUT": 600.0,  # seconds a skipped change-log number may still commit late
    "SEARCH_REBUILD_PROCS": 0,  # writer processes for `flask search rebuild`; 0: one per CPU, at most 4
    "SEARCH_MEMO_POSTINGS": 2_000_000,  # postings a searcher keeps as doc sets and weights (about 170 bytes each)
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
}

_INT_KEYS = {"MAX_UPLOAD_MB", "SEARCH_LOG_RETENTION_DAYS", "SEARCH_REBUILD_PROCS", "SEARCH_MEMO_POSTINGS", "LOGIN_MAX_FAILURES", "LOGIN_LOCK_MINUTES"}
_FLOAT_KEYS = {"SEARCH_WRITER_TIMEOUT", "SEARCH_GAP_TIMEOUT"}
_BOOL_KEYS = {"SEARCH_SYNC_ON_COMMIT", "TESTING", "SESSION_COOKIE_SECURE"}
_LIST_KEYS = {"EXTRA_HOLIDAYS", "EXTRA_WORKDAYS"}


def _coerce(key: str, value: str) -> object:
    if key in _INT_KEYS:
        return int(value)
    if key in _FLOAT_KEYS:
        return float(value)
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in _LIST_KEYS:
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return value


def normalise_database_url(url: str) -> str:
    """Accept plain postgres URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(instance_path: str, overrides: Mapping | None = None) -> dict[str, object]:
    cfg: dict[str, object] = dict(DEFAULTS)
    for name, value in os.environ.items():
        if name.startswith("PORTAL_"):
            key = name[len("PORTAL_"):]
            cfg[key] = _coerce(key, value)
    if overrides:
        cfg.update(overrides)

    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = f"sqlite:///{instance / 'portal.db'}"
    cfg["DATABASE_URL"] = normalise_database_url(str(cfg["DATABASE_URL"]))
    cfg.setdefault("SQLALCHEMY_DATABASE_URI", cfg["DATABASE_URL"])
    cfg["SQLALCHEMY_DATABASE_URI"] = cfg["DATABASE_URL"]
    if not cfg.get("SEARCH_INDEX_DIR"):
        cfg["SEARCH_INDEX_DIR"] = str(instance / "search-index")
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _instance_secret(instance)
    cfg["MAX_CONTENT_LENGTH"] = int(cfg["MAX_UPLOAD_MB"]) * 1024 * 1024
    cfg["BABEL_DEFAULT_TIMEZONE"] = cfg["TIMEZONE"]
    cfg["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "portal" / "translations")
    return cfg


def _instance_secret(instance: Path) -> str:
    """Generate the secret key once and keep it in the instance folder."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
