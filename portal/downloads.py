"""Files the portal hands over: always as an attachment, never kept by a browser or a shared cache on the
way, since each is for the signed-in person who asked for it."""

from __future__ import annotations

from flask import Response, send_file


def attachment(source, *, mimetype: str | None, name: str) -> Response:
    """``source`` (a path or a file object) as a download called ``name``."""
    response = send_file(source, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
