"""Counts in words that agree with their number: "1 overdue action", "3 overdue actions".

The one helper for pages, flash messages and documents (templates use it as the ``count`` and
``plural`` filters), so that no sentence reads "1 overdue actions".
"""

from __future__ import annotations


def plural(number: int, one: str, many: str | None = None) -> str:
    """The word for ``number`` of something: ``one`` for exactly 1, else ``many`` (``one`` + "s" by default)."""
    return one if number == 1 else (many if many is not None else one + "s")


def count(number: int, one: str, many: str | None = None) -> str:
    """The number and the word that agrees with it, with thousands separated: "1,204 items"."""
    return f"{number:,} {plural(number, one, many)}"
