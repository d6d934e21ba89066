"""Saved layouts: which column of a council's own file is which, and which of its rows to take.

A file whose header does not match an import's template (a BI team's workbook, a national file downloaded
from a government site) is read through a layout the quality lead chose: each import column ("Metric",
"Period", "Value", …) is one of the file's columns, comparator columns are named, and a filter keeps only the
rows whose cell in a column equals a value ("Local authority code is E10000007"). The layout is saved under a
name and used again, without asking, for the next file with the same header (the same headings in the same
order, matched as template headings are: any case or spacing).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter
from sqlalchemy import select

from evidence import audit, settings
from evidence.db import db
from evidence.imports import cells
from evidence.imports.base import Importer, normalise_heading
from evidence.imports.reading import RowTest, Table
from evidence.models import ImportLayout, User, utcnow

MAX_NAME = 100
MAX_VALUE = 200
MAX_COMPARATORS = 6
MAX_FILTERS = 3
SAMPLES = 3


class LayoutError(ValueError):
    """A choice that cannot be saved; ``field`` names the part of the form that is wrong."""

    def __init__(self, message: str, field: str = "name"):
        super().__init__(message)
        self.field = field


@dataclass
class Choice:
    """What the quality lead says about a file: a name, each import column's position in the file (from 0),
    the comparator columns (position, name) and the filters (position, value)."""

    name: str = ""
    columns: dict[str, int] = field(default_factory=dict)
    comparators: list[tuple[int, str]] = field(default_factory=list)
    filters: list[tuple[int, str]] = field(default_factory=list)


def headings(header: Sequence[Any]) -> list[str]:
    """The header as headings are matched (``normalise_heading``), without the blank cells at its end."""
    found = [normalise_heading(cells.as_text(h)) for h in header]
    while found and not found[-1]:
        found.pop()
    return found


def header_key(header: Sequence[Any]) -> str:
    return hashlib.sha256(json.dumps(headings(header)).encode("utf-8")).hexdigest()


def for_kind(kind: str) -> dict[str, ImportLayout]:
    """The layouts saved for a kind of import, by the key of the header each was made for."""
    return {layout.header_key: layout for layout in db.session.scalars(select(ImportLayout).filter_by(kind=kind))}


def saved(kind: str) -> list[ImportLayout]:
    return list(db.session.scalars(select(ImportLayout).filter_by(kind=kind).order_by(ImportLayout.name)))


def find(kind: str, header: Sequence[Any]) -> ImportLayout | None:
    return db.session.scalar(select(ImportLayout).filter_by(kind=kind, header_key=header_key(header)))


# --- Reading a file through a layout ------------------------------------------------------------------------------


def row_filter(layout: ImportLayout) -> RowTest | None:
    """Keeps the rows whose cell in each filtered column equals the value given (any case or spacing)."""
    wanted = [(f["position"], cells.normalise(f["value"])) for f in layout.filters or []]
    if not wanted:
        return None

    def keep(values: list[Any]) -> bool:
        return all(p < len(values) and cells.normalise(cells.as_text(values[p])) == v for p, v in wanted)

    return keep


def _column(header: Sequence[str], position: int) -> str:
    heading = header[position] if position < len(header) else ""
    return f"{get_column_letter(position + 1)} ({heading})" if heading else get_column_letter(position + 1)


def describe(layout: ImportLayout, importer: Importer, table: Table) -> list[str]:
    """What the preview says of the layout it read the file with."""
    header = table.header
    parts = [f"{name} from column {_column(header, p)}" for name, p in _in_order(importer, layout.columns)]
    parts += [f"the comparator “{c['name']}” from column {_column(header, c['position'])}" for c in layout.comparators]
    by = f" by {layout.updated_by.name}" if layout.updated_by is not None else ""
    notices = [
        f"This file was read with the saved layout “{layout.name}” (saved{by} on "
        f"{layout.updated_at:%d %b %Y}), because its header is the one that layout was made for: "
        f"{'; '.join(parts)}."
    ]
    if layout.filters:
        rule = " and ".join(f"{_column(header, f['position'])} is {f['value']}" for f in layout.filters)
        kept = len(table.rows)
        notices.append(
            f"Only the rows where {rule} were taken: {kept:,} of {kept + table.dropped:,} rows. "
            "The others were not read further."
        )
    return notices


def _in_order(importer: Importer, columns: dict[str, int]) -> list[tuple[str, int]]:
    return [(c.name, columns[c.name]) for c in importer.layout_columns if c.name in columns]


def filter_text(layout: ImportLayout) -> str:
    return " and ".join(f"{layout.header[f['position']]} is {f['value']}" for f in layout.filters or [])


# --- Choosing and saving ----------------------------------------------------------------------------------------


def samples(table: Table, position: int, count: int = SAMPLES) -> list[str]:
    """A few different values of a column, as the file shows them, for the quality lead to recognise it by."""
    found: list[str] = []
    for _, values in table.rows:
        text = cells.as_text(values[position]) if position < len(values) else ""
        if text and text not in found:
            found.append(text if len(text) <= 60 else text[:59] + "…")
            if len(found) >= count:
                break
    return found


_CODE_HEADING = re.compile(r"\b(code|ons|gss)\b")
_NAME_HEADING = re.compile(r"\b(authority|council|la|lad|region|area|organisation)\b")


def suggest(importer: Importer, table: Table, existing: ImportLayout | None = None) -> Choice:
    """A first answer for the form: the layout already saved for this header, else each import column whose
    heading (or a known spelling of it) is in the file, and a filter to the council where the file names
    councils by code or by name."""
    if existing is not None:
        return Choice(
            existing.name,
            dict(existing.columns),
            [(c["position"], c["name"]) for c in existing.comparators],
            [(f["position"], f["value"]) for f in existing.filters],
        )
    choice = Choice(name=_default_name(importer, table))
    for position, heading in enumerate(table.header):
        wanted = normalise_heading(heading)
        if importer.takes_comparators and (series := importer.comparator_of(heading)):
            choice.comparators.append((position, series))
            continue
        column = next((c for c in importer.layout_columns if wanted and wanted in c.spellings), None)
        if column is not None and column.name not in choice.columns:
            choice.columns[column.name] = position
    name, code = settings.council()
    for position, heading in enumerate(table.header):
        wanted = normalise_heading(heading)
        values = samples(table, position, 20)
        if code and _CODE_HEADING.search(wanted) and any(settings.ONS_CODE.match(v.upper()) for v in values):
            choice.filters = [(position, code)]
            break
        if name and _NAME_HEADING.search(wanted) and "name" in wanted and not choice.filters:
            choice.filters = [(position, name)]
    return choice


def _default_name(importer: Importer, table: Table) -> str:
    return f"{importer.label} from {table.sheet_name or 'a file'} ({len(table.header)} columns)"[:MAX_NAME]


def save(importer: Importer, table: Table, choice: Choice, user: User | None) -> ImportLayout:
    """Check the choice against the file's header and keep it (a layout already saved for this header is
    changed). Not committed."""
    header = table.header
    name = " ".join((choice.name or "").split())
    if not name:
        raise LayoutError("Name: give the layout a name, e.g. “NHS England national file”", "name")
    if len(name) > MAX_NAME or not name.isprintable():
        raise LayoutError(f"Name: at most {MAX_NAME} characters, on one line", "name")
    known = {c.name for c in importer.layout_columns}
    used: dict[int, str] = {}

    def place(position: Any, what: str, form_field: str) -> int:
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < len(header):
            raise LayoutError(f"{what}: choose one of the file's columns", form_field)
        if not header[position]:
            raise LayoutError(f"{what}: column {get_column_letter(position + 1)} has no heading", form_field)
        if position in used:
            raise LayoutError(
                f"{what}: column {_column(header, position)} is already chosen for {used[position]}", form_field
            )
        used[position] = what
        return position

    columns: dict[str, int] = {}
    for column in importer.layout_columns:
        position = choice.columns.get(column.name)
        if position is None:
            if column.required:
                raise LayoutError(f"{column.name}: choose the column that holds it", field_name(column.name))
            continue
        columns[column.name] = place(position, column.name, field_name(column.name))
    unknown = set(choice.columns) - known
    if unknown:
        raise LayoutError(f"{', '.join(sorted(unknown))}: not a column of this import", "name")

    comparators: list[dict[str, Any]] = []
    if choice.comparators and not importer.takes_comparators:
        raise LayoutError("This import has no comparator columns", "comparator_0")
    if len(choice.comparators) > MAX_COMPARATORS:
        raise LayoutError(f"At most {MAX_COMPARATORS} comparator columns", "comparator_0")
    names: set[str] = set()
    for n, (position, label) in enumerate(choice.comparators):
        label = " ".join((label or "").split())
        what = f"Comparator {n + 1}"
        if not label:
            raise LayoutError(f"{what}: name the comparator, e.g. England average", f"comparator_name_{n}")
        if len(label) > MAX_NAME or not label.isprintable():
            raise LayoutError(f"{what}: a name of at most {MAX_NAME} characters", f"comparator_name_{n}")
        if label.lower() in names:
            raise LayoutError(f"{what}: “{label}” is named twice", f"comparator_name_{n}")
        names.add(label.lower())
        comparators.append({"position": place(position, f"the comparator “{label}”", f"comparator_{n}"), "name": label})

    filters: list[dict[str, Any]] = []
    if len(choice.filters) > MAX_FILTERS:
        raise LayoutError(f"At most {MAX_FILTERS} filters", "filter_0")
    for n, (position, value) in enumerate(choice.filters):
        value = " ".join((value or "").split())
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < len(header):
            raise LayoutError("Rows to take: choose one of the file's columns", f"filter_{n}")
        if not value:
            raise LayoutError(f"Rows to take: the value {header[position]} must equal", f"filter_value_{n}")
        if len(value) > MAX_VALUE or not value.isprintable():
            raise LayoutError(f"Rows to take: a value of at most {MAX_VALUE} characters", f"filter_value_{n}")
        filters.append({"position": position, "value": value})

    key = header_key(header)
    layout = db.session.scalar(select(ImportLayout).filter_by(kind=importer.key, header_key=key))
    action = "update_layout" if layout is not None else "save_layout"
    if layout is None:
        layout = ImportLayout(kind=importer.key, header_key=key)
        db.session.add(layout)
    layout.name, layout.header, layout.columns = name, list(header), columns
    layout.comparators, layout.filters = comparators, filters
    layout.updated_by_id, layout.updated_at = getattr(user, "id", None), utcnow()
    db.session.flush()
    headed = ", ".join(h for h in header if h)
    audit.record(
        action,
        layout,
        user=user,
        summary=f"Saved the {importer.label.lower()} layout “{name}” for files headed {headed}"[:2000],
        after={"columns": columns, "comparators": comparators, "filters": filters},
    )
    return layout


def field_name(column_name: str) -> str:
    """The form field of an import column: "column_period_start" for "Period start"."""
    return "column_" + re.sub(r"[^a-z0-9]+", "_", column_name.lower()).strip("_")
