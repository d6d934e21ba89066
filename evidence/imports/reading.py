"""Opening an uploaded spreadsheet safely and reading it into rows.

Nothing here trusts the file name: a workbook must really be an Excel package
within safe limits (``evidence.library.office_files``, the check attachments pass too),
a CSV must really be text. Sizes are checked before any parsing (a small file
that unpacks to gigabytes is refused), and reading stops early on sheets padded
with endless empty rows.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import column_index_from_string

from evidence.imports.cells import NoSavedValue, PercentValue, is_blank
from evidence.jobs.progress import report as report_progress
from evidence.library import office_files
from evidence.library.office_files import PACKAGE_LIMITS, PackageLimits

FORMATS = ("xlsx", "csv")
HeaderTest = Callable[[list[Any]], bool]
RowTest = Callable[[list[Any]], bool]
# Given the header row found (and its number), which data rows to keep (None: all of them): a saved layout's
# filter. It may refuse the file there and then, before any data row is read.
KeepFor = Callable[[list[str], int], RowTest | None]
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportRefused(ValueError):
    """The file cannot be imported at all; the message says why in plain words."""


class NeedsLayout(ImportRefused):
    """The file's header is not the template's and no saved layout is for it: the quality lead says which
    column is which (``evidence.imports.layouts``), and the file is read again with that."""


class LayoutKeepsNothing(NeedsLayout):
    """The saved layout for the file's header keeps none of its rows: its filter is to be looked at again."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 1024 * 1024
    # A workbook's zip package (see evidence.library.office_files, which checks it).
    max_uncompressed_bytes: int = PACKAGE_LIMITS.max_uncompressed_bytes
    max_ratio: int = PACKAGE_LIMITS.max_ratio
    ratio_applies_above: int = PACKAGE_LIMITS.ratio_applies_above
    max_zip_members: int = PACKAGE_LIMITS.max_members
    max_data_rows: int = 5000
    max_empty_run: int = 1000  # consecutive empty rows after which the rest of a sheet is not read
    max_sheet_rows: int = 100_000  # rows read in all, empty or not
    max_columns: int = 60
    header_search_rows: int = 10

    @property
    def package(self) -> PackageLimits:
        return PackageLimits(
            max_uncompressed_bytes=self.max_uncompressed_bytes,
            max_ratio=self.max_ratio,
            ratio_applies_above=self.ratio_applies_above,
            max_members=self.max_zip_members,
        )


LIMITS = Limits()


@dataclass
class Table:
    """The header row and data rows of a sheet, numbered as the spreadsheet shows them."""

    format: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[Any]]]
    sheet_name: str | None = None
    notices: list[str] = field(default_factory=list)
    # Row number -> the formulas in that row (a workbook's), so that a totals row is known by its SUM.
    formulas: dict[int, list[str]] = field(default_factory=dict)
    dropped: int = 0  # data rows a filter passed over (``read_table``'s ``keep``)
    layout: Any = None  # the saved layout (``evidence.imports.layouts``) the file is read with, if any


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def file_format(filename: str) -> str:
    """The format a file name claims: "xlsx" or "csv"; anything else is refused."""
    name = (filename or "").strip().lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension in FORMATS:
        return extension
    if extension in ("xls", "xlsm", "xlsb", "ods"):
        raise ImportRefused(
            f"A .{extension} file cannot be imported. Open it in Excel and save it as an Excel workbook (.xlsx)."
        )
    raise ImportRefused("Only Excel workbooks (.xlsx) and CSV files (.csv) can be imported.")


