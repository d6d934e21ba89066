"""Text helpers shared by the exports: spreadsheet-safe cells and markdown escaping.

Spreadsheets
    Every text cell goes through ``sheet_text`` (characters XML cannot hold are
    dropped; Excel's 32,767-character cell limit is kept) and is written as a
    string. ``looks_like_formula`` tells which text also needs Excel's
    quote-prefix flag: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return is shown as text and never evaluated, even after the cell is
    edited.

Markdown
    Two kinds of user text go into markdown.

    Plain text (a round's or statement's name, a title, a source, a quote's
    words, a speaker's role, an action, a category, a reason …) must read
    literally, whatever it holds. ``md_text`` (one line), ``md_text_cell`` (a
    table cell) and ``md_text_block`` (lines of their own) escape everything
    markdown or HTML would act on: backslashes, code spans, emphasis, link and
    image brackets, pipes, strikethrough, ``<`` (tags, comments, autolinks), an
    ``&`` that would start an entity, a line that would start a heading, a
    quote, a list or a rule, and hashes that would close a heading. Characters
    XML cannot hold are dropped.

    Markdown text (rationale, key findings, strengths, areas for improvement)
    keeps its formatting; ``md_block`` makes it safe:

    * ``<`` becomes ``&lt;`` everywhere, so no user text can open raw HTML (a
      tag, a comment or an autolink) in any markdown renderer. The one visible
      cost: inside a code span or code block it shows as ``&lt;``.
    * A link or image whose destination has a scheme other than http, https or
      mailto (``javascript:``, ``data:``, ``vbscript:`` …, however it is
      written: entities, escapes, control characters) is turned back into
      literal text; a link with no scheme (relative) is left as written.
    * A code fence left open is closed at the end of the text, so one field can
      never swallow the rest of a document.

    ``md_inline`` and ``md_cell`` put text we trust to be plain (labels,
    numbers, periods) on one line or in a table cell.
"""

from __future__ import annotations

import html
import re
from functools import cache

from evidence import periods
from exports.markup import ALLOWED_SCHEMES

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARACTERS = 32_767

# Characters that XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE and U+FFFF).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")

# In plain text: what markdown would take for markup anywhere in a line …
_MD_SPECIAL = re.compile(r"[\\`*_\[\]|]")
_MD_ENTITY_START = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# … and at the start of one (a heading, a quote, a list item, a rule or a setext underline).
_MD_LINE_START = re.compile(r"^([#>+-])|^(=)|^(\d+)([.)])")
# In markdown text: a link's or an image's destination, and a link reference definition.
# The destination is read to the closing parenthesis or the line's end, spaces and all: a browser drops
# tabs and line breaks inside a URL, so "java<tab>script:" is still javascript.
_LINK_OPENING = re.compile(r"\][ \t]*\(([^)\n]*)")
_REFERENCE_DEFINITION = re.compile(r"^([ \t>]*(?:(?:[-+*]|\d+[.)])[ \t]+)?)\[((?:[^\]\\\n]|\\.)+)\]:(.*)$", re.M)
_ESCAPED_PUNCTUATION = re.compile(r"\\([!-/:-@\[-`{-~])")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SPACE_AND_CONTROL = re.compile("[\x00-\x20\x7f]+")


# --- Spreadsheets ----------------------------------------------------------------


def sheet_text(value: object) -> str:
    """Text as a worksheet can hold it: no XML-illegal control characters, no longer than a cell allows."""
    text = value if isinstance(value, str) else str(value)
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)
    return text[:MAX_CELL_CHARACTERS]


def looks_like_formula(text: str) -> bool:
    """Would a spreadsheet take this text for a formula (or a command) if it were typed in?"""
    return text.startswith(FORMULA_PREFIXES)


# --- Markdown --------------------------------------------------------------------


def _newlines(text: str) -> str:
    return _LINE_BREAKS.sub("\n", text)


def _no_html(text: str) -> str:
    return text.replace("<", "&lt;")


def md_block(text: str | None) -> str:
    """User markdown for a block of its own (rationale, key findings …): unchanged but safe."""
    if not text:
        return ""
    return close_fences(_safe_links(_no_html(_newlines(_printable(text))))).strip("\n")


def _printable(text: str) -> str:
    return _ILLEGAL_XML.sub("", text) if _ILLEGAL_XML.search(text) else text


def link_scheme(destination: str) -> str | None:
    """The scheme a browser would see in a markdown link's destination, if it has one.

    Read as a renderer and then a browser would read it: backslash escapes and
    entities decoded, an angle bracket around it dropped, spaces and control
    characters removed (browsers ignore them inside a URL)."""
    decoded = html.unescape(_ESCAPED_PUNCTUATION.sub(r"\1", destination))
    decoded = _SPACE_AND_CONTROL.sub("", decoded).lstrip("<")
    found = _SCHEME.match(decoded)
    return found.group(1).lower() if found else None


