"""User markdown to safe HTML: the markdown library, then nh3 with an allow-list."""

from __future__ import annotations

import markdown as md
import nh3
from flask import url_for
from markupsafe import Markup
from werkzeug.routing import BuildError

from evidence.citations import link_citations, reference_id

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "a", "del", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def markdown_to_html(text: str | None) -> str:
    """Sanitised HTML for markdown text; raw HTML in the input never survives."""
    if not text:
        return ""
    return sanitise_html(md.markdown(text, extensions=["tables", "sane_lists"], output_format="html"))


def render_markdown(text: str | None, *, link_refs: bool = True) -> Markup:
    """Template filter: sanitised HTML, with [E-12] citations linked to their items."""
    html = markdown_to_html(text)
    if link_refs and html:
        html = link_citations(html, _item_url)
    return Markup(html)


def _item_url(reference: str) -> str:
    try:
        return url_for("library.item", item_id=reference_id(reference))
    except BuildError:  # the library blueprint is absent in some minimal apps
        return "#" + reference
