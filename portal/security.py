"""Security headers on every response, and requests no database can store refused up front."""

from flask import Flask, abort, request

from portal.forms import NUL

UNSTORABLE = (
    "The address contains a NUL character, which cannot be used in the portal. "
    "Nothing was changed; remove it and try again."
)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul():
        # Forms drop NUL from their text (``portal.forms``); an address holding one is refused.
        if NUL in request.path or any(NUL in key or NUL in value for key, value in request.args.items(multi=True)):
            abort(400, UNSTORABLE)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
