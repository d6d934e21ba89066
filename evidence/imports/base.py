"""What every importer shares: columns, row validation, the plan shown as a preview, and writing it.

An importer declares its columns and turns validated rows into a ``Plan``: one
``PlannedRow`` per spreadsheet row saying what will be created, updated or left
alone, plus every ``RowError`` found. The preview is that plan; confirming
builds the plan again from the stored file (never trusting the preview) and
writes all of it in one transaction, or nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl.utils import get_column_letter
from sqlalchemy import select

from evidence import wording
from evidence.db import db
from evidence.imports import cells
from evidence.imports.cells import CellError
from evidence.imports.reading import LIMITS, ImportRefused, LayoutKeepsNothing, Limits, NeedsLayout, Table
from evidence.library import mappings, personal_data
from evidence.library.items import default_review_by
from evidence.models import EvidenceCategory, EvidenceItem, Mapping, QualityStatement, User, utcnow
from evidence.vocab import Stance, Status
from quality_statements import load_default_framework

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
CHUNK = 500
SUMMARY_MAX = 10_000  # a new item's summary, read from one cell
ACTION_LABELS = {CREATE: "Create", UPDATE: "Update", UNCHANGED: "Unchanged"}


def normalise_heading(text: str) -> str:
    """Headings match loosely: any case, spacing, a trailing * or a bracketed note such as "(%)"."""
    text = re.sub(r"\([^)]*\)", " ", str(text))
    text = text.replace("’", "'").replace("*", " ").replace(":", " ").replace("_", " ")
    return " ".join(text.lower().split())


# --- Looking up the framework --------------------------------------------------------------------------------------


class _Named:
    """One table of the framework's rows by key, name or a variant the framework file knows."""

    def __init__(self, model: type[QualityStatement] | type[EvidenceCategory], find_spec: Callable[[str], Any]):
        self._find_spec = find_spec
        self._by_key: dict[str, Any] = {}
        self._loose: dict[str, Any] = {}
        for row in db.session.scalars(select(model)):
            self._by_key[row.key] = row
            self._loose[cells.normalise(row.key)] = row
            self._loose[cells.normalise(row.name)] = row

    def find(self, name_or_key: str) -> Any:
        found = self._loose.get(cells.normalise(name_or_key))
        if found is None:
            spec = self._find_spec(name_or_key)
            found = self._by_key.get(spec.key) if spec else None
        return found


class Lookups:
    """Quality statements and evidence categories by key, name or known variant (loaded once per import)."""

    def __init__(self) -> None:
        self.framework = load_default_framework()
        self._statements = _Named(QualityStatement, self.framework.find_statement)
        self._categories = _Named(EvidenceCategory, self.framework.find_category)

    def statement(self, name_or_key: str) -> QualityStatement | None:
        return self._statements.find(name_or_key)

    def category(self, name_or_key: str) -> EvidenceCategory | None:
        return self._categories.find(name_or_key)


# --- Columns -------------------------------------------------------------------------------------------------------

Parser = Callable[[Any, Lookups], Any]


@dataclass(frozen=True)
class Column:
    """One column of an import: its heading, whether it must be filled, how it is read and explained."""

    name: str
    type_label: str
    help: str
    example: Any = None
    required: bool = False
    parse: Parser | None = None  # None: one line of text
    aliases: tuple[str, ...] = ()
    max_length: int | None = None
    width: int = 18
    number_format: str | None = None  # for the template's example cell
    options: tuple[str, ...] = ()  # short lists offered as a drop-down in the template

    def read(self, raw: Any, lookups: Lookups) -> Any:
        if self.parse is None:
            return cells.text(raw, self.max_length)
        return self.parse(raw, lookups)

    @property
    def example_text(self) -> str:
        """The example as written in a CSV file or read on the page."""
        example = self.example
        if example is None or example == "":
            return ""
        if self.number_format == "0%" and isinstance(example, float):
            return f"{cells.as_text(example * 100)}%"
        if isinstance(example, date):
            return example.strftime("%d/%m/%Y")
        return cells.as_text(example)

    @property
    def spellings(self) -> set[str]:
        return {normalise_heading(self.name), *(normalise_heading(a) for a in self.aliases)}


