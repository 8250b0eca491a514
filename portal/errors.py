"""Error pages in the user's language; database errors roll back and show a friendly page."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please reload the page and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see or do this.")),
    404: (_l("Not found"), _l("The page or record you asked for does not exist.")),
    405: (_l("Not allowed"), _l("This action is not available here.")),
    413: (_l("File too large"), _l("The upload is larger than the limit of %(mb)s MB. Nothing was saved.")),
    500: (_l("Something went wrong"), _l("The server could not finish your request. Nothing was saved; please try again.")),
}


def error_page(code: int, detail: str | None = None):
    from flask import current_app

    title, message = MESSAGES.get(code, MESSAGES[500])
    message = str(message) % {"mb": current_app.config.get("MAX_UPLOAD_MB")} if "%(mb)s" in str(message) else str(message)
    if request.path.startswith("/api/"):
        return jsonify(error=str(title)), code
    return render_template("errors/error.html", code=code, title=title, message=message, detail=detail), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(err):
        from flask_babel import gettext

        return error_page(400, gettext("The form has expired or was not sent from this site. Please try again."))

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if err.code in MESSAGES:
            return error_page(err.code)
        return err

    @app.errorhandler(SQLAlchemyError)
    def db_error(err):
        db.session.rollback()
        log.exception("database error")
        return error_page(500)

    @app.errorhandler(Exception)
    def unexpected(err):
        if isinstance(err, HTTPException):
            return http_error(err)
        db.session.rollback()
        log.exception("unhandled error")
        return error_page(500)
