"""The switch for the portal's fast path through Whoosh's files (codec.py, docsets.py).

The fast path reads and writes Whoosh's W3 files itself (term table, posting blocks, columns, stored
fields) where Whoosh goes one posting or one record at a time, and so relies on the private layout of
the one Whoosh release it was written for. On start (`configure`, called by init_app) the installed
release is compared with that one: on any other, or with SEARCH_FAST_PATH off
(PORTAL_SEARCH_FAST_PATH=0), the layer runs on Whoosh's own writer and readers only, with the same
results (tests/search run in both modes: `pytest tests/search --search-fast-path=off`).
"""
from __future__ import annotations

import logging
import os
from importlib import metadata

log = logging.getLogger("portal.search")

WRITTEN_FOR = ("whoosh-reloaded", "2.7.5")  # the distribution and release the fast path mirrors
OFF_VALUES = {"0", "false", "no", "off", ""}

_enabled = True
_reason = ""


def installed_whoosh() -> tuple[str, str]:
    """(distribution, version) of the installed Whoosh."""
    for dist in ("whoosh-reloaded", "Whoosh-Reloaded", "whoosh", "Whoosh"):
        try:
            return dist.lower(), metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    import whoosh

    return "whoosh", ".".join(str(n) for n in whoosh.__version__)


def setting_on(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in OFF_VALUES
    return bool(value) if value is not None else True


def configure(setting=True, *, installed: tuple[str, str] | None = None) -> bool:
    """Turn the fast path on or off for this process; returns whether it is on."""
    global _enabled, _reason
    dist, version = installed or installed_whoosh()
    if not setting_on(setting):
        _enabled, _reason = False, "SEARCH_FAST_PATH is off"
    elif (dist, version) != WRITTEN_FOR:
        _enabled = False
        _reason = f"{dist} {version} is installed, the fast path was written for {' '.join(WRITTEN_FOR)}"
        log.warning("search: %s; running on Whoosh's own writer and readers (slower, same results)", _reason)
    else:
        _enabled, _reason = True, ""
    return _enabled


def enabled() -> bool:
    """Whether the fast path is on (codec.py and docsets.py ask before each private read)."""
    return _enabled


def reason() -> str:
    """Why the fast path is off ("" when it is on)."""
    return _reason


# Until an app configures it: the environment's setting (scripts such as the benchmark, and the
# processes they start, read it too).
configure(os.environ.get("PORTAL_SEARCH_FAST_PATH", "1"))
