"""Assure: the web portal. ``create_app`` is the application factory."""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path

from flask import Flask

from evidence.db import db
from portal import config as config_module
from portal.extensions import csrf, login_manager, mail, migrate

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# One blueprint per area of the product; each module exposes ``bp``.
BLUEPRINTS = (
    "portal.auth.routes",
    "portal.auth.oidc",
    "portal.dashboard.routes",
    "portal.submissions.routes",
    "portal.review.routes",
    "portal.library.routes",
    "portal.imports.routes",
    "portal.statements.routes",
    "portal.gaps.routes",
    "portal.actions.routes",
    "portal.rounds.routes",
    "portal.exports.routes",
    "portal.jobs.routes",
    "portal.admin.routes",
    "portal.admin.sign_in",
    "portal.account.routes",
    "portal.notifications.routes",
    "portal.peer.routes",
    "portal.health",
)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    settings = config_module.from_environment(app.instance_path)
    settings.update(config or {})
    app.config.from_mapping(settings)
    config_module.check(app.config, debug=app.debug)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)

    from portal import api, auth, caching, cli, errors, ids, permissions, proxy, security, templating
    from portal.jobs import runners as job_runners

    caching.init_app(app)  # before anything reads or writes the database
    proxy.init_app(app)
    ids.init_app(app)  # before any route is added: every <int:…> is then a bounded id
    auth.init_app(app)
    permissions.enforce_rules(app)
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(name).bp)
    api.init_app(app)  # /api/v1/, and its OpenAPI document
    errors.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    job_runners.init_app(app)
    return app
