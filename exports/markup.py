"""User markdown to safe HTML: the markdown library, then nh3 with an allow-list.

One rule for every place that shows a lead's markdown as formatted text: the
portal's pages, the PDF and (through the same HTML) the Word document. Raw HTML
in the text never survives, and a link keeps its target only when it is http,
https or mailto.
"""

from __future__ import annotations

import markdown as md
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "a", "del", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
# The only link schemes that survive in any user text the portal or an export shows as a link.
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


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
