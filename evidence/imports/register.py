"""Importing the evidence register again: an exported register, edited in a spreadsheet, updates the same items.

The *Evidence register* sheet of the Excel export has one row per accepted item
and mapping. Each row is matched to its item by reference (E-12); nothing here
ever creates evidence. A row changes the item's own fields (title, summary,
source, period, review-by) and the mapping it names (stance and note), or adds
that mapping when the item does not have it yet. The rows of one item repeat its
fields, so they must agree. Kind and Stale are there to be read, not imported.

Blank cells: a column left out of the file leaves that field alone; a blank cell
in a column that is there clears the value, except where a value is needed (an
item's title, source and review-by date) and for a mapping's stance, which stays
as it is.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evidence import audit, wording
from evidence.db import db
from evidence.fields import FIELD_LABELS
from evidence.imports import cells
from evidence.imports.base import (
    STANCES,
    UNCHANGED,
    UPDATE,
    Column,
    Importer,
    ImportResult,
    Lookups,
    ParsedRow,
    Plan,
    PlannedRow,
    RowError,
    category_column,
    choice_column,
    date_column,
    in_chunks,
    normalise_heading,
    period_columns,
    personal_note,
    scan,
    show,
    text_column,
)
from evidence.imports.cells import CellError
from evidence.imports.reading import ImportRefused, Limits
from evidence.library import citations, mappings
from evidence.library.items import ItemError, check_fields
from evidence.models import EvidenceCategory, EvidenceItem, Mapping, QualityStatement, User
from evidence.vocab import Stance, Status

SHEET = "Evidence register"
MAX_CELL = 32_767  # the most a spreadsheet cell holds
SUMMARY_MAX, NOTE_MAX = 20_000, 2_000  # as the item's and the mapping's forms allow
_REFERENCE = re.compile(r"^e\s*-?\s*(\d{1,9})$", re.IGNORECASE)
# Characters a worksheet cannot hold: the export leaves them out, so they never count as an edit.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Item attribute -> its column, headed as the item's own form labels it.
ITEM_FIELDS = {
    name: FIELD_LABELS[name] for name in ("title", "summary", "source", "period_start", "period_end", "review_by")
}
MULTILINE = {"summary"}
TEXT_FIELDS = ("title", "summary", "source")
READ_ONLY = ("Kind", "Stale")
NEW_EVIDENCE = "New evidence comes in through the survey findings, metric points or quotes imports, or the submit form."


# --- Reading cells ---------------------------------------------------------------------------------------------


def _reference(raw: Any, _lookups: Lookups | None = None) -> int:
    match = _REFERENCE.match(cells.as_text(raw).strip())
    if not match:
        raise CellError("Not an evidence reference: write it as the export does, e.g. E-12")
    return int(match.group(1))


def _review_by(raw: Any) -> date:
    """A date, or a month, quarter or year meaning its last day ("review by March 2027")."""
    try:
        return cells.a_date(raw)
    except cells.CellOutOfRange:
        raise
    except CellError:
        return cells.date_or_period(raw).end


def _statement(raw: Any, lookups: Lookups) -> QualityStatement:
    statement = lookups.statement(cells.as_text(raw))
    if statement is None:
        raise CellError("Unknown quality statement: use its name (e.g. Safeguarding) or key (safeguarding)")
    return statement


def _ignored(raw: Any, _lookups: Lookups) -> None:
    return None


def _tidy(value: str | None, multiline: bool = False) -> str:
    """Text as the import reads it back from a cell, so that whitespace alone never counts as an edit."""
    if not value:
        return ""
    return cells.text(_UNWRITABLE.sub("", value), multiline=multiline)


def _same_text(stored: str | None, incoming: str, multiline: bool = False) -> bool:
    """Does a cell hold the stored text, as the export wrote it (at most a cell's length) and read back?"""
    stored = stored or ""
    if _tidy(stored, multiline) == incoming:
        return True
    return len(stored) > MAX_CELL and _tidy(stored[:MAX_CELL], multiline) == incoming


def _differs(item: EvidenceItem, name: str, value: Any) -> bool:
    if name in TEXT_FIELDS:
        return not _same_text(getattr(item, name), value, multiline=name in MULTILINE)
    return getattr(item, name) != value


# --- The importer ------------------------------------------------------------------------------------------------


class RegisterImporter(Importer):
    key = "register"
    label = "Evidence register"
    sheet = SHEET
    starts_from_export = True
    accepts_layouts = False  # the portal's own export, with its own headings
    confirm_title = "Save these changes"
    confirm_note = (
        "Every change below will be saved together, or none of them. Rows marked Unchanged are left as they are."
    )
    rows_title = "What will change, then the rows already up to date"
    status_note = (
        "Only accepted evidence can be updated here, and it stays accepted. Each change is kept in the item's "
        "history with the values before and after."
    )
    # An exported register has a row per item and mapping: a large portfolio's runs to tens of thousands. The
    # workbook around it has a chart per metric, so thousands of parts.
    limits = Limits(
        max_data_rows=60_000,
        max_sheet_rows=120_000,
        max_uncompressed_bytes=200 * 1024 * 1024,
        max_zip_members=20_000,
    )
    intro = (
        "Edit the evidence register of an Excel export and bring the changes back: rows are matched to evidence by "
        "reference (E-12), so the same items are updated and nothing is duplicated. Change titles, summaries, "
        "sources, periods and review-by dates, and the stance and note of each mapping, or add a mapping."
    )
    matching_rule = (
        "Each row is matched to an accepted evidence item by its reference (E-12). A row whose cells match the item "
        "is left alone, so importing an unedited export changes nothing, and importing the same edited file twice "
        "changes things only the first time. The preview lists each change as before → after."
    )
    notes = (
        "Start from an export: on the Exports page download the Excel workbook of the current round, edit the "
        "Evidence register sheet and upload the whole workbook (only that sheet is read), or that sheet saved as "
        "CSV. An export of a signed-off round shows evidence as it was then: importing it would put old values back, "
        "so export the open round.",
        "Every row needs a reference: this import only updates evidence already in the portfolio. " + NEW_EVIDENCE,
        "Kind and Stale are read-only: they are ignored on import. An item's kind does not change, and an item is "
        "stale when its review-by date has passed, so change Review by instead.",
        "An item with several mappings has one row per mapping, each repeating the item's title, summary, source, "
        "period and review-by: change them in every row of the item, or the rows disagree and nothing is imported.",
        "A blank cell clears the value (a summary, a period, a note), except that an item needs a title, a source and "
        "a review-by date, and a blank stance keeps the mapping's stance. A column left out of the file changes "
        "nothing.",
        "Deleting a row removes nothing: remove a mapping, or archive an item, on the item's page.",
    )
    columns = (
        Column(
            "Reference",
            "Reference",
            "The item's reference as the export gives it. Rows are matched to evidence by it; it is never changed.",
            "E-12",
            required=True,
            parse=_reference,
            aliases=("Ref", "Evidence reference", "Evidence"),
            width=10,
        ),
        Column(
            "Kind",
            "Read only",
            "Shown for reading; ignored on import.",
            "Survey finding",
            parse=_ignored,
            width=18,
        ),
        text_column(
            "Title",
            "The item's title. Every item needs one.",
            "Most people say services help them feel in control",
            max_length=300,
            width=40,
        ),
        text_column(
            "Summary",
            "What the evidence shows (markdown allowed). Blank clears it.",
            "61% said services help them have control, up from 57% last year.",
            max_length=MAX_CELL,
            multiline=True,
            width=60,
        ),
        text_column(
            "Source",
            "Who or what it comes from. Every item needs one.",
            "NHS England, ASCS 2025-26, local return",
            max_length=300,
            width=24,
        ),
        *period_columns(
            "The first day the evidence covers: a date, or a month such as 2026-01 (its first day). "
            "Blank clears the period, with Period end.",
            "The last day it covers: a date, or a month (its last day).",
        ),
        date_column(
            "Review by",
            "When the evidence is due a review: a date, or a month (its last day). After it the item is stale. "
            "Every accepted item has one.",
            date(2027, 3, 31),
            lambda raw, _: _review_by(raw),
            aliases=("Review-by", "Review by date", "Review date"),
        ),
        Column(
            "Stale",
            "Read only",
            "Shown for reading; ignored on import (it follows from Review by).",
            "No",
            parse=_ignored,
            width=8,
        ),
        Column(
            "Quality statement",
            "Quality statement",
            "The quality statement of this row's mapping, by name or key. Blank: the row changes only the item.",
            "Assessing needs",
            parse=_statement,
            aliases=("Statement",),
            width=30,
        ),
        category_column("People's experience"),
        choice_column(
            "Stance",
            "Strength, shortfall or context. Blank keeps the mapping's stance (context for a new mapping).",
            "Strength",
            Stance,
            STANCES,
            "stance",
            width=11,
        ),
        text_column(
            "Note",
            "The mapping's note. Blank clears it.",
            "Up from 57% last year; still below the England average.",
            max_length=MAX_CELL,
            multiline=True,
            width=40,
        ),
    )
    preview_headings = ("Evidence", "Title", "Mapping", "Stance")

    # -- reading

    def match_header(self, header: list[str], header_row: int) -> tuple[dict[str, int], list[str]]:
        if not any(heading and normalise_heading(heading) in self.columns[0].spellings for heading in header):
            found = ", ".join(h for h in header if h) or "nothing"
            raise ImportRefused(
                f"This does not look like an evidence register: the header row (row {header_row}) has no Reference "
                f"column. It has: {found}. Upload the workbook exported by Assure (its Evidence register sheet is "
                "read), or that sheet saved as CSV."
            )
        return super().match_header(header, header_row)

    def parse_rows(self, table, lookups):
        parsed, errors, notices = super().parse_rows(table, lookups)
        errors = [
            RowError(e.row, e.column, e.letter, e.value, f"Missing reference. {self._why_a_reference()}")
            if e.column == "Reference" and e.reason == "Missing value"
            else e
            for e in errors
        ]
        present = [name for name in READ_ONLY if parsed and name in parsed[0].positions]
        if present:
            notices.append(
                f"{' and '.join(present)} {'are' if len(present) > 1 else 'is'} read-only: "
                f"{'those columns were' if len(present) > 1 else 'that column was'} not read."
            )
        return parsed, errors, notices

    @staticmethod
    def _why_a_reference() -> str:
        return (
            "This import only updates evidence already in the portfolio, matched by reference (E-12). " + NEW_EVIDENCE
        )

    # -- planning

    def plan_rows(self, parsed: list[ParsedRow], errors: list[RowError]):
        candidates, new_errors = self.checked_rows(parsed, errors)
        items = self._items({row.values["Reference"] for row in candidates})

        groups: dict[int, list[ParsedRow]] = {}
        for row in candidates:
            reference = citations.reference(row.values["Reference"])
            item = items.get(row.values["Reference"])
            if item is None:
                new_errors.append(
                    self.error(
                        row, "Reference", row.raw["Reference"], f"No evidence item {reference} exists. {NEW_EVIDENCE}"
                    )
                )
            elif item.status != Status.ACCEPTED:
                new_errors.append(
                    self.error(
                        row,
                        "Reference",
                        row.raw["Reference"],
                        f"{reference} is {Status(item.status).label.lower()}, not accepted: only accepted evidence is "
                        "in the register, and only accepted evidence can be updated here",
                    )
                )
            else:
                groups.setdefault(item.id, []).append(row)

        planned: list[PlannedRow] = []
        counts = {"items": 0, "added": 0, "changed": 0}
        for item_id, rows in groups.items():
            item = items[item_id]
            problems = (
                self._disagreements(item, rows) + self._repeated_mappings(item, rows) + self._long_notes(item, rows)
            )
            wanted = self._item_values(rows[0])
            changed = {name: value for name, value in wanted.items() if _differs(item, name, value)}
            problems += self._field_problems(item, changed, rows[0])
            if problems:
                new_errors += problems
                continue
            if changed:
                counts["items"] += 1
            title = changed.get("title", item.title)
            for position, row in enumerate(rows):
                planned.append(self._plan_row(item, row, changed if position == 0 else {}, title, counts))
        planned.sort(key=lambda p: (p.action == UNCHANGED, p.row))
        return planned, new_errors, [], {"counts": counts}

    def _items(self, ids: set[int]) -> dict[int, EvidenceItem]:
        found: dict[int, EvidenceItem] = {}
        for chunk in in_chunks(sorted(ids)):
            query = (
                select(EvidenceItem)
                .where(EvidenceItem.id.in_(chunk))
                .options(
                    selectinload(EvidenceItem.mappings).selectinload(Mapping.statement),
                    selectinload(EvidenceItem.mappings).selectinload(Mapping.category),
                )
            )
            found.update((item.id, item) for item in db.session.scalars(query))
        return found

    def mapping_errors(self, row: ParsedRow) -> list[RowError]:
        """A quality statement needs a category; a category, stance or note needs a statement."""
        raw, errors = row.raw, []
        if not cells.is_blank(raw.get("Quality statement")):
            if cells.is_blank(raw.get("Evidence category")):
                errors.append(
                    self.error(row, "Evidence category", None, "Missing value: needed with a quality statement")
                )
            return errors
        for name in ("Evidence category", "Stance", "Note"):
            if not cells.is_blank(raw.get(name)):
                reason = "Needs a quality statement in the same row"
                if name != "Evidence category":
                    reason += f": a {name.lower()} belongs to a mapping (a quality statement and evidence category)"
                errors.append(self.error(row, name, raw.get(name), reason))
        return errors

    @staticmethod
    def _item_values(row: ParsedRow) -> dict[str, Any]:
        """The item's fields as this row gives them; only the columns the file has."""
        values: dict[str, Any] = {}
        for name, column in ITEM_FIELDS.items():
            if column not in row.positions:
                continue
            value = row.values.get(column)
            values[name] = (value or "") if name in TEXT_FIELDS else value
        return values

    def _disagreements(self, item: EvidenceItem, rows: list[ParsedRow]) -> list[RowError]:
        first, problems = self._item_values(rows[0]), []
        for row in rows[1:]:
            for name, value in self._item_values(row).items():
                if value != first.get(name):
                    column = ITEM_FIELDS[name]
                    problems.append(
                        self.error(
                            row,
                            column,
                            row.raw.get(column),
                            f"Differs from row {rows[0].row} ({show(first.get(name))}): the rows of {item.reference} "
                            f"must agree on its {column.lower()}; change it in every row of the item",
                        )
                    )
        return problems

    def _repeated_mappings(self, item: EvidenceItem, rows: list[ParsedRow]) -> list[RowError]:
        seen: dict[tuple[int, int], int] = {}
        problems = []
        for row in rows:
            statement, category = row.values.get("Quality statement"), row.values.get("Evidence category")
            if statement is None or category is None:
                continue
            key = (statement.id, category.id)
            if key in seen:
                problems.append(
                    self.error(
                        row,
                        "Quality statement",
                        row.raw.get("Quality statement"),
                        f"Repeats row {seen[key]}: {item.reference} has one mapping to "
                        f"{statement.name} · {category.name}",
                    )
                )
            else:
                seen[key] = row.row
        return problems

    def _long_notes(self, item: EvidenceItem, rows: list[ParsedRow]) -> list[RowError]:
        """A note that changes may be as long as the mapping form allows; one already held is left as it is."""
        held = {(m.statement_id, m.category_id): m.note for m in item.mappings}
        problems = []
        for row in rows:
            note, statement, category = (row.values.get(k) for k in ("Note", "Quality statement", "Evidence category"))
            if not note or len(note) <= NOTE_MAX or statement is None or category is None:
                continue
            if not _same_text(held.get((statement.id, category.id)), note, multiline=True):
                problems.append(
                    self.error(row, "Note", note, f"Too long: at most {NOTE_MAX:,} characters (this has {len(note):,})")
                )
        return problems

    def _field_problems(self, item: EvidenceItem, changed: dict[str, Any], row: ParsedRow) -> list[RowError]:
        """The item's own rules (evidence.library.items.check_fields), applied to the values that change, each named."""
        problems = []
        if len(changed.get("summary") or "") > SUMMARY_MAX:
            problems.append(
                self.error(
                    row,
                    "Summary",
                    row.raw.get("Summary"),
                    f"Too long: at most {SUMMARY_MAX:,} characters (this has {len(changed['summary']):,})",
                )
            )
        if "review_by" in changed and changed["review_by"] is None:
            problems.append(
                self.error(row, "Review by", None, "Missing value: accepted evidence needs a review-by date")
            )
        checks = [{name: changed[name]} for name in TEXT_FIELDS if name in changed]
        if "period_start" in changed or "period_end" in changed:
            checks.append({name: changed.get(name, getattr(item, name)) for name in ("period_start", "period_end")})
        if changed.get("review_by") is not None:
            checks.append({"review_by": changed["review_by"]})
        for fields in checks:
            try:
                check_fields(item.kind, fields)
            except ItemError as exc:
                label, _, reason = str(exc).partition(": ")
                column = next((c for n, c in ITEM_FIELDS.items() if FIELD_LABELS[n] == label), "")
                if column not in row.positions:
                    # The rule is about a value the file leaves alone: blame the column that moved it.
                    column = next(ITEM_FIELDS[n] for n in fields if n in changed)
                reason = reason[:1].upper() + reason[1:] if reason else str(exc)
                problems.append(self.error(row, column, row.raw.get(column), reason))
        return problems

    def _plan_row(
        self, item: EvidenceItem, row: ParsedRow, changed: dict[str, Any], title: str, counts: dict[str, int]
    ) -> PlannedRow:
        """One row: the item's changes (given with its first row only) and its mapping's."""
        changes = [
            f"{ITEM_FIELDS[name]}: {show(getattr(item, name))} → {show(value)}" for name, value in changed.items()
        ]
        scanned = {ITEM_FIELDS[name]: changed[name] for name in TEXT_FIELDS if changed.get(name)}
        values = row.values
        statement: QualityStatement | None = values.get("Quality statement")
        category: EvidenceCategory | None = values.get("Evidence category")
        mapping, mapping_changes, new_mapping = None, {}, None
        stance_shown = ""
        if statement is not None and category is not None:
            where = f"{statement.name} · {category.name}"
            mapping = next(
                (m for m in item.mappings if m.statement_id == statement.id and m.category_id == category.id), None
            )
            note = (values.get("Note") or "") if "Note" in row.positions else None
            if mapping is None:
                stance = values.get("Stance") or Stance.CONTEXT
                new_mapping = (statement, category, stance, note or "")
                changes.append(
                    f"add mapping to {where} ({Stance(stance).label.lower()})"
                    + (f" with the note “{show(note)}”" if note else "")
                )
                counts["added"] += 1
                stance_shown = stance
            else:
                stance = values.get("Stance")
                if stance is not None and stance != mapping.stance:
                    mapping_changes["stance"] = stance
                    changes.append(
                        f"{where}: stance {Stance(mapping.stance).label.lower()} → {Stance(stance).label.lower()}"
                    )
                if note is not None and not _same_text(mapping.note, note, multiline=True):
                    mapping_changes["note"] = note
                    changes.append(f"{where}: note {show(mapping.note)} → {show(note)}")
                if mapping_changes:
                    counts["changed"] += 1
                stance_shown = mapping_changes.get("stance", mapping.stance)
            if note:
                scanned["Note"] = note if (new_mapping or "note" in mapping_changes) else None
        action = UPDATE if changes else UNCHANGED
        return PlannedRow(
            row.row,
            action,
            [
                item.reference,
                title,
                f"{statement.name} · {category.name}" if statement is not None and category is not None else "—",
                Stance(stance_shown).label if stance_shown else "",
            ],
            changes=changes,
            findings=scan(scanned) if action == UPDATE else [],
            payload={
                "item": item,
                "changed": changed,
                "mapping": mapping,
                "mapping_changes": mapping_changes,
                "new_mapping": new_mapping,
            },
        )

    def summarise(self, plan: Plan) -> str:
        counts = plan.extra.get("counts") or {"items": 0, "added": 0, "changed": 0}
        rows = len(plan.rows)
        unchanged = plan.count(UNCHANGED)
        parts = [
            _count(counts["items"], "item", "items") + " to edit" if counts["items"] else "",
            _count(counts["added"], "mapping", "mappings") + " to add" if counts["added"] else "",
            _count(counts["changed"], "mapping", "mappings") + " to change" if counts["changed"] else "",
        ]
        parts = [p for p in parts if p]
        if not parts:
            return f"nothing to change: {'the row is' if rows == 1 else f'all {rows:,} rows are'} already up to date"
        return f"{', '.join(parts)}; {unchanged:,} of {_count(rows, 'row', 'rows')} already up to date"

    # -- writing

    def write(self, plan: Plan, user: User | None, confirmed_personal_data: bool) -> ImportResult:
        result = ImportResult(kind=self.key)
        touched: dict[int, str] = {}
        edited = 0
        for planned in plan.rows:
            if planned.action == UNCHANGED:
                result.unchanged += 1
                continue
            item: EvidenceItem = planned.payload["item"]
            where = f"the import of {plan.filename}, row {planned.row}"
            edited += self._write_item(planned, user, where)
            self._write_mapping(planned, user, where, result)
            touched[item.id] = item.reference
        db.session.flush()
        result.updated += edited
        result.references = list(touched.values())
        return result

    @property
    def upload_hint(self) -> str:
        return (
            f"The Excel workbook exported by Assure (.xlsx; only its {SHEET} sheet is read), or that sheet saved "
            f"as CSV UTF-8. Up to {self.limits.max_data_rows:,} rows."
        )

    def confirm_label(self, plan: Plan) -> str:
        rows = len(plan.rows)
        return "Save the changes" if plan.changing else f"Import {wording.count(rows, 'unchanged row')}"

    def message(self, plan: Plan, result: ImportResult) -> str:
        # Items edited are counted apart from mappings changed, as the preview counted them (``summarise``).
        edited = plan.extra["counts"]["items"]
        counts = [
            _count(edited, "item", "items") + " edited" if edited else "",
            _count(result.created, "mapping", "mappings") + " added" if result.created else "",
            _count(result.updated - edited, "mapping", "mappings") + " changed" if result.updated - edited else "",
        ]
        return (
            f"Updated the evidence register from {plan.filename}: {', '.join(c for c in counts if c)}; "
            f"{_count(result.unchanged, 'row', 'rows')} already up to date."
        )

    @staticmethod
    def _write_item(planned: PlannedRow, user: User | None, where: str) -> bool:
        """The item's own changes (given with its first row), recorded; whether it was edited."""
        item: EvidenceItem = planned.payload["item"]
        changed = dict(planned.payload["changed"])
        if planned.findings and not item.personal_data:
            changed["personal_data"] = True
        before = audit.snapshot(item, list(changed)) if changed else None
        for name, value in changed.items():
            setattr(item, name, value)
        audit.record(
            "update" if changed else "map",
            item,
            user=user,
            summary=f"Updated by {where}: {'; '.join(planned.changes)}{personal_note(planned)}",
            before=before,
            after=audit.snapshot(item, list(changed)) if changed else None,
        )
        return bool(planned.payload["changed"])

    @staticmethod
    def _write_mapping(planned: PlannedRow, user: User | None, where: str, result: ImportResult) -> None:
        """The row's mapping: its stance and note changed, or the mapping added, and recorded."""
        payload = planned.payload
        item: EvidenceItem = payload["item"]
        mapping: Mapping | None = payload["mapping"]
        if payload["mapping_changes"] and mapping is not None:
            summary = (
                f"Mapping of {item.reference} to {mapping.statement.name} · {mapping.category.name} changed by {where}"
            )
            audit.record_change(mapping, payload["mapping_changes"], user=user, summary=summary)
            result.updated += 1
        if payload["new_mapping"] is not None:
            statement, category, stance, note = payload["new_mapping"]
            added = mappings.new_mapping(item, statement, category, stance, note, user)
            db.session.add(added)
            db.session.flush()
            mappings.record_mapping(added, user, f" by {where}")
            result.created += 1


def _count(number: int, one: str, many: str) -> str:
    return wording.count(number, one, many)
