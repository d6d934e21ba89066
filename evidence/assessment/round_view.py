"""A round as plain data: what exports, comparisons and sign-off snapshots read.

An open round is read live from the database; a signed-off round is read from
the snapshot taken when it was signed off, so later edits to evidence never
change it. Both give the same ``RoundView``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evidence import bounds
from evidence.assessment.gaps import Gap, ScoredText, find_gaps
from evidence.assessment.summary import Summary
from evidence.db import db
from evidence.fields import ALL_KIND_FIELDS, ASSESSMENT_TEXTS
from evidence.framework_sync import categories, statements_by_theme
from evidence.library import citations
from evidence.library.citations import cited_references
from evidence.models import (
    Action,
    Assessment,
    Attachment,
    Comment,
    ComparatorPoint,
    ComparatorSeries,
    EvidenceCategory,
    EvidenceItem,
    ItemFacts,
    Mapping,
    MetricPoint,
    PeerChallenge,
    PeerInvite,
    PeerReview,
    QualityStatement,
    Round,
    User,
    utcnow,
)
from evidence.settings import AUTHORITY_NAME, FRAMEWORK_VERSION, get_setting
from evidence.vocab import Status
from quality_statements import scoring

SNAPSHOT_FORMAT = 1


@dataclass
class PointView:
    period: date
    label: str
    value: float


@dataclass
class ComparatorView:
    name: str
    points: list[PointView] = field(default_factory=list)


@dataclass
class ItemView(ItemFacts):
    id: int
    kind: str
    title: str
    summary: str
    source: str
    period_start: date | None
    period_end: date | None
    review_by: date | None
    details: dict[str, Any]
    points: list[PointView] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    comparators: list[ComparatorView] = field(default_factory=list)


@dataclass
class MappingView:
    item_id: int
    statement_key: str
    category_key: str
    stance: str
    note: str


@dataclass
class AssessmentView:
    statement_key: str
    score: int | None
    rationale: str
    key_findings: str
    strengths: str
    areas_for_improvement: str
    updated_at: datetime | None = None
    # The lead's optional score per evidence category, and why the score departs from their suggestion.
    # Snapshots taken before these were kept read as none.
    category_scores: dict[str, int] = field(default_factory=dict)
    override_reason: str | None = None

    @property
    def suggested_score(self) -> int | None:
        """The statement score the category scores suggest (CQC's earlier method), if any are given."""
        return scoring.suggested_score(self.category_scores)

    @property
    def citations(self) -> list[str]:
        return cited_references(*(getattr(self, name) for name in ASSESSMENT_TEXTS))


@dataclass
class ActionView:
    statement_key: str
    description: str
    owner: str
    due_date: date | None
    status: str


@dataclass
class CommentView:
    """A comment as a conversation shows it; a signed-off round keeps its statements' conversations."""

    id: int
    statement_key: str
    thread_id: int | None
    author: str
    body: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None


@dataclass
class PeerReviewView:
    """The peer team's rating and challenge on a statement, and the council's written response."""

    statement_key: str
    rating: int | None
    challenge: str
    response: str
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    responded_by: str | None = None
    responded_at: datetime | None = None


@dataclass
class PeerView:
    """A round's peer challenge: whether it is open, and who was invited."""

    status: str
    reviewers: list[str]
    opened_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class StatementView:
    key: str
    name: str
    theme_key: str
    theme_name: str
    we_statement: str
    i_statements: list[str]


@dataclass
class RoundView:
    round_id: int
    name: str
    status: str
    created_at: datetime
    signed_off_at: datetime | None
    signed_off_by: str | None
    authority: str
    framework_version: str
    as_of: date  # the day staleness is judged on: sign-off day, or today for an open round
    themes: list[tuple[str, str]]
    categories: list[tuple[str, str]]
    statements: list[StatementView]
    items: dict[int, ItemView]
    mappings: list[MappingView]
    assessments: dict[str, AssessmentView]
    actions: list[ActionView]
    # Snapshots taken before these were kept read as none.
    comments: list[CommentView] = field(default_factory=list)
    peer: PeerView | None = None
    peer_reviews: dict[str, PeerReviewView] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Indexed once, as part of reading the round: exports and pages ask for every statement in
        # turn, and for the mappings of each cited item. Plain attributes, so snapshots leave them out.
        self._by_statement: dict[str, list[MappingView]] = {}
        self._by_statement_item: dict[str, dict[int, list[MappingView]]] = {}
        for m in self.mappings:
            self._by_statement.setdefault(m.statement_key, []).append(m)
            self._by_statement_item.setdefault(m.statement_key, {}).setdefault(m.item_id, []).append(m)

    @property
    def signed_off(self) -> bool:
        return self.signed_off_at is not None

    def statement(self, key: str) -> StatementView:
        return next(s for s in self.statements if s.key == key)

    def statements_in(self, theme_key: str) -> list[StatementView]:
        return [s for s in self.statements if s.theme_key == theme_key]

    def mappings_for(self, statement_key: str) -> list[MappingView]:
        return self._by_statement.get(statement_key, [])

    def item_mappings(self, statement_key: str, item_id: int) -> list[MappingView]:
        """The item's mappings to the statement (none when it is not mapped to it)."""
        return self._by_statement_item.get(statement_key, {}).get(item_id, [])

    def mapped_item_ids(self, statement_key: str):
        """The ids of the items mapped to the statement (a set-like view)."""
        return self._by_statement_item.get(statement_key, {}).keys()

    def uncited(self, statement_key: str, references: list[str]) -> int:
        """How many items mapped to the statement its text does not cite (``references``).

        Counted from the few cited items, not by a set difference over the thousands mapped."""
        mapped = self.mapped_item_ids(statement_key)
        return len(mapped) - sum(1 for item_id in {citations.reference_id(r) for r in references} if item_id in mapped)

    def actions_for(self, statement_key: str) -> list[ActionView]:
        return [a for a in self.actions if a.statement_key == statement_key]

    def peer_rating(self, statement_key: str) -> int | None:
        review = self.peer_reviews.get(statement_key)
        return review.rating if review else None

    def peer_ratings(self) -> dict[str, int | None]:
        return {s.key: self.peer_rating(s.key) for s in self.statements}

    def peer_rollup(self) -> scoring.FrameworkRollUp:
        """The peer ratings rolled up as the council's scores are (incomplete until every statement is rated)."""
        grouped = {t_key: [s.key for s in self.statements_in(t_key)] for t_key, _ in self.themes}
        return scoring.roll_up_framework(grouped, self.peer_ratings())

    @property
    def has_peer(self) -> bool:
        return self.peer is not None or bool(self.peer_reviews)

    def scores(self) -> dict[str, int | None]:
        return {s.key: (self.assessments[s.key].score if s.key in self.assessments else None) for s in self.statements}

    def rollup(self) -> scoring.FrameworkRollUp:
        grouped = {t_key: [s.key for s in self.statements_in(t_key)] for t_key, _ in self.themes}
        return scoring.roll_up_framework(grouped, self.scores())

    def summary(self) -> Summary:
        summary = Summary()
        for m in self.mappings:
            summary[(m.statement_key, m.category_key)].add(m.stance, self.items[m.item_id].is_stale(self.as_of))
        return summary

    def gaps(self) -> list[Gap]:
        assessments = {k: ScoredText(a.score, tuple(a.citations)) for k, a in self.assessments.items()}
        return find_gaps([(s.key, s.name) for s in self.statements], self.categories, self.summary(), assessments)

    # --- serialising for the sign-off snapshot -------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = _plain(asdict(self))
        data["items"] = list(data["items"].values())
        data["assessments"] = list(data["assessments"].values())
        data["peer_reviews"] = list(data["peer_reviews"].values())
        data["format"] = SNAPSHOT_FORMAT
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoundView:
        items = {}
        for raw in data["items"]:
            raw = dict(raw)
            raw["points"] = [PointView(_date(p["period"]), p["label"], p["value"]) for p in raw["points"]]
            raw["comparators"] = _comparators(raw)
            for key in ("period_start", "period_end", "review_by"):
                raw[key] = _date(raw[key])
            items[raw["id"]] = ItemView(**raw)
        return cls(
            round_id=data["round_id"],
            name=data["name"],
            status=data["status"],
            created_at=_datetime(data["created_at"]),
            signed_off_at=_datetime(data["signed_off_at"]),
            signed_off_by=data["signed_off_by"],
            authority=data["authority"],
            framework_version=data["framework_version"],
            as_of=_date(data["as_of"]),
            themes=[tuple(t) for t in data["themes"]],
            categories=[tuple(c) for c in data["categories"]],
            statements=[StatementView(**s) for s in data["statements"]],
            items=items,
            mappings=[MappingView(**m) for m in data["mappings"]],
            assessments={
                a["statement_key"]: AssessmentView(**{**a, "updated_at": _datetime(a["updated_at"])})
                for a in data["assessments"]
            },
            actions=[ActionView(**{**a, "due_date": _date(a["due_date"])}) for a in data["actions"]],
            comments=[
                CommentView(
                    **{
                        **c,
                        "created_at": _datetime(c["created_at"]),
                        "resolved_at": _datetime(c["resolved_at"]),
                    }
                )
                for c in data.get("comments", [])
            ],
            peer=_peer_from(data.get("peer")),
            peer_reviews={
                r["statement_key"]: PeerReviewView(
                    **{**r, "reviewed_at": _datetime(r["reviewed_at"]), "responded_at": _datetime(r["responded_at"])}
                )
                for r in data.get("peer_reviews", [])
            },
        )


def _comparators(raw: dict[str, Any]) -> list[ComparatorView]:
    """An item's comparators in a snapshot. One taken when a metric held a single comparator (a name and a
    value in its details) reads it as the migration keeps it: one point, at the period of the latest value."""
    if "comparators" in raw:
        return [
            ComparatorView(c["name"], [PointView(_date(p["period"]), p["label"], p["value"]) for p in c["points"]])
            for c in raw["comparators"]
        ]
    details = raw["details"] = dict(raw["details"])
    name, value = details.pop("comparator_label", None), details.pop("comparator_value", None)
    if not name and value is None:
        return []
    series = ComparatorView(name or "Comparator")
    if value is not None and raw["points"]:
        latest = raw["points"][-1]
        series.points.append(PointView(latest.period, latest.label, value))
    elif value is not None and (raw.get("period_end") or raw.get("period_start")):
        when = _date(raw.get("period_end") or raw.get("period_start"))
        start = date(when.year, when.month, 1)
        series.points.append(PointView(start, start.strftime("%b %Y"), value))
    return [series]


def _peer_from(data: dict[str, Any] | None) -> PeerView | None:
    if not data:
        return None
    return PeerView(
        data["status"], list(data["reviewers"]), _datetime(data.get("opened_at")), _datetime(data.get("closed_at"))
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _accepted_items() -> dict[int, ItemView]:
    """Every accepted item as an ``ItemView``, read as plain rows (no ORM objects: a large
    portfolio has tens of thousands of items, mappings and points).

    A number stored as Infinity or NaN (before values were checked) counts as missing, as it
    must in a snapshot: JSON cannot hold it.
    """
    # Every kind's own columns, carried as details (and so into exports and snapshots).
    columns = [getattr(EvidenceItem, name) for name in ALL_KIND_FIELDS]
    accepted = EvidenceItem.status == Status.ACCEPTED
    items: dict[int, ItemView] = {}
    for row in db.session.execute(
        select(
            EvidenceItem.id,
            EvidenceItem.kind,
            EvidenceItem.title,
            EvidenceItem.summary,
            EvidenceItem.source,
            EvidenceItem.period_start,
            EvidenceItem.period_end,
            EvidenceItem.review_by,
            *columns,
        )
        .where(accepted)
        .order_by(EvidenceItem.id)
    ):
        item_id, kind, title, summary, source, start, end, review_by, *details = row
        items[item_id] = ItemView(
            id=item_id,
            kind=kind,
            title=title,
            summary=summary or "",
            source=source or "",
            period_start=start,
            period_end=end,
            review_by=review_by,
            details={
                name: value
                for name, value in zip(ALL_KIND_FIELDS, details, strict=True)
                if bounds.finite(value) is not None
            },
        )
    for item_id, period, label, value in db.session.execute(
        select(MetricPoint.item_id, MetricPoint.period, MetricPoint.label, MetricPoint.value)
        .join(EvidenceItem)
        .where(accepted)
        .order_by(MetricPoint.item_id, MetricPoint.period)
    ):
        if bounds.finite(value) is not None:
            items[item_id].points.append(PointView(period, label, value))
    series: dict[int, ComparatorView] = {}
    for series_id, item_id, name, period, label, value in db.session.execute(
        select(
            ComparatorSeries.id,
            ComparatorSeries.item_id,
            ComparatorSeries.name,
            ComparatorPoint.period,
            ComparatorPoint.label,
            ComparatorPoint.value,
        )
        .join(EvidenceItem, ComparatorSeries.item_id == EvidenceItem.id)
        .outerjoin(ComparatorPoint, ComparatorPoint.series_id == ComparatorSeries.id)
        .where(accepted)
        .order_by(ComparatorSeries.item_id, ComparatorSeries.id, ComparatorPoint.period)
    ):
        if series_id not in series:
            series[series_id] = ComparatorView(name)
            items[item_id].comparators.append(series[series_id])
        if period is not None and bounds.finite(value) is not None:
            series[series_id].points.append(PointView(period, label, value))
    for item_id, name in db.session.execute(
        select(Attachment.item_id, Attachment.original_name)
        .join(EvidenceItem)
        .where(accepted)
        .order_by(Attachment.item_id, Attachment.id)
    ):
        items[item_id].attachments.append(name)
    return items


def _accepted_mappings() -> list[MappingView]:
    return [
        MappingView(item_id, statement_key, category_key, stance, note or "")
        for item_id, statement_key, category_key, stance, note in db.session.execute(
            select(Mapping.item_id, QualityStatement.key, EvidenceCategory.key, Mapping.stance, Mapping.note)
            .join(Mapping.item)
            .join(Mapping.statement)
            .join(Mapping.category)
            .where(EvidenceItem.status == Status.ACCEPTED)
            .order_by(Mapping.item_id, Mapping.id)
        )
    ]


def comment_view(comment: Comment, statement_key: str = "") -> CommentView:
    return CommentView(
        id=comment.id,
        statement_key=statement_key,
        thread_id=comment.thread_id,
        author=comment.author.name if comment.author else "Someone",
        body=comment.body,
        created_at=comment.created_at,
        resolved_at=comment.resolved_at,
        resolved_by=comment.resolved_by.name if comment.resolved_by else None,
    )


def round_comments(round_: Round) -> list[CommentView]:
    """Every comment on the round's statements, oldest first."""
    rows = db.session.execute(
        select(Comment, QualityStatement.key)
        .join(QualityStatement, QualityStatement.id == Comment.statement_id)
        .where(Comment.round_id == round_.id)
        .options(selectinload(Comment.author), selectinload(Comment.resolved_by))
        .order_by(Comment.id)
    ).all()
    return [comment_view(c, key) for c, key in rows]


def peer_state(round_: Round) -> tuple[PeerView | None, dict[str, PeerReviewView]]:
    """A round's peer challenge and its reviews, read live (a few small queries, none over the evidence)."""
    challenge = db.session.get(PeerChallenge, round_.id)
    reviewers = db.session.scalars(
        select(User.name)
        .join(PeerInvite, PeerInvite.user_id == User.id)
        .where(PeerInvite.round_id == round_.id)
        .order_by(User.name)
    ).all()
    peer = None
    if challenge is not None:
        peer = PeerView(challenge.status, list(reviewers), challenge.opened_at, challenge.closed_at)
    reviews = db.session.scalars(
        select(PeerReview)
        .where(PeerReview.round_id == round_.id)
        .options(
            selectinload(PeerReview.statement),
            selectinload(PeerReview.reviewed_by),
            selectinload(PeerReview.responded_by),
        )
    ).all()
    return peer, {
        r.statement.key: PeerReviewView(
            statement_key=r.statement.key,
            rating=r.rating,
            challenge=r.challenge or "",
            response=r.response or "",
            reviewed_by=r.reviewed_by.name if r.reviewed_by else None,
            reviewed_at=r.reviewed_at,
            responded_by=r.responded_by.name if r.responded_by else None,
            responded_at=r.responded_at,
        )
        for r in reviews
    }


def live_view(round_: Round) -> RoundView:
    """Read an open round from the database: accepted evidence and its mappings as they stand now."""
    grouped = statements_by_theme()
    peer, peer_reviews = peer_state(round_)
    assessments = db.session.scalars(
        select(Assessment).where(Assessment.round_id == round_.id).options(selectinload(Assessment.statement))
    ).all()
    actions = db.session.scalars(
        select(Action).options(selectinload(Action.statement)).order_by(Action.due_date, Action.id)
    ).all()
    return RoundView(
        round_id=round_.id,
        name=round_.name,
        status=round_.status,
        created_at=round_.created_at,
        signed_off_at=round_.signed_off_at,
        signed_off_by=round_.signed_off_by.name if round_.signed_off_by else None,
        authority=get_setting(AUTHORITY_NAME, ""),
        framework_version=get_setting(FRAMEWORK_VERSION, ""),
        as_of=(round_.signed_off_at or utcnow()).date(),
        themes=[(t.key, t.name) for t, _ in grouped],
        categories=[(c.key, c.name) for c in categories()],
        statements=[
            StatementView(s.key, s.name, t.key, t.name, s.we_statement, list(s.i_statements or []))
            for t, ss in grouped
            for s in ss
        ],
        items=_accepted_items(),
        mappings=_accepted_mappings(),
        assessments={
            a.statement.key: AssessmentView(
                statement_key=a.statement.key,
                score=a.score,
                **{name: getattr(a, name) or "" for name in ASSESSMENT_TEXTS},
                updated_at=a.updated_at,
                category_scores=dict(a.category_scores or {}),
                override_reason=a.override_reason,
            )
            for a in assessments
        },
        actions=[
            ActionView(a.statement.key, a.description, a.owner, a.due_date, a.status)
            for a in actions
            if a.round_id in (None, round_.id)
        ],
        comments=round_comments(round_),
        peer=peer,
        peer_reviews=peer_reviews,
    )


# A signed-off round never changes, so its parsed snapshot can be kept and shared:
# parsing a large portfolio's snapshot costs far more than any page that shows it.
_FROZEN_CACHE_SIZE = 4
_frozen: OrderedDict[tuple[int, datetime | None], RoundView] = OrderedDict()
_frozen_lock = threading.Lock()


def clear_cache() -> None:
    """Forget parsed snapshots (for a process that swaps databases, such as the test suite)."""
    with _frozen_lock:
        _frozen.clear()


def round_view(round_: Round) -> RoundView:
    """The round as it stands: its frozen snapshot once signed off, else live.

    The view of a signed-off round is shared between callers: treat it as read-only.
    """
    if not round_.signed_off:
        return live_view(round_)
    key = (round_.id, round_.signed_off_at)
    with _frozen_lock:
        if key in _frozen:
            _frozen.move_to_end(key)
            return _frozen[key]
    if not round_.snapshot:  # signed off before snapshots existed: show it live rather than nothing
        return live_view(round_)
    view = RoundView.from_dict(round_.snapshot)
    with _frozen_lock:
        _frozen[key] = view
        while len(_frozen) > _FROZEN_CACHE_SIZE:
            _frozen.popitem(last=False)
    return view