def _unsafe(destination: str) -> bool:
    scheme = link_scheme(destination)
    return scheme is not None and scheme not in ALLOWED_SCHEMES


def _safe_links(text: str) -> str:
    """Markdown with every link, image and reference definition of an unsafe scheme made literal text."""
    if "](" not in text and "]:" not in text and not re.search(r"\][ \t]+\(", text):
        return text
    text = _LINK_OPENING.sub(lambda m: m.group(0).replace("(", "\\(", 1) if _unsafe(m.group(1)) else m.group(0), text)

    def definition(match: re.Match) -> str:
        if not _unsafe(match.group(3)):
            return match.group(0)
        return f"{match.group(1)}\\[{match.group(2)}\\]:" + match.group(0)[match.end(2) + 2 - match.start(0) :]

    return _REFERENCE_DEFINITION.sub(definition, text)


def _plain_line(line: str) -> str:
    """One line of plain text, escaped to read literally in markdown (its breaks are the caller's)."""
    line = _MD_ENTITY_START.sub("&amp;", line)
    line = line.replace("<", "&lt;").replace("~", "&#126;")
    line = _MD_SPECIAL.sub(r"\\\g<0>", line)
    if line.endswith("#"):  # a heading's closing hashes would be dropped
        stripped = line.rstrip("#")
        line = stripped + "\\#" * (len(line) - len(stripped))
    return _MD_LINE_START.sub(_line_start, line, count=1)


def _line_start(match: re.Match) -> str:
    marker, equals, digits, dot = match.groups()
    if marker:
        return "\\" + marker
    if equals:
        return "&#61;"
    return f"{digits}\\{dot}"


def md_text(text: object) -> str:
    """Plain user text for a one-line place (a heading, a bullet, a line of facts), reading literally."""
    if text is None:
        return ""
    text = " ".join(_printable(str(text)).split())
    return _plain_line(text) if text else ""


def md_text_cell(text: object) -> str:
    """Plain user text for a markdown table cell: one line, reading literally, never leaving its cell."""
    return md_text(text)  # pipes are escaped with everything else


def md_text_block(text: object) -> str:
    """Plain user text on lines of its own (a quote's words, a framework's statement), reading literally:
    its line breaks kept, a blank line between paragraphs."""
    if text is None:
        return ""
    lines = [" ".join(line.split()) for line in _newlines(_printable(str(text))).split("\n")]
    paragraphs, current = [], []
    for line in lines:
        if line:
            current.append(_plain_line(line))
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return "\n\n".join(paragraphs)


def md_inline(text: str | None) -> str:
    """User text for a one-line place: a heading, a bullet, a line of facts."""
    if not text:
        return ""
    if "\n" in text or "\r" in text:
        text = _LINE_BREAKS.sub(" ", text)
    return _no_html(text).strip()


def md_cell(text: object) -> str:
    """A value for a markdown table cell: one line, pipes escaped, no HTML."""
    if text is None:
        return ""
    return md_inline(str(text)).replace("|", "\\|")


def close_fences(text: str) -> str:
    """Close a fenced code block that the text opens and never closes."""
    open_fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if not match:
            continue
        fence, rest = match.groups()
        if open_fence is None:
            if fence[0] == "`" and "`" in rest:
                continue  # not a fence: a backtick fence's info string cannot hold a backtick
            open_fence = fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence) and not rest.strip():
            open_fence = None
    if open_fence is not None:
        text = text.rstrip("\n") + "\n" + open_fence
    return text


# --- Names and numbers -------------------------------------------------------------


@cache  # a handful of vocabulary values, asked for on every row of an export
def vocab_label(vocabulary, value: str | None) -> str:
    """The label people read for a stored vocabulary value (the value itself if it is not known)."""
    if not value:
        return ""
    try:
        return vocabulary(value).label
    except ValueError:
        return value


def slugify(text: str, fallback: str = "export") -> str:
    """A file-name-safe slug: lower case letters and digits joined by hyphens."""
    slug = _SLUG_JUNK.sub("-", text.lower()).strip("-")
    return slug[:80].strip("-") or fallback


def long_date(value) -> str:
    """14 December 2026."""
    return f"{value.day} {value:%B %Y}" if value else ""


def short_date(value) -> str:
    """28 Feb 2027."""
    return f"{value.day} {_month_year(value)}" if value else ""


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _month_year(day) -> str:
    return f"{_MONTHS[day.month - 1]} {day.year}"


def period_text(start, end=None) -> str:
    """A period as councils write it (``evidence.periods.describe``): Apr 2026, Apr–Jun 2026, 2026, 2025/26."""
    return periods.describe(start, end)


# --- Documents -------------------------------------------------------------------------


def xml_safe(value: object) -> str:
    """Text as an XML document (Word's) can hold it: the characters XML 1.0 cannot carry dropped."""
    text = value if isinstance(value, str) else str(value)
    return _ILLEGAL_XML.sub("", text) if _ILLEGAL_XML.search(text) else text