def text_column(name: str, help: str, example: Any = None, *, max_length: int, multiline=False, **kw) -> Column:
    parse = (lambda raw, _: cells.text(raw, max_length, multiline=True)) if multiline else None
    return Column(name, "Text", help, example, parse=parse, max_length=max_length, **kw)


def summary_column(help: str, example: str, **kw) -> Column:
    """A new item's summary: several lines of markdown."""
    return text_column("Summary", help, example, max_length=SUMMARY_MAX, multiline=True, **kw)


def number_column(name: str, help: str, example: Any = None, **kw) -> Column:
    """A plain number (``cells.number``)."""
    return Column(name, "Number", help, example, parse=lambda raw, _: cells.number(raw), **kw)


def date_column(name: str, help: str, example: date, parse: Parser, **kw) -> Column:
    """A date, written as ``cells.DATE_FORMS`` say (or a month, as ``parse`` allows)."""
    return Column(name, "Date", help, example, parse=parse, number_format="dd/mm/yyyy", width=13, **kw)


def period_columns(
    start_help: str,
    end_help: str,
    *,
    whole: bool = False,
    start_required: bool = False,
    aliases: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> tuple[Column, Column]:
    """The "Period start" and "Period end" columns: a date each, or a month (its first day for the start,
    its last for the end). ``whole`` keeps the whole period each cell names rather than its one end."""

    def end(which: str) -> Parser:
        if whole:
            return lambda raw, _: cells.date_or_period(raw)
        return lambda raw, _: getattr(cells.date_or_period(raw), which)

    start_aliases, end_aliases = aliases
    return (
        date_column(
            "Period start",
            start_help,
            date(2026, 1, 5),
            end("start"),
            required=start_required,
            aliases=(*start_aliases, "Start date", "From"),
        ),
        date_column("Period end", end_help, date(2026, 3, 31), end("end"), aliases=(*end_aliases, "End date", "To")),
    )


def choice_column(name: str, help: str, example: str, vocabulary, spellings: dict[str, str], what: str, **kw) -> Column:
    """One of a vocabulary's values, in any of its ``spellings``; a drop-down of the values in the template."""

    def parse(raw: Any, _lookups: Lookups) -> str:
        return cells.choice(raw, spellings, what)

    return Column(name, "Choice", help, example, parse=parse, options=tuple(vocabulary), **kw)


def category_column(example: str) -> Column:
    return Column(
        "Evidence category",
        "Evidence category",
        "Needed with a quality statement: People's experience, Feedback from staff and leaders, "
        "Feedback from partners or Processes.",
        example,
        parse=category_parse,
        aliases=("Category",),
        width=26,
    )


def statements_parse(raw: Any, lookups: Lookups) -> list[QualityStatement]:
    found: list[QualityStatement] = []
    for part in re.split(r"[;\n]", cells.as_text(raw) if not isinstance(raw, str) else raw):
        if not part.strip():
            continue
        statement = lookups.statement(part)
        if statement is None:
            raise CellError(f"Unknown quality statement “{part.strip()}”")
        if statement not in found:
            found.append(statement)
    return found


def category_parse(raw: Any, lookups: Lookups) -> EvidenceCategory:
    category = lookups.category(cells.as_text(raw))
    if category is None:
        raise CellError("Unknown evidence category")
    return category


STANCES = cells.choices_of(Stance)


def mapping_columns(statement_example: str, category_example: str, stance_example: str) -> tuple[Column, ...]:
    return (
        Column(
            "Quality statement",
            "Quality statement",
            "The quality statement this evidences, by name (e.g. Safeguarding) or key (safeguarding). "
            "Separate several with a semicolon. Leave blank to map it later.",
            statement_example,
            parse=statements_parse,
            aliases=("Quality statements", "Statement", "Statements"),
            width=34,
        ),
        category_column(category_example),
        choice_column(
            "Stance",
            "Strength, shortfall or context (context when blank).",
            stance_example,
            Stance,
            STANCES,
            "stance",
            width=12,
        ),
    )


# --- Results of validation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    letter: str
    value: str
    reason: str

    def describe(self) -> str:
        where = f"row {self.row}, column {self.letter} ({self.column})" if self.letter else f"row {self.row}"
        shown = f" “{self.value}”" if self.value else ""
        return f"{where}{shown}: {self.reason}"


@dataclass
class ParsedRow:
    row: int
    values: dict[str, Any]
    raw: dict[str, Any]
    positions: dict[str, int]  # column name -> position in the file (0-based)


@dataclass
class PlannedRow:
    row: int
    action: str
    cells: list[str]
    changes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    payload: Any = None

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class Plan:
    """What an import would do. Shown as the preview; written only when free of errors."""

    importer: Importer
    filename: str
    rows: list[PlannedRow]
    errors: list[RowError]
    notices: list[str]
    extra: dict[str, Any] = field(default_factory=dict)
    total_rows: int = 0  # data rows read from the file, with or without problems
    layout: Any = None  # the saved layout the file was read with (``evidence.imports.layouts``), if any

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in (CREATE, UPDATE, UNCHANGED)}

    @property
    def changing(self) -> bool:
        return any(r.action != UNCHANGED for r in self.rows)

    @property
    def personal_data_rows(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.findings]

    @property
    def summary(self) -> str:
        return self.importer.summarise(self)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    references: list[str] = field(default_factory=list)
    message: str = ""


