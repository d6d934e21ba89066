"""A quality statement's self-assessment within a round: saving it safely, and the evidence behind it.

Saving checks, in order: the round is still open; nobody else has saved since the
form was loaded (optimistic locking on ``Assessment.version``); then, in one pass
that reports every problem at once, the score, the category scores and the
override reason make sense and every ``[E-12]`` cited names accepted evidence.
Any failure changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from evidence import audit
from evidence.assessment.actions import actions_for, open_by_statement, overdue_by_statement
from evidence.assessment.rollup import StatementScore, ThemeResult, round_result
from evidence.assessment.round_lock import RoundFrozenError, ensure_open, lock_round
from evidence.assessment.round_view import RoundView, round_view
from evidence.assessment.summary import EvidenceCount, evidence_counts, keys_by_id, mapping_counts
from evidence.db import db
from evidence.fields import ASSESSMENT_FIELDS, ASSESSMENT_TEXTS
from evidence.framework_sync import categories as framework_categories
from evidence.framework_sync import category_by_key
from evidence.history import Entry, entries
from evidence.library import citations
from evidence.library.mappings import MappingError, add_mapping
from evidence.models import (
    Assessment,
    AuditEvent,
    EvidenceCategory,
    EvidenceItem,
    Mapping,
    QualityStatement,
    Round,
    User,
    today,
)
from evidence.portfolio_cache import figure
from evidence.vocab import Stance, Status
from quality_statements import scoring

__all__ = [
    "AssessmentError",
    "CitationError",
    "ConflictError",
    "RoundFrozenError",
    "ValidationError",
    "save_assessment",
]

TEXT_MAX = 20_000


class AssessmentError(ValueError):
    """The save was refused; nothing was changed."""


class ValidationError(AssessmentError):
    """Field → message for every problem found, so a form can show each beside its field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class CitationError(ValidationError):
    """Among the problems, citations that cannot be used; ``errors`` holds those and any others found."""

    def __init__(self, problems: list[tuple[str, str]], errors: dict[str, str] | None = None):
        self.problems = problems  # (reference, what is wrong with it)
        super().__init__(errors or {})
        listed = "; ".join(f"{ref} {why}" for ref, why in problems)
        self.args = (f"Not saved: these citations cannot be used: {listed}.",)

    @property
    def references(self) -> list[str]:
        return [ref for ref, _ in self.problems]


@dataclass(frozen=True)
class SavedAssessment:
    """An assessment as it was saved, as plain values that outlive the transaction: what the statement page
    shows (live, or its text and score from a signed-off round's snapshot), and another person's version
    when a save is refused."""

    score: int | None
    rationale: str
    key_findings: str
    strengths: str
    areas_for_improvement: str
    category_scores: dict[str, int]
    override_reason: str | None
    updated_by: str | None
    updated_at: Any
    version: int

    @classmethod
    def of(cls, row: Assessment | None, frozen: Any | None = None) -> SavedAssessment | None:
        """The saved ``row``; with ``frozen`` (its snapshot), the score and text as they were at sign-off."""
        source = frozen or row
        if source is None:
            return None
        return cls(
            score=source.score,
            **{name: getattr(source, name) or "" for name in ASSESSMENT_TEXTS},
            category_scores=dict((row.category_scores if row else None) or {}),
            override_reason=row.override_reason if row else None,
            updated_by=row.updated_by.name if row and row.updated_by else None,
            updated_at=source.updated_at,
            version=row.version if row else 0,
        )

    @property
    def label(self) -> str:
        return scoring.label_for(self.score)

    @property
    def suggested(self) -> int | None:
        return scoring.suggested_score(self.category_scores)

    def text(self, name: str) -> str:
        return getattr(self, name)


