"""Finding evidence: search terms are ANDed; every filter narrows; a page costs the same queries at any size."""

from datetime import date, timedelta

import pytest
from sqlalchemy import event

from evidence.db import db
from evidence.library.search import ANY_STATUS, Filters, build_query, search
from evidence.models import today
from evidence.vocab import Kind, Role, Status
from tests.factories import make_item


def titles(filters: Filters) -> set[str]:
    return {item.title for item in db.session.scalars(build_query(filters))}


@pytest.fixture
def portfolio(app, make_user):
    owner = make_user(Role.STAFF, name="Sam Owner")
    make_item(
        "Carers survey: listened to",
        summary="Carers said they were **listened to**.",
        source="SACE 2025",
        mappings=[("assessing-needs", "peoples-experience", "strength")],
        period_start=date(2025, 10, 1),
        period_end=date(2025, 11, 30),
        owner_id=owner.id,
    )
    make_item(
        "Discharge delays",
        kind=Kind.METRIC,
        summary="Delays rose in winter.",
        source="Hospital discharge team",
        mappings=[("safe-pathways", "processes", "shortfall"), ("safe-pathways", "partners", "context")],
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        review_by=today() - timedelta(days=2),
    )
    make_item(
        "Social worker on transitions",
        kind=Kind.QUOTE,
        quote_text="Young people wait too long for a transitions worker",
        speaker_role="Social worker 4",
        voice="staff",
        source="Staff forum",
        mappings=[("safe-pathways", "staff-leaders", "shortfall")],
        period_start=date(2026, 5, 1),
        period_end=None,
    )
    make_item("Waiting for review", status=Status.SUBMITTED, source="Carers centre")
    make_item("Sent back", status=Status.RETURNED, source="Unknown")
    return owner


def test_default_view_is_accepted_evidence_only(portfolio):
    assert titles(Filters()) == {"Carers survey: listened to", "Discharge delays", "Social worker on transitions"}
    assert titles(Filters(status=Status.SUBMITTED)) == {"Waiting for review"}
    assert len(titles(Filters(status=ANY_STATUS))) == 5


SEARCHES = (
    ("carers", {"Carers survey: listened to"}),  # title (and case does not matter)
    ("LISTENED", {"Carers survey: listened to"}),  # summary
    ("hospital", {"Discharge delays"}),  # source
    ("transitions worker", {"Social worker on transitions"}),  # quote text; both words needed
    ("carers winter", set()),  # terms are ANDed
    ('"wait too long"', {"Social worker on transitions"}),  # a quoted phrase
    ("100%", set()),  # LIKE wildcards are matched literally
    ("_", set()),
)


def test_search_text(portfolio):
    for q, expected in SEARCHES:
        assert titles(Filters(q=q)) == expected, q


def test_search_by_reference(portfolio):
    item = make_item("Found by its reference", source="x")
    assert titles(Filters(q=item.reference.lower())) == {"Found by its reference"}
    assert titles(Filters(q=f"E-00{item.id}")) == {"Found by its reference"}
    # A reference finds its item only: the number alone is not a word of the item.
    assert titles(Filters(q=str(item.id))) == set()


FILTERED = (
    (Filters(kind=Kind.METRIC), {"Discharge delays"}),
    (Filters(statement="safe-pathways"), {"Discharge delays", "Social worker on transitions"}),
    (Filters(category="processes"), {"Discharge delays"}),
    (Filters(stance="shortfall"), {"Discharge delays", "Social worker on transitions"}),
    (Filters(statement="safe-pathways", category="staff-leaders"), {"Social worker on transitions"}),
    # One mapping must match all of statement, category and stance.
    (Filters(statement="safe-pathways", category="partners", stance="shortfall"), set()),
    (Filters(statement="safe-pathways", category="partners", stance="context"), {"Discharge delays"}),
    (Filters(stale=True), {"Discharge delays"}),
    (Filters(stale=False), {"Carers survey: listened to", "Social worker on transitions"}),
    (Filters(date_from=date(2026, 3, 1)), {"Discharge delays", "Social worker on transitions"}),
    (Filters(date_to=date(2025, 12, 31)), {"Carers survey: listened to"}),
    (Filters(date_from=date(2026, 4, 1), date_to=date(2026, 4, 30)), set()),
    (Filters(date_from=date(2026, 5, 1), date_to=date(2026, 5, 1)), {"Social worker on transitions"}),
)


def test_each_filter_narrows(portfolio):
    for filters, expected in FILTERED:
        assert titles(filters) == expected, filters


def test_owner_filter(portfolio):
    assert titles(Filters(owner_id=portfolio.id)) == {"Carers survey: listened to"}


SORTED = (
    ("reference", ["Carers survey: listened to", "Discharge delays", "Social worker on transitions"]),
    ("-reference", ["Social worker on transitions", "Discharge delays", "Carers survey: listened to"]),
    ("title", ["Carers survey: listened to", "Discharge delays", "Social worker on transitions"]),
    ("-period", ["Social worker on transitions", "Discharge delays", "Carers survey: listened to"]),
    ("period", ["Carers survey: listened to", "Discharge delays", "Social worker on transitions"]),
    ("review_by", ["Discharge delays", "Carers survey: listened to", "Social worker on transitions"]),
    ("nonsense", ["Social worker on transitions", "Discharge delays", "Carers survey: listened to"]),
)


def test_sorting(portfolio):
    for sort, expected in SORTED:
        assert [i.title for i in db.session.scalars(build_query(Filters(sort=sort)))] == expected, sort


def count_queries():
    statements = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    return statements, lambda: event.remove(db.engine, "before_cursor_execute", listen)


def test_a_page_costs_the_same_few_queries_however_many_rows_and_mappings(app):
    def page_queries(n: int) -> int:
        for i in range(n):
            make_item(
                f"Item {i}",
                commit=False,
                mappings=[("safe-pathways", "processes", "strength"), ("equity", "partners", "context")],
            )
        db.session.commit()
        db.session.expunge_all()
        statements, stop = count_queries()
        page = search(Filters(), page=1, per_page=50)
        for item in page.items:  # what the library row shows
            _ = [(m.statement.name, m.category.name, m.stance) for m in item.mappings], item.owner, item.stale
        stop()
        return len(statements)

    few = page_queries(5)
    many = page_queries(120)
    assert few == many
    assert many <= 7


def test_pages(app):
    for i in range(7):
        make_item(f"Item {i}", commit=False)
    db.session.commit()
    page = search(Filters(sort="reference"), page=2, per_page=3)
    assert page.total == 7 and page.pages == 3
    assert [i.title for i in page.items] == ["Item 3", "Item 4", "Item 5"]
    assert search(Filters(), page=99, per_page=3).items == []