# --- The importer -----------------------------------------------------------------------------------------------------


class Importer:
    """Base class: subclasses set the class attributes and implement ``plan_rows`` and ``write``.

    Whatever differs from one kind of import to another is said here, by the importer: the service
    and the pages ask it rather than asking which import it is.
    """

    key: str = ""
    label: str = ""  # "Survey findings"
    intro: str = ""
    columns: tuple[Column, ...] = ()
    preview_headings: tuple[str, ...] = ()
    matching_rule: str = ""
    notes: tuple[str, ...] = ()
    sheet: str | None = None  # the sheet of a workbook read (by name); None: the first
    limits: Limits = LIMITS  # how much of a file is read
    # True when the file to start from is the round's Excel export rather than a template of headings.
    starts_from_export = False
    # Whether a file of another shape may be read through a saved layout (``evidence.imports.layouts``), and
    # whether such a layout may name comparator columns.
    accepts_layouts = True
    takes_comparators = False
    # How the preview offers to write an error-free plan.
    confirm_title = "Import these rows"
    confirm_note = (
        "Every row below will be saved together, or none of them. Imported evidence is accepted straight away."
    )
    rows_title = "What will be imported"
    status_note = (
        "Imported evidence is accepted straight away, with you as its owner and reviewer, and each change is kept "
        "in the item's history."
    )

    @property
    def upload_hint(self) -> str:
        """What the upload form asks for."""
        return (
            "An Excel workbook (.xlsx; the first sheet is read) or a CSV file saved as UTF-8. "
            f"Up to {self.limits.max_data_rows:,} rows."
        )

    def confirm_label(self, plan: Plan) -> str:
        """The words of the button that writes the plan."""
        return f"Import {wording.count(len(plan.rows), 'row')}"

    def message(self, plan: Plan, result: ImportResult) -> str:
        """What the person is told once a plan that changed something is written."""
        return (
            f"Imported {self.label.lower()} from {plan.filename}: {result.created} created, "
            f"{result.updated} updated, {result.unchanged} already up to date."
        )

    # -- columns

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def match_header(self, header: list[str], header_row: int) -> tuple[dict[str, int], list[str]]:
        """Column name -> position in the file; refuses a header missing required columns."""
        positions: dict[str, int] = {}
        unknown: list[str] = []
        for position, heading in enumerate(header):
            if not heading:
                continue
            wanted = normalise_heading(heading)
            column = next((c for c in self.columns if wanted in c.spellings), None)
            if column is None:
                unknown.append(heading)
            elif column.name in positions:
                raise ImportRefused(
                    f"The header row (row {header_row}) has the column “{column.name}” twice "
                    f"(columns {get_column_letter(positions[column.name] + 1)} and {get_column_letter(position + 1)})."
                )
            else:
                positions[column.name] = position
        missing = [c.name for c in self.required_columns if c.name not in positions]
        if missing:
            found = ", ".join(h for h in header if h) or "nothing"
            refusal = NeedsLayout if self.accepts_layouts else ImportRefused
            raise refusal(
                f"This does not look like a {self.label.lower()} file: the header row (row {header_row}) is missing "
                f"the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}. It has: {found}. "
                "Download the template to see the headings."
            )
        notices = []
        if unknown:
            notices.append(f"Columns not used by this import were ignored: {', '.join(unknown)}.")
        return positions, notices

    def looks_like_header(self, values: list[Any]) -> bool:
        """A row with at least two of this import's headings (or its one required heading)."""
        spellings = set().union(*(c.spellings for c in self.columns))
        known = sum(1 for v in values if not cells.is_blank(v) and normalise_heading(str(v)) in spellings)
        return known >= min(2, len(self.required_columns) or 1)

    def positions(self, table: Table) -> tuple[dict[str, int], list[str]]:
        """Column name -> position in the file: as the saved layout says, else by the headings."""
        if table.layout is not None:
            return {name: p for name, p in table.layout.columns.items() if p < len(table.header)}, []
        return self.match_header(table.header, table.header_row)

    @property
    def layout_columns(self) -> tuple[Column, ...]:
        """The columns a saved layout places (comparator series, where an import has them, are named apart)."""
        return self.columns

    def comparator_of(self, heading: str) -> str | None:
        """The comparator series a column of this heading holds, when the import knows it as one."""
        return None

    def check_header(self, table: Table) -> None:
        self.positions(table)
        if not table.rows and table.layout is not None and table.dropped:
            raise LayoutKeepsNothing(
                f"No row of the file passes the saved layout “{table.layout.name}”'s filter, so there is nothing to "
                "import. Check the rows to take below (and the council's ONS code on the administration page)."
            )
        if not table.rows:
            raise ImportRefused("The file has a header row but no rows of data under it.")

    # -- validation

    def parse_rows(self, table: Table, lookups: Lookups) -> tuple[list[ParsedRow], list[RowError], list[str]]:
        positions, notices = self.positions(table)
        parsed: list[ParsedRow] = []
        errors: list[RowError] = []
        totals: list[tuple[int, str]] = []
        for number, values in table.rows:
            marks = cells.totals_row(values, table.formulas.get(number, []))
            if marks:
                totals.append((number, marks))
                continue
            row_values: dict[str, Any] = {}
            raw_values: dict[str, Any] = {}
            for column in self.columns:
                position = positions.get(column.name)
                raw = values[position] if position is not None else None
                raw_values[column.name] = raw
                if isinstance(raw, cells.NoSavedValue):
                    row_values[column.name] = None
                    errors.append(self.error(number, column.name, raw, cells.NO_SAVED_VALUE, positions))
                    continue
                if cells.is_blank(raw):
                    row_values[column.name] = None
                    if column.required:
                        errors.append(self.error(number, column.name, raw, "Missing value", positions))
                    continue
                try:
                    row_values[column.name] = column.read(raw, lookups)
                except CellError as exc:
                    row_values[column.name] = None
                    errors.append(self.error(number, column.name, raw, exc.reason, positions))
            parsed.append(ParsedRow(number, row_values, raw_values, positions))
        if totals:
            notices.append(totals_notice(totals))
        return parsed, errors, notices

    def error(
        self, row: ParsedRow | int, column: str, raw: Any, reason: str, positions: dict[str, int] | None = None
    ) -> RowError:
        """A problem in one cell, named by the row and column letter the spreadsheet shows."""
        if isinstance(row, ParsedRow):
            row, positions = row.row, row.positions
        position = (positions or {}).get(column)
        letter = get_column_letter(position + 1) if position is not None else ""
        value = cells.as_text(raw)
        if len(value) > 80:
            value = value[:77] + "…"
        return RowError(row, column, letter, value, reason)

    def row_checks(self, parsed: ParsedRow) -> list[RowError]:
        """Problems of a row whose cells each read well (cells that disagree); none by default."""
        return []

    def checked_rows(self, parsed: list[ParsedRow], errors: list[RowError]) -> tuple[list[ParsedRow], list[RowError]]:
        """The rows with no problem in their cells, their mapping or ``row_checks``; and the problems found now."""
        new_errors = [e for row in parsed for e in self.mapping_errors(row) + self.row_checks(row)]
        bad = {e.row for e in errors + new_errors}
        return [row for row in parsed if row.row not in bad], new_errors

    def mapping_errors(self, parsed: ParsedRow) -> list[RowError]:
        """A quality statement needs a category, and a category or stance needs a statement."""
        values, raw, errors = parsed.values, parsed.raw, []
        has_statement = not cells.is_blank(raw.get("Quality statement"))
        if has_statement and cells.is_blank(raw.get("Evidence category")):
            errors.append(
                self.error(parsed, "Evidence category", None, "Missing value: needed with a quality statement")
            )
        if not has_statement:
            for name in ("Evidence category", "Stance"):
                if not cells.is_blank(raw.get(name)) and values.get(name) is not None:
                    errors.append(self.error(parsed, name, raw.get(name), "Needs a quality statement in the same row"))
        return errors

    @staticmethod
    def mappings_of(values: dict[str, Any]) -> list[tuple[QualityStatement, EvidenceCategory, str]]:
        statements = values.get("Quality statement") or []
        category = values.get("Evidence category")
        if not statements or category is None:
            return []
        stance = values.get("Stance") or Stance.CONTEXT
        return [(statement, category, stance) for statement in statements]

    def plan(self, table: Table, filename: str) -> Plan:
        lookups = Lookups()
        parsed, errors, notices = self.parse_rows(table, lookups)
        rows, more_errors, more_notices, extra = self.plan_rows(parsed, errors)
        errors = sorted(errors + more_errors, key=lambda e: (e.row, self._order(e.column)))
        notices = table.notices + notices + more_notices
        return Plan(self, filename, rows, errors, notices, extra, len(table.rows), table.layout)

    def _order(self, column_name: str) -> int:
        names = [c.name for c in self.columns]
        return names.index(column_name) if column_name in names else len(names)

    def plan_rows(
        self, parsed: list[ParsedRow], errors: list[RowError]
    ) -> tuple[list[PlannedRow], list[RowError], list[str], dict[str, Any]]:
        """Planned rows, further errors, notices and anything else ``write`` needs (``Plan.extra``)."""
        raise NotImplementedError

    def write(self, plan: Plan, user: User | None, confirmed_personal_data: bool) -> ImportResult:
        raise NotImplementedError

    def summarise(self, plan: Plan) -> str:
        counts = plan.counts
        return (
            f"{counts[CREATE]} to create, {counts[UPDATE]} to update, {counts[UNCHANGED]} already up to date "
            f"({wording.count(len(plan.rows), 'row')})"
        )