class ConflictError(AssessmentError):
    """Somebody else saved this assessment after the form was loaded."""

    def __init__(self, theirs: SavedAssessment | None):
        who = (theirs.updated_by if theirs else None) or "Someone else"
        super().__init__(
            f"Not saved: {who} saved this assessment after you opened it. "
            "Their version is shown beside yours; your text is still in the form."
        )
        self.theirs = theirs


# --- Reading ------------------------------------------------------------------------


def find_assessment(round_: Round | None, statement: QualityStatement) -> Assessment | None:
    if round_ is None:
        return None
    return db.session.scalar(
        select(Assessment)
        .where(Assessment.round_id == round_.id, Assessment.statement_id == statement.id)
        .options(selectinload(Assessment.updated_by))
    )


def statement_by_key(key: str) -> QualityStatement | None:
    return db.session.scalar(
        select(QualityStatement).where(QualityStatement.key == key).options(selectinload(QualityStatement.theme))
    )


# --- Citations ----------------------------------------------------------------------


def citation_problems(*texts: str | None) -> list[tuple[str, str]]:
    """(reference, why) for each cited reference that is unknown or not accepted."""
    ids = {ref: citations.reference_id(ref) for ref in citations.cited_references(*texts)}
    lookup = [i for i in ids.values() if citations.findable(i)]
    statuses = {}
    if lookup:
        statuses = dict(
            db.session.execute(select(EvidenceItem.id, EvidenceItem.status).where(EvidenceItem.id.in_(lookup))).all()
        )
    problems = []
    for ref, item_id in ids.items():
        status = statuses.get(item_id)
        if status is None:
            problems.append((ref, "does not exist"))
        elif status != Status.ACCEPTED:
            problems.append((ref, f"is {Status(status).label.lower()}, not accepted"))
    return problems


# --- Saving -------------------------------------------------------------------------


