"""The pure scoring rules: percentages, bands, roll-up, and the category-score suggestion."""

import pytest

from quality_statements import scoring

KEYS = [f"s{i}" for i in range(9)]


def scores_summing_to(total: int) -> dict[str, int]:
    """Nine statement scores (each 1-4) that add up to ``total`` (9-36)."""
    assert 9 <= total <= 36
    scores, left = {}, total
    for i, key in enumerate(KEYS):
        remaining = len(KEYS) - i - 1
        score = min(4, left - remaining)
        scores[key] = score
        left -= score
    return scores


@pytest.mark.parametrize(
    ("total", "percent", "band"),
    [
        (27, 75, scoring.GOOD),
        (14, 39, scoring.REQUIRES_IMPROVEMENT),  # 38.9% rounds up into Requires improvement
        (31, 86, scoring.GOOD),
        (32, 89, scoring.OUTSTANDING),
        (9, 25, scoring.INADEQUATE),
        (36, 100, scoring.OUTSTANDING),
    ],
)
def test_the_briefs_examples(total, percent, band):
    result = scoring.roll_up(scores_summing_to(total))
    assert result.complete
    assert result.percent == percent
    assert result.band == band


@pytest.mark.parametrize(
    ("percent", "band"),
    [
        (25, scoring.INADEQUATE),
        (38, scoring.INADEQUATE),
        (39, scoring.REQUIRES_IMPROVEMENT),
        (62, scoring.REQUIRES_IMPROVEMENT),
        (63, scoring.GOOD),
        (87, scoring.GOOD),
        (88, scoring.OUTSTANDING),
        (100, scoring.OUTSTANDING),
    ],
)
def test_every_band_boundary(percent, band):
    assert scoring.band_for(percent) == band


def test_percentages_round_half_up():
    assert scoring.percent_half_up(1, 8) == 13  # 12.5 → 13, not banker's 12
    assert scoring.percent_half_up(14, 36) == 39  # 38.89
    assert scoring.percent_half_up(22, 36) == 61  # 61.11
    assert scoring.percent_half_up(5, 8) == 63  # 62.5 → 63: Good, not Requires improvement
    assert scoring.band_for(scoring.percent_half_up(5, 8)) == scoring.GOOD


def test_percent_outside_range_is_refused():
    with pytest.raises(ValueError):
        scoring.band_for(101)
    with pytest.raises(ValueError):
        scoring.percent_half_up(3, 0)


def test_an_unscored_statement_makes_the_roll_up_incomplete_not_zero():
    scores = scores_summing_to(36)
    scores["s4"] = None
    result = scoring.roll_up(scores)
    assert not result.complete
    assert result.percent is None and result.band is None
    assert result.missing == ("s4",)
    assert result.scored == 8


def test_a_missing_key_counts_as_unscored():
    result = scoring.roll_up({"a": 3}, keys=["a", "b"])
    assert result.missing == ("b",)
    assert result.percent is None


def test_framework_roll_up_gives_indicative_theme_figures():
    themes = {"t1": ["s0", "s1"], "t2": ["s2", "s3", "s4"]}
    scores = {"s0": 4, "s1": 3, "s2": 2, "s3": 2, "s4": None}
    result = scoring.roll_up_framework(themes, scores)
    assert result.themes["t1"].percent == 88  # 7/8 = 87.5 → 88
    assert result.themes["t1"].band == scoring.OUTSTANDING
    assert not result.themes["t2"].complete
    assert result.overall.missing == ("s4",)


@pytest.mark.parametrize("bad", [0, 5, -1, 2.5, "3", True])
def test_invalid_scores_are_refused(bad):
    with pytest.raises(ValueError):
        scoring.validate_score(bad)
    with pytest.raises(ValueError):
        scoring.roll_up({"a": bad})


def test_labels():
    assert scoring.label_for(1) == "Evidence shows significant shortfalls"
    assert scoring.label_for(4) == "Evidence shows an exceptional standard"
    assert scoring.label_for(None) == "Not scored"


@pytest.mark.parametrize(
    ("category_scores", "suggestion"),
    [
        ({"a": 3, "b": 3, "c": 3, "d": 3}, 3),  # 75% → Good → 3
        ({"a": 4, "b": 4, "c": 4, "d": 3}, 4),  # 94%
        ({"a": 1, "b": 2, "c": 2, "d": 1}, 1),  # 38% → 1
        ({"a": 2, "b": 2, "c": 1, "d": 2}, 2),  # 44%
        ({"a": 3, "b": 2}, 3),  # 62.5% → 63% → 3
        ({"a": 4}, 4),
    ],
)
def test_category_scores_suggest_a_statement_score(category_scores, suggestion):
    assert scoring.suggest_from_categories(category_scores) == suggestion


def test_no_suggestion_without_every_category_scored():
    assert scoring.suggest_from_categories({"a": 3, "b": None}) is None
    assert scoring.suggest_from_categories({}) is None
    with pytest.raises(ValueError):
        scoring.suggest_from_categories({"a": 7})


def test_movement_between_rounds_needs_both_scores():
    assert scoring.movement(2, 3) == scoring.UP
    assert scoring.movement(3, 2) == scoring.DOWN
    assert scoring.movement(3, 3) == scoring.SAME
    assert scoring.movement(None, 3) is None and scoring.movement(3, None) is None
