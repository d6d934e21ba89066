"""Self-assessment rounds: creating one, signing it off (which freezes it) and comparing two.

A signed-off round keeps a snapshot of its evidence, text and scores
(``round_view``), so later edits to evidence never change what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from evidence import audit
from evidence.assessment import peer
from evidence.assessment.actions import FIELDS
from evidence.assessment.rollup import RoundResult, assessment_texts, rolled_up, round_result
from evidence.assessment.round_lock import RoundError, RoundFrozenError, lock_round
from evidence.assessment.round_view import live_view, round_view
from evidence.db import db
from evidence.fields import ASSESSMENT_FIELDS
from evidence.library import citations
from evidence.library.citations import cited_ids
from evidence.models import Action, Assessment, EvidenceItem, Mapping, QualityStatement, Round, User, utcnow
from evidence.together import events
from evidence.vocab import ActionStatus, RoundStatus, Status
from quality_statements import scoring

NAME_MAX = 200
ROUND_FIELDS = ["name", "status", "signed_off_at", "signed_off_by_id"]


# --- Choosing a round: every page, export and command picks a round with these -------------


def all_rounds() -> list[Round]:
    """Every round, newest first."""
    return db.session.scalars(
        select(Round)
        .options(selectinload(Round.signed_off_by), selectinload(Round.created_by))
        .order_by(Round.id.desc())
    ).all()


def latest_round() -> Round | None:
    """The round created last: what a new round carries forward, and what an export takes by default."""
    return db.session.scalar(select(Round).order_by(Round.id.desc()).limit(1))


def current_round() -> Round | None:
    """The round being worked on: the newest open round, or else the newest round."""
    open_round = db.session.scalar(
        select(Round).where(Round.status == RoundStatus.OPEN).order_by(Round.id.desc()).limit(1)
    )
    return open_round or latest_round()


def previous_round(round_: Round | None) -> Round | None:
    """The round before this one (by creation), if any."""
    if round_ is None:
        return None
    return db.session.scalar(select(Round).where(Round.id < round_.id).order_by(Round.id.desc()).limit(1))


def find_round(name: str) -> Round | None:
    """A round by its name: exactly, or else ignoring case and surrounding spaces."""
    found = db.session.scalar(select(Round).where(Round.name == name))
    if found is None:
        wanted = name.strip().casefold()
        found = next((r for r in all_rounds() if r.name.strip().casefold() == wanted), None)
    return found


def rounds_with_results() -> list[tuple[Round, scoring.RollUp]]:
    """Every round, newest first, with its overall roll-up (two queries, however many rounds).

    Scores come from the assessment rows, which a signed-off round no longer lets anybody change.
    """
    rounds = all_rounds()
    keys = db.session.scalars(select(QualityStatement.key).order_by(QualityStatement.position)).all()
    scores: dict[int, dict[str, int | None]] = {r.id: dict.fromkeys(keys) for r in rounds}
    rows = db.session.execute(
        select(Assessment.round_id, QualityStatement.key, Assessment.score).join(
            QualityStatement, QualityStatement.id == Assessment.statement_id
        )
    )
    for round_id, key, score in rows:
        if round_id in scores:
            scores[round_id][key] = score
    return [(r, scoring.roll_up(scores[r.id], keys)) for r in rounds]


# --- Creating ---------------------------------------------------------------------


def create_round(name: str, user: User | None, carry_forward_from: Round | None = None) -> Round:
    """A new open round. Carrying forward copies the earlier round's scores, text and unfinished actions."""
    name = (name or "").strip()
    if not name:
        raise RoundError("Give the round a name, for example “Winter 2026 self-assessment”.")
    if len(name) > NAME_MAX:
        raise RoundError(f"A round's name can be at most {NAME_MAX} characters.")
    if db.session.scalar(select(Round.id).where(Round.name == name)):
        raise RoundError(f"There is already a round called “{name}”. Choose another name.")
    round_ = Round(name=name, status=RoundStatus.OPEN, created_by_id=user.id if user else None)
    db.session.add(round_)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise RoundError(f"There is already a round called “{name}”. Choose another name.") from error
    summary = f"Created round “{name}”"
    if carry_forward_from is not None:
        summary += f", carrying forward “{carry_forward_from.name}”"
    audit.record("create", round_, user=user, summary=summary, after=audit.snapshot(round_, ["name", "status"]))
    if carry_forward_from is not None:
        _carry_forward(carry_forward_from, round_, user)
    db.session.commit()
    return round_


