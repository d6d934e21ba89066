"""Contract tests: schemathesis sends generated requests, valid and invalid, to every operation of the API,
as a quality lead with a read-and-write token, and checks each answer against the OpenAPI document.

No answer may be a server error, and every answer must be one the document describes: its status, its
content type, its headers and its body. The number of examples per operation is bounded so that the whole
run stays within a minute; hypothesis's examples are the same in CI and new on each local run, as in the
hostile-input tests.
"""

from __future__ import annotations

import os
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from evidence.access import api_tokens
from evidence.vocab import Kind, Role
from portal import create_app
from tests.factories import make_item, make_round

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


@pytest.fixture
def bearer(app, make_user):
    """Something to read and write: a metric with points, a mapped survey, a round; and the token."""
    make_item(
        "Reablement",
        kind=Kind.METRIC,
        unit="%",
        direction="higher",
        points=[(date(2026, 4, 1), "Apr 2026", 80.0)],
        mappings=[("safe-pathways", "processes", "context")],
    )
    make_item("Carers' survey", survey_name="Carers", result_percent=60)
    make_round("Winter", {"safe-pathways": 3})
    app.config["API_RATE_LIMIT"] = "100000/minute"  # the limit is tested on its own; here it would only shrink
    user = make_user(Role.QUALITY_LEAD)
    return {"Authorization": f"Bearer {api_tokens.create(user, 'Contract test', 'write').secret}"}


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the document, read from an app that needs no database to describe itself."""
    document = create_app({"TESTING": True}).test_client().get("/api/v1/openapi.json").get_json()
    return [(m.upper(), path) for path, item in document["paths"].items() for m in item if m != "parameters"]


@pytest.mark.parametrize(("method", "path"), _operations())
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_answers_as_its_document_says(app, bearer, method, path, mode):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case):
        case.call_and_validate(headers=bearer, checks=CHECKS)

    answers_as_documented()


def test_the_document_covers_every_api_route(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = {(m.upper(), path) for path, item in document["paths"].items() for m in item if m != "parameters"}
    routes = {
        (method, rule.rule.replace("<int:", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert operations == routes
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
