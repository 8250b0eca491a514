"""The vendored htmx is the pinned release, byte for byte, with its licence."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "portal" / "static" / "vendor" / "htmx-2.0.11"


def test_htmx_matches_the_sha256_in_its_readme():
    readme = (VENDOR / "README.md").read_text()
    match = re.search(r"sha256:\s*([0-9a-f]{64})", readme)
    assert match, "the README must name the sha256 of htmx.min.js"
    assert hashlib.sha256((VENDOR / "htmx.min.js").read_bytes()).hexdigest() == match.group(1)


def test_htmx_is_version_2_0_11():
    head = (VENDOR / "htmx.min.js").read_text()[:20000]
    assert 'version:"2.0.11"' in head


def test_the_licence_is_shipped_with_it():
    licence = (VENDOR / "LICENSE").read_text()
    assert "Permission to use, copy, modify" in licence


def test_the_layout_loads_the_vendored_htmx(client, login):
    login("staff")
    page = client.get("/").get_data(as_text=True)
    assert '/static/vendor/htmx-2.0.11/htmx.min.js' in page
    with client.get("/static/vendor/htmx-2.0.11/htmx.min.js") as response:
        assert response.status_code == 200
