"""The API's errors: always JSON, with a message, and a message per field when a field is at fault.

{"code": 422, "status": "Unprocessable Entity", "message": "…",
 "errors": {"json": {"points": {"0": {"value": ["…"]}}}}}
"""

from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, abort, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from evidence.db import db

PREFIX = "/api/"

MESSAGES = {
    400: "The request could not be understood.",
    401: "Send a personal API token: Authorization: Bearer <token> (create one on “Your account”).",
    403: "Your role does not allow this.",
    404: "There is nothing at this address, or it is not yours to see.",
    405: "This address does not accept that method.",
    409: "The request clashes with what is already stored.",
    413: "The request is too large.",
    415: "Send JSON (Content-Type: application/json).",
    422: "Some values cannot be accepted; see errors.",
    429: "Too many requests with this token; wait and try again.",
    500: "The portal hit an error. Nothing was saved.",
    503: "The API is unavailable for a moment; try again shortly.",
}


class ErrorSchema(ma.Schema):
    code = ma.fields.Integer(required=True, metadata={"description": "The HTTP status"})
    status = ma.fields.String(required=True, metadata={"description": "The status's name"})
    message = ma.fields.String(required=True, metadata={"description": "What was wrong, in words"})
    errors = ma.fields.Dict(
        metadata={"description": "Messages per field: by where it was sent (json, query), then by field name"}
    )


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def error_response(code: int, message: str | None = None, errors: dict | None = None, headers: dict | None = None):
    name = _name(code)
    body = {"code": code, "status": name, "message": message or MESSAGES.get(code, name)}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="assure"'
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _name(code: int) -> str:
    from werkzeug.http import HTTP_STATUS_CODES

    return HTTP_STATUS_CODES.get(code, "Error")


def fail(code: int, message: str | None = None, errors: dict | None = None, headers: dict | None = None):
    """Stop the request with a JSON error (``abort`` with the API's body)."""
    abort(error_response(code, message, errors, headers))


def handle(error: HTTPException):
    code = error.code or 500
    if isinstance(error, InternalServerError) or code >= 500:
        db.session.rollback()
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message")
    if message is None and error.description and error.description != type(error).description:
        message = error.description
    if errors and code == 422:
        message = message or MESSAGES[422]
    response = error_response(code, message, errors)
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def init_blueprint(bp: Blueprint) -> None:
    bp.register_error_handler(HTTPException, handle)
