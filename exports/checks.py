"""What to look at before a pack leaves the building: the personal-data guard and the gaps check.

Pure over a ``RoundView``: every written field of every item, mapping note,
assessment and action in the round goes through the personal data guard
(``evidence.assessment.readiness.personal_data_hits``, which sign-off readiness
reads too); ``view.gaps()`` says where the self-assessment is thin. A person reads the
result and decides whether to go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evidence.assessment.gaps import Gap
from evidence.assessment.readiness import PersonalDataHit, personal_data_hits
from evidence.assessment.round_view import RoundView
from evidence.wording import count

__all__ = ["ExportChecks", "PersonalDataHit", "personal_data_hits", "run_checks"]


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


def run_checks(view: RoundView) -> ExportChecks:
    """The personal-data guard and the gaps check over everything the pack would hold."""
    return ExportChecks(personal_data=personal_data_hits(view), gaps=view.gaps())