def totals_notice(totals: list[tuple[int, str]]) -> str:
    """What the preview says of the totals and subtotal rows it passed over."""
    shown = "; ".join(f"row {number} ({marks})" for number, marks in totals[:10])
    more = f" and {len(totals) - 10} more" if len(totals) > 10 else ""
    return (
        f"{'These rows look' if len(totals) > 1 else 'This row looks'} like a total or subtotal and "
        f"{'were' if len(totals) > 1 else 'was'} not imported: {shown}{more}. The portal keeps the values "
        "themselves and works totals out from them. If such a row holds a value of its own, write what it "
        "measures instead of “Total” and upload the file again."
    )


# --- Helpers for writing evidence items -------------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """Text on one line, cut to ``limit`` characters with an ellipsis when longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def natural_key(kind: str, *parts: str) -> str:
    joined = "|".join(cells.normalise(p) for p in parts)
    return f"import:{kind}:{hashlib.sha1(joined.encode('utf-8')).hexdigest()}"


def new_item(kind: str, user: User | None, key: str, **fields) -> EvidenceItem:
    """An accepted evidence item, as a curator's import creates it, due a review as any item of its kind
    (``items.default_review_by``: its kind's months after the period it covers)."""
    user_id = user.id if user is not None else None
    return EvidenceItem(
        kind=kind,
        status=Status.ACCEPTED,
        natural_key=key,
        owner_id=user_id,
        submitted_by_id=user_id,
        reviewed_by_id=user_id,
        reviewed_at=utcnow(),
        review_by=default_review_by(kind, fields.get("period_end"), fields.get("period_start")),
        suggested_statements=[],
        **fields,
    )


