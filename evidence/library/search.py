"""Finding evidence: full-text search, filters and sorting as one SQLAlchemy statement.

The words go through the library's query language (``search_query``) into the database's full-text
index (``search_index``: FTS5 on SQLite, a tsvector on PostgreSQL), which ranks what it finds; the
filters are portable SQL. The statement selects items only; callers eager-load what a page shows
(``with_list_loading``) so that a page costs the same few queries whatever the size of the portfolio.
"""

from __future__ import annotations

from collections.abc import Mapping as Values
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, literal_column, or_, select
from sqlalchemy.orm import selectinload

from evidence.db import db
from evidence.library import search_index, search_query
from evidence.library.search_index import fts
from evidence.models import EvidenceCategory, EvidenceItem, Mapping, QualityStatement, User, today
from evidence.vocab import Status

ANY_STATUS = "any"
# Sort keys offered to people, with what they mean.
RELEVANCE = "relevance"
SORTS = {
    RELEVANCE: "Best match first",  # newest first when no words are searched for
    "-reference": "Newest first",
    "reference": "Reference (oldest first)",
    "title": "Title A–Z",
    "-period": "Period (latest first)",
    "period": "Period (earliest first)",
    "review_by": "Review by (soonest first)",
}
DEFAULT_SORT = RELEVANCE


@dataclass
class Filters:
    """What a person asked the library for. Empty values mean "no filter"."""

    q: str = ""
    kind: str | None = None
    statement: str | None = None  # quality statement key
    category: str | None = None  # evidence category key
    stance: str | None = None
    status: str | None = Status.ACCEPTED  # ANY_STATUS for every status
    owner_id: int | None = None
    stale: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT

    @classmethod
    def asked(cls, values: Values[str, Any], *, curator: bool) -> Filters:
        """The filters a person asked for (empty values dropped); only curators see evidence not yet accepted."""
        names = {f.name for f in fields(cls)}
        chosen = {name: value for name, value in values.items() if name in names and value not in (None, "")}
        chosen["status"] = (chosen.get("status") or Status.ACCEPTED) if curator else Status.ACCEPTED
        return cls(**chosen)

    @property
    def active(self) -> bool:
        """Is anything narrowing the list beyond the default (accepted items)?"""
        return any(
            [
                self.q.strip(),
                self.kind,
                self.statement,
                self.category,
                self.stance,
                self.owner_id,
                self.stale is not None,
                self.date_from,
                self.date_to,
                self.status not in (Status.ACCEPTED, None),
            ]
        )

    @property
    def query(self) -> search_query.Query:
        """The search words as the query language reads them."""
        return search_query.parse(self.q)

    @property
    def sort_used(self) -> str:
        """The sort asked for, or the default when it is not one of SORTS."""
        return self.sort if self.sort in SORTS else DEFAULT_SORT

    @property
    def ranked(self) -> bool:
        """Are the results in order of relevance (words searched for, and no other order chosen)?"""
        return self.sort_used == RELEVANCE and bool(self.query.groups)

    @property
    def narrowed(self) -> bool:
        """Is a filter other than the search words in use, or a sort other than the default?"""
        return replace(self, q="").active or self.sort != DEFAULT_SORT


def owners() -> list[User]:
    """The people who own evidence, by name: the choices of the library's owner filter."""
    return db.session.scalars(
        select(User).where(exists().where(EvidenceItem.owner_id == User.id)).order_by(User.name)
    ).all()


def text_search(stmt: Select, query: search_query.Query, *, ranked: bool = False):
    """The statement narrowed to what the words find, and (when ``ranked``) the order of relevance."""
    if db.engine.dialect.name == "postgresql":
        document = literal_column(f"{EvidenceItem.__tablename__}.{search_index.PG_COLUMN}")
        asked = func.to_tsquery(literal_column("'simple'::regconfig"), search_query.tsquery(query))
        return stmt.where(document.op("@@")(asked)), [func.ts_rank_cd(document, asked).desc()] if ranked else []
    wanted, unwanted = search_query.fts5_match(query)
    rank = []
    if wanted and ranked:
        # LIMIT -1 (none) keeps SQLite from flattening the hits into the join, where it would run the
        # MATCH once for every item it lists; so the hits are found once, then their items looked up.
        hits = (
            select(
                fts.c.rowid.label("item_id"),
                func.bm25(literal_column(fts.name), *search_index.BM25_WEIGHTS).label("rank"),
            )
            .where(_matches(wanted))
            .limit(-1)
            .subquery("hits")
        )
        stmt = stmt.join(hits, hits.c.item_id == EvidenceItem.id)
        rank = [hits.c.rank.asc()]  # bm25: lower is better
    elif wanted:
        stmt = stmt.where(EvidenceItem.id.in_(select(fts.c.rowid).where(_matches(wanted))))
    if unwanted:
        stmt = stmt.where(EvidenceItem.id.not_in(select(fts.c.rowid).where(_matches(unwanted))))
    return stmt, rank


