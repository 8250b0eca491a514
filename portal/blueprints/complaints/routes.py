from flask import Blueprint

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