def _clean(data: dict[str, Any], categories: Iterable[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The values to save, and field → message for every problem with them."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    try:
        values["score"] = scoring.validate_score(data.get("score"))
    except ValueError:
        errors["score"] = "Choose a score of 1, 2, 3 or 4, or leave it not scored."
    for name, label in ASSESSMENT_TEXTS.items():
        text = (data.get(name) or "").replace("\r\n", "\n")
        if len(text) > TEXT_MAX:
            errors[name] = f"{label} can be at most {TEXT_MAX:,} characters."
        values[name] = text.strip()
    known = set(categories)
    category_scores: dict[str, int] = {}
    for key, value in (data.get("category_scores") or {}).items():
        if key not in known:
            errors["category_scores"] = f"There is no evidence category '{key}'."
            continue
        if value is None or value == "":
            continue
        try:
            category_scores[key] = scoring.validate_score(value)
        except ValueError:
            errors["category_scores"] = "Category scores must be 1, 2, 3 or 4."
    values["category_scores"] = {k: category_scores[k] for k in sorted(category_scores)} or None
    reason = (data.get("override_reason") or "").strip()
    suggestion = scoring.suggested_score(category_scores)
    departs = suggestion is not None and values.get("score") is not None and values["score"] != suggestion
    if "score" not in errors and departs and not reason:
        errors["override_reason"] = (
            f"The category scores suggest {suggestion}; you chose {values['score']}. "
            "Say why you are departing from the suggestion."
        )
    values["override_reason"] = reason or None
    return values, errors


def _citation_errors(values: dict[str, Any], problems: list[tuple[str, str]]) -> dict[str, str]:
    """Text field → which of its citations cannot be used, and why."""
    why = dict(problems)
    errors = {}
    for name in ASSESSMENT_TEXTS:
        refs = [ref for ref in citations.cited_references(values[name]) if ref in why]
        if refs:
            errors[name] = "Cannot cite " + "; ".join(f"{ref} ({why[ref]})" for ref in refs) + "."
    return errors


def _conflict(round_: Round, statement: QualityStatement) -> ConflictError:
    db.session.rollback()
    current = find_assessment(round_, statement)
    return ConflictError(SavedAssessment.of(current))


def save_assessment(
    round_: Round,
    statement: QualityStatement,
    data: dict[str, Any],
    expected_version: int | None,
    user: User | None,
) -> Assessment:
    """Create or update the assessment of ``statement`` in ``round_``.

    ``expected_version`` is the version the editor started from (0 when there was
    no assessment yet). Raises RoundFrozenError, ConflictError, ValidationError or
    CitationError, each leaving the database as it was.
    """
    ensure_open(round_)
    existing = find_assessment(round_, statement)
    current_version = existing.version if existing else 0
    if int(expected_version or 0) != current_version:
        raise ConflictError(SavedAssessment.of(existing))
    category_keys = db.session.scalars(select(EvidenceCategory.key)).all()
    values, errors = _clean(data, category_keys)
    problems = citation_problems(*(values[name] for name in ASSESSMENT_TEXTS))
    if problems:  # every problem at once: the fields' own and the citations'
        for name, message in _citation_errors(values, problems).items():
            errors[name] = f"{errors[name]} {message}" if name in errors else message
        raise CitationError(problems, errors)
    if errors:
        raise ValidationError(errors)

    before = audit.snapshot(existing, list(ASSESSMENT_FIELDS)) if existing else None
    if existing is not None and not audit.changed(before, values):
        return existing  # nothing to save; the version stays as it was
    lock_round(round_)  # a sign-off under way finishes first; then a frozen round refuses the save
    user_id = user.id if user is not None else None
    with db.session.no_autoflush:  # one INSERT or UPDATE, so the version moves by exactly one
        if existing is None:
            assessment = Assessment(round_id=round_.id, statement_id=statement.id, updated_by_id=user_id, **values)
            db.session.add(assessment)
        else:
            assessment = existing
            for name, value in values.items():
                setattr(assessment, name, value)
            assessment.updated_by_id = user_id
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:  # another save won the race
        raise _conflict(round_, statement) from error
    after = audit.snapshot(assessment, list(ASSESSMENT_FIELDS))
    if existing is None:
        summary = f"Assessment of {statement.name} written in “{round_.name}”"
    elif before["score"] != after["score"]:
        summary = f"Score changed from {before['score'] or 'not scored'} to {after['score'] or 'not scored'}"
    else:
        summary = f"Assessment of {statement.name} edited"
    audit.record("update" if existing else "create", assessment, user=user, summary=summary, before=before, after=after)
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError) as error:
        raise _conflict(round_, statement) from error
    return assessment


# --- The evidence behind a statement ----------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    mapping_id: int | None  # None when read from a signed-off round's snapshot
    item_id: int
    title: str
    kind: str
    category_key: str
    stance: str
    note: str
    review_by: date | None
    stale: bool

    @property
    def reference(self) -> str:
        return citations.reference(self.item_id)


# A statement can gather thousands of mappings; its page lists the newest few per stance.
LISTED_PER_STANCE = 10


@dataclass
class StanceGroup:
    """The evidence of one stance under one category: every item counted, the newest listed."""

    stance: str
    rows: list[EvidenceRow] = field(default_factory=list)
    count: int = 0
    stale: int = 0

    @property
    def label(self) -> str:
        return Stance(self.stance).label

    @property
    def unlisted(self) -> int:
        return self.count - len(self.rows)

    def add(self, row: EvidenceRow, limit: int) -> None:
        self.count += 1
        self.stale += row.stale
        if len(self.rows) < limit:
            self.rows.append(row)


@dataclass
class CategoryGroup:
    key: str
    name: str
    stances: list[StanceGroup]

    @property
    def total(self) -> int:
        return sum(g.count for g in self.stances)

    @property
    def stale(self) -> int:
        return sum(g.stale for g in self.stances)

    def count(self, stance: str) -> int:
        return next((g.count for g in self.stances if g.stance == stance), 0)


STANCE_ORDER = (Stance.STRENGTH, Stance.SHORTFALL, Stance.CONTEXT)


def group_evidence(
    rows: Iterable[EvidenceRow], categories: Iterable[tuple[str, str]], limit: int = LISTED_PER_STANCE
) -> list[CategoryGroup]:
    """Rows by evidence category (framework order), then stance (strengths, shortfalls, context)."""
    groups = {key: CategoryGroup(key, name, [StanceGroup(s) for s in STANCE_ORDER]) for key, name in categories}
    for row in rows:
        group = groups.get(row.category_key)
        if group is None:
            continue
        stance = row.stance if row.stance in STANCE_ORDER else Stance.CONTEXT
        next(g for g in group.stances if g.stance == stance).add(row, limit)
    return list(groups.values())


def live_evidence_rows(statement: QualityStatement, on: date | None = None) -> list[EvidenceRow]:
    """Accepted evidence mapped to the statement now, newest first, in one query."""
    on = on or today()
    rows = db.session.execute(
        select(
            Mapping.id,
            EvidenceItem.id,
            EvidenceItem.title,
            EvidenceItem.kind,
            EvidenceCategory.key,
            Mapping.stance,
            Mapping.note,
            EvidenceItem.review_by,
        )
        .join(EvidenceItem, EvidenceItem.id == Mapping.item_id)
        .join(EvidenceCategory, EvidenceCategory.id == Mapping.category_id)
        .where(Mapping.statement_id == statement.id, EvidenceItem.status == Status.ACCEPTED)
        .order_by(EvidenceItem.id.desc())
    )
    return [
        EvidenceRow(m_id, i_id, title, kind, c_key, stance, note or "", review_by, bool(review_by and review_by < on))
        for m_id, i_id, title, kind, c_key, stance, note, review_by in rows
    ]


@cache
def _newest_per_group(groups: int, limit: int) -> Select:
    """The newest ``limit`` accepted items of each (category, stance) group of a statement, as one
    UNION of limited queries that each read the mapping index. Built once per shape and kept
    (bound parameters carry the ids), since building a statement this size takes longer than running it."""
    parts = [
        select(
            Mapping.id.label("mapping_id"),
            Mapping.item_id,
            EvidenceItem.title,
            EvidenceItem.kind,
            Mapping.category_id,
            Mapping.stance,
            Mapping.note,
            EvidenceItem.review_by,
        )
        .join(EvidenceItem, EvidenceItem.id == Mapping.item_id)
        .where(
            Mapping.statement_id == bindparam("statement_id"),
            Mapping.category_id == bindparam(f"category_{n}"),
            Mapping.stance == bindparam(f"stance_{n}"),
            EvidenceItem.status == Status.ACCEPTED,
        )
        .order_by(Mapping.item_id.desc())
        .limit(limit)
        .subquery()
        for n in range(groups)
    ]
    rows = union_all(*(select(part) for part in parts)).subquery()
    return select(rows).order_by(rows.c.item_id.desc())


def live_evidence_groups(
    statement: QualityStatement,
    categories: Iterable[tuple[str, str]],
    limit: int = LISTED_PER_STANCE,
    on: date | None = None,
) -> list[CategoryGroup]:
    """The statement's accepted evidence by category and stance: the counts, and only the newest
    ``limit`` rows of each stance, however many there are (two queries and the counts' three)."""
    on = on or today()
    categories = list(categories)
    category_keys = keys_by_id(EvidenceCategory)
    category_ids = {key: id_ for id_, key in category_keys.items()}
    wanted = [
        (category_ids[category_key], stance)
        for category_key, _ in categories
        if category_key in category_ids
        for stance in STANCE_ORDER
    ]
    params = {"statement_id": statement.id}
    for n, (category_id, stance) in enumerate(wanted):
        params |= {f"category_{n}": category_id, f"stance_{n}": stance}
    rows = db.session.execute(_newest_per_group(len(wanted), limit), params) if wanted else []
    groups = group_evidence(
        (
            EvidenceRow(
                r.mapping_id,
                r.item_id,
                r.title,
                r.kind,
                category_keys[r.category_id],
                r.stance,
                r.note or "",
                r.review_by,
                bool(r.review_by and r.review_by < on),
            )
            for r in rows
        ),
        categories,
        limit,
    )
    by_key = {g.key: g for g in groups}
    for (_, category_id, stance), count in mapping_counts(on, statement.id).items():
        group = by_key.get(category_keys[category_id])
        stance_group = next((g for g in group.stances if g.stance == stance), None) if group else None
        if stance_group is not None:
            stance_group.count, stance_group.stale = count.total, count.stale
    return groups


@figure("statement.evidence")
def _kept_evidence_groups(statement_id: int, categories: tuple[tuple[str, str], ...]) -> list[CategoryGroup]:
    """``live_evidence_groups``, kept per portfolio version: the statement page's costliest read."""
    return live_evidence_groups(db.session.get(QualityStatement, statement_id), categories)


@figure("statement.frozen_evidence")
def _kept_frozen_groups(round_id: int, statement_key: str) -> list[CategoryGroup]:
    """A signed-off round's evidence for the statement, grouped: reading it from the snapshot is the costly part."""
    view = round_view(db.session.get(Round, round_id))
    return group_evidence(frozen_evidence_rows(view, statement_key), view.categories)


def frozen_evidence_rows(view: RoundView, statement_key: str) -> list[EvidenceRow]:
    """The statement's evidence as it stood when the round was signed off."""
    rows = []
    for m in sorted(view.mappings_for(statement_key), key=lambda m: -m.item_id):
        item = view.items.get(m.item_id)
        if item is None:
            continue
        rows.append(
            EvidenceRow(
                None,
                item.id,
                item.title,
                item.kind,
                m.category_key,
                m.stance,
                m.note,
                item.review_by,
                item.is_stale(view.as_of),
            )
        )
    return rows


def map_reference(
    statement: QualityStatement,
    reference: str,
    category_key: str,
    stance: str,
    note: str,
    user: User | None,
) -> Mapping:
    """Map an accepted item, named by its reference (E-12), to the statement. Raises MappingError."""
    reference = (reference or "").strip().upper()
    item_id = citations.reference_id(reference)
    if item_id is None:
        raise MappingError("Write the evidence reference as E- and its number, for example E-12.")
    item = db.session.get(EvidenceItem, item_id) if citations.findable(item_id) else None
    if item is None:
        raise MappingError(f"There is no evidence item {reference}.")
    if item.status != Status.ACCEPTED:
        raise MappingError(
            f"{reference} is {Status(item.status).label.lower()}; only accepted evidence can be mapped here."
        )
    category = category_by_key(category_key)
    if category is None:
        raise MappingError(f"There is no evidence category '{category_key}'.")
    return add_mapping(item, statement, category, stance, note, user=user)


def citing_assessments(item: EvidenceItem) -> list[tuple[Assessment, list[str]]]:
    """The assessments whose text cites the item, newest round first, each with the texts that cite it
    ("rationale", "key findings"). The database finds the candidates; each is then read as citations are."""
    needle = f"%[{item.reference.lower()}]%"
    columns = [getattr(Assessment, name) for name in ASSESSMENT_TEXTS]
    found = db.session.scalars(
        select(Assessment)
        .where(or_(*(func.lower(func.coalesce(c, "")).like(needle) for c in columns)))
        .options(selectinload(Assessment.round), selectinload(Assessment.statement))
        .order_by(Assessment.round_id.desc(), Assessment.statement_id)
    ).all()
    out = []
    for assessment in found:
        parts = [
            label.lower()
            for name, label in ASSESSMENT_TEXTS.items()
            if item.reference in citations.cited_references(getattr(assessment, name))
        ]
        if parts:
            out.append((assessment, parts))
    return out


def statement_history(assessment_ids: Iterable[int], action_ids: Iterable[int]) -> list[AuditEvent]:
    """The audit trail of a statement's assessments and actions, newest first."""
    assessment_ids, action_ids = list(assessment_ids), list(action_ids)
    conditions = []
    if assessment_ids:
        conditions.append(and_(AuditEvent.entity_type == "assessment", AuditEvent.entity_id.in_(assessment_ids)))
    if action_ids:
        conditions.append(and_(AuditEvent.entity_type == "action", AuditEvent.entity_id.in_(action_ids)))
    if not conditions:
        return []
    return db.session.scalars(
        select(AuditEvent)
        .where(or_(*conditions))
        .options(selectinload(AuditEvent.user))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()


# --- A statement's page ---------------------------------------------------------------


@dataclass
class StatementPage:
    statement: QualityStatement
    round: Round | None
    frozen: bool  # read from the round's sign-off snapshot
    as_of: date
    categories: list[tuple[str, str]]
    assessment: SavedAssessment | None
    evidence: list[CategoryGroup]
    actions: list[Any]  # Action rows, or ActionView from a snapshot
    history: list[Entry]  # the change history of its assessment and actions, ready to show

    @property
    def editable(self) -> bool:
        return self.round is not None and not self.round.signed_off

    @property
    def evidence_total(self) -> int:
        return sum(g.total for g in self.evidence)

    @property
    def evidence_stale(self) -> int:
        return sum(g.stale for g in self.evidence)

    def overdue(self, action: Any) -> bool:
        return action.status != "done" and action.due_date is not None and action.due_date < self.as_of

    @property
    def overdue_count(self) -> int:
        return sum(1 for a in self.actions if self.overdue(a))

    @property
    def version(self) -> int:
        return self.assessment.version if self.assessment else 0


def statement_page(statement: QualityStatement, round_: Round | None) -> StatementPage:
    """Everything the statement page shows for one round (the evidence as it stood, once signed off)."""
    row = find_assessment(round_, statement)
    db_actions = actions_for(statement, round_)
    trail = entries(statement_history([row.id] if row else [], [a.id for a in db_actions]))
    if round_ is not None and round_.signed_off:
        view = round_view(round_)
        return StatementPage(
            statement=statement,
            round=round_,
            frozen=True,
            as_of=view.as_of,
            categories=list(view.categories),
            assessment=SavedAssessment.of(row, view.assessments.get(statement.key)),
            evidence=_kept_frozen_groups(round_.id, statement.key),
            actions=view.actions_for(statement.key),
            history=trail,
        )
    cats = [(c.key, c.name) for c in framework_categories()]
    return StatementPage(
        statement=statement,
        round=round_,
        frozen=False,
        as_of=today(),
        categories=cats,
        assessment=SavedAssessment.of(row),
        evidence=_kept_evidence_groups(statement.id, tuple(cats)),
        actions=db_actions,
        history=trail,
    )


@dataclass(frozen=True)
class StatementRow(StatementScore):
    """A statement's score in the round, with its evidence counts and actions."""

    evidence: EvidenceCount
    open_actions: int
    overdue_actions: int


def statements_overview(round_: Round | None) -> list[ThemeResult]:
    """Every statement by theme with its score in the round, evidence counts and actions (a few queries)."""
    result = round_result(round_)
    counts = evidence_counts()
    open_actions, overdue = open_by_statement(round_), overdue_by_statement(round_)
    return [
        replace(
            theme,
            statements=[
                StatementRow(
                    s.key,
                    s.name,
                    s.score,
                    counts.get(s.key, EvidenceCount()),
                    open_actions.get(s.key, 0),
                    overdue.get(s.key, 0),
                )
                for s in theme.statements
            ],
        )
        for theme in result.themes
    ]
