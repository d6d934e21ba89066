"""Files the portal hands over: always as an attachment, never kept by a browser or a shared cache on the
way, since each is for the signed-in person who asked for it."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, send_file


def attachment(source, *, mimetype: str | None, name: str) -> Response:
    """``source`` (a path or a file object) as a download called ``name``."""
    response = send_file(source, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def stored_file(path: Path | None, *, mimetype: str | None, name: str, missing: str = "") -> Response:
    """A file of the upload folder as a download, or 404 when it is not there (``missing``, when given, is
    logged: the file should have been there)."""
    if path is None or not path.is_file():
        if missing:
            current_app.logger.error(missing)
        abort(404)
    return attachment(path, mimetype=mimetype, name=name)
