"""Text helpers shared by the exports: spreadsheet-safe cells and markdown escaping.

Spreadsheets
    Every text cell goes through ``sheet_text`` (characters XML cannot hold are
    dropped; Excel's 32,767-character cell limit is kept) and is written as a
    string. ``looks_like_formula`` tells which text also needs Excel's
    quote-prefix flag: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return is shown as text and never evaluated, even after the cell is
    edited.

Markdown
    User text passes through unchanged except for what must be escaped:

    * ``<`` becomes ``&lt;`` everywhere in user text, so no user text can open
      raw HTML (a tag, a comment or an autolink) in any markdown renderer. The
      one visible cost: inside a code span or code block it shows as ``&lt;``.
    * A code fence left open is closed at the end of the text, so one field can
      never swallow the rest of a document.
    * In a table cell, ``|`` becomes ``\\|`` and line breaks become spaces, so a
      value always stays in its own cell.
    * In a one-line place (a heading, a bullet, a line of facts), line breaks
      become spaces.
"""

from __future__ import annotations

import calendar
import re
from functools import cache

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARACTERS = 32_767

# Characters that XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE and U+FFFF).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


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
    return close_fences(_no_html(_newlines(text))).strip("\n")


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


def format_number(value: float | int | None) -> str:
    """A figure as people write it: 85, 85.5, 12,345."""
    if value is None:
        return ""
    value = float(value)
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_value(value: float | int | None, unit: str | None) -> str:
    """A figure with its unit: 85%, 12 days."""
    if value is None:
        return ""
    figure = format_number(value)
    if not unit:
        return figure
    return f"{figure}{unit}" if unit.strip() == "%" else f"{figure} {unit.strip()}"


def long_date(value) -> str:
    """14 December 2026."""
    return f"{value.day} {value:%B %Y}" if value else ""


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _month_year(day) -> str:
    return f"{_MONTHS[day.month - 1]} {day.year}"


def period_text(start, end=None) -> str:
    """A period as people say it: Apr 2026, Apr–Jun 2026, 2026, 3 Apr 2026 – 17 Jun 2026."""
    if not start:
        return ""
    if not end or end == start:
        return f"{start.day} {_month_year(start)}"
    whole_months = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1] and end >= start
    if not whole_months:
        return f"{start.day} {_month_year(start)} – {end.day} {_month_year(end)}"
    if start.year == end.year:
        if start.month == 1 and end.month == 12:
            return str(start.year)
        if start.month == end.month:
            return _month_year(start)
        return f"{_MONTHS[start.month - 1]}–{_month_year(end)}"
    return f"{_month_year(start)} – {_month_year(end)}"


# --- Documents -------------------------------------------------------------------------


def xml_safe(value: object) -> str:
    """Text as an XML document (Word's) can hold it: the characters XML 1.0 cannot carry dropped."""
    text = value if isinstance(value, str) else str(value)
    return _ILLEGAL_XML.sub("", text) if _ILLEGAL_XML.search(text) else text
