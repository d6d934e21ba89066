"""A round as a written report: what the Word document and the PDF say, in the order they say it.

``build_report(view, generated_at)`` is pure over a ``RoundView``. Every phrase,
date, figure and colour the two documents print is decided here once, so they
read the same; the builders only lay it out. Plain fields (titles, sources,
quotes, owners …) stay plain strings, written literally by each builder;
markdown fields (rationale, key findings, strengths, areas for improvement)
stay markdown, rendered by each builder through ``exports.markup``.

Each statement's section cites only the evidence its text cites, so a report
stays the same size however large the portfolio behind it grows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from evidence import wording
from evidence.assessment.peer import difference_text as peer_difference
from evidence.assessment.round_view import AssessmentView, ItemView, RoundView, StatementView
from evidence.library import citations
from evidence.library.metrics import comparator_readings, format_value
from evidence.vocab import ActionStatus, Kind, QuoteTone, Stance, Voice
from exports import palette
from exports.palette import Colours
from exports.text import long_date, period_text, vocab_label
from exports.zipping import fixed_time
from quality_statements import scoring

DRAFT = "Draft"
SIGNED_OFF = "Signed off"
NOTHING = "–"
NOT_SCORED = "Not scored"
RUNNING_LIMIT = 60  # characters of the council's name and the round's in a running header or footer
# The framework file marks text written in Assure's words, rather than CQC's, with this suffix.
SUMMARY_MARK = "(summary)"
SUMMARIES_NOTE = (
    "“What people expect” and “The local authority commitment” summarise CQC’s I statements and we "
    "statements in Assure’s own words; they are not CQC’s wording."
)
SCORING_NOTE = (
    "The overall percentage is the sum of the statement scores over the maximum, rounded half up: "
    "25–38% Inadequate · 39–62% Requires improvement · 63–87% Good · 88–100% Outstanding. Theme "
    "percentages are indicative only: CQC publishes the statement scores and the overall rating."
)


@dataclass(frozen=True)
class Overall:
    complete: bool
    figure: str  # "69%" or "Incomplete"
    band: str  # "Good", or "" while incomplete
    detail: str  # "25 of 36 points across 9 quality statements"
    colours: Colours


@dataclass(frozen=True)
class Peer:
    """The peer challenge on a statement: the peers' rating beside the council's score, and the words."""

    rating: int | None
    rating_text: str  # "Peer rating: 2", or "Peer rating: not rated"
    label: str
    colours: Colours
    difference: str  # "Peers 1 lower", "Same", "Not rated by the peers"
    differs: bool
    difference_colours: Colours
    challenge: str  # markdown
    response: str  # markdown
    reviewed_by: str


@dataclass(frozen=True)
class StatementRow:
    number: int
    anchor: str
    theme: str
    name: str
    score: int | None
    label: str
    colours: Colours
    peer: Peer | None = None


@dataclass(frozen=True)
class ThemeRow:
    name: str
    figure: str  # "88%" or "Incomplete"
    band: str
    colours: Colours


@dataclass(frozen=True)
class CategoryScore:
    name: str
    score: int | None
    label: str
    colours: Colours


@dataclass(frozen=True)
class ActionRow:
    description: str
    owner: str
    due: str
    status: str
    overdue: bool


@dataclass(frozen=True)
class EvidenceRow:
    reference: str
    found: bool
    kind: str = ""
    title: str = ""
    source: str = ""
    period: str = ""
    category: str = ""
    stance: str = ""
    reading: str = ""  # a metric's latest value: "85% in 2026 Q3"
    against: tuple[str, ...] = ()  # ("target 95%", "England average 82%")


@dataclass(frozen=True)
class Quote:
    reference: str
    words: str
    speaker: str
    voice: str
    tone: str

    @property
    def attribution(self) -> str:
        """Participant 2, staff · barrier: the speaker's role, never a name."""
        who = self.speaker + (f", {self.voice.lower()}" if self.voice else "")
        return who + (f" · {self.tone.lower()}" if self.tone else "")


@dataclass(frozen=True)
class Chart:
    reference: str
    title: str
    item: ItemView
    caption: str  # what the chart shows, in words: its caption and its alternative text


