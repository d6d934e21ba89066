"""Error pages that say what happened in plain words."""

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest

from evidence.db import db
from portal.api.errors import error_response, is_api_request

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    403: ("Not allowed", "Your role does not give you access to this page."),
    404: ("Not found", "There is nothing at this address. It may have been moved or removed."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("File too large", None),
    429: ("Too many attempts", "Please wait a few minutes before trying again."),
    500: ("Something went wrong", "The portal hit an error. Nothing was saved. Please try again."),
}


def init_app(app: Flask) -> None:
    def render(code: int, message: str | None = None):
        if is_api_request():  # an address under /api/ that matched no operation is answered in JSON too
            return error_response(code, message)
        title, default = MESSAGES[code]
        return render_template("errors/error.html", code=code, title=title, message=message or default), code

    for code in (403, 404, 405, 429):
        app.register_error_handler(code, lambda e, code=code: render(code))

    @app.errorhandler(400)
    def bad_request(error):
        # A description given with abort(400, ...) says what was wrong; werkzeug's default does not.
        custom = error.description if error.description != BadRequest.description else None
        return render(400, custom)

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
        return render(413, f"Files can be at most {limit:g} MB. Nothing was saved; choose a smaller file.")

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render(
            400,
            "The form had expired or came from somewhere else, so nothing was changed. "
            "Reload the page and submit it again.",
        )

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return render(500)
