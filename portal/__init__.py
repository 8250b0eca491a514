"""Terminal CSD Portal: the application factory."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from . import config as config_module
from .extensions import csrf, db, htmx, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping | None = None) -> Flask:
    instance_path = (config or {}).get("INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=False)
    # Every template stays compiled once used: Jinja keeps 400 by default, near the portal's count.
    app.jinja_options = {**app.jinja_options, "cache_size": -1}
    app.config.update(config_module.load(app.instance_path, config))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("weasyprint", "fontTools", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    _init_extensions(app)

    from . import web
    from .blueprints import register_blueprints

    web.install_converters(app)  # before any route is registered

    register_blueprints(app)

    from . import cli

    cli.register(app)

    from . import search

    search.init_app(app)

    from . import errors

    web.init_app(app)
    errors.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import audit, i18n, jobs, models, outbox  # noqa: F401  (models and listeners must be imported)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    i18n.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"  # the user loader is in extensions.py