@dataclass(frozen=True)
class Section:
    number: int
    anchor: str
    key: str
    name: str
    theme: str
    score: int | None
    score_text: str  # "Score: 3"
    label: str
    colours: Colours
    rationale: str
    i_statements: list[str]
    we_statement: str
    key_findings: str
    strengths: str
    areas_for_improvement: str
    category_scores: list[CategoryScore]
    suggested: str  # "Suggested from the category scores: 3 (Evidence shows a good standard)", or ""
    override_reason: str
    actions: list[ActionRow]
    evidence: list[EvidenceRow]
    quotes: list[Quote]
    charts: list[Chart]
    uncited: str  # "4 further accepted items are mapped to this statement without being cited.", or ""
    peer: Peer | None = None  # when the round has a peer challenge


@dataclass(frozen=True)
class Report:
    authority: str
    title: str
    signed_off: bool
    status: str  # "Signed off" or "Draft"
    dated_label: str  # "Signed off" or "Made"
    dated: str  # "14 December 2026 by Helen Okoro", or when a draft was made
    stamp: datetime  # the one time the files carry: the sign-off, else when they were made
    framework_version: str
    overall: Overall
    statements: list[StatementRow]
    themes: list[ThemeRow]
    sections: list[Section] = field(default_factory=list)
    summarised: bool = False  # whether any I or we statement is a summary, so the note about them is due
    peer_overall: Overall | None = None  # the peer ratings rolled up the same way, when there is a challenge
    peer_reviewers: str = ""  # "Reviewed by A and B (peer challenge)"

    subject = "Self-assessment of adult social care against the CQC local authority assessment framework"
    summaries_note = SUMMARIES_NOTE
    scoring_note = SCORING_NOTE

    @property
    def footer(self) -> str:
        return f"{self.running_title} · {self.status}"

    @property
    def running_authority(self) -> str:
        """The council's name as a running header holds it: on one line, cut short if need be."""
        return _one_line(self.authority, RUNNING_LIMIT)

    @property
    def running_title(self) -> str:
        return _one_line(self.title, RUNNING_LIMIT)

    @property
    def end_note(self) -> str:
        if self.signed_off:
            return "Made by Assure from the record kept when the round was signed off."
        return f"Made by Assure on {long_date(self.stamp)} from the open round: a working draft, not signed off."


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def anchor(number: int) -> str:
    """The id of a statement's section: a bookmark in Word, a fragment in the PDF."""
    return f"statement-{number}"


def build_report(view: RoundView, generated_at: datetime) -> Report:
    stamp = fixed_time(view.signed_off_at, generated_at)
    rollup = view.rollup()
    overall = rollup.overall
    count = len(view.statements)
    if view.signed_off:
        by = f" by {view.signed_off_by}" if view.signed_off_by else ""
        dated_label, dated = "Signed off", f"{long_date(view.signed_off_at)}{by}"
    else:
        dated_label, dated = "Made", f"{long_date(stamp)}, from the evidence as it stood then; not signed off"
    if overall.complete:
        summary = Overall(
            True,
            f"{overall.percent}%",
            overall.band,
            f"{overall.total} of {overall.maximum} points across {count} quality statements",
            palette.band_colours(overall.band),
        )
    else:
        summary = Overall(
            False,
            "Incomplete",
            "",
            f"{len(overall.missing)} of {count} quality statements are not scored",
            palette.NONE_COLOURS,
        )
    sections = [_section(view, number, s) for number, s in enumerate(view.statements, start=1)]
    return Report(
        authority=view.authority or "The local authority",
        title=view.name,
        signed_off=view.signed_off,
        status=SIGNED_OFF if view.signed_off else DRAFT,
        dated_label=dated_label,
        dated=dated,
        stamp=stamp,
        framework_version=view.framework_version,
        overall=summary,
        statements=[
            StatementRow(s.number, s.anchor, s.theme, s.name, s.score, s.label, s.colours, s.peer) for s in sections
        ],
        themes=[_theme_row(name, rollup.themes[key]) for key, name in view.themes if key in rollup.themes],
        sections=sections,
        summarised=any(_marked(s.we_statement) or any(map(_marked, s.i_statements)) for s in view.statements),
        peer_overall=_overall(view.peer_rollup().overall, count, "rated by the peers") if view.has_peer else None,
        peer_reviewers=_reviewers(view),
    )


