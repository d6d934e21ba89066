"""The JSON API under ``/api/v1/``, for council systems: a data warehouse pushing metric points, reports.

Built with flask-smorest, which works with the portal's plain Flask app factory and writes the OpenAPI
document (``/api/v1/openapi.json``) from the same marshmallow schemas that validate each request, so the
document cannot drift from the code. Scripts authenticate with a personal API token (``Authorization:
Bearer …``), never with the session cookie, so no other site can make a browser call the API (and the
API needs no CSRF token). A token acts with its user's role and rights, within its scope, and each
token's requests are rate-limited in the counters the sign-in throttle uses.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from portal.api.errors import ErrorSchema
from portal.extensions import csrf
from portal.permissions import ANONYMOUS, allow

DOCS = "api-docs"


class AssureApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        # flask-smorest would answer every error of the whole portal in JSON; the API's blueprint answers
        # its own (portal.api.errors), and the portal's pages keep theirs.
        pass


def init_app(app: Flask) -> None:
    from portal.api import auth, cli, routes

    app.config.setdefault("API_TITLE", "Assure API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "The evidence portfolio and self-assessment of the council, for its systems. "
                "Authenticate with a personal API token from “Your account”: `Authorization: Bearer <token>`."
            },
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    auth.init_app(app)
    app.cli.add_command(cli.tokens)
    api = AssureApi(app)
    api.register_blueprint(routes.bp)
    csrf.exempt(routes.bp)
    # The document is public (it describes the API, not the council's data); every view declares who may open it.
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(DOCS + "."):
            app.view_functions[endpoint] = allow(ANONYMOUS)(view)
