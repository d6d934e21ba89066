"""What the preview page shows of a plan, as plain data: a large file's plan is made by a job, kept as JSON
in the job's file, and shown from there, so the page shows it in the same words as a plan made at once.

A ``Preview`` holds every figure of the plan, its first ``SHOWN_ERRORS`` problems and first ``SHOWN_ROWS``
rows (without what writing them needs), and every row that may hold personal data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from evidence.imports.base import Plan, PlannedRow, RowError

SHOWN_ERRORS = 500
SHOWN_ROWS = 1000


@dataclass
class Preview:
    kind: str
    filename: str
    summary: str
    total_rows: int
    error_rows: int
    error_count: int
    row_count: int
    ok: bool
    changing: bool
    confirm_label: str
    layout_name: str | None = None
    notices: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    personal_data_rows: list[PlannedRow] = field(default_factory=list)

    @classmethod
    def of(cls, plan: Plan) -> Preview:
        def shown(row: PlannedRow) -> PlannedRow:
            return replace(row, payload=None)

        return cls(
            kind=plan.importer.key,
            filename=plan.filename,
            summary=plan.summary,
            total_rows=plan.total_rows,
            error_rows=plan.error_rows,
            error_count=len(plan.errors),
            row_count=len(plan.rows),
            ok=plan.ok,
            changing=plan.changing,
            confirm_label=plan.importer.confirm_label(plan),
            layout_name=plan.layout.name if plan.layout is not None else None,
            notices=list(plan.notices),
            errors=plan.errors[:SHOWN_ERRORS],
            rows=[shown(row) for row in plan.rows[:SHOWN_ROWS]],
            personal_data_rows=[shown(row) for row in plan.personal_data_rows],
        )

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, default=str).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Preview:
        values = json.loads(data)
        values["errors"] = [RowError(**e) for e in values["errors"]]
        for name in ("rows", "personal_data_rows"):
            values[name] = [PlannedRow(**r) for r in values[name]]
        return cls(**values)
