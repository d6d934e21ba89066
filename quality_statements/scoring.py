"""Scoring rules for a local authority self-assessment, as CQC applies them.

Pure functions over plain values: no database, no Flask. Every statement
weighs the same; a percentage is the sum of scores over the maximum, rounded
half up to a whole percent, then banded. An unscored statement makes a
roll-up incomplete rather than counting as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_SCORE = 4
SCORES = (1, 2, 3, 4)

SCORE_LABELS = {
    1: "Evidence shows significant shortfalls",
    2: "Evidence shows some shortfalls",
    3: "Evidence shows a good standard",
    4: "Evidence shows an exceptional standard",
}

INADEQUATE = "Inadequate"
REQUIRES_IMPROVEMENT = "Requires improvement"
GOOD = "Good"
OUTSTANDING = "Outstanding"
BANDS = (INADEQUATE, REQUIRES_IMPROVEMENT, GOOD, OUTSTANDING)

# Lowest whole percentage of each band, highest band first.
_BAND_FLOORS = ((88, OUTSTANDING), (63, GOOD), (39, REQUIRES_IMPROVEMENT), (0, INADEQUATE))


def percent_half_up(total: int, maximum: int) -> int:
    """total/maximum as a whole percent, halves rounded up (integer arithmetic, no float drift)."""
    if maximum <= 0:
        raise ValueError("maximum must be positive")
    return (200 * total + maximum) // (2 * maximum)


def band_for(percent: int) -> str:
    if not 0 <= percent <= 100:
        raise ValueError(f"percentage {percent} is outside 0-100")
    for floor, band in _BAND_FLOORS:
        if percent >= floor:
            return band
    raise AssertionError("unreachable")


def score_for_percent(percent: int) -> int:
    """CQC's earlier method: a percentage of category scores banded back to a 1-4 score."""
    return BANDS.index(band_for(percent)) + 1


def label_for(score: int | None) -> str:
    return SCORE_LABELS.get(score, "Not scored") if score else "Not scored"


def is_score(value: object) -> bool:
    """Whether ``value`` is one of the four scores (a bool, a float or a string never is)."""
    return isinstance(value, int) and not isinstance(value, bool) and value in SCORES


def validate_score(score: int | None) -> int | None:
    if score is None:
        return None
    if not is_score(score):
        raise ValueError(f"a score must be 1, 2, 3 or 4, not {score!r}")
    return score


@dataclass(frozen=True)
class RollUp:
    """A percentage and band over a set of statements, or why there is none."""

    total: int
    maximum: int
    scored: int
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing and self.maximum > 0

    @property
    def percent(self) -> int | None:
        return percent_half_up(self.total, self.maximum) if self.complete else None

    @property
    def band(self) -> str | None:
        percent = self.percent
        return band_for(percent) if percent is not None else None


def roll_up(scores: Mapping[str, int | None], keys: Iterable[str] | None = None) -> RollUp:
    """Roll up the scores of ``keys`` (all of ``scores`` when not given)."""
    keys = list(scores if keys is None else keys)
    missing = tuple(k for k in keys if scores.get(k) is None)
    values = [validate_score(scores[k]) for k in keys if scores.get(k) is not None]
    return RollUp(total=sum(values), maximum=MAX_SCORE * len(keys), scored=len(values), missing=missing)


@dataclass(frozen=True)
class FrameworkRollUp:
    overall: RollUp
    themes: dict[str, RollUp]


def roll_up_framework(
    theme_statements: Mapping[str, Iterable[str]], scores: Mapping[str, int | None]
) -> FrameworkRollUp:
    """Overall result over every statement, and an indicative result per theme.

    ``theme_statements`` maps each theme key to its statement keys.
    """
    themes = {theme: roll_up(scores, keys) for theme, keys in theme_statements.items()}
    every_key = [k for keys in theme_statements.values() for k in keys]
    return FrameworkRollUp(overall=roll_up(scores, every_key), themes=themes)


def suggested_score(category_scores: Mapping[str, int | None] | None) -> int | None:
    """The suggestion from the categories a lead has scored (those unscored, or holding anything but a
    score, are left out), if any."""
    scored = {k: v for k, v in (category_scores or {}).items() if is_score(v)}
    return suggest_from_categories(scored) if scored else None


def suggest_from_categories(category_scores: Mapping[str, int | None]) -> int | None:
    """Suggest a statement score from its evidence-category scores, or None when any is missing."""
    values = list(category_scores.values())
    if not values or any(v is None for v in values):
        return None
    return score_for_percent(percent_half_up(sum(validate_score(v) for v in values), MAX_SCORE * len(values)))


UP, DOWN, SAME = "up", "down", "same"


def movement(before: int | None, after: int | None) -> str | None:
    """How a statement's score moved from one round to another: UP, DOWN or SAME; None unless both are scored."""
    if before is None or after is None:
        return None
    return UP if after > before else DOWN if after < before else SAME
