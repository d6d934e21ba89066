"""The dashboard's roll-up agrees with the pure scoring module, and nothing is silently missing."""

import re
from datetime import timedelta
from html import unescape

import pytest

from evidence.framework_sync import statements_by_theme
from evidence.models import today
from evidence.vocab import ActionStatus, Role
from quality_statements import scoring
from tests.factories import make_action, make_round


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def theme_card(html: str, theme_key: str) -> str:
    start = html.index(f'id="theme-{theme_key}"')
    end = html.find("</tbody>", start)
    return text_of(html[start:end])


def statement_row(html: str, key: str) -> str:
    start = html.index(f'data-statement="{key}"')
    return text_of(html[start : html.index("</tr>", start)])


SCORE_SETS = [
    # statement key → score, in framework order
    dict(
        zip(
            [
                "assessing-needs",
                "healthier-lives",
                "equity",
                "care-provision",
                "partnerships",
                "safe-pathways",
                "safeguarding",
                "governance",
                "learning",
            ],
            scores,
            strict=True,
        )
    )
    for scores in [
        (3, 3, 3, 3, 3, 3, 3, 3, 3),  # 27/36 = 75% Good
        (2, 2, 1, 2, 1, 2, 1, 2, 1),  # 14/36 = 38.9% → 39% Requires improvement
        (4, 4, 3, 4, 3, 4, 3, 3, 3),  # 31/36 = 86% Good
        (4, 4, 4, 4, 3, 4, 3, 3, 3),  # 32/36 = 89% Outstanding
        (1, 1, 1, 1, 1, 1, 1, 1, 2),  # 10/36 = 28% Inadequate
    ]
]


@pytest.mark.parametrize("scores", SCORE_SETS)
def test_dashboard_figures_match_the_scoring_module(client, login, scores):
    login(Role.MANAGER)
    make_round("Winter", scores=scores)
    grouped = statements_by_theme()
    expected = scoring.roll_up_framework({t.key: [s.key for s in ss] for t, ss in grouped}, scores)

    html = client.get("/dashboard").get_data(as_text=True)
    overall = text_of(re.search(r'data-testid="overall">(.*?)</p>', html, re.S).group(1)).strip()
    assert overall == f"{expected.overall.percent}% {expected.overall.band}"
    for theme, statements in grouped:
        result = expected.themes[theme.key]
        card = theme_card(html, theme.key)
        assert f"{result.percent}% · {result.band}" in card
        for s in statements:
            assert f"{s.name} {scores[s.key]} {scoring.label_for(scores[s.key])}" in card


def test_the_briefs_example_reads_75_percent_good(client, login):
    login(Role.QUALITY_LEAD)
    make_round("Winter", scores=SCORE_SETS[0])
    page = text_of(client.get("/dashboard").get_data(as_text=True))
    assert "75% Good" in page and "27 of 36 points" in page


def test_incomplete_names_the_missing_statements(client, login):
    login(Role.MANAGER)
    scores = dict(SCORE_SETS[0])
    del scores["equity"], scores["learning"]
    make_round("Winter", scores=scores)
    html = client.get("/dashboard").get_data(as_text=True)
    page = text_of(html)
    assert "Incomplete" in page
    assert (
        "2 of 9 quality statements are not scored yet: Equity in experience and outcomes, "
        "Learning, improvement and innovation." in page
    )
    assert "%" not in text_of(re.search(r'data-testid="overall">(.*?)</p>', html, re.S).group(1))
    assert "Not scored: Equity in experience and outcomes." in theme_card(html, "working-with-people")
    assert "63%" not in theme_card(html, "working-with-people")


def test_no_round_reads_incomplete_not_zero(client, login):
    login(Role.MANAGER)
    page = text_of(client.get("/dashboard").get_data(as_text=True))
    assert "Incomplete" in page and "9 of 9 quality statements are not scored yet" in page
    assert "No self-assessment round yet." in page


