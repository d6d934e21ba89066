"""Where the self-assessment is thin or inconsistent: ``find_gaps`` is pure (counts and text in, gaps out);
``live_gaps`` reads what it needs for a round from the database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from evidence.assessment.rollup import assessment_texts
from evidence.assessment.summary import Summary, live_summary
from evidence.db import db
from evidence.framework_sync import categories, statements_in_order
from evidence.library.citations import cited_references, findable, reference_id
from evidence.library.search import text_search
from evidence.library.search_query import Query, Term
from evidence.models import EvidenceCategory, EvidenceItem, QualityStatement
from evidence.models import Mapping as ItemMapping
from evidence.vocab import Status

NO_EVIDENCE = "no_evidence"
ONLY_STALE = "only_stale"
UNSCORED = "unscored"
UNCITED = "uncited"
AT_ODDS = "at_odds"

GAP_LABELS = {
    NO_EVIDENCE: "No accepted evidence",
    ONLY_STALE: "Only stale evidence",
    UNSCORED: "Not scored",
    UNCITED: "Scored without citing evidence",
    AT_ODDS: "Score at odds with its evidence",
}


@dataclass(frozen=True)
class Gap:
    kind: str
    statement_key: str
    statement_name: str
    message: str
    category_key: str | None = None
    category_name: str | None = None

    @property
    def label(self) -> str:
        return GAP_LABELS[self.kind]


@dataclass(frozen=True)
class ScoredText:
    """What the gaps check needs of an assessment: its score and the references it cites."""

    score: int | None
    citations: tuple[str, ...] = ()


def find_gaps(
    statements: list[tuple[str, str]],
    categories: list[tuple[str, str]],
    summary: Summary,
    assessments: Mapping[str, ScoredText],
) -> list[Gap]:
    """Gaps per statement, in framework order. ``statements`` and ``categories`` are (key, name) pairs."""
    gaps: list[Gap] = []
    for s_key, s_name in statements:
        for c_key, c_name in categories:
            cell = summary.get((s_key, c_key))
            if cell is None or cell.total == 0:
                gaps.append(Gap(NO_EVIDENCE, s_key, s_name, f"No accepted evidence under {c_name}.", c_key, c_name))
            elif cell.fresh == 0:
                gaps.append(
                    Gap(
                        ONLY_STALE,
                        s_key,
                        s_name,
                        _stale_message(cell.total, c_name),
                        c_key,
                        c_name,
                    )
                )
        assessment = assessments.get(s_key) or ScoredText(None)
        score = assessment.score
        if score is None:
            gaps.append(Gap(UNSCORED, s_key, s_name, "This statement has no score in the round."))
            continue
        if not assessment.citations:
            gaps.append(Gap(UNCITED, s_key, s_name, f"Scored {score} without citing any evidence."))
        totals = summary.statement_total(s_key)
        odds = _at_odds(score, totals.strengths, totals.shortfalls)
        if odds:
            gaps.append(Gap(AT_ODDS, s_key, s_name, odds))
    return gaps


def _stale_message(n: int, category_name: str) -> str:
    if n == 1:
        return f"The only item under {category_name} is past its review date."
    return f"All {n} items under {category_name} are past their review date."


def _at_odds(score: int, strengths: int, shortfalls: int) -> str | None:
    """Why a score disagrees with the stance of its evidence, or None.

    The two ends of the scale are checked alike: an exceptional standard (4) needs
    strengths that outweigh shortfalls; significant shortfalls (1) need shortfalls
    that outweigh strengths.
    """
    if score == 4:
        if strengths == 0:
            return "Scored 4 but no evidence is mapped as a strength."
        if shortfalls > strengths:
            return f"Scored 4 but its evidence shows more shortfalls ({shortfalls}) than strengths ({strengths})."
    if score == 1:
        if shortfalls == 0:
            return "Scored 1 but no evidence is mapped as a shortfall."
        if strengths > shortfalls:
            return f"Scored 1 but its evidence shows more strengths ({strengths}) than shortfalls ({shortfalls})."
    return None


def live_gaps(round_) -> list[Gap]:
    """The gaps in ``round_`` (a Round, or None when there is none yet) against the evidence as it stands now.

    Reads the framework, the evidence counts and the round's assessments in a few
    queries, then hands them to the pure ``find_gaps``. A citation only counts while
    the item it names is accepted.
    """
    statements = [(s.key, s.name) for s in statements_in_order()]
    cats = [(c.key, c.name) for c in categories()]
    rows = assessment_texts(round_)
    cited = {key: cited_references(*texts) for key, _, texts in rows}
    every_id = {reference_id(ref) for refs in cited.values() for ref in refs}
    every_id = {item_id for item_id in every_id if findable(item_id)}
    accepted = set()
    if every_id:
        accepted = set(
            db.session.scalars(
                select(EvidenceItem.id).where(EvidenceItem.id.in_(every_id), EvidenceItem.status == Status.ACCEPTED)
            )
        )
    assessments = {
        key: ScoredText(score, tuple(ref for ref in cited[key] if reference_id(ref) in accepted))
        for key, score, _ in rows
    }
    return find_gaps(statements, cats, live_summary(), assessments)


# --- Candidates for a gap in evidence --------------------------------------------------------------

# Words of statement names too common in the portfolio to say anything about which statement an item is for.
COMMON_WORDS = {
    "about",
    "authority",
    "live",
    "local",
    "lives",
    "people",
    "person",
    "service",
    "services",
    "support",
    "supporting",
    "their",
    "where",
    "which",
    "within",
}
STEM = 6  # letters of a word matched, so that "assessing" finds "assessment" and "transitions" "transition"
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Candidate:
    """An accepted item that may fill a gap, and why it is offered."""

    item: EvidenceItem
    mapped_to: tuple[str, ...] = ()  # names of the other statements it evidences under the category
    words: tuple[str, ...] = ()  # the statement's words its text mentions


def statement_words(name: str) -> list[str]:
    """The distinctive words of a statement's name, cut to their stems, in order."""
    words = [w for w in re.findall(r"[a-z]+", name.lower()) if len(w) >= 4 and w not in COMMON_WORDS]
    return list(dict.fromkeys(w[:STEM] for w in words))


