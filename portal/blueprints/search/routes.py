"""The search page and the top-bar suggestions (the `flask search` commands are in cli.py)."""
from __future__ import annotations

from flask import Blueprint, redirect, request
from flask_login import current_user

from ... import search as engine
from ...web import MAX_PAGE, arg_int, is_fragment_request, render

bp = Blueprint("search", __name__, url_prefix="/search")

SORTS = ("relevance", "date")


def _args():
    q = request.args.get("q", "").strip()[:300]
    kinds = [k for k in request.args.getlist("kind") if k in engine.KINDS][:10]
    customer = request.args.get("customer", "").strip()[:40]
    year = arg_int("year", None, min=1000, max=9999)  # out of range or not a number: 404
    year = str(year) if year else ""
    sort = request.args.get("sort", "relevance")
    sort = sort if sort in SORTS else "relevance"
    page = arg_int("page", 1, min=1, max=MAX_PAGE)
    return q, kinds, customer, year, sort, page


def _flag(name: str) -> bool:
    return request.args.get(name, "") in ("1", "on", "true")


@bp.get("/")
def index():
    q, kinds, customer, year, sort, page = _args()
    query = f"{q} date:{year}" if year else q
    results = None
    exact = _flag("exact")  # glossary synonyms off for this query
    if q or kinds or customer or year:
        results = engine.search(query, user=current_user, kinds=kinds, customer=customer or None, page=page,
                                per_page=20, sort=sort, expand=not exact)
        # an exact reference (CMP-00019, cmp 19, T-204) opens its record, unless asked to stay on the list
        # or while typing (the results follow the box)
        if results.jump and not _flag("stay") and not is_fragment_request():
            return redirect(results.jump)
    kind_choices = sorted(((name, k.label) for name, k in engine.KINDS.items()), key=lambda x: str(x[1]))
    return render("search/index.html", fragment="search/_results.html", q=q, kinds=kinds, customer=customer,
                  year=year, sort=sort, results=results, kind_choices=kind_choices, exact=exact)


@bp.get("/suggest")
def suggest():
    q = request.args.get("q", "").strip()[:100]
    hits = engine.suggest(q, user=current_user, limit=8) if q else []
    return render("search/_suggest.html", fragment="search/_suggest.html", q=q, hits=hits)
