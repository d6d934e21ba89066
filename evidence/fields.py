"""The catalogue of what people write: the fields of an evidence item and the texts of an assessment.

Forms, pages, the checks of the domain, the imports, the personal data guard, the
round views and the demo data take their lists of fields, and the words people see
for each, from here, so that a field is added or renamed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from evidence.vocab import Kind


@dataclass(frozen=True)
class ItemField:
    name: str  # the column of EvidenceItem
    label: str  # the name people see: forms, the item page and error messages use the same words
    scanned: bool = False  # text people write that may identify someone: the personal data guard reads it
    # Which part of the library's full-text index holds it (title, body or detail: they rank in that order).
    searched: str | None = None


# What every kind has, then what each kind adds.
COMMON = (
    ItemField("title", "Title", scanned=True, searched="title"),
    ItemField("summary", "Summary", scanned=True, searched="body"),
    ItemField("source", "Source", scanned=True, searched="detail"),
    ItemField("period_start", "Period start"),
    ItemField("period_end", "Period end"),
    ItemField("review_by", "Review by"),
    ItemField("suggested_statements", "Suggested quality statements"),
)
BY_KIND: dict[str, tuple[ItemField, ...]] = {
    Kind.SURVEY: (
        ItemField("survey_name", "Survey name", searched="detail"),
        ItemField("question", "Question", scanned=True, searched="body"),
        ItemField("respondents", "Respondents (n)"),
        ItemField("result_percent", "Result (%)"),
        ItemField("population", "Population", scanned=True, searched="detail"),
    ),
    Kind.METRIC: (
        ItemField("unit", "Unit"),
        ItemField("direction", "Direction"),
        ItemField("target", "Target"),
    ),
    Kind.QUOTE: (
        ItemField("quote_text", "Quote", scanned=True, searched="body"),
        ItemField("speaker_role", "Speaker's role", scanned=True, searched="detail"),
        ItemField("voice", "Whose voice"),
        ItemField("quote_tone", "Barrier or facilitator"),
    ),
    Kind.DOCUMENT: (
        ItemField("link_url", "Link", searched="detail"),
        ItemField("evidences", "What it evidences", scanned=True, searched="body"),
    ),
    Kind.PARTNER_FEEDBACK: (
        ItemField("partner_organisation", "Partner organisation", scanned=True, searched="detail"),
        ItemField("feedback_method", "How the feedback was gathered", searched="detail"),
    ),
    Kind.CASE_AUDIT: (
        ItemField("cases_reviewed", "Cases reviewed"),
        ItemField("audit_outcome", "Audit outcome", scanned=True, searched="body"),
    ),
    Kind.OBSERVATION: (
        ItemField("setting", "Setting", scanned=True, searched="detail"),
        ItemField("observer_role", "Observer's role", scanned=True, searched="detail"),
    ),
}
ITEM_FIELDS = (*COMMON, *(f for fields in BY_KIND.values() for f in fields))

COMMON_FIELDS = tuple(f.name for f in COMMON)
KIND_FIELDS: dict[str, tuple[str, ...]] = {kind: tuple(f.name for f in fields) for kind, fields in BY_KIND.items()}
ALL_KIND_FIELDS = tuple(name for names in KIND_FIELDS.values() for name in names)
FIELD_LABELS = {f.name: f.label for f in ITEM_FIELDS}
SCANNED_FIELDS = tuple(f.name for f in ITEM_FIELDS if f.scanned)
SEARCHED_PARTS = ("title", "body", "detail")
SEARCHED_BY_PART = {part: tuple(f.name for f in ITEM_FIELDS if f.searched == part) for part in SEARCHED_PARTS}


def fields_for(kind: str) -> tuple[str, ...]:
    """The fields a kind of evidence adds to the common ones."""
    return KIND_FIELDS[Kind(kind)]


# The four texts of an assessment, with the words people see for each.
ASSESSMENT_TEXTS = {
    "rationale": "Rationale",
    "key_findings": "Key findings",
    "strengths": "Strengths",
    "areas_for_improvement": "Areas for improvement",
}
# Everything a lead writes in an assessment: what its audit trail records and a new round carries forward.
ASSESSMENT_FIELDS = ("score", *ASSESSMENT_TEXTS, "category_scores", "override_reason")