def _reviewers(view: RoundView) -> str:
    if view.peer is None or not view.peer.reviewers:
        return ""
    names = view.peer.reviewers
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Peer reviewers: {joined}"


def _peer(view: RoundView, statement_key: str, score: int | None) -> Peer | None:
    if not view.has_peer:
        return None
    review = view.peer_reviews.get(statement_key)
    rating = review.rating if review else None
    differs = bool(score and rating and score != rating)
    return Peer(
        rating=rating,
        rating_text=f"Peer rating: {rating}" if rating else "Peer rating: not rated",
        label=scoring.label_for(rating) if rating else "The peers have not rated this quality statement.",
        colours=palette.score_colours(rating),
        difference=peer_difference(score, rating),
        differs=differs,
        difference_colours=palette.DIFFERS_COLOURS if differs else palette.NONE_COLOURS,
        challenge=review.challenge if review else "",
        response=review.response if review else "",
        reviewed_by=review.reviewed_by or "" if review else "",
    )


def _overall(overall: scoring.RollUp, count: int, what: str) -> Overall:
    if overall.complete:
        return Overall(
            True,
            f"{overall.percent}%",
            overall.band,
            f"{overall.total} of {overall.maximum} points across {count} quality statements",
            palette.band_colours(overall.band),
        )
    return Overall(
        False,
        "Incomplete",
        "",
        f"{len(overall.missing)} of {count} quality statements are not {what}",
        palette.NONE_COLOURS,
    )


def _marked(text: str | None) -> bool:
    return (text or "").rstrip().endswith(SUMMARY_MARK)


def unmarked(text: str | None) -> str:
    """Framework text without the mark that says it is a summary (the report says so once instead)."""
    text = (text or "").strip()
    return text[: -len(SUMMARY_MARK)].rstrip() if text.endswith(SUMMARY_MARK) else text


def _theme_row(name: str, result: scoring.RollUp) -> ThemeRow:
    if result.complete:
        return ThemeRow(name, f"{result.percent}%", result.band, palette.band_colours(result.band))
    return ThemeRow(name, "Incomplete", "", palette.NONE_COLOURS)


def _section(view: RoundView, number: int, statement: StatementView) -> Section:
    assessment = view.assessments.get(statement.key)
    score = assessment.score if assessment else None
    evidence, quotes, charts = _cited(view, statement, assessment)
    return Section(
        number=number,
        anchor=anchor(number),
        key=statement.key,
        name=statement.name,
        theme=statement.theme_name,
        score=score,
        score_text=f"Score: {score}" if score else "Score: not scored",
        label=scoring.label_for(score) if score else "This quality statement has not been scored in this round.",
        colours=palette.score_colours(score),
        rationale=assessment.rationale if assessment else "",
        i_statements=[unmarked(text) for text in statement.i_statements],
        we_statement=unmarked(statement.we_statement),
        key_findings=assessment.key_findings if assessment else "",
        strengths=assessment.strengths if assessment else "",
        areas_for_improvement=assessment.areas_for_improvement if assessment else "",
        category_scores=_category_scores(view, assessment),
        suggested=_suggested(assessment),
        override_reason=(assessment.override_reason or "").strip() if assessment else "",
        actions=[_action(view, a) for a in view.actions_for(statement.key)],
        evidence=evidence,
        quotes=quotes,
        charts=charts,
        uncited=_uncited(view, statement, assessment),
        peer=_peer(view, statement.key, score),
    )


def _category_scores(view: RoundView, assessment: AssessmentView | None) -> list[CategoryScore]:
    given = assessment.category_scores if assessment else {}
    if not any(given.values()):
        return []
    return [
        CategoryScore(name, score, scoring.label_for(score) or NOT_SCORED, palette.score_colours(score))
        for key, name in view.categories
        for score in [given.get(key)]
    ]


def _suggested(assessment: AssessmentView | None) -> str:
    suggested = assessment.suggested_score if assessment else None
    if not suggested:
        return ""
    return f"Suggested from the category scores: {suggested} ({scoring.label_for(suggested)})"


