"""Helpers the government applications tests import (a module of its own name, never `conftest`)."""
from __future__ import annotations

from datetime import UTC, datetime


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
