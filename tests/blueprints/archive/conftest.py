"""Archive fixtures: sample files and the real retention schedules."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from portal.blueprints.archive.demo import minimal_pdf

# shared/corpus beside the checkout (PORTAL_CORPUS_DIR to point elsewhere)
CORPUS = Path(os.environ.get("PORTAL_CORPUS_DIR") or Path(__file__).resolve().parents[3].parent / "shared" / "corpus") / "retention"


def simple_pdf(text: str = "Archive test document") -> bytes:
    """A minimal valid PDF with one line of text."""
    return minimal_pdf([text])


@pytest.fixture
def pdf_bytes():
    return simple_pdf


@pytest.fixture
def officer(make_user):
    return make_user("records", "records_officer")


@pytest.fixture
def manager(make_user):
    return make_user("manager", "cs_manager")


@pytest.fixture
def corpus():
    if not CORPUS.is_dir():
        pytest.skip(f"the retention schedules are not present at {CORPUS}")
    return CORPUS