def _action(view: RoundView, action) -> ActionRow:
    overdue = action.status != ActionStatus.DONE and action.due_date is not None and action.due_date < view.as_of
    status = vocab_label(ActionStatus, action.status)
    return ActionRow(
        description=action.description,
        owner=action.owner or NOTHING,
        due=long_date(action.due_date) or NOTHING,
        status=f"{status} (overdue)" if overdue else status,
        overdue=overdue,
    )


def _cited(
    view: RoundView, statement: StatementView, assessment: AssessmentView | None
) -> tuple[list[EvidenceRow], list[Quote], list[Chart]]:
    categories = dict(view.categories)
    rows: list[EvidenceRow] = []
    quotes: list[Quote] = []
    charts: list[Chart] = []
    for reference in assessment.citations if assessment else []:
        item = view.items.get(citations.reference_id(reference))
        if item is None:
            rows.append(EvidenceRow(reference, found=False, title="Not among the accepted evidence of this round"))
            continue
        own = view.item_mappings(statement.key, item.id)
        reading, against = metric_reading(item) if item.kind == Kind.METRIC else ("", ())
        rows.append(
            EvidenceRow(
                reference,
                found=True,
                kind=item.kind_label,
                title=item.title,
                source=item.source,
                period=item_period(item),
                category="; ".join(dict.fromkeys(categories.get(m.category_key, m.category_key) for m in own))
                or "Not mapped to this statement",
                stance="; ".join(dict.fromkeys(vocab_label(Stance, m.stance) for m in own)),
                reading=reading,
                against=against,
            )
        )
        if item.kind == Kind.QUOTE:
            details = item.details
            quotes.append(
                Quote(
                    reference,
                    details.get("quote_text") or item.title,
                    details.get("speaker_role") or "Unnamed speaker",
                    vocab_label(Voice, details.get("voice")),
                    vocab_label(QuoteTone, details.get("quote_tone")),
                )
            )
        if item.kind == Kind.METRIC and drawable_points(item):
            charts.append(Chart(reference, item.title, item, _chart_caption(item, reading, against)))
    return rows, quotes, charts


def _uncited(view: RoundView, statement: StatementView, assessment: AssessmentView | None) -> str:
    uncited = view.uncited(statement.key, assessment.citations if assessment else [])
    if not uncited:
        return ""
    many = uncited != 1
    return (
        f"{uncited:,} further accepted item{'s are' if many else ' is'} mapped to this statement without being "
        "cited; the evidence register in the workbook lists every item."
    )


def item_period(item: ItemView) -> str:
    if item.period_start:
        return period_text(item.period_start, item.period_end)
    latest = item.latest_point
    return latest.label if latest else ""


def drawable_points(item: ItemView) -> list:
    """A metric's points that a chart can draw (finite values only)."""
    return [p for p in item.points if p.value is not None and math.isfinite(p.value)]


def metric_reading(item: ItemView, nothing: str = "No values recorded") -> tuple[str, tuple[str, ...]]:
    """A metric's latest value, and its target and each comparator for the same period:
    ("85% in 2026 Q3", ("target 95%", "England average 82%", "Region 84.5%")); a comparator with no value
    for that period gives its own latest, with its period ("Median 80% in 2026 Q2"). ``nothing`` when the
    metric has no values yet."""
    details = item.details
    unit = details.get("unit")
    latest = item.latest_point
    reading = f"{format_value(latest.value, unit)} in {latest.label}" if latest else nothing
    against = []
    if details.get("target") is not None:
        against.append(f"target {format_value(details['target'], unit)}")
    for comparator in comparator_readings(item):
        text = f"{comparator.name} {format_value(comparator.value, unit)}"
        against.append(text if comparator.same_period else f"{text} in {comparator.label}")
    return reading, tuple(against)


def _chart_caption(item: ItemView, reading: str, against: tuple[str, ...]) -> str:
    points = drawable_points(item)
    first = points[0]
    unit = item.details.get("unit")
    values = wording.count(len(points), "value")
    text = f"{values} from {first.label} ({format_value(first.value, unit)})"
    text += f"; latest {reading}" if reading else ""
    return text + (f"; {'; '.join(against)}." if against else ".")
