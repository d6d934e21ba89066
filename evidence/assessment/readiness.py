"""Is a round ready to sign off? What stands in the way, or deserves a look, before it is frozen.

``readiness(round_)`` reads the round as its snapshot would keep it (``live_view``) and lists:
statements not scored, the gaps the gaps check finds, submissions still waiting for review, text
that looks like personal data, stale evidence that an assessment cites, and actions nobody owns.
Each concern lists its first few places, each naming the statement, item or action to open.
Nothing here refuses a sign-off: a manager reads the list and decides.

The personal-data scan of a round (``personal_data_hits``) lives here too; the exports' checks
read the same one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from evidence.assessment.actions import TrackerFilters, tracked_actions
from evidence.assessment.gaps import UNSCORED
from evidence.assessment.round_view import RoundView, live_view
from evidence.db import db
from evidence.fields import ASSESSMENT_TEXTS
from evidence.library import citations
from evidence.library.items import review_queue
from evidence.library.personal_data import ITEM_TEXT_FIELDS, Finding, scan_fields
from evidence.models import EvidenceItem, Round
from evidence.vocab import ActionStatus, Status
from evidence.wording import count, plural

LISTED = 8  # places listed per concern; the rest are counted

# The kinds of concern, in the order they are listed.
NOT_SCORED = "not_scored"
AWAITING_REVIEW = "awaiting_review"
PERSONAL_DATA = "personal_data"
GAPS = "gaps"
STALE_CITED = "stale_cited"
NO_OWNER = "no_owner"


@dataclass(frozen=True)
class PersonalDataHit:
    """Text in one place of the round that looks like it identifies somebody."""

    where: str  # "E-12 Ward social worker cover" or "Assessing needs"
    finding: Finding
    item_id: int | None = None  # the evidence item, when the text belongs to one

    @property
    def reference(self) -> str | None:
        return citations.reference(self.item_id) if self.item_id is not None else None

    def describe(self) -> str:
        return f"{self.where} — {self.finding.describe()}"


def personal_data_hits(view: RoundView) -> list[PersonalDataHit]:
    hits: list[PersonalDataHit] = []
    names = {s.key: s.name for s in view.statements}
    notes: dict[int, list[tuple[str, str]]] = {}
    for mapping in view.mappings:
        if mapping.note:
            label = f"Mapping note ({names.get(mapping.statement_key, mapping.statement_key)})"
            notes.setdefault(mapping.item_id, []).append((label, mapping.note))
    for item in sorted(view.items.values(), key=lambda i: i.id):
        texts = {"title": item.title, "summary": item.summary, "source": item.source, **item.details}
        pairs = [
            (label, texts.get(name)) for name, label in ITEM_TEXT_FIELDS.items() if isinstance(texts.get(name), str)
        ]
        pairs += notes.get(item.id, [])
        where = f"{item.reference} {item.title}"
        hits += [PersonalDataHit(where, finding, item.id) for finding in scan_fields(pairs)]
    for statement in view.statements:
        assessment = view.assessments.get(statement.key)
        if assessment is not None:
            pairs = [(label, getattr(assessment, name)) for name, label in ASSESSMENT_TEXTS.items()]
            hits += [PersonalDataHit(statement.name, finding) for finding in scan_fields(pairs)]
    for action in view.actions:
        where = f"Action for {names.get(action.statement_key, action.statement_key)}"
        pairs = [("Action", action.description), ("Owner", action.owner)]
        hits += [PersonalDataHit(where, finding) for finding in scan_fields(pairs)]
    return hits


@dataclass(frozen=True)
class Place:
    """One place a concern is found: its words, and what to open (a statement, an item or an action)."""

    text: str
    statement_key: str | None = None
    item_id: int | None = None
    action_id: int | None = None


@dataclass(frozen=True)
class Concern:
    kind: str
    title: str  # "2 statements are not scored"
    advice: str  # what to do about it
    places: list[Place]
    total: int  # places in all, of which the first ``LISTED`` are in ``places``

    @property
    def more(self) -> int:
        return self.total - len(self.places)


@dataclass(frozen=True)
class Readiness:
    round: Round
    concerns: list[Concern] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.concerns

    def __iter__(self):
        return iter(self.concerns)


# Each kind's title, from how many places it has, and what to do about it.
TITLES = {
    NOT_SCORED: lambda n: f"{count(n, 'statement')} {plural(n, 'is', 'are')} not scored",
    AWAITING_REVIEW: lambda n: f"{count(n, 'submission')} {plural(n, 'is', 'are')} still waiting for review",
    PERSONAL_DATA: lambda n: f"{count(n, 'piece')} of text {plural(n, 'looks', 'look')} like personal data",
    GAPS: lambda n: f"{count(n, 'open gap')} in the evidence or the scoring",
    STALE_CITED: lambda n: f"{count(n, 'citation')} of stale evidence",
    NO_OWNER: lambda n: f"{count(n, 'action')} {plural(n, 'has', 'have')} no owner",
}
ADVICE = {
    NOT_SCORED: "The round's overall rating stays incomplete until every statement has a score.",
    AWAITING_REVIEW: (
        "Evidence counts only once it is accepted: what is waiting now is left out of the signed-off record."
    ),
    PERSONAL_DATA: "The signed-off record keeps this text for good: remove it first, or be sure it may stay.",
    GAPS: "Statements without current evidence, scores that cite none, or scores at odds with their evidence.",
    STALE_CITED: (
        "Evidence past its review date weakens the judgement that cites it: review it, or cite something current."
    ),
    NO_OWNER: "An action nobody owns is unlikely to happen: name a person, role or team.",
}


def _concern(kind: str, places: list[Place], total: int | None = None) -> Concern | None:
    """A concern of ``kind`` found at ``places`` (the first few of ``total``, when there are more), or None."""
    total = len(places) if total is None else total
    return Concern(kind, TITLES[kind](total), ADVICE[kind], places[:LISTED], total) if total else None


def _not_scored(view: RoundView) -> Concern | None:
    scores = view.scores()
    places = [Place(s.name, statement_key=s.key) for s in view.statements if scores.get(s.key) is None]
    return _concern(NOT_SCORED, places)


def _awaiting_review() -> Concern | None:
    waiting = db.session.scalar(select(func.count(EvidenceItem.id)).where(EvidenceItem.status == Status.SUBMITTED))
    if not waiting:
        return None
    oldest = db.session.scalars(review_queue(Status.SUBMITTED).limit(LISTED)).all()
    places = [Place(f"{item.reference} {item.title}", item_id=item.id) for item in oldest]
    return _concern(AWAITING_REVIEW, places, waiting)


def _personal_data(view: RoundView) -> Concern | None:
    hits = personal_data_hits(view)
    places = [Place(hit.describe(), item_id=hit.item_id) for hit in hits]
    return _concern(PERSONAL_DATA, places)


def _gaps(view: RoundView) -> Concern | None:
    gaps = [g for g in view.gaps() if g.kind != UNSCORED]  # the unscored are listed on their own
    places = [Place(f"{g.statement_name}: {g.message}", statement_key=g.statement_key) for g in gaps]
    return _concern(GAPS, places)


def _stale_cited(view: RoundView) -> Concern | None:
    places = []
    for statement in view.statements:
        assessment = view.assessments.get(statement.key)
        for ref in assessment.citations if assessment else []:
            item = view.items.get(citations.reference_id(ref))
            if item is not None and item.is_stale(view.as_of):
                due = f"review was due {item.review_by:%-d %b %Y}"
                text = f"{item.reference} {item.title}, cited for {statement.name}: {due}"
                places.append(Place(text, statement_key=statement.key, item_id=item.id))
    return _concern(STALE_CITED, places)


def _no_owner(round_: Round) -> Concern | None:
    unowned = [
        a for a in tracked_actions(TrackerFilters(round=round_)) if not a.has_owner and a.status != ActionStatus.DONE
    ]
    places = [
        Place(f"{a.description} ({a.statement_name})", statement_key=a.statement_key, action_id=a.id) for a in unowned
    ]
    return _concern(NO_OWNER, places)


def readiness(round_: Round) -> Readiness:
    """What stands in the way of signing ``round_`` off, or deserves a look first (an open round)."""
    view = live_view(round_)
    found = [
        _not_scored(view),
        _awaiting_review(),
        _personal_data(view),
        _gaps(view),
        _stale_cited(view),
        _no_owner(round_),
    ]
    return Readiness(round_, [c for c in found if c is not None])
