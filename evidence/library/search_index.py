"""The library's full-text index, kept by the database itself on every write, however rows arrive.

Four parts of an item are indexed (``evidence.fields`` says which field goes where): its title, its
body (summary, quote, question, what a document evidences, an audit's outcome), its details (source,
survey, population, roles, partner, setting, link) and its reference (E-12, matched only by a
reference in the query). They rank in that order.

- **SQLite**: an FTS5 table over a view of those parts (external content: the text is not stored
  twice), kept by triggers on ``evidence_item``, so ORM saves, Core bulk inserts and ``DELETE`` (the
  demo reset, the tests) all keep it; ranked by bm25. ``unicode61 remove_diacritics 2`` folds case
  and accents.
- **PostgreSQL**: a stored generated ``tsvector`` column with a GIN index: the database computes it on
  every insert and update, a dump carries it, and ``TRUNCATE`` empties it with the table. The
  ``simple`` configuration, not ``english``: words are matched as written, with no stemming or stop
  words, as FTS5 does, so both databases find the same items (``english`` would make "the" find nothing
  and "care" find "caring" on one database only); the last word's prefix match covers most of what
  stemming would. Punctuation becomes space and Latin accents are taken off with ``translate`` before
  the parser reads the text, so words split as FTS5 splits them (the default parser would read
  "E-12" as a letter and a negative number) and no extension is needed. Ranked by ts_rank_cd.

A migration that rebuilds ``evidence_item`` on SQLite (Alembic's batch mode copies the table) drops
the triggers with it: call ``drop`` before and ``create`` after, which indexes the rows again.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, event

from evidence.fields import SEARCHED_BY_PART, SEARCHED_PARTS
from evidence.library.search_query import ACCENTED, UNACCENTED

ITEM_TABLE = "evidence_item"
FTS_TABLE = "evidence_search"
FTS_SOURCE = "evidence_search_source"  # the view the FTS table reads its text from
FTS_COLUMNS = (*SEARCHED_PARTS, "reference")
# bm25 weights in FTS_COLUMNS' order; PostgreSQL's default ts_rank_cd weights (1.0, 0.4, 0.2 for
# A, B, C) keep the same order of title, body and details.
BM25_WEIGHTS = (5.0, 2.0, 1.0, 5.0)
TRIGGERS = ("evidence_search_insert", "evidence_search_delete", "evidence_search_update")
PG_COLUMN = "search_document"
PG_INDEX = "ix_evidence_item_search_document"
PG_WEIGHTS = {"title": "A", "body": "B", "detail": "C", "reference": "D"}
# Text beyond this many characters of a part is not indexed on PostgreSQL, whose tsvector holds at most 1 MB.
PG_PART_LIMIT = 200_000
SEARCHED_COLUMNS = tuple(name for part in SEARCHED_PARTS for name in SEARCHED_BY_PART[part])

# The FTS table as SQL expressions see it (its hidden column of its own name takes MATCH).
fts = Table(FTS_TABLE, MetaData(), Column("rowid", Integer), Column(FTS_TABLE), *(Column(c) for c in FTS_COLUMNS))


def _parts(row: str = "") -> dict[str, str]:
    """Each indexed part as an SQL expression over the columns, prefixed by ``row`` (``new.``, ``old.``)."""
    parts = {
        part: " || ' ' || ".join(f"coalesce({row}{name}, '')" for name in SEARCHED_BY_PART[part])
        for part in SEARCHED_PARTS
    }
    parts["reference"] = f"'E-' || CAST({row}id AS TEXT)"
    return parts


# --- SQLite ---------------------------------------------------------------------------------------


def _sqlite_create() -> list[str]:
    columns = ", ".join(FTS_COLUMNS)

    def values(row: str) -> str:
        return ", ".join(_parts(row).values())

    source = ", ".join(f"{expr} AS {name}" for name, expr in _parts().items())
    delete_old = f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {columns}) VALUES ('delete', old.id, {values('old.')});"
    insert_new = f"INSERT INTO {FTS_TABLE} (rowid, {columns}) VALUES (new.id, {values('new.')});"
    watched = ", ".join(("id", *SEARCHED_COLUMNS))
    return [
        f"CREATE VIEW {FTS_SOURCE} AS SELECT id, {source} FROM {ITEM_TABLE}",
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({columns}, content='{FTS_SOURCE}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON {ITEM_TABLE} BEGIN {insert_new} END",
        f"CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON {ITEM_TABLE} BEGIN {delete_old} END",
        # Only a change to indexed text re-indexes: a status change or a review leaves the index alone.
        f"CREATE TRIGGER {TRIGGERS[2]} AFTER UPDATE OF {watched} ON {ITEM_TABLE} BEGIN {delete_old} {insert_new} END",
        # Index the rows already there (none when the table is new).
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')",
    ]


def _sqlite_drop() -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
        f"DROP TABLE IF EXISTS {FTS_TABLE}",
        f"DROP VIEW IF EXISTS {FTS_SOURCE}",
    ]


# --- PostgreSQL -----------------------------------------------------------------------------------


def _pg_words(expr: str) -> str:
    """The text as FTS5 would split it: Latin accents off, punctuation turned to space."""
    unaccented = f"translate(left({expr}, {PG_PART_LIMIT}), '{ACCENTED}', '{UNACCENTED}')"
    return f"regexp_replace({unaccented}, '[[:punct:]]+', ' ', 'g')"


def pg_document_sql() -> str:
    """The generated column's expression: every part, weighted."""
    vectors = [
        f"setweight(to_tsvector('simple'::regconfig, {_pg_words(expr)}), '{PG_WEIGHTS[name]}')"
        for name, expr in _parts().items()
    ]
    return " || ".join(vectors)


def _pg_create() -> list[str]:
    return [
        f"ALTER TABLE {ITEM_TABLE} ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector "
        f"GENERATED ALWAYS AS ({pg_document_sql()}) STORED",
        f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {ITEM_TABLE} USING gin ({PG_COLUMN})",
    ]


def _pg_drop() -> list[str]:
    return [f"DROP INDEX IF EXISTS {PG_INDEX}", f"ALTER TABLE {ITEM_TABLE} DROP COLUMN IF EXISTS {PG_COLUMN}"]


# --- Creating and dropping ------------------------------------------------------------------------

_CREATE = {"sqlite": _sqlite_create, "postgresql": _pg_create}
_DROP = {"sqlite": _sqlite_drop, "postgresql": _pg_drop}


def _run(connection, statements: list[str]) -> None:
    for statement in statements:
        connection.exec_driver_sql(statement)


def create(connection) -> None:
    """Build the index on ``evidence_item`` and fill it from the rows there (after ``drop`` if it existed)."""
    dialect = connection.dialect.name
    if dialect in _CREATE:
        _run(connection, [*_DROP[dialect](), *_CREATE[dialect]()] if dialect == "sqlite" else _CREATE[dialect]())


def drop(connection) -> None:
    dialect = connection.dialect.name
    if dialect in _DROP:
        _run(connection, _DROP[dialect]())


def rebuild(connection) -> None:
    """Index every row again from the table (PostgreSQL computes its column itself: nothing to do)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")


def install(table: Table) -> None:
    """Create the index with the table (``db.create_all``) and drop it before the table goes."""
    event.listen(table, "after_create", lambda target, connection, **kw: create(connection))
    event.listen(table, "before_drop", lambda target, connection, **kw: drop(connection))


def is_index_object(name: str, type_: str) -> bool:
    """Is this reflected table, column or index part of the index (which the models do not declare)?"""
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    return (type_, name) in {("column", PG_COLUMN), ("index", PG_INDEX)}