def candidates(
    statement: QualityStatement, category: EvidenceCategory, limit: int = MAX_CANDIDATES
) -> tuple[list[Candidate], list[Candidate]]:
    """Accepted evidence that may fill the gap of ``statement`` under ``category``: first items mapped under
    that category to other statements, then other items whose text mentions the statement's words (most
    words first). Items already mapped to the statement under the category are left out."""
    already = exists().where(
        ItemMapping.item_id == EvidenceItem.id,
        ItemMapping.statement_id == statement.id,
        ItemMapping.category_id == category.id,
    )
    accepted = select(EvidenceItem).where(EvidenceItem.status == Status.ACCEPTED, ~already)
    elsewhere = db.session.scalars(
        accepted.where(
            exists().where(
                ItemMapping.item_id == EvidenceItem.id,
                ItemMapping.category_id == category.id,
                ItemMapping.statement_id != statement.id,
            )
        )
        .options(selectinload(EvidenceItem.mappings).selectinload(ItemMapping.statement))
        .order_by(EvidenceItem.id.desc())
        .limit(limit)
    ).all()
    mapped = [
        Candidate(
            item,
            mapped_to=tuple(dict.fromkeys(m.statement.name for m in item.mappings if m.category_id == category.id)),
        )
        for item in elsewhere
    ]

    words = statement_words(statement.name)
    if not words:
        return mapped, []
    shown = {c.item.id for c in mapped}
    # Enough rows to rank: the newest items with a word that begins with any of the stems, found by the
    # library's full-text index.
    mentions, _ = text_search(accepted, Query(groups=(tuple(Term((w,), prefix=True) for w in words),)))
    if shown:
        mentions = mentions.where(EvidenceItem.id.not_in(shown))
    found = db.session.scalars(mentions.order_by(EvidenceItem.id.desc()).limit(limit * 10)).all()
    ranked = [Candidate(item, words=tuple(w for w in words if w in item.search_text)) for item in found]
    ranked.sort(key=lambda c: (-len(c.words), -c.item.id))
    return mapped, ranked[:limit]