def _looks_like_text(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still text
        return exc.start >= len(sample) - 3
    return True


def check_file(filename: str, data: bytes, limits: Limits = LIMITS) -> str:
    """Check that the content is what the name claims; returns the format."""
    fmt = file_format(filename)
    if not data:
        raise ImportRefused("The file is empty.")
    if len(data) > limits.max_file_bytes:
        raise ImportRefused(
            f"The file is {_megabytes(len(data))}; imports can be at most {_megabytes(limits.max_file_bytes)}."
        )
    if fmt == "xlsx":
        _check_workbook(data, limits)
    else:
        _decode_csv(data)
    return fmt


def _check_workbook(data: bytes, limits: Limits) -> None:
    if data.startswith(OLE2_MAGIC):
        raise ImportRefused(
            "This file is named .xlsx but is an old-style Excel 97-2003 file or a password-protected workbook. "
            "Remove any password and save it as an Excel workbook (.xlsx)."
        )
    if not data.startswith(b"PK") and _looks_like_text(data):
        raise ImportRefused(
            "This file is named .xlsx but holds plain text, not an Excel workbook. "
            "If it is a CSV file, name it .csv and upload it again."
        )
    try:
        office_files.check(data, "xlsx", limits.package)
    except office_files.NotAnOfficeFile as exc:
        raise ImportRefused(str(exc)) from None


def _decode_csv(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04") or data.startswith(OLE2_MAGIC):
        raise ImportRefused(
            "This file is named .csv but is an Excel workbook. Name it .xlsx, or save it from Excel as CSV UTF-8."
        )
    if b"\x00" in data:
        raise ImportRefused("This file is named .csv but is not a text file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(
            "This CSV file is not UTF-8 text. In Excel choose File > Save As > “CSV UTF-8 (Comma delimited)” "
            "and upload that file."
        ) from None


# --- Reading rows ----------------------------------------------------------------------------------------------


def read_table(
    data: bytes,
    fmt: str,
    limits: Limits = LIMITS,
    header_test: HeaderTest | None = None,
    sheet: str | None = None,
    keep: KeepFor | None = None,
    sample: int | None = None,
) -> Table:
    """Read one sheet (or the CSV file): its header row and its data rows.

    The sheet is the one named ``sheet`` (any case) when the workbook has it, else the first sheet; a workbook
    of several sheets without one of that name is refused, naming its sheets.

    The header row is the first row, among the first few, that ``header_test`` accepts (for example, one with
    at least two known headings), so that a title above the table is passed over; failing that, the first row
    as wide as a table's header (notes and merged titles above it fill one cell or two).

    ``keep``, given the header, says which data rows to keep: the others are counted in ``Table.dropped`` and do
    not count towards the row limit. ``sample`` stops reading after that many rows (for showing a file's columns).
    """
    holder = _SheetName()
    if fmt == "xlsx":
        _check_workbook(data, limits)
        rows = _workbook_rows(data, limits, holder, sheet)
    else:
        rows = _csv_rows(_decode_csv(data), limits)
    try:
        table = _collect(fmt, rows, limits, header_test, keep, sample)
    finally:
        rows.close()  # closes the workbook even when reading stopped early
    if fmt == "xlsx":
        table.sheet_name = holder.value
        table.notices[:0] = holder.notices + holder.hidden_notice()
        table.formulas = holder.formulas
    return table


class _SheetName:
    """What reading a workbook learnt beside its rows: the sheet read, its hidden rows and its formulas."""

    def __init__(self) -> None:
        self.value: str | None = None
        self.notices: list[str] = []
        self.hidden_rows: list[int] = []
        self.formulas: dict[int, list[str]] = {}

    def hidden_notice(self) -> list[str]:
        if not self.hidden_rows:
            return []
        rows = self.hidden_rows
        shown = ", ".join(map(str, rows[:20])) + (f" and {len(rows) - 20:,} more" if len(rows) > 20 else "")
        many = len(rows) > 1
        return [
            f"Row{'s' if many else ''} {shown} {'are' if many else 'is'} hidden in the workbook and "
            f"{'were' if many else 'was'} not read. Unhide {'them' if many else 'it'} in Excel if "
            f"{'they' if many else 'it'} should be imported."
        ]


def _sheet_key(name: str) -> str:
    return " ".join(str(name).lower().split())


def _choose_sheet(workbook, wanted: str | None, holder: _SheetName | None):
    """The visible sheet named ``wanted`` when there is one, else the first visible sheet (the only one, when a
    name was wanted). Hidden sheets are never read: they hold lookups and workings, not the table."""
    hidden = [s for s in workbook.worksheets if getattr(s, "sheet_state", "visible") != "visible"]
    sheets = [s for s in workbook.worksheets if s not in hidden] or workbook.worksheets
    if hidden and holder is not None and len(sheets) < len(workbook.worksheets):
        names = ", ".join(f"“{s.title}”" for s in hidden)
        holder.notices.append(
            f"The hidden sheet{'s' if len(hidden) > 1 else ''} {names} {'were' if len(hidden) > 1 else 'was'} not read."
        )
    if not wanted:
        return sheets[0]
    found = next((s for s in sheets if _sheet_key(s.title) == _sheet_key(wanted)), None)
    if found is None and len(sheets) == 1:
        return sheets[0]
    if found is None:
        names = ", ".join(f"“{s.title}”" for s in sheets)
        raise ImportRefused(
            f"The workbook has no sheet named “{wanted}”, so it is not clear which sheet to read. "
            f"Its sheets are {names}. Upload the workbook as it was exported, or name the sheet “{wanted}”."
        )
    if len(sheets) > 1 and holder is not None:
        holder.notices.append(f"Only the sheet “{found.title}” was read; the workbook's other sheets were not.")
    return found


def _workbook_rows(data: bytes, limits: Limits, holder: _SheetName | None = None, wanted: str | None = None):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on a damaged file
        raise ImportRefused("The workbook could not be opened. Open it in Excel, save it again and retry.") from None
    try:
        if not workbook.worksheets:
            raise ImportRefused("The workbook has no worksheet.")
        sheet = _choose_sheet(workbook, wanted, holder)
        if holder is not None:
            holder.value = sheet.title
        hidden_rows, formulas = _sheet_facts(workbook, sheet, limits)
        # The stored dimensions are only a hint (often wrong); read what is really there.
        sheet.reset_dimensions()
        try:
            for number, cells in enumerate(sheet.iter_rows(min_row=1, max_col=limits.max_columns), start=1):
                if number in hidden_rows:
                    if holder is not None and any(not is_blank(c.value) for c in cells):
                        holder.hidden_rows.append(number)
                    continue
                values = [_cell_value(cell) for cell in cells]
                for column, formula in formulas.get(number, {}).items():
                    if column < len(values):
                        if holder is not None:
                            holder.formulas.setdefault(number, []).append(formula)
                        if values[column] is None:
                            values[column] = NoSavedValue(formula)
                yield number, values
        except ImportRefused:
            raise
        except Exception:
            raise ImportRefused(f"The sheet “{sheet.title}” of the workbook is damaged and cannot be read.") from None
    finally:
        workbook.close()


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REFERENCE = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_facts(workbook, sheet, limits: Limits) -> tuple[set[int], dict[int, dict[int, str]]]:
    """The sheet's hidden rows, and its formulas by row and column (from 0), read from the sheet's XML: openpyxl
    gives a workbook's saved values or its formulas, not both, and no rows' visibility in read-only mode.

    Most files have neither, and a quick look at the bytes says so without parsing anything.
    """
    archive, path = getattr(workbook, "_archive", None), getattr(sheet, "_worksheet_path", None)
    if archive is None or path is None:
        return set(), {}
    with archive.open(path) as part:
        xml = part.read(limits.max_uncompressed_bytes + 1)
    if b"hidden=" not in xml and not _FORMULA.search(xml):
        return set(), {}
    hidden: set[int] = set()
    formulas: dict[int, dict[int, str]] = {}
    try:
        for _, element in ElementTree.iterparse(io.BytesIO(xml), events=("end",)):
            tag = _local(element.tag)
            if tag == "c":
                formula = next((child for child in element if _local(child.tag) == "f"), None)
                match = _CELL_REFERENCE.match(element.get("r") or "")
                if formula is not None and match:
                    column = column_index_from_string(match.group(1)) - 1
                    if column < limits.max_columns:
                        formulas.setdefault(int(match.group(2)), {})[column] = "=" + (formula.text or "").strip()
                element.clear()
            elif tag == "row":
                if element.get("hidden") in ("1", "true") and (element.get("r") or "").isdigit():
                    hidden.add(int(element.get("r")))
                element.clear()
    except ElementTree.ParseError:
        raise ImportRefused(f"The sheet “{sheet.title}” of the workbook is damaged and cannot be read.") from None
    return hidden, formulas


def _cell_value(cell) -> Any:
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        number_format = getattr(cell, "number_format", None) or ""
        if "%" in number_format:
            try:
                return PercentValue(value)
            except OverflowError:  # a number no float holds: the column's range check names it
                return value
    return value


def _csv_rows(text: str, limits: Limits):
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count) if first_line else ","
    if first_line.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record[: limits.max_columns]
    except csv.Error as exc:
        raise ImportRefused(f"The CSV file cannot be read near row {reader.line_num}: {exc}.") from None


class _Collector:
    """Finds the header row, then gathers data rows within the limits."""

    def __init__(
        self, limits: Limits, header_test: HeaderTest | None, keep: KeepFor | None = None, sample: int | None = None
    ):
        self.limits = limits
        self.header_test = header_test
        self.keep_for, self.keep, self.sample, self.dropped = keep, None, sample, 0
        self.header: list[str] | None = None
        self.header_row = 0
        self.rows: list[tuple[int, list[Any]]] = []
        self.notices: list[str] = []
        self.empty_run = 0
        self.stray_columns = False
        self.waiting: list[tuple[int, list[Any]]] = []  # rows read before the header was settled

    def take(self, number: int, values: list[Any]) -> bool:
        """Take one row; False when reading should stop."""
        if number > self.limits.max_sheet_rows:
            raise ImportRefused(
                f"The sheet runs past row {self.limits.max_sheet_rows:,}, which is more than an import can read. "
                "Delete the rows you do not need, or split the file."
            )
        if self.header is not None:
            return self._data(number, values)
        blank = all(is_blank(v) for v in values)
        if not blank and (self.header_test is None or self.header_test(values)):
            self._set_header(number, values)
            return True
        if not blank:
            self.waiting.append((number, values))
        if number >= self.limits.header_search_rows:
            return self.settle()
        return True

    def settle(self) -> bool:
        """No row looked like the header: take the first row with anything in it, and read on from there."""
        if self.header is not None or not self.waiting:
            return self.header is not None
        widths = [sum(1 for v in values if not is_blank(v)) for _, values in self.waiting]
        chosen = next((i for i, w in enumerate(widths) if w >= 2 and 2 * w >= max(widths)), 0)
        (number, values), rest = self.waiting[chosen], self.waiting[chosen + 1 :]
        self.waiting = []
        self._set_header(number, values)
        return all(self._data(n, v) for n, v in rest)

    def _set_header(self, number: int, values: list[Any]) -> None:
        self.header, self.header_row, self.waiting = _header(values), number, []
        if self.keep_for is not None:
            self.keep = self.keep_for(self.header, number)

    def _data(self, number: int, values: list[Any]) -> bool:
        limits, header = self.limits, self.header
        if all(is_blank(v) for v in values):
            self.empty_run += 1
            if self.empty_run >= limits.max_empty_run:
                self.notices.append(
                    f"Reading stopped at row {number}: after {limits.max_empty_run:,} empty rows in a row the rest "
                    "of the sheet is treated as empty. Anything further down was not read."
                )
                return False
            return True
        self.empty_run = 0
        if self.keep is not None and not self.keep(values):
            self.dropped += 1
            return True
        if self.sample is not None and len(self.rows) >= self.sample:
            return False
        if len(self.rows) >= limits.max_data_rows:
            kept = " kept by the layout's filter" if self.keep is not None else ""
            raise ImportRefused(
                f"The file has more than {limits.max_data_rows:,} rows of data{kept}. Split it into smaller files."
            )
        if any(not is_blank(v) for v in values[len(header) :]):
            self.stray_columns = True
        self.rows.append((number, list(values[: len(header)]) + [None] * (len(header) - len(values))))
        return True


def _collect(
    fmt: str,
    rows,
    limits: Limits,
    header_test: HeaderTest | None = None,
    keep: KeepFor | None = None,
    sample: int | None = None,
) -> Table:
    collector = _Collector(limits, header_test, keep, sample)
    for number, values in rows:
        report_progress(number)  # the rows read so far, when the import runs as a job
        if not collector.take(number, values):
            break
    else:
        collector.settle()
    if collector.header is None:
        raise ImportRefused(
            f"No header row was found: the first {limits.header_search_rows} rows of the sheet are empty."
        )
    if collector.stray_columns:
        collector.notices.append("Some rows have values in columns without a heading; those values were ignored.")
    return Table(
        format=fmt,
        header=collector.header,
        header_row=collector.header_row,
        rows=collector.rows,
        notices=collector.notices,
        dropped=collector.dropped,
    )


def _header(values: list[Any]) -> list[str]:
    header = [("" if is_blank(v) else " ".join(str(v).split())) for v in values]
    while header and not header[-1]:
        header.pop()
    return header


_DIMENSION = re.compile(rb'<dimension\s+ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
_ROW = b"<row "


def rows_in(data: bytes, fmt: str) -> int:
    """About how many rows a file holds, without reading its cells: a CSV's lines, or the largest sheet's last
    row as the sheet declares it (``<dimension ref="A1:K60001"/>``), else its ``<row>`` elements counted.
    Reading time follows the rows in the file, kept or not, so this is what decides a job."""
    if fmt != "xlsx":
        return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    most = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    most = max(most, _sheet_rows(archive, info))
    except (zipfile.BadZipFile, OSError):
        return 0
    return most


def _sheet_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    with archive.open(info) as handle:
        head = handle.read(4096)
        found = _DIMENSION.search(head)
        if found:
            return int(found.group(1) or 1)
        count, tail = head.count(_ROW), head[-len(_ROW) :]
        while chunk := handle.read(1 << 20):
            count += (tail + chunk).count(_ROW) - tail.count(_ROW)
            tail = chunk[-len(_ROW) :]
        return count
