"""The markdown pack of a round: an index and one CQC-style document per quality statement.

``build_markdown_pack(view, generated_at)`` returns the bytes of a .zip holding

* ``README.md``: the authority, the round, its status and sign-off, the roll-up
  (statement scores, indicative theme percentages and the overall rating) and a
  link to every document;
* ``statements/NN-<key>.md``: one document per quality statement, shaped like a
  CQC assessment page (``statement_markdown`` gives the same text for the
  portal's preview);
* ``MANIFEST.txt``: the SHA-256 of every other file, in ``sha256sum`` format.

Plain user text (names, titles, sources, quotes, roles, actions, owners,
categories, reasons) reads literally, whatever it holds; markdown text
(rationale, key findings, strengths, areas for improvement) keeps its
formatting, with links of http, https and mailto only (the rules are in
``exports.text``). Every zip entry carries one fixed time, the round's sign-off,
so a signed-off round exports to the same bytes every time.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from evidence import wording
from evidence.assessment.peer import difference_text as peer_difference
from evidence.assessment.round_view import AssessmentView, ItemView, RoundView, StatementView
from evidence.library import citations
from evidence.vocab import ActionStatus, Kind, QuoteTone, Stance, Voice
from exports.report import item_period, metric_reading
from exports.text import (
    long_date,
    md_block,
    md_cell,
    md_text,
    md_text_block,
    md_text_cell,
    short_date,
    slugify,
    vocab_label,
)
from exports.zipping import deterministic_zip, fixed_time
from quality_statements import scoring

README = "README.md"
MANIFEST = "MANIFEST.txt"
NOTHING = "–"
# The framework's own mark on a text that summarises CQC's wording; the pack says so once instead.
SUMMARY_MARK = "(summary)"


def build_markdown_pack(view: RoundView, generated_at: datetime) -> bytes:
    """The round as a zip of markdown documents (bytes)."""
    stamp = fixed_time(view.signed_off_at, generated_at)
    files = {README: readme_markdown(view, stamp)}
    for position, statement in enumerate(view.statements, start=1):
        files[document_path(position, statement.key)] = statement_markdown(view, statement.key, generated_at=stamp)
    encoded = {name: text.encode("utf-8") for name, text in files.items()}
    encoded[MANIFEST] = manifest(encoded).encode("utf-8")
    return deterministic_zip(encoded.items(), stamp)


def document_path(position: int, statement_key: str) -> str:
    return f"statements/{position:02d}-{slugify(statement_key, 'statement')}.md"


def manifest(files: dict[str, bytes]) -> str:
    """``sha256sum`` lines for the files, sorted by name (check with ``sha256sum -c MANIFEST.txt``)."""
    return "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files))


# --- Shared phrases ------------------------------------------------------------------


def _status_phrase(view: RoundView) -> str:
    if view.signed_off:
        by = f" by {md_text(view.signed_off_by)}" if view.signed_off_by else ""
        return f"signed off {long_date(view.signed_off_at)}{by}"
    return "open: a working draft, not signed off"


def _score(assessment: AssessmentView | None) -> int | None:
    return assessment.score if assessment else None


# --- README ------------------------------------------------------------------------


def readme_markdown(view: RoundView, stamp: datetime) -> str:
    rollup = view.rollup()
    overall = rollup.overall
    statements = len(view.statements)
    lines = [
        f"# {md_text(view.name)}",
        "",
        f"{md_text(view.authority) or 'The local authority'} · self-assessment of adult social care against "
        f"the CQC local authority assessment framework"
        + (f" (version {md_text(view.framework_version)})" if view.framework_version else ""),
        "",
        f"- **Status:** {_status_phrase(view)[0].upper()}{_status_phrase(view)[1:]}",
        f"- **Date:** {long_date(stamp)}" + ("" if view.signed_off else " (when this pack was made)"),
    ]
    if overall.complete:
        lines.append(
            f"- **Overall rating:** {overall.percent}% {overall.band} "
            f"({overall.total} of {overall.maximum} points across {statements} quality statements)"
        )
    else:
        lines.append(
            f"- **Overall rating:** incomplete: {len(overall.missing)} of {statements} quality statements "
            "are not scored"
        )
    if view.has_peer:
        lines.append(f"- **Peer challenge:** {_peer_overall(view)}")
    peer_heads = (" peer rating | against the council's |", " --- | --- |") if view.has_peer else ("", "")
    lines += [
        "",
        "## Roll-up",
        "",
        "| theme | quality statement | score | label |" + peer_heads[0],
        "| --- | --- | --- | --- |" + peer_heads[1],
    ]
    for position, statement in enumerate(view.statements, start=1):
        score = _score(view.assessments.get(statement.key))
        link = f"[{md_text_cell(statement.name)}]({document_path(position, statement.key)})"
        peer = ""
        if view.has_peer:
            rating = view.peer_rating(statement.key)
            peer = f" {rating or NOTHING} | {_marked_difference(score, rating)} |"
        lines.append(
            f"| {md_text_cell(statement.theme_name)} | {link} | {score or NOTHING} | "
            f"{md_cell(scoring.label_for(score))} |" + peer
        )
    lines += [
        "",
        "| theme (indicative) | percentage | band |",
        "| --- | --- | --- |",
    ]
    for theme_key, theme_name in view.themes:
        result = rollup.themes[theme_key]
        percent = f"{result.percent}%" if result.complete else "incomplete"
        lines.append(f"| {md_text_cell(theme_name)} | {percent} | {result.band or NOTHING} |")
    overall_percent = f"{overall.percent}%" if overall.complete else "incomplete"
    lines += [
        f"| **Overall** | **{overall_percent}** | **{overall.band or NOTHING}** |",
        "",
        f"The overall percentage is the sum of the statement scores over the maximum ({statements} × 4 = "
        f"{overall.maximum}), rounded half up: 25–38% Inadequate · 39–62% Requires improvement · 63–87% Good · "
        "88–100% Outstanding. Theme percentages are indicative only: CQC publishes the statement scores and the "
        "overall rating.",
        "",
        "## Documents",
        "",
    ]
    for position, statement in enumerate(view.statements, start=1):
        lines.append(f"{position}. [{md_text(statement.name)}]({document_path(position, statement.key)})")
    lines += [
        "",
        f"`{MANIFEST}` holds the SHA-256 of every file in this pack (check it with `sha256sum -c {MANIFEST}`).",
        "",
        _footer(view, stamp),
    ]
    return "\n".join(lines) + "\n"


def _peer_overall(view: RoundView) -> str:
    overall = view.peer_rollup().overall
    reviewers = view.peer.reviewers if view.peer else []
    by = f" by {md_text(', '.join(reviewers))}" if reviewers else ""
    if overall.complete:
        return f"rated{by}: {overall.percent}% {overall.band} ({overall.total} of {overall.maximum} points)"
    return f"rated{by}: incomplete, {len(overall.missing)} of {len(view.statements)} quality statements not rated"


def _marked_difference(score: int | None, rating: int | None) -> str:
    """The difference, in bold when the peers and the council differ."""
    text = peer_difference(score, rating)
    return f"**{text}**" if score and rating and score != rating else text


def _peer_section(view: RoundView, key: str, score: int | None) -> list[str]:
    if not view.has_peer:
        return []
    review = view.peer_reviews.get(key)
    rating = review.rating if review else None
    parts = ["## Peer challenge"]
    if rating:
        parts += [f"**Peer rating: {rating}** ({scoring.label_for(rating)})"]
    else:
        parts += ["**Peer rating: not rated**"]
    parts.append(f"Against the council's score: {_marked_difference(score, rating)}")
    parts += [
        "### The peers' challenge",
        _text_or(review.challenge if review else "", "No written challenge."),
        "### The council's response",
        _text_or(review.response if review else "", "No response recorded."),
    ]
    return parts


def _footer(view: RoundView, stamp: datetime | None) -> str:
    if view.signed_off:
        return f"*Generated by Assure from the signed-off round; manifest SHA-256 in `{MANIFEST}`.*"
    when = f" on {long_date(stamp)}" if stamp else ""
    return f"*Generated by Assure{when} from the open round: a working draft, not signed off.*"


# --- One quality statement -----------------------------------------------------------


def statement_markdown(view: RoundView, key: str, *, generated_at: datetime | None = None) -> str:
    """The document of one quality statement, as it appears in the pack (and in the portal's preview).

    In the order of a CQC assessment page: the statement, its score and the score's label, what people
    expect, the local authority's commitment, the key findings; then strengths, areas for improvement,
    how the score was reached (rationale, category scores, the reason for departing from their
    suggestion), actions and the evidence cited."""
    statement = next((s for s in view.statements if s.key == key), None)
    if statement is None:
        raise KeyError(f"no quality statement {key!r} in this round")
    assessment = view.assessments.get(key)
    score = _score(assessment)
    stamp = fixed_time(view.signed_off_at, generated_at) if (view.signed_off_at or generated_at) else None

    parts: list[str] = [
        f"# {md_text(statement.name)}",
        f"Theme: {md_text(statement.theme_name)} · {md_text(view.authority) or 'The local authority'} · "
        f"Self-assessment round: {md_text(view.name)} ({_status_phrase(view)})",
    ]
    if score:
        parts += [f"## Score: {score}", scoring.label_for(score)]
    else:
        parts += ["## Score: not scored", "This quality statement has not been scored in this round."]
    parts += _peer_section(view, key, score)

    i_statements = [_unmarked(text) for text in statement.i_statements if md_text(text)]
    we_statement = _unmarked(statement.we_statement)
    parts.append("## What people expect")
    if i_statements:
        parts.append("\n".join(f"- {md_text(text)}" for text, _ in i_statements))
    else:
        parts.append("The framework sets out no “I statements” for this quality statement.")
    parts += ["## The local authority commitment", md_text_block(we_statement[0]) or NOTHING]
    if any(marked for _, marked in [*i_statements, we_statement]):
        parts.append("*The I and we statements above are summaries of CQC's wording, written for this portal.*")

    parts += [
        "## Key findings",
        _text_or(assessment.key_findings if assessment else "", "No key findings recorded."),
        "### Strengths",
        _text_or(assessment.strengths if assessment else "", "No strengths recorded."),
        "### Areas for improvement",
        _text_or(assessment.areas_for_improvement if assessment else "", "No areas for improvement recorded."),
        "### How the score was reached",
        *_score_reasoning(view, assessment),
        "### Actions",
        _actions_table(view, key),
        "## Evidence cited",
        *_evidence_cited(view, statement, assessment),
        _footer(view, stamp),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def _unmarked(text: str) -> tuple[str, bool]:
    """The text without the framework's summary mark at its end, and whether it had one."""
    stripped = (text or "").rstrip()
    if stripped.endswith(SUMMARY_MARK):
        return stripped[: -len(SUMMARY_MARK)].rstrip(), True
    return text or "", False


def _text_or(text: str, nothing: str) -> str:
    return md_block(text) if text and text.strip() else f"*{nothing}*"


def _score_reasoning(view: RoundView, assessment: AssessmentView | None) -> list[str]:
    """The rationale, the lead's score per evidence category, their suggestion and any reason to depart from it."""
    parts = []
    if assessment and assessment.rationale.strip():
        parts.append(md_block(assessment.rationale))
    scores = assessment.category_scores if assessment else {}
    if scores:
        rows = ["| evidence category | score | label |", "| --- | --- | --- |"]
        for c_key, c_name in view.categories:
            score = scores.get(c_key)
            rows.append(f"| {md_text_cell(c_name)} | {score or NOTHING} | {md_cell(scoring.label_for(score))} |")
        parts.append("\n".join(rows))
        suggested = assessment.suggested_score
        if suggested:
            parts.append(f"Suggested from the category scores: {suggested} ({scoring.label_for(suggested)}).")
    if assessment and (assessment.override_reason or "").strip():
        parts.append(f"**Why the score departs from the suggestion:** {md_text(assessment.override_reason)}")
    return parts or ["*No rationale or category scores recorded.*"]


def _actions_table(view: RoundView, key: str) -> str:
    actions = view.actions_for(key)
    if not actions:
        return "*No improvement actions recorded.*"
    rows = ["| action | owner | due | status |", "| --- | --- | --- | --- |"]
    for action in actions:
        due = short_date(action.due_date) or NOTHING
        status = vocab_label(ActionStatus, action.status)
        if action.status != ActionStatus.DONE and action.due_date and action.due_date < view.as_of:
            status += " (overdue)"
        rows.append(
            f"| {md_text_cell(action.description)} | {md_text_cell(action.owner)} | {due} | {md_cell(status)} |"
        )
    return "\n".join(rows)


def _evidence_cited(view: RoundView, statement: StatementView, assessment: AssessmentView | None) -> list[str]:
    references = assessment.citations if assessment else []
    categories = dict(view.categories)
    if not references:
        parts = ["*No evidence is cited in this statement's text.*"]
    else:
        rows = [
            "| ref | kind | title | source | period | category | stance |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        quotes: list[ItemView] = []
        for reference in references:
            item = view.items.get(citations.reference_id(reference))
            if item is None:
                rows.append(f"| {reference} | {NOTHING} | not among the accepted evidence of this round | | | | |")
                continue
            own = view.item_mappings(statement.key, item.id)
            category = "; ".join(
                dict.fromkeys(md_text_cell(categories.get(m.category_key, m.category_key)) for m in own)
            )
            stance = "; ".join(dict.fromkeys(vocab_label(Stance, m.stance) for m in own))
            rows.append(
                f"| {reference} | {md_cell(item.kind_label)} | {_cited_title(item)} | "
                f"{md_text_cell(item.source) or NOTHING} | {md_text_cell(item_period(item)) or NOTHING} | "
                f"{(category or NOTHING) if own else 'not mapped to this statement'} | {md_cell(stance) or NOTHING} |"
            )
            if item.kind == Kind.QUOTE:
                quotes.append(item)
        parts = ["\n".join(rows)]
        if quotes:
            parts += ["### In their words", *(_quote_block(item) for item in quotes)]
    uncited = view.uncited(statement.key, references)
    if uncited:
        parts.append(
            f"{wording.count(uncited, 'further accepted item')} {wording.plural(uncited, 'is', 'are')} "
            "mapped to this statement "
            "without being cited; the evidence register in the workbook lists every item."
        )
    return parts


def _cited_title(item: ItemView) -> str:
    """The item's title (for a table cell); for a metric, its latest value against its target and comparator."""
    title = md_text_cell(item.title)
    if item.kind != Kind.METRIC:
        return title
    reading, against = metric_reading(item, nothing="no values recorded")
    # the unit, the period's label and the comparator's name are the user's words too
    return f"{title}: {md_text_cell(reading)}" + (f" ({md_text_cell('; '.join(against))})" if against else "")


def _quote_block(item: ItemView) -> str:
    """A quote with the speaker's role (never a name), whose voice it is and its tone."""
    details = item.details
    words = md_text_block(details.get("quote_text") or item.title)
    lines = [f"> {line}" if line else ">" for line in f"“{words}”".split("\n")]
    who = md_text(details.get("speaker_role")) or "Unnamed speaker"
    voice = vocab_label(Voice, details.get("voice"))
    tone = vocab_label(QuoteTone, details.get("quote_tone")).lower()
    attribution = ", ".join(part for part in (who, voice.lower() if voice else "") if part)
    lines += [">", f"> — {attribution}" + (f" · {tone}" if tone else "") + f" [{item.reference}]"]
    return "\n".join(lines)
