"""Exports: a round as a workbook, a Word document, a PDF or a markdown pack, from the browser and ``flask export``.

The blueprint lives here so that both the pages (``routes``) and the command
(``cli``) attach to it; ``cli_group=None`` puts ``export`` at the top level.
"""

from flask import Blueprint

bp = Blueprint("exports", __name__, cli_group=None)
