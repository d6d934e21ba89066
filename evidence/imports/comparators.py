"""The comparator columns of a metric import: which columns of a file hold a named comparator series.

A published comparator changes every period, so a file gives it beside the council's own value, a column
per comparator: the usual ones by their usual headings ("England average", "Region", "Median", "Nearest
neighbours"), any other as "Comparator: <name>", and, in a file laid out some other way, whichever column
the person says holds which series (``columns`` with a mapping of column heading to series name, as a
saved column layout gives it). Each value is that comparator's for the row's period. The older pair of
columns "Comparator" (a name) and "Comparator value" still gives one more comparator per row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from evidence.imports.base import Column, normalise_heading, number_column
from evidence.imports.reading import ImportRefused
from evidence.library.metrics import MetricError, comparator_name, same_comparator

# The comparators councils are usually compared with: a column each, under its usual headings.
KNOWN = (
    number_column(
        "England average",
        "The England average for the same period, in the metric's unit.",
        83.8,
        aliases=("England", "England mean", "National average", "England value"),
        width=12,
    ),
    number_column(
        "Regional average",
        "The regional average for the same period.",
        84.6,
        aliases=("Region", "Regional", "Region average", "Regional value"),
        width=12,
    ),
    number_column(
        "Median",
        "The median of councils for the same period.",
        "",
        aliases=("Median of councils", "Councils median", "Median of local authorities", "LA median"),
        width=10,
    ),
    number_column(
        "Nearest neighbours",
        "The average of the council's nearest (statistical) neighbours for the same period.",
        "",
        aliases=(
            "Nearest neighbours average",
            "Statistical neighbours",
            "Statistical neighbours average",
            "CIPFA nearest neighbours",
            "Comparator group",
        ),
        width=12,
    ),
)
KNOWN_NAMES = tuple(c.name for c in KNOWN)
# "Comparator: Shire counties", "Comparator - Core cities": any other comparator, named in its heading.
_NAMED = re.compile(r"^\s*comparator\s*[:\-–—]\s*(\S.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class ComparatorColumn:
    """A column of the file that holds a comparator series."""

    heading: str  # as the file writes it: errors name the column by it
    position: int  # from 0
    series: str  # the name of the series it fills


def known_column(heading: str) -> Column | None:
    wanted = normalise_heading(heading)
    return next((c for c in KNOWN if wanted in c.spellings), None)


def columns(header: list[str], mapping: Mapping[str, str | None] | None = None) -> list[ComparatorColumn]:
    """The comparator columns of a header row: those recognised by their headings, and those ``mapping`` names
    (column heading → series name, a heading matched as the template's are, ignoring case and spacing). A
    mapping to no name (None or "") says a column is not a comparator, though its heading looks like one (a
    "Region" column holding region names). A column the mapping names but the file lacks, or two columns
    filling one series, is refused."""
    wanted = {normalise_heading(h): name for h, name in (mapping or {}).items()}
    seen: set[str] = set()
    found: list[ComparatorColumn] = []
    for position, heading in enumerate(header):
        if not heading:
            continue
        key = normalise_heading(heading)
        if key in wanted:
            seen.add(key)
            if wanted[key]:
                found.append(ComparatorColumn(heading, position, _series_name(wanted[key], heading)))
        elif (known := known_column(heading)) is not None:
            found.append(ComparatorColumn(heading, position, known.name))
        elif match := _NAMED.match(heading):
            found.append(ComparatorColumn(heading, position, _series_name(match.group(1), heading)))
    missing = [h for h, name in (mapping or {}).items() if name and normalise_heading(h) not in seen]
    if missing:
        names = ", ".join(f"“{h}”" for h in missing)
        raise ImportRefused(f"The file has no column {names}, which the layout takes a comparator from.")
    for i, column in enumerate(found):
        for other in found[:i]:
            if same_comparator(column.series, other.series):
                raise ImportRefused(
                    f"The columns “{other.heading}” and “{column.heading}” both give the comparator "
                    f"“{column.series}”: keep one of them."
                )
    return found


def _series_name(text: str, heading: str) -> str:
    try:
        return comparator_name(text)
    except MetricError as exc:
        raise ImportRefused(f"The column “{heading}” cannot be a comparator: {exc}.") from None
