"""The migrations build the same schema as the models, so no model change ships without one,
and they carry stored evidence over: an upgrade loses nothing and search still finds it."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from evidence.db import db
from evidence.library.search import Filters, search
from evidence.models import EvidenceItem, include_object
from portal import create_app


def _app(url):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})


def test_upgrade_to_head_matches_the_models(empty_database_url):
    with _app(empty_database_url).app_context():
        upgrade()
        engine = create_engine(empty_database_url)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": include_object})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; run `make migration`: {diff}"
        indexes = {index["name"] for index in inspect(engine).get_indexes("evidence_item")}
        assert not any("trgm" in name for name in indexes)  # the full-text index finds text now
        engine.dispose()


def test_upgrading_fills_the_search_text_of_stored_evidence(empty_database_url):
    with _app(empty_database_url).app_context():
        upgrade(revision="7d883944494b")  # the schema before search text
        db.session.execute(
            text(
                "INSERT INTO evidence_item (id, kind, title, summary, source, quote_text, status, personal_data, "
                "suggested_statements, created_at, updated_at, version) VALUES (7, 'quote', 'Handover sheet', "
                "'', 'Home care forum', 'We know what MATTERS to the person', 'accepted', false, '[]', "
                "'2026-01-01', '2026-01-01', 1)"
            )
        )
        db.session.commit()
        upgrade()
        found = search(Filters(q="matters")).items
        assert [item.id for item in found] == [7]
        assert found[0].title == "Handover sheet"
        assert search(Filters(q="forum")).total == 1
        db.session.remove()
        db.engine.dispose()


def _metric_row(item_id: int, label, value, period_end="2026-06-30") -> str:
    quoted = "NULL" if label is None else f"'{label}'"
    number = "NULL" if value is None else repr(value)
    end = "NULL" if period_end is None else f"'{period_end}'"
    return (
        "INSERT INTO evidence_item (id, kind, title, summary, source, status, personal_data, suggested_statements, "
        "created_at, updated_at, version, search_text, unit, direction, comparator_label, comparator_value, "
        f"period_end) VALUES ({item_id}, 'metric', 'Metric {item_id}', '', 'BI team', 'accepted', false, '[]', "
        f"'2026-01-15', '2026-01-15', 1, '', '%', 'higher', {quoted}, {number}, {end})"
    )


def test_upgrading_keeps_each_single_comparator_as_a_series_and_downgrading_gives_it_back(empty_database_url):
    with _app(empty_database_url).app_context():
        upgrade(revision="64d5613a930f")  # a metric held one comparator: a name and a value
        for statement in (
            _metric_row(1, "England average", 82.0),  # with values: at the latest value's period
            _metric_row(2, "Nearest neighbours", 79.5),  # no values yet: the month its period ends
            _metric_row(3, "Region", None),  # a name alone: its series, with no points
            _metric_row(4, None, 60.0, period_end=None),  # a value alone: "Comparator", the month it was made
            _metric_row(5, None, None),  # no comparator: no series
            "INSERT INTO metric_point (item_id, period, label, value) VALUES (1, '2026-04-01', '2026 Q2', 83.0)",
            "INSERT INTO metric_point (item_id, period, label, value) VALUES (1, '2026-07-01', '2026 Q3', 85.0)",
        ):
            db.session.execute(text(statement))
        db.session.commit()
        upgrade()

        def series(item_id):
            item = db.session.get(EvidenceItem, item_id)
            return [(s.name, [(p.period.isoformat(), p.label, p.value) for p in s.points]) for s in item.comparators]

        assert series(1) == [("England average", [("2026-07-01", "2026 Q3", 82.0)])]
        assert series(2) == [("Nearest neighbours", [("2026-06-01", "Jun 2026", 79.5)])]
        assert series(3) == [("Region", [])]
        assert series(4) == [("Comparator", [("2026-01-01", "Jan 2026", 60.0)])]
        assert series(5) == []
        db.session.remove()

        downgrade(revision="64d5613a930f")
        held = db.session.execute(
            text("SELECT id, comparator_label, comparator_value FROM evidence_item ORDER BY id")
        ).all()
        assert [tuple(row) for row in held] == [
            (1, "England average", 82.0),
            (2, "Nearest neighbours", 79.5),
            (3, "Region", None),
            (4, "Comparator", 60.0),
            (5, None, None),
        ]


def test_upgrading_keeps_stored_actions_and_starts_each_at_version_one(empty_database_url):
    with _app(empty_database_url).app_context():
        upgrade(revision="64d5613a930f")  # the schema before actions had a version
        db.session.execute(
            text("INSERT INTO theme (id, key, name, position) VALUES (1, 'ensuring-safety', 'Ensuring safety', 1);")
        )
        db.session.execute(
            text(
                "INSERT INTO quality_statement (id, key, theme_id, name, position, we_statement, i_statements) "
                "VALUES (1, 'safe-pathways', 1, 'Safe pathways', 1, 'We work together.', '[]')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO action (id, statement_id, description, owner, due_date, status, created_at, updated_at) "
                "VALUES (3, 1, 'Audit hospital discharges', 'Head of Safeguarding', '2027-01-31', 'in_progress', "
                "'2026-01-01', '2026-01-01')"
            )
        )
        db.session.commit()
        upgrade()
        row = db.session.execute(text("SELECT description, owner, status, version FROM action WHERE id = 3")).one()
        assert tuple(row) == ("Audit hospital discharges", "Head of Safeguarding", "in_progress", 1)
        db.session.remove()
        db.engine.dispose()
