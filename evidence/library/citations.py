"""Evidence references (E-12) and their citations in assessment text, written as [E-12].

The one place that writes a reference from an id, reads an id back from one, and says
whether an id can name an item at all: a number beyond ``bounds.MAX_ID`` names nothing
and must not reach a query, where it would raise rather than find nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from evidence.bounds import MAX_ID

PREFIX = "E-"
REFERENCE = re.compile(r"^E-(\d+)$", re.IGNORECASE)
CITATION = re.compile(r"\[(E-\d+)\]", re.IGNORECASE)


def reference(item_id: int) -> str:
    """The reference people write for an item: E-12."""
    return f"{PREFIX}{item_id}"


def references(ids: Iterable[int]) -> list[str]:
    return [reference(i) for i in ids]


def reference_id(text: str | None) -> int | None:
    """The number of a reference written as E-12 (any case, spaces around), or None when the text is not one.

    The number may be beyond what any item can have: ask ``findable`` before looking it up.
    """
    match = REFERENCE.match((text or "").strip())
    if not match:
        return None
    digits = match.group(1).lstrip("0") or "0"
    # Thousands of digits would make int() refuse; any number this long is beyond every id anyway.
    return int(digits) if len(digits) <= len(str(MAX_ID)) else MAX_ID + 1


def findable(item_id: int | None) -> bool:
    """Can an item have this id? Larger numbers are never looked up: they name nothing."""
    return item_id is not None and 0 < item_id <= MAX_ID


def cited_references(*texts: str | None) -> list[str]:
    """Every reference cited in the texts, in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in CITATION.finditer(text or ""):
            seen.setdefault(match.group(1).upper(), None)
    return list(seen)


def cited_ids(*texts: str | None) -> list[int]:
    """The ids of every reference cited in the texts, in first-seen order (findable or not)."""
    return [reference_id(ref) for ref in cited_references(*texts)]


def link_citations(html: str, href_for: Callable[[str], str]) -> str:
    """Turn [E-12] in already-sanitised HTML into links; href_for(ref) returns the URL."""
    return CITATION.sub(
        lambda m: f'<a class="citation" href="{href_for(m.group(1).upper())}">[{m.group(1).upper()}]</a>', html
    )
