"""Citations of evidence in assessment text, written as [E-12]."""

from __future__ import annotations

import re
from collections.abc import Iterable

CITATION = re.compile(r"\[(E-\d+)\]", re.IGNORECASE)


def cited_references(*texts: str | None) -> list[str]:
    """Every reference cited in the texts, in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in CITATION.finditer(text or ""):
            seen.setdefault(match.group(1).upper(), None)
    return list(seen)


def cited_ids(*texts: str | None) -> list[int]:
    return [int(ref[2:]) for ref in cited_references(*texts)]


def link_citations(html: str, href_for: callable) -> str:
    """Turn [E-12] in already-sanitised HTML into links; href_for(ref) returns the URL."""
    return CITATION.sub(
        lambda m: f'<a class="citation" href="{href_for(m.group(1).upper())}">[{m.group(1).upper()}]</a>', html
    )


def references(ids: Iterable[int]) -> list[str]:
    return [f"E-{i}" for i in ids]
