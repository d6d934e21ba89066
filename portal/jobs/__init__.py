"""Jobs: the page that follows an export or a large import to its end, the runners, and ``flask jobs worker``.

The blueprint lives here so that both the pages (``routes``) and the command (``cli``) attach to it.
"""

from flask import Blueprint

bp = Blueprint("jobs", __name__, cli_group="jobs")
