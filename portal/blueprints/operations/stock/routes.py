"""The stock book's pages: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from flask import Blueprint

from ....web import render

bp = Blueprint("stock", __name__, url_prefix="/stock")

CS = ("cs_manager", "csr")


@bp.get("/")
def index():
    return render("operations/stock/index.html")
