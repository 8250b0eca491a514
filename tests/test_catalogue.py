"""The Simplified Chinese catalogue is complete: every string the portal shows has a translation."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "portal/translations/zh_Hans/LC_MESSAGES/messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}
METHODS = [("portal/**.py", "python"), ("portal/templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%")


def _extracted() -> dict[tuple[str | None, str], str]:
    """(context, msgid) -> "file:line" of its first use, for every string the portal marks for translation."""
    found: dict[tuple[str | None, str], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map=METHODS, keywords=KEYWORDS,
            options_map={"portal/templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault((context, msgid), f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalogue():
    with open(CATALOGUE, "rb") as handle:
        return read_po(handle)


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]


def test_the_extraction_sees_the_portal_strings():
    found = _extracted()
    assert (None, "Dashboard") in found
    assert ("knowledge base", "Pages") in found and (None, "Pages") in found


def test_every_visible_string_has_a_chinese_translation(catalogue):
    missing = []
    for (context, msgid), where in sorted(_extracted().items(), key=lambda item: (item[0][1], item[0][0] or "")):
        message = catalogue.get(msgid, context=context)
        if message is None or message.fuzzy or not all(_strings(message)):
            label = f"[{context}] {msgid!r}" if context else repr(msgid)
            missing.append(f"{where}: {label}" + (" (fuzzy)" if message is not None and message.fuzzy else ""))
    assert not missing, (f"{len(missing)} strings without a Chinese translation "
                         "(run `make i18n` and fill them in messages.po):\n" + "\n".join(missing))


def test_the_translations_keep_the_placeholders(catalogue):
    wrong = []
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        ids = list(message.id) if isinstance(message.id, (tuple, list)) else [message.id]
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for text in _strings(message):
            if text and sorted(PLACEHOLDER.findall(text)) != expected:
                wrong.append(f"{ids[0]!r} -> {text!r}")
    assert not wrong, "translations whose placeholders differ from the English:\n" + "\n".join(wrong)
