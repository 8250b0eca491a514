from flask import Blueprint

bp = Blueprint("archive", __name__, url_prefix="/archive")
