"""What to look at before a pack leaves the building: the personal-data guard and the gaps check.

Pure over a ``RoundView``: every written field of every item, mapping note,
assessment and action in the round goes through ``evidence.library.personal_data``;
``view.gaps()`` says where the self-assessment is thin. A person reads the
result and decides whether to go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evidence.assessment.gaps import Gap
from evidence.assessment.round_view import RoundView
from evidence.fields import ASSESSMENT_TEXTS
from evidence.library import citations
from evidence.library.personal_data import ITEM_TEXT_FIELDS, Finding, scan_fields
from evidence.wording import count


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


@dataclass
class ExportChecks:
    personal_data: list[PersonalDataHit] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def clear(self) -> bool:
        return not self.personal_data and not self.gaps

    def summary(self) -> str:
        parts = []
        if self.personal_data:
            places = len({hit.where for hit in self.personal_data})
            parts.append(
                f"{count(len(self.personal_data), 'possible personal data finding')} in {count(places, 'place')}"
            )
        if self.gaps:
            parts.append(count(len(self.gaps), "gap"))
        return "; ".join(parts) if parts else "no personal data found and no gaps"


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


def run_checks(view: RoundView) -> ExportChecks:
    """The personal-data guard and the gaps check over everything the pack would hold."""
    return ExportChecks(personal_data=personal_data_hits(view), gaps=view.gaps())
