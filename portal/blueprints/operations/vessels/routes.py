"""Vessel calls and the berth plan: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("vessels", __name__, url_prefix="/vessels")
