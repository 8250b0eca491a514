"""Locale and timezone selection, and template filters for dates, numbers and names."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale, gettext, lazy_gettext, refresh
from flask_login import current_user
from markupsafe import Markup

from .extensions import babel

LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文"}


def normalise_locale(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_")
    if value.lower().startswith("zh"):
        return "zh_Hans"
    if value.lower().startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, jobs: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    chosen = normalise_locale(session.get("language"))
    if chosen in languages:
        return chosen
    if request:
        for lang, _q in request.accept_languages:
            chosen = normalise_locale(lang)
            if chosen in languages:
                return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def is_chinese() -> bool:
    return str(get_locale() or "").startswith("zh")


def bilingual(en: str | None, zh: str | None) -> str:
    """Pick the name in the user's language, falling back to the other one."""
    if is_chinese():
        return zh or en or ""
    return en or zh or ""


def fmt_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    return "" if value is None else format_datetime(value, fmt)


def fmt_date(value: date | datetime | None, fmt: str = "yyyy-MM-dd") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, fmt)
    return format_date(value, fmt)


def fmt_decimal(value: Decimal | None, places: int = 3) -> str:
    """A quantity with thousands separators and ``places`` decimals; zero never prints as "-0.000"."""
    if value is None:
        return ""
    quant = Decimal(1).scaleb(-places)
    shown = Decimal(value).quantize(quant)
    return f"{abs(shown) if shown.is_zero() else shown:,}"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # Flask-Babel caches the locale on `g`, which belongs to the application context: choose it
    # afresh for every request even when a context is shared (tests, CLI-driven requests).
    app.before_request(refresh)
    app.jinja_env.filters.update(datetime=fmt_datetime, date=fmt_date, decimal=fmt_decimal)
    app.jinja_env.globals.update(
        bilingual=bilingual, is_chinese=is_chinese, LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale
    )


__all__ = ["gettext", "lazy_gettext", "Markup", "bilingual", "is_chinese", "select_locale", "refresh"]
