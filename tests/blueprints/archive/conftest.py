"""Archive fixtures: sample files and the real retention schedules."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

CORPUS = Path("/work/shared/corpus/retention")


def simple_pdf(text: str = "Archive test document") -> bytes:
    """A minimal valid PDF with one line of text (no third-party writer needed)."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


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
