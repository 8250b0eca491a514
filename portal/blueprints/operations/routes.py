"""Operations register: thin routes (load + authorise -> form -> service -> commit -> render)."""
from __future__ import annotations

from flask import Blueprint

from ...extensions import db
from ...web import render
from .models import OPEN_STATES, Order, Product, Tank

bp = Blueprint("operations", __name__, url_prefix="/operations")

CS = ("cs_manager", "csr")


@bp.get("/")
def index():
    open_orders = db.session.scalar(db.select(db.func.count(Order.id)).filter(Order.state.in_(OPEN_STATES))) or 0
    tanks = db.session.scalar(db.select(db.func.count(Tank.id))) or 0
    products = db.session.scalar(db.select(db.func.count(Product.id)).filter(Product.retired.is_(False))) or 0
    return render("operations/index.html", open_orders=open_orders, tanks=tanks, products=products)