def test_overdue_actions_are_counted(client, login):
    login(Role.MANAGER)
    round_ = make_round("Winter")
    make_action("safeguarding", "Late", due_date=today() - timedelta(days=3), round_id=round_.id)
    make_action("safeguarding", "Also late", due_date=today() - timedelta(days=1))
    make_action("equity", "Late but done", due_date=today() - timedelta(days=3), status=ActionStatus.DONE)
    make_action("equity", "Not due", due_date=today() + timedelta(days=3))
    html = client.get("/dashboard").get_data(as_text=True)
    assert text_of(re.search(r'data-testid="overdue-count">(.*?)</span>', html, re.S).group(1)).strip() == "2"
    assert re.search(r"Safeguarding\s*2 overdue", statement_row(html, "safeguarding"))
    assert "overdue" not in statement_row(html, "equity")


def _cell(html: str, key: str, category_index: int) -> str:
    start = html.index(f'data-statement="{key}"')
    row = html[start : html.index("</tr>", start)]
    return row.split('class="heat__cell')[category_index + 1]


def test_heat_map_counts_balance_and_links_to_the_library(client, login):
    from tests.factories import make_item

    login(Role.MANAGER)
    mapping = [("safe-pathways", "staff-leaders", "shortfall")]
    make_item("Survey one", mappings=mapping)
    make_item("Survey two", mappings=[("safe-pathways", "staff-leaders", "strength")])
    make_item("Survey three", mappings=mapping, review_by=today() - timedelta(days=1))
    make_item("Not yet accepted", status="submitted", mappings=mapping)
    html = client.get("/dashboard").get_data(as_text=True)
    cell = _cell(html, "safe-pathways", 1)  # Feedback from staff and leaders
    assert cell.startswith(" heat-shortfall")
    assert '<span class="heat__n">3</span>' in cell  # the submitted item does not count
    assert "+1 −2" in text_of(cell) and "1 stale" in text_of(cell)
    assert "/evidence?statement=safe-pathways&amp;category=staff-leaders" in cell
    assert "heat-empty" in _cell(html, "safe-pathways", 0)


def test_waiting_counts_link_to_their_lists(client, login):
    from tests.factories import make_item

    login(Role.QUALITY_LEAD)
    make_item("Waiting", status="submitted")
    make_item("Old", review_by=today() - timedelta(days=10))
    make_round("Open round", scores={"safeguarding": 3})
    html = client.get("/dashboard").get_data(as_text=True)

    def tile(testid):
        start = html.index(f'data-testid="{testid}-tile"')
        return html[html.rindex("<a", 0, start) : html.index("</a>", start)]

    assert 'href="/review"' in tile("waiting-submitted") and ">1<" in tile("waiting-submitted")
    assert "stale=yes" in tile("waiting-stale") and ">1<" in tile("waiting-stale")
    assert "kind=unscored" in tile("waiting-unscored") and ">8<" in tile("waiting-unscored")


def test_movement_since_the_previous_round(client, login):
    login(Role.MANAGER)
    make_round("Summer", scores={"safeguarding": 2, "equity": 3, "governance": 3})
    make_round("Winter", scores={"safeguarding": 3, "equity": 2, "governance": 3})
    html = client.get("/dashboard").get_data(as_text=True)
    assert "up since the previous round" in statement_row(html, "safeguarding")
    assert "down since the previous round" in statement_row(html, "equity")
    assert "same as the previous round" in statement_row(html, "governance")
    assert "since the previous round" not in statement_row(html, "learning")  # unscored: no movement
    assert 'class="sparkline"' in html  # the score history across the two rounds


def test_dashboard_query_count_does_not_grow_with_the_portfolio(app, client, login):
    from sqlalchemy import event

    from evidence.db import db
    from tests.factories import make_item

    login(Role.MANAGER)
    make_round("Winter", scores={"safeguarding": 3})

    def count_queries() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/dashboard").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    make_item("One", mappings=[("safeguarding", "processes", "strength")])
    small = count_queries()
    for i in range(30):
        make_item(f"More {i}", mappings=[("equity", "partners", "shortfall"), ("learning", "processes", "context")])
    assert count_queries() == small