def _carry_forward(source: Round, target: Round, user: User | None) -> None:
    earlier = db.session.scalars(
        select(Assessment).where(Assessment.round_id == source.id).options(selectinload(Assessment.statement))
    ).all()
    for old in earlier:
        new = Assessment(round=target, statement_id=old.statement_id, updated_by_id=user.id if user else None)
        for name in ASSESSMENT_FIELDS:
            value = getattr(old, name)
            setattr(new, name, dict(value) if isinstance(value, dict) else value)
        summary = f"Carried forward from “{source.name}”: {old.statement.name}"
        audit.record_new(new, ASSESSMENT_FIELDS, user=user, summary=summary)
    unfinished = db.session.scalars(
        select(Action).where(Action.round_id == source.id, Action.status != ActionStatus.DONE).order_by(Action.id)
    ).all()
    for old in unfinished:
        new = Action(statement_id=old.statement_id, round_id=target.id, **{name: getattr(old, name) for name in FIELDS})
        audit.record_new(new, [*FIELDS, "round_id"], user=user, summary=f"Carried forward from “{source.name}”")


# --- Signing off ------------------------------------------------------------------


def sign_off(round_: Round, user: User, confirmed: bool) -> Round:
    """Freeze the round: its status, who and when, and a snapshot of its evidence, text and scores."""
    if round_.signed_off:
        raise RoundFrozenError(round_)
    if not confirmed:
        raise RoundError("Tick the box to confirm that you are signing this round off. Nothing was changed.")
    # Waits for writes into the round that are under way, and holds off new ones until the snapshot is kept.
    lock_round(round_, sign_off=True)
    before = audit.snapshot(round_, ROUND_FIELDS)
    round_.status = RoundStatus.SIGNED_OFF
    round_.signed_off_at = utcnow()
    round_.signed_off_by = user
    peer.close_challenge(round_, user, at_sign_off=True)  # the ratings are kept as they stand
    db.session.flush()
    # The view reads the round as it now stands, including when and by whom it was signed off.
    round_.snapshot = live_view(round_).to_dict()
    audit.record(
        "sign_off",
        round_,
        user=user,
        summary=f"Signed off “{round_.name}”; it is now frozen",
        before=before,
        after=audit.snapshot(round_, ROUND_FIELDS),
    )
    events.round_signed_off(round_, user)
    db.session.commit()
    return round_


# --- Reading a round ----------------------------------------------------------------


def round_overview(round_: Round) -> RoundResult:
    """Statement scores and roll-up: from the snapshot once signed off, else live."""
    if not round_.signed_off:
        return round_result(round_)
    view = round_view(round_)
    themes = [(key, name, [(s.key, s.name) for s in view.statements_in(key)]) for key, name in view.themes]
    return rolled_up(round_, themes, view.scores(), frozen=True)


# --- Comparing ----------------------------------------------------------------------

NOT_COMPARABLE = "not_comparable"


@dataclass(frozen=True)
class ItemRef:
    id: int
    title: str

    @property
    def reference(self) -> str:
        return citations.reference(self.id)


@dataclass
class StatementComparison:
    key: str
    name: str
    theme_name: str
    score_a: int | None
    score_b: int | None
    added: list[ItemRef] = field(default_factory=list)
    removed: list[ItemRef] = field(default_factory=list)
    peer_a: int | None = None  # the peer challenge's rating in each round, if any
    peer_b: int | None = None

    @property
    def movement(self) -> str:
        return scoring.movement(self.score_a, self.score_b) or NOT_COMPARABLE

    @property
    def movement_label(self) -> str:
        if self.movement == NOT_COMPARABLE:
            if self.score_a is None and self.score_b is None:
                return "Not scored in either round"
            return "Newly scored" if self.score_a is None else "No longer scored"
        return {scoring.UP: "Up", scoring.DOWN: "Down", scoring.SAME: "Same"}[self.movement]

    @property
    def changed(self) -> bool:
        return self.movement != scoring.SAME or bool(self.added or self.removed)