def add_mappings(
    item: EvidenceItem, wanted: list[tuple[QualityStatement, EvidenceCategory, str]], user: User | None
) -> list[Mapping]:
    """Map ``item`` onto each (statement, category, stance) wanted, with no note; the new mappings."""
    return [
        mappings.new_mapping(item, statement, category, stance, user=user) for statement, category, stance in wanted
    ]


def record_mappings(added: Iterable[Mapping], user: User | None) -> None:
    """The audit events of mappings an import added, once they are written."""
    for mapping in added:
        mappings.record_mapping(mapping, user, " by import")


def personal_note(planned: PlannedRow) -> str:
    """What the audit trail adds to an imported row's event when the importer confirmed possible personal data."""
    if not planned.findings:
        return ""
    return ". Possible personal data confirmed by the importer: " + "; ".join(planned.findings)


def in_chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """``values`` a few hundred at a time: each chunk is one ``IN (…)`` list when loading what a file names."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def mapping_changes(
    item: EvidenceItem | None, wanted: list[tuple[QualityStatement, EvidenceCategory, str]]
) -> tuple[list[tuple[QualityStatement, EvidenceCategory, str]], list[tuple[Mapping, str]], list[str]]:
    """Mappings to add and stances to change so that ``item`` has every mapping wanted (none are removed)."""
    existing = {(m.statement_id, m.category_id): m for m in (item.mappings if item is not None else [])}
    to_add, to_change, descriptions = [], [], []
    for statement, category, stance in wanted:
        mapping = existing.get((statement.id, category.id))
        if mapping is None:
            to_add.append((statement, category, stance))
            descriptions.append(f"map to {statement.name} · {category.name} ({Stance(stance).label.lower()})")
        elif mapping.stance != stance:
            to_change.append((mapping, stance))
            descriptions.append(
                f"{statement.name} · {category.name}: {Stance(mapping.stance).label.lower()} → "
                f"{Stance(stance).label.lower()}"
            )
    return to_add, to_change, descriptions


def describe_mappings(wanted: Iterable[tuple[QualityStatement, EvidenceCategory, str]]) -> str:
    return "; ".join(f"{s.name} · {c.name} ({Stance(st).label.lower()})" for s, c, st in wanted)


def scan(fields: dict[str, str | None]) -> list[str]:
    return [finding.describe() for finding in personal_data.scan_fields(fields)]


def show(value: Any) -> str:
    """A value as the preview shows it in a list of changes."""
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, float):
        return cells.as_text(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"
