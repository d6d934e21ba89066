"""The colours of scores and rating bands, shared by every export.

The same values as the portal's CSS variables ``--score-N`` and ``--score-N-bg``
in ``portal/static/css/assure.css``: a score's text colour on its background.
Colours are hex RGB without the ``#``, as openpyxl takes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality_statements import scoring


@dataclass(frozen=True)
class Colours:
    text: str
    background: str


SCORE_COLOURS: dict[int, Colours] = {
    1: Colours("B42318", "FEF3F2"),
    2: Colours("B54708", "FFFAEB"),
    3: Colours("067647", "ECFDF3"),
    4: Colours("1849A9", "EFF8FF"),
}

# A band wears the colours of the score of the same rank.
BAND_COLOURS: dict[str, Colours] = {
    scoring.INADEQUATE: SCORE_COLOURS[1],
    scoring.REQUIRES_IMPROVEMENT: SCORE_COLOURS[2],
    scoring.GOOD: SCORE_COLOURS[3],
    scoring.OUTSTANDING: SCORE_COLOURS[4],
}

# Unscored statements and incomplete roll-ups (--muted on --wash).
NONE_COLOURS = Colours("5B6474", "F4F6F9")

# A peer rating that differs from the council's score (the portal's .peer-differs).
DIFFERS_COLOURS = Colours("8A4B00", "FFF4E5")

# Header rows and titles (--brand, --brand-2).
BRAND = "1F3A5F"
BRAND_2 = "2C5282"
LINE = "D9DEE7"
INK = "1D2433"
MUTED = "5B6474"

# Metric chart series: the value, its target and its comparators, in turn (as the portal's charts draw them).
SERIES_VALUE = BRAND_2
SERIES_TARGET = SCORE_COLOURS[3].text
SERIES_COMPARATORS = ("B54708", "7A2E8E", "0E7C86", "6B4F1D")


def comparator_colour(index: int) -> str:
    return SERIES_COMPARATORS[index % len(SERIES_COMPARATORS)]


def score_colours(score: int | None) -> Colours:
    return SCORE_COLOURS.get(score, NONE_COLOURS) if score else NONE_COLOURS


def band_colours(band: str | None) -> Colours:
    return BAND_COLOURS.get(band, NONE_COLOURS) if band else NONE_COLOURS