@dataclass
class RoundComparison:
    a: Round
    b: Round
    overall_a: scoring.RollUp
    overall_b: scoring.RollUp
    statements: list[StatementComparison]

    @property
    def has_peer(self) -> bool:
        return any(s.peer_a or s.peer_b for s in self.statements)

    def count(self, movement: str) -> int:
        return sum(1 for s in self.statements if s.movement == movement)

    @property
    def evidence_added(self) -> int:
        return sum(len(s.added) for s in self.statements)

    @property
    def evidence_removed(self) -> int:
        return sum(len(s.removed) for s in self.statements)


@dataclass
class _RoundEvidence:
    statements: list[tuple[str, str, str]]  # key, name, theme name
    scores: dict[str, int | None]
    overall: scoring.RollUp
    item_ids: dict[str, set[int]]  # statement key → items mapped to it or cited by its assessment
    titles: dict[int, str]


def _frozen_evidence(round_: Round) -> _RoundEvidence:
    view = round_view(round_)
    item_ids: dict[str, set[int]] = {s.key: set() for s in view.statements}
    for m in view.mappings:
        item_ids.setdefault(m.statement_key, set()).add(m.item_id)
    for key, assessment in view.assessments.items():
        item_ids.setdefault(key, set()).update(citations.reference_id(ref) for ref in assessment.citations)
    titles = {i: item.title for i, item in view.items.items()}
    return _RoundEvidence(
        [(s.key, s.name, s.theme_name) for s in view.statements],
        view.scores(),
        view.rollup().overall,
        item_ids,
        titles,
    )


def _live_evidence(round_: Round) -> _RoundEvidence:
    """The same facts for an open round, read with a few aggregate queries rather than every item."""
    result = round_result(round_)
    item_ids: dict[str, set[int]] = {s.key: set() for t in result.themes for s in t.statements}
    rows = db.session.execute(
        select(QualityStatement.key, Mapping.item_id)
        .join(Mapping, Mapping.statement_id == QualityStatement.id)
        .join(EvidenceItem, EvidenceItem.id == Mapping.item_id)
        .where(EvidenceItem.status == Status.ACCEPTED)
    )
    for key, item_id in rows:
        item_ids.setdefault(key, set()).add(item_id)
    for key, _, texts in assessment_texts(round_):
        item_ids.setdefault(key, set()).update(cited_ids(*texts))
    return _RoundEvidence(
        [(s.key, s.name, t.name) for t in result.themes for s in t.statements],
        result.scores,
        result.overall,
        item_ids,
        {},
    )


def _evidence(round_: Round) -> _RoundEvidence:
    return _frozen_evidence(round_) if round_.signed_off else _live_evidence(round_)


def compare_rounds(a: Round, b: Round) -> RoundComparison:
    """Per statement, from round a to round b: score movement, and evidence added or removed."""
    ea, eb = _evidence(a), _evidence(b)
    wanted = set()
    for key in set(ea.item_ids) | set(eb.item_ids):
        wanted |= ea.item_ids.get(key, set()) ^ eb.item_ids.get(key, set())
    missing_titles = [i for i in wanted if i not in eb.titles and i not in ea.titles]
    live_titles = {}
    if missing_titles:
        live_titles = dict(
            db.session.execute(
                select(EvidenceItem.id, EvidenceItem.title).where(EvidenceItem.id.in_(missing_titles))
            ).all()
        )

    def ref(item_id: int) -> ItemRef:
        title = eb.titles.get(item_id) or ea.titles.get(item_id) or live_titles.get(item_id) or "(no longer held)"
        return ItemRef(item_id, title)

    order = list(eb.statements) + [s for s in ea.statements if s[0] not in {k for k, _, _ in eb.statements}]
    peer_a, peer_b = peer.reviews_of(a), peer.reviews_of(b)
    statements = []
    for key, name, theme_name in order:
        before, after = ea.item_ids.get(key, set()), eb.item_ids.get(key, set())
        statements.append(
            StatementComparison(
                key,
                name,
                theme_name,
                ea.scores.get(key),
                eb.scores.get(key),
                added=[ref(i) for i in sorted(after - before)],
                removed=[ref(i) for i in sorted(before - after)],
                peer_a=peer_a[key].rating if key in peer_a else None,
                peer_b=peer_b[key].rating if key in peer_b else None,
            )
        )
    return RoundComparison(a, b, ea.overall, eb.overall, statements)