def _matches(expression: str):
    return fts.c[fts.name].op("MATCH")(expression)


def build_query(filters: Filters, on: date | None = None) -> Select:
    """A SELECT of EvidenceItem for these filters, sorted; no eager loading."""
    on = on or today()
    stmt = select(EvidenceItem)
    conditions = []
    rank = []
    query = filters.query
    if not query.empty:
        stmt, rank = text_search(stmt, query, ranked=filters.ranked)
    elif filters.q.strip():
        conditions.append(false())  # only punctuation: no word to find
    if filters.status and filters.status != ANY_STATUS:
        conditions.append(EvidenceItem.status == filters.status)
    if filters.kind:
        conditions.append(EvidenceItem.kind == filters.kind)
    if filters.owner_id:
        conditions.append(EvidenceItem.owner_id == filters.owner_id)
    if filters.stale is True:
        conditions.append(EvidenceItem.review_by < on)
    elif filters.stale is False:
        conditions.append(or_(EvidenceItem.review_by.is_(None), EvidenceItem.review_by >= on))
    if filters.date_from or filters.date_to:
        # Items whose period overlaps the range asked for.
        period_end = func.coalesce(EvidenceItem.period_end, EvidenceItem.period_start)
        conditions.append(EvidenceItem.period_start.is_not(None))
        if filters.date_from:
            conditions.append(period_end >= filters.date_from)
        if filters.date_to:
            conditions.append(EvidenceItem.period_start <= filters.date_to)
    if filters.statement or filters.category or filters.stance:
        # One mapping must match every mapping filter: "safe pathways, under staff and leaders".
        mapping_conditions = [Mapping.item_id == EvidenceItem.id]
        if filters.statement:
            mapping_conditions.append(
                Mapping.statement_id.in_(select(QualityStatement.id).where(QualityStatement.key == filters.statement))
            )
        if filters.category:
            mapping_conditions.append(
                Mapping.category_id.in_(select(EvidenceCategory.id).where(EvidenceCategory.key == filters.category))
            )
        if filters.stance:
            mapping_conditions.append(Mapping.stance == filters.stance)
        conditions.append(exists().where(and_(*mapping_conditions)))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return stmt.order_by(*_order(filters.sort_used, rank))


def _order(sort: str, rank: list):
    if sort == RELEVANCE:
        return [*rank, EvidenceItem.id.desc()]  # equal matches newest first
    if sort == "reference":
        return [EvidenceItem.id.asc()]
    if sort == "title":
        return [func.lower(EvidenceItem.title).asc(), EvidenceItem.id.asc()]
    if sort == "period":
        return [EvidenceItem.period_start.is_(None), EvidenceItem.period_start.asc(), EvidenceItem.id.asc()]
    if sort == "-period":
        return [EvidenceItem.period_start.is_(None), EvidenceItem.period_start.desc(), EvidenceItem.id.desc()]
    if sort == "review_by":
        return [EvidenceItem.review_by.is_(None), EvidenceItem.review_by.asc(), EvidenceItem.id.asc()]
    return [EvidenceItem.id.desc()]


def with_list_loading(stmt: Select) -> Select:
    """Eager-load what a list row shows, in a fixed number of queries for the whole page."""
    return stmt.options(
        selectinload(EvidenceItem.mappings).selectinload(Mapping.statement),
        selectinload(EvidenceItem.mappings).selectinload(Mapping.category),
        selectinload(EvidenceItem.owner),
    )


def search(filters: Filters, *, page: int = 1, per_page: int = 50, on: date | None = None):
    """One page of results (a Flask-SQLAlchemy Pagination), rows eager-loaded."""
    return db.paginate(
        with_list_loading(build_query(filters, on)), page=page, per_page=per_page, error_out=False, max_per_page=200
    )
