"""Locale and timezone selection, and template filters for dates, numbers and names."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale, get_translations, gettext, lazy_gettext, refresh
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from .extensions import babel
from .timeutil import to_local

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


DATETIME = "yyyy-MM-dd HH:mm"


def fmt_datetime(value: datetime | None, fmt: str = DATETIME) -> str:
    """A time in the configured time zone (naive times are UTC). The default pattern is digits alone, the same
    in every locale: written without the locale's formatter, which a page of history calls a hundred times."""
    if value is None:
        return ""
    if fmt == DATETIME and isinstance(value, datetime):
        local = to_local(value)
        return f"{local.date().isoformat()} {local:%H:%M}"
    return format_datetime(value, fmt)


DATE = "yyyy-MM-dd"


def fmt_date(value: date | datetime | None, fmt: str = DATE) -> str:
    """A day (a time's day in the configured time zone); the default pattern without the locale's formatter."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_local(value).date().isoformat() if fmt == DATE else format_datetime(value, fmt)
    return value.isoformat() if fmt == DATE else format_date(value, fmt)


def fmt_decimal(value: Decimal | None, places: int = 3) -> str:
    """A quantity with thousands separators and ``places`` decimals; zero never prints as "-0.000"."""
    if value is None:
        return ""
    quant = Decimal(1).scaleb(-places)
    shown = Decimal(value).quantize(quant)
    return f"{abs(shown) if shown.is_zero() else shown:,}"


def _translations():
    """The catalogue of the locale chosen for this request.

    Flask-Babel finds it anew on every call (the locale's identifier is rebuilt each time), and a page
    translates hundreds of strings. It is kept on `g` beside the locale it belongs to, so a locale chosen
    afresh (`refresh`) finds its own catalogue.
    """
    locale = get_locale()
    held = g.get("_portal_translations")
    if held is None or held[0] is not locale:
        held = g._portal_translations = (locale, get_translations())
    return held[1]


def _formatted(eval_ctx, text: str, variables: dict) -> str:
    """Jinja's "new style" gettext: the translation is always a format string, its values escaped."""
    return (Markup(text) if eval_ctx.autoescape else text) % variables


@pass_eval_context
def _jinja_gettext(eval_ctx, string: str, **variables) -> str:
    return _formatted(eval_ctx, _translations().ugettext(string), variables)


@pass_eval_context
def _jinja_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, _translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _jinja_pgettext(eval_ctx, context: str, string: str, **variables) -> str:
    variables.setdefault("context", context)
    return _formatted(eval_ctx, _translations().upgettext(context, string), variables)


@pass_eval_context
def _jinja_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    return _formatted(eval_ctx, _translations().unpgettext(context, singular, plural, num), variables)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # Jinja's own callables reach the catalogue through three context calls each and Flask-Babel's
    # through several lookups of the locale (about 15 µs a string, hundreds of strings a page): these do
    # the same in one call, with the same escaping of values.
    app.jinja_env.globals.update(
        _=_jinja_gettext, gettext=_jinja_gettext, ngettext=_jinja_ngettext,
        pgettext=_jinja_pgettext, npgettext=_jinja_npgettext,
    )
    # Flask-Babel caches the locale on `g`, which belongs to the application context: choose it
    # afresh for every request even when a context is shared (tests, CLI-driven requests).
    app.before_request(refresh)
    app.jinja_env.filters.update(datetime=fmt_datetime, date=fmt_date, decimal=fmt_decimal)
    app.jinja_env.globals.update(
        bilingual=bilingual, is_chinese=is_chinese, LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale
    )


__all__ = ["gettext", "lazy_gettext", "Markup", "bilingual", "is_chinese", "select_locale", "refresh"]
