"""User markdown as safe HTML in templates; the rule itself is ``exports.markup``, shared with the documents."""

from __future__ import annotations

from functools import lru_cache

from flask import url_for
from markupsafe import Markup

from evidence.library.citations import link_citations, reference_id
from exports.markup import markdown_to_html


def render_markdown(text: str | None, *, link_refs: bool = True) -> Markup:
    """Template filter: sanitised HTML, with [E-12] citations linked to their items."""
    html = _sanitised(text)
    if link_refs and html:
        html = link_citations(html, _item_url)
    return Markup(html)


# The same text always gives the same HTML, and pages show the same few texts again and again (a statement's
# rationale on every visit), while parsing and sanitising them is a page's costliest step.
_sanitised = lru_cache(maxsize=512)(markdown_to_html)


def _item_url(reference: str) -> str:
    return url_for("library.item", item_id=reference_id(reference))
