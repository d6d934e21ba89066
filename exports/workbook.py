"""The Excel workbook of a round: summary, statements, evidence register, metrics, quotes, actions, gaps.

``build_workbook(view, generated_at)`` takes a ``RoundView`` and returns the
bytes of an .xlsx file. It reads nothing else: no database, no Flask.

* openpyxl builds the package: sheets, column widths, frozen and filtered
  header rows, page set-up, styles, document properties and the native line
  charts of the metrics.
* The rows are streamed as worksheet XML by ``_Sheet`` (a few string
  operations per cell, sharing a handful of styles registered with openpyxl
  once) into a spooled temporary file per sheet, and put in place of each
  sheet's empty ``<sheetData>`` when the package is zipped. A portfolio of tens
  of thousands of items costs little more than writing the file, and its rows
  never sit in memory whole. (XlsxWriter, which writes rows itself, took five
  times as long as this for the 20,000-item benchmark portfolio.)
* It prints: a row with wrapped text is as tall as its lines (estimated from
  the column widths, ``row_lines``); each sheet is fitted to the page width
  only where that keeps its text readable (``PageLayout``), else it runs over
  pages left to right with its first columns repeated; every page repeats the
  header row and carries the council, the round, the sheet and "Page N of M".
* Safe: every value becomes a cell in one place (``_Sheet._cell``). Text is
  always an inline string, never a formula; text that a spreadsheet would take
  for a formula (``exports.text.looks_like_formula``) also carries Excel's
  quote-prefix flag, so it stays text even when the cell is edited.
* Reproducible: the document properties and every zip entry carry one fixed
  time (the sign-off of a signed-off round, else ``generated_at``) and the
  entries are stored in sorted order, so a signed-off round exports to the same
  bytes every time.
"""

from __future__ import annotations

import math
import re
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import date, datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.chart import LineChart, Reference, Series
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabel, DataLabelList
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.text import CharacterProperties, ParagraphProperties
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.constants import CHART_NS
from openpyxl.xml.functions import Element, tostring

from evidence.assessment.peer import difference_text
from evidence.assessment.round_view import ItemView, RoundView
from evidence.library.metrics import side_by_side
from evidence.vocab import ActionStatus, Direction, Kind, QuoteTone, Stance, Voice
from exports import palette
from exports.text import looks_like_formula, sheet_text, vocab_label
from exports.zipping import deterministic_zip, fixed_time
from quality_statements import scoring

SHEET_NAMES = ("Summary", "Quality statements", "Evidence register", "Metrics", "Quotes", "Actions", "Gaps")
DATE_FORMAT = "d mmm yyyy"  # 28 Feb 2027
PERCENT_FORMAT = "0%"
CHART_COLUMN = 12  # charts sit to the right of the metrics table, from column L
CHART_ROWS = 17  # rows between the tops of two charts
EXCEL_EPOCH = date(1899, 12, 30)
_EMPTY_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")
_DIMENSION = re.compile(rb"<dimension ref=\"[^\"]*\"\s*/>")
ROWS_PER_CHUNK = 500
SPOOL_BYTES = 4 * 1024 * 1024  # a sheet's rows stay in memory up to this size, then go to a temporary file
READ_BYTES = 1024 * 1024
MEMO_ENTRIES = 20_000  # texts remembered per sheet (a row repeats its item's text); then forgotten


def build_workbook(view: RoundView, generated_at: datetime) -> bytes:
    """The round as an .xlsx workbook (bytes)."""
    stamp = fixed_time(view.signed_off_at, generated_at)
    book = _Book(view)
    try:
        _summary(book, view, stamp)
        _statements(book, view)
        _register(book, view)
        _metrics(book, view)
        _quotes(book, view)
        _actions(book, view)
        _gaps(book, view)
        return book.save(view, stamp)
    finally:
        book.close()


# --- Styles ----------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """How a cell looks; each distinct look is registered with the workbook once."""

    bold: bool = False
    italic: bool = False
    size: float | None = None
    colour: str | None = None
    fill: str | None = None
    wrap: bool = False
    horizontal: str | None = None
    vertical: str = "top"
    number_format: str | None = None
    quote: bool = False


TEXT = Look()
WRAP = Look(wrap=True)
DATE = Look(number_format=DATE_FORMAT, horizontal="left")
NUMBER = Look(horizontal="right")
CENTRE = Look(horizontal="center")
HEADER = Look(bold=True, colour="FFFFFF", fill=palette.BRAND, wrap=True, vertical="center")


def score_look(score: int | None, **changes) -> Look:
    colours = palette.score_colours(score)
    return Look(bold=True, colour=colours.text, fill=colours.background, **changes)


def band_look(band: str | None, **changes) -> Look:
    colours = palette.band_colours(band)
    return Look(bold=True, colour=colours.text, fill=colours.background, **changes)


# --- Row heights -------------------------------------------------------------------

FONT_SIZE = 11  # Calibri 11, the workbook's font
LINE_POINTS = 15.0  # one line of it: Excel's default row height
MAX_ROW_POINTS = 409.0  # the tallest row Excel allows
# Characters of running text per unit of column width (a unit is the width of a digit; text averages
# narrower, less what word wrapping leaves at line ends). On the low side, so rows err on tall.
CHARACTERS_PER_UNIT = 1.1
BOLD_CHARACTERS_PER_UNIT = 1.0
WORD_WRAP_LOSS = 2  # characters a line loses, on average, to a word that does not fit at its end


def row_lines(text: str, width: float, *, bold: bool = False, size: float = FONT_SIZE) -> int:
    """About how many lines ``text`` wraps to in a column ``width`` wide."""
    per_unit = BOLD_CHARACTERS_PER_UNIT if bold else CHARACTERS_PER_UNIT
    per_line = max(1, int((width - 1) * per_unit * FONT_SIZE / size) - WORD_WRAP_LOSS)
    if "\n" not in text:
        return max(1, -(-len(text) // per_line))
    return sum(max(1, -(-len(line) // per_line)) for line in text.split("\n"))


def row_points(lines: float) -> float:
    """The height of a row holding ``lines`` lines of the default font, capped at Excel's largest."""
    return min(MAX_ROW_POINTS, math.ceil(lines * LINE_POINTS * 4) / 4)


# --- Page set-up -------------------------------------------------------------------

A4_LANDSCAPE_POINTS = 842
MARGIN_INCHES = 0.4  # left and right
READABLE_SCALE = 0.7  # fitting a sheet to the page width never shrinks its text below this
PAGE_FILL = 0.98  # how much of a page's width the column groups of a wide sheet may take


@dataclass(frozen=True)
class PageLayout:
    """How a sheet prints: fitted to one page wide, or over several pages with columns repeated."""

    fit_to_width: bool
    scale: float  # the scale fitting one page wide would need (1.0 when it fits as it is)
    title_columns: int  # columns repeated on every page (0 when fitted)
    breaks: tuple[int, ...]  # columns after which a new page starts (empty when fitted)


POINTS_PER_WIDTH_UNIT = 5.625  # 7.5 pixels of ¾ point: how LibreOffice prints a unit of Calibri 11 (Excel, less)


def column_points(width: float) -> float:
    """A column's printed width at 100%."""
    return width * POINTS_PER_WIDTH_UNIT


def page_layout(widths: Sequence[float], title_columns: int = 1) -> PageLayout:
    """Fit to the page width when that keeps the scale readable; else page breaks between columns,
    packed so that each page (with the repeated ``title_columns``) holds as many whole columns as fit."""
    printable = A4_LANDSCAPE_POINTS - 2 * 72 * MARGIN_INCHES
    total = sum(column_points(w) for w in widths)
    scale = min(1.0, printable / total) if total else 1.0
    if scale >= READABLE_SCALE:
        return PageLayout(True, scale, 0, ())
    titles = sum(column_points(w) for w in widths[:title_columns])
    room = printable * PAGE_FILL - titles
    breaks, used = [], 0.0
    for index in range(title_columns, len(widths)):
        width = column_points(widths[index])
        if used and used + width > room:
            breaks.append(index)  # a break after the column numbered ``index`` (1-based): before this one
            used = 0.0
        used += width
    return PageLayout(False, scale, title_columns, tuple(breaks))


HEADER_CHARACTERS = 100  # each of the two header parts; Excel allows 255 for a header with its codes


def _header_footer_text(text: str, limit: int = HEADER_CHARACTERS) -> str:
    """User text for a page header: '&' starts a code there, so it is doubled; kept short."""
    text = " ".join(sheet_text(text).split())
    escaped = text.replace("&", "&&")
    if len(escaped) <= limit:
        return escaped
    kept, length = [], 1  # room for the ellipsis
    for character in text:
        length += 2 if character == "&" else 1
        if length > limit:
            break
        kept.append(character)
    return "".join(kept).replace("&", "&&") + "…"


# --- The workbook ----------------------------------------------------------------


class _Book:
    """The openpyxl workbook, the looks registered with it, and the sheets."""

    def __init__(self, view: RoundView):
        self.view = view
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.sheets: list[_Sheet] = []
        self._ids: dict[Look, int] = {}
        self._quoted: dict[int, int] = {}
        # The looks that can make a row taller: wrapped text (bold, size) and a larger font (lines).
        self.wrapping: dict[int, tuple[bool, float]] = {}
        self.tall: dict[int, float] = {}
        self._probe = Worksheet(self.wb, "probe")  # never added to the workbook
        self.files = ExitStack()  # each sheet's spooled rows

    def style_id(self, look: Look) -> int:
        """The index of the look among the workbook's cell formats, registering it the first time."""
        found = self._ids.get(look)
        if found is None:
            found = self._ids[look] = self._register(look)
            size = look.size or FONT_SIZE
            if look.wrap:
                self.wrapping[found] = (look.bold, size)
            if size > FONT_SIZE:
                self.tall[found] = size / FONT_SIZE
            if look.quote:
                self._quoted[found] = found
            else:
                self._quoted[found] = self.style_id(replace(look, quote=True))
        return found

    def quoted(self, style_id: int) -> int:
        """The same look with Excel's quote prefix: the cell shows text and never evaluates it."""
        return self._quoted[style_id]

    def _register(self, look: Look) -> int:
        cell = Cell(self._probe, row=1, column=1)
        cell.font = Font(
            name="Calibri", size=look.size or 11, bold=look.bold, italic=look.italic, color=look.colour or palette.INK
        )
        if look.fill:
            cell.fill = PatternFill("solid", fgColor=look.fill)
        cell.alignment = Alignment(wrap_text=look.wrap, horizontal=look.horizontal, vertical=look.vertical)
        if look.number_format:
            cell.number_format = look.number_format
        if look.quote:
            cell.quotePrefix = True
        return cell.style_id

    def save(self, view: RoundView, stamp: datetime) -> bytes:
        """openpyxl writes the package; the rows go in place of each empty sheetData; then a reproducible zip."""
        properties = self.wb.properties
        properties.creator = "Assure"
        properties.lastModifiedBy = "Assure"
        properties.title = sheet_text(f"{view.name}: self-assessment")
        properties.subject = "CQC local authority assessment: self-assessment workbook"
        buffer = BytesIO()
        self.wb.save(buffer)
        properties.created = stamp
        properties.modified = stamp  # openpyxl stamps the save time; the pack carries its fixed time
        replacements = {"docProps/core.xml": tostring(properties.to_tree())}
        with zipfile.ZipFile(BytesIO(buffer.getvalue())) as archive:
            for position, sheet in enumerate(self.sheets, start=1):
                name = f"xl/worksheets/sheet{position}.xml"
                replacements[name] = sheet.xml_chunks(archive.read(name))
                for chart in sheet.charts:
                    replacements[chart.path[1:]] = chart.xml
            entries = [(name, replacements.get(name) or archive.read(name)) for name in archive.namelist()]
        return deterministic_zip(entries, stamp)

    def close(self) -> None:
        self.files.close()


# --- Sheets ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    look: Look = TEXT


def _xml_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


def _serial(value: date | datetime) -> float | int:
    """Excel's serial number of a date (days since 30 December 1899), with the time as a fraction."""
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    return (value - EXCEL_EPOCH).days


class _Sheet:
    """One worksheet. openpyxl holds its settings; its rows are written here as XML, row by row."""

    def __init__(self, book: _Book, title: str, widths: Sequence[float], *, title_columns: int = 1):
        self.book = book
        self.ws = book.wb.create_sheet(title)
        book.sheets.append(self)
        self.charts: list[_RenderedChart] = []
        self._pending: list[str] = []
        self._texts: dict[str, tuple[str, bool]] = {}
        self._line_memo: dict[tuple, float] = {}
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the book's ExitStack closes it)
        self._spool = book.files.enter_context(spool)
        self.row_count = 0
        self.widths = list(widths)
        self.column_count = len(widths)
        self.letters = [get_column_letter(i) for i in range(1, len(widths) + 1)]
        for letter, width in zip(self.letters, widths, strict=True):
            self.ws.column_dimensions[letter].width = width
        self.layout = page_layout(widths, title_columns)
        self._page_setup(book.view)

    def _page_setup(self, view: RoundView) -> None:
        ws = self.ws
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_margins = PageMargins(left=MARGIN_INCHES, right=MARGIN_INCHES, top=0.75, bottom=0.75)
        if self.layout.fit_to_width:
            ws.sheet_properties.pageSetUpPr.fitToPage = True
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 0
        else:  # wider than a readable page: over several pages, left to right, the first columns on each
            ws.page_setup.pageOrder = "overThenDown"
            ws.print_title_cols = f"A:{self.letters[self.layout.title_columns - 1]}"
            for column in self.layout.breaks:
                ws.col_breaks.append(Break(id=column, max=1_048_575, man=True))
        ws.print_title_rows = "1:1"
        header, footer = ws.oddHeader, ws.oddFooter
        header.left.text = _header_footer_text(view.authority or "The local authority")
        header.right.text = _header_footer_text(view.name)
        footer.left.text = "&A"  # the sheet's name
        footer.right.text = "Page &P of &N"
        for part in (header.left, header.right, footer.left, footer.right):
            part.size = 9
        ws.HeaderFooter.scaleWithDoc = False  # a sheet fitted to the page keeps its header and footer at 9 pt

    def append(self, values: Sequence[object], style_ids: Sequence[int]) -> None:
        number = self.row_count + 1
        cells = []
        lines = 1.0  # the row's height, in lines of the default font
        wrapping, tall = self.book.wrapping, self.book.tall
        for letter, width, value, style_id in zip(self.letters, self.widths, values, style_ids, strict=False):
            if value is None or value == "":
                continue
            cells.append(self._cell(f"{letter}{number}", value, style_id))
            if style_id in tall:
                lines = max(lines, tall[style_id])
            if value.__class__ is str and style_id in wrapping and (len(value) >= width - 3 or "\n" in value):
                lines = max(lines, self._lines(value, width, *wrapping[style_id]))
        height = f' ht="{row_points(lines)}" customHeight="1"' if lines > 1 else ""
        self._pending.append(f'<row r="{number}"{height}>{"".join(cells)}</row>')
        self.row_count = number
        if len(self._pending) >= ROWS_PER_CHUNK:
            self._flush()

    def _lines(self, text: str, width: float, bold: bool, size: float) -> float:
        """The lines of the default font that wrapped text needs (remembered: rows repeat their item's text)."""
        key = (text, width, bold, size)
        found = self._line_memo.get(key)
        if found is None:
            if len(self._line_memo) >= MEMO_ENTRIES:
                self._line_memo.clear()
            found = self._line_memo[key] = row_lines(text, width, bold=bold, size=size) * size / FONT_SIZE
        return found

    def append_looks(self, values: Sequence[object], looks: Sequence[Look]) -> None:
        self.append(values, [self.book.style_id(look) for look in looks])

    def _cell(self, ref: str, value: object, style_id: int) -> str:
        """The one way a value becomes a cell. Text is always a string, never a formula."""
        if value.__class__ is not str:
            if isinstance(value, bool):
                return self._cell(ref, "Yes" if value else "No", style_id)
            if isinstance(value, date):
                if value.year < 1900:  # Excel has no such date (one stored before dates were checked): its text
                    return self._cell(ref, value.isoformat(), style_id)
                return f'<c r="{ref}" s="{style_id}"><v>{_serial(value)}</v></c>'
            if isinstance(value, int | float):
                return f'<c r="{ref}" s="{style_id}"><v>{value!r}</v></c>' if math.isfinite(value) else ""
            return self._cell(ref, str(value), style_id)  # a str subclass or anything else: its text
        found = self._texts.get(value)  # a register or metric row repeats its item's text for each row
        if found is None:
            if len(self._texts) >= MEMO_ENTRIES:
                self._texts.clear()
            text = sheet_text(value)
            found = self._texts[value] = (_xml_text(text), looks_like_formula(text))
        text, formula = found
        if formula:
            style_id = self.book.quoted(style_id)
        return f'<c r="{ref}" s="{style_id}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'

    def _flush(self) -> None:
        if self._pending:
            self._spool.write("".join(self._pending).encode("utf-8"))
            self._pending = []

    def xml_chunks(self, sheet_xml: bytes) -> Iterator[bytes]:
        """The sheet's XML with the rows in place of the empty sheetData that openpyxl wrote,
        in chunks, so that the zip can stream them."""
        empty = _EMPTY_SHEET_DATA.search(sheet_xml)
        if empty is None:
            raise RuntimeError(f"no empty sheetData in the sheet {self.ws.title!r}")
        self._flush()
        last = f"{get_column_letter(max(self.column_count, 1))}{max(self.row_count, 1)}"
        yield _DIMENSION.sub(f'<dimension ref="A1:{last}"/>'.encode(), sheet_xml[: empty.start()], count=1)
        yield b"<sheetData>"
        self._spool.seek(0)
        while chunk := self._spool.read(READ_BYTES):
            yield chunk
        yield b"</sheetData>" + sheet_xml[empty.end() :]


class _Table(_Sheet):
    """A sheet that is one table: a frozen, filtered header row repeated on every printed page."""

    def __init__(self, book: _Book, title: str, columns: Sequence[Column], *, title_columns: int = 1):
        super().__init__(book, title, [c.width for c in columns], title_columns=title_columns)
        self.columns = columns
        self.column_ids = [book.style_id(c.look) for c in columns]
        self.ws.freeze_panes = "A2"
        self.append_looks([c.header for c in columns], [HEADER] * len(columns))

    def row(self, values: Sequence[object], overrides: dict[int, Look] | None = None) -> None:
        style_ids = self.column_ids
        if overrides:
            style_ids = list(style_ids)
            for index, look in overrides.items():
                style_ids[index] = self.book.style_id(look)
        self.append(values, style_ids)

    def empty(self, message: str) -> None:
        self.row([message], {0: Look(italic=True, colour=palette.MUTED)})

    def finish(self) -> None:
        self.ws.auto_filter.ref = f"A1:{self.letters[-1]}{max(self.row_count, 2)}"
        # The table is what prints; the charts beside the metrics are for the screen (at a readable
        # scale they would not fit beside the table, and they would be cut across page breaks).
        self.ws.print_area = f"A1:{self.letters[-1]}{max(self.row_count, 1)}"


def _mappings_by_item(view: RoundView) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for mapping in view.mappings:
        grouped[mapping.item_id].append(mapping)
    return grouped


def _items(view: RoundView) -> list[ItemView]:
    return sorted(view.items.values(), key=lambda item: item.id)


# --- Summary ---------------------------------------------------------------------


_Rows = list[tuple[Sequence[object], Sequence[Look | None]]]
_SUMMARY_LABEL = Look(bold=True, colour=palette.MUTED)
_BLANK: tuple[Sequence[object], Sequence[Look | None]] = ((), ())


def _summary(book: _Book, view: RoundView, stamp: datetime) -> None:
    sheet = _Sheet(book, "Summary", [46, 44, 24, 44, *([14, 24] if view.has_peer else [])])
    rollup = view.rollup()
    rows = [
        *_summary_facts(view, stamp),
        _BLANK,
        *_overall_rows(rollup.overall),
        _BLANK,
        *_theme_rows(view, rollup),
        _BLANK,
        *_score_rows(view),
    ]
    for values, row_looks in rows:
        sheet.append_looks(values, row_looks)


def _summary_facts(view: RoundView, stamp: datetime) -> _Rows:
    """The round's name, authority, status, date and framework version."""
    if view.signed_off:
        status = f"Signed off on {stamp:%-d %B %Y}" + (f" by {view.signed_off_by}" if view.signed_off_by else "")
    else:
        status = "Open: a working draft, not signed off"
    label = _SUMMARY_LABEL
    return [
        ((f"{view.name}: summary",), (Look(bold=True, size=16, colour=palette.BRAND),)),
        (("Authority", view.authority), (label, WRAP)),
        (("Round", view.name), (label, WRAP)),
        (("Status", status), (label, WRAP)),
        (("Date", stamp.date()), (label, DATE)),
        (("Framework version", view.framework_version), (label, WRAP)),
    ]


def _overall_rows(overall: scoring.RollUp) -> _Rows:
    """The overall rating (or how many statements keep it incomplete) and how it is worked out."""
    heading = Look(bold=True, size=13, colour=palette.BRAND)
    if overall.complete:
        rating = (
            ("Overall rating", overall.percent / 100, overall.band),
            (
                heading,
                band_look(overall.band, number_format=PERCENT_FORMAT, horizontal="center"),
                band_look(overall.band),
            ),
        )
    else:
        rating = (
            ("Overall rating", "Incomplete", f"{len(overall.missing)} of {overall.maximum // 4} not scored"),
            (heading, band_look(None), band_look(None, wrap=True)),
        )
    how = (
        f"The overall percentage is the sum of the {overall.maximum // 4} statement scores over "
        f"{overall.maximum}, rounded half up: 25–38% Inadequate · 39–62% Requires improvement · "
        "63–87% Good · 88–100% Outstanding. Theme percentages are indicative only: CQC publishes "
        "statement scores and the overall rating."
    )
    return [rating, ((how,), (Look(italic=True, colour=palette.MUTED, wrap=True),))]


def _theme_rows(view: RoundView, rollup: scoring.FrameworkRollUp) -> _Rows:
    """Each theme's indicative percentage and band, and the points behind it."""
    rows: _Rows = [(("Theme", "Indicative percentage", "Indicative band", "Points"), (HEADER,) * 4)]
    for theme_key, theme_name in view.themes:
        result = rollup.themes[theme_key]
        points = f"{result.total} of {result.maximum} ({result.scored} of {result.maximum // 4} statements scored)"
        if result.complete:
            looks = (
                WRAP,
                band_look(result.band, number_format=PERCENT_FORMAT, horizontal="center"),
                band_look(result.band),
                WRAP,
            )
            rows.append(((theme_name, result.percent / 100, result.band, points), looks))
        else:
            rows.append(((theme_name, "Incomplete", "", points), (WRAP, band_look(None), band_look(None), WRAP)))
    return rows


def _score_rows(view: RoundView) -> _Rows:
    """Each statement's score and its label, in framework order; the peer rating beside it, if any."""
    peer_heads = ("Peer rating", "Peer rating against the council's") if view.has_peer else ()
    rows: _Rows = [(("Theme", "Quality statement", "Score", "Label", *peer_heads), (HEADER,) * (4 + len(peer_heads)))]
    for statement in view.statements:
        assessment = view.assessments.get(statement.key)
        score = assessment.score if assessment else None
        values = [statement.theme_name, statement.name, score if score else "Not scored", scoring.label_for(score)]
        looks = [WRAP, WRAP, score_look(score, horizontal="center"), score_look(score, wrap=True)]
        if view.has_peer:
            rating = view.peer_rating(statement.key)
            values += [rating or "Not rated", difference_text(score, rating)]
            looks += [score_look(rating, horizontal="center"), _difference_look(score, rating)]
        rows.append((tuple(values), tuple(looks)))
    return rows


def _difference_look(score: int | None, rating: int | None) -> Look:
    """The difference between the peers' rating and the council's score, highlighted when there is one."""
    if score and rating and score != rating:
        return Look(bold=True, colour=palette.DIFFERS_COLOURS.text, fill=palette.DIFFERS_COLOURS.background, wrap=True)
    return WRAP


# --- Quality statements ----------------------------------------------------------


def _statements(book: _Book, view: RoundView) -> None:
    # The peer challenge, when the round has one: the rating beside the score, the words at the end.
    peer_columns, peer_texts = [], []
    if view.has_peer:
        peer_columns = [Column("Peer rating", 8, CENTRE), Column("Peer rating against the council's", 16, WRAP)]
        peer_texts = [Column("Peer challenge", 60, WRAP), Column("The council's response", 60, WRAP)]
    columns = [
        # Printed over pages left to right, Theme and Quality statement on each; the widths make
        # pages of score and rationale, key findings, strengths and areas, category scores, the rest.
        Column("Theme", 16, WRAP),
        Column("Quality statement", 22, WRAP),
        Column("Score", 8, CENTRE),
        Column("Label", 18, WRAP),
        *peer_columns,
        Column("Rationale", 70, WRAP),
        Column("Key findings", 96, WRAP),
        Column("Strengths", 48, WRAP),
        Column("Areas for improvement", 48, WRAP),
        *[Column(f"{name} (score)", 11, CENTRE) for _, name in view.categories],
        Column("Suggested from categories", 11, CENTRE),
        Column("Why the score departs from the suggestion", 41, WRAP),
        Column("Evidence cited", 22, WRAP),
        *[Column(f"{name} (items)", 11, NUMBER) for _, name in view.categories],
        *peer_texts,
    ]
    table = _Table(book, "Quality statements", columns, title_columns=2)
    summary = view.summary()
    first_category = 8 + len(peer_columns)
    for statement in view.statements:
        assessment = view.assessments.get(statement.key)
        score = assessment.score if assessment else None
        category_scores = assessment.category_scores if assessment else {}
        suggested = assessment.suggested_score if assessment else None
        counts = [summary[(statement.key, c_key)].total for c_key, _ in view.categories]
        overrides = {2: score_look(score, horizontal="center"), 3: score_look(score, wrap=True)}
        peer_values, peer_words = [], []
        if view.has_peer:
            review = view.peer_reviews.get(statement.key)
            rating = review.rating if review else None
            peer_values = [rating or "Not rated", difference_text(score, rating)]
            peer_words = [review.challenge if review else "", review.response if review else ""]
            overrides[4] = score_look(rating, horizontal="center")
            overrides[5] = _difference_look(score, rating)
        for offset, (c_key, _) in enumerate(view.categories):
            if category_scores.get(c_key):
                overrides[first_category + offset] = score_look(category_scores[c_key], horizontal="center")
        if suggested:
            overrides[first_category + len(view.categories)] = score_look(suggested, horizontal="center")
        table.row(
            [
                statement.theme_name,
                statement.name,
                score if score else "Not scored",
                scoring.label_for(score),
                *peer_values,
                assessment.rationale if assessment else "",
                assessment.key_findings if assessment else "",
                assessment.strengths if assessment else "",
                assessment.areas_for_improvement if assessment else "",
                *[category_scores.get(c_key) for c_key, _ in view.categories],
                suggested,
                (assessment.override_reason or "") if assessment else "",
                ", ".join(assessment.citations) if assessment else "",
                *counts,
                *peer_words,
            ],
            overrides,
        )
    table.finish()


# --- Evidence register -----------------------------------------------------------


def _register(book: _Book, view: RoundView) -> None:
    columns = [
        # Printed over two pages left to right, the reference on each: the item, then its mappings.
        Column("Reference", 9),
        Column("Kind", 13, WRAP),
        Column("Title", 36, WRAP),
        Column("Summary", 54, WRAP),
        Column("Source", 22, WRAP),
        Column("Period start", 11, DATE),
        Column("Period end", 11, DATE),
        Column("Review by", 11, DATE),
        Column("Stale", 6),
        Column("Quality statement", 26, WRAP),
        Column("Evidence category", 20, WRAP),
        Column("Stance", 10),
        Column("Note", 30, WRAP),
    ]
    table = _Table(book, "Evidence register", columns)
    names = {s.key: s.name for s in view.statements}
    categories = dict(view.categories)
    stale_look = {8: Look(bold=True, colour=palette.SCORE_COLOURS[2].text)}
    mappings = _mappings_by_item(view)
    for item in _items(view):
        stale = item.is_stale(view.as_of)
        head = [
            item.reference,
            item.kind_label,
            item.title,
            item.summary,
            item.source,
            item.period_start,
            item.period_end,
            item.review_by,
            stale,
        ]
        overrides = stale_look if stale else None
        for mapping in mappings.get(item.id) or [None]:
            if mapping is None:
                table.row([*head, "", "", "", ""], overrides)
                continue
            table.row(
                [
                    *head,
                    names.get(mapping.statement_key, mapping.statement_key),
                    categories.get(mapping.category_key, mapping.category_key),
                    vocab_label(Stance, mapping.stance),
                    mapping.note,
                ],
                overrides,
            )
    if not view.items:
        table.empty("No accepted evidence.")
    table.finish()


# --- Metrics ---------------------------------------------------------------------


FIRST_COMPARATOR_COLUMN = 9  # column I: the comparators follow the value and the target


def _comparator_columns(metrics: list[ItemView]) -> dict[str, str]:
    """One column per comparator, whichever metrics have it: its name (the first spelling met) by the name
    as compared (case and spacing aside), in order of first appearance."""
    columns: dict[str, str] = {}
    fixed = {"reference", "metric", "unit", "direction", "period", "period start", "value", "target"}
    for item in metrics:
        for series in item.comparators:
            key = " ".join(series.name.split()).casefold()
            if key not in columns:
                columns[key] = f"{series.name} (comparator)" if key in fixed else series.name
    return columns


def _metrics(book: _Book, view: RoundView) -> None:
    metrics = [item for item in _items(view) if item.kind == Kind.METRIC]
    comparators = _comparator_columns(metrics)
    keys = list(comparators)
    columns = [
        Column("Reference", 10),
        Column("Metric", 34, WRAP),
        Column("Unit", 9, WRAP),
        Column("Direction", 14, WRAP),
        Column("Period", 10, WRAP),
        Column("Period start", 12, DATE),
        Column("Value", 9, NUMBER),
        Column("Target", 9, NUMBER),
        *(Column(name, 12, NUMBER) for name in comparators.values()),
    ]
    table = _Table(book, "Metrics", columns)
    charts = _MetricCharts(table, chart_column=len(columns) + 2)
    for item in metrics:
        details = item.details
        target = details.get("target")
        head = [item.reference, item.title, details.get("unit") or "", vocab_label(Direction, details.get("direction"))]
        names, rows = side_by_side(item.points, item.comparators)
        positions = [keys.index(" ".join(name.split()).casefold()) for name in names]
        if not rows:
            table.row([*head, "", None, None, target])
            continue
        first = table.row_count + 1
        for row in rows:
            by_column = [None] * len(keys)
            for position, value in zip(positions, row.comparators, strict=True):
                by_column[position] = value
            table.row([*head, row.label, row.period, row.value, target, *by_column])
        valued = [n for n, row in enumerate(rows) if row.value is not None]
        if valued:
            drawn = {FIRST_COMPARATOR_COLUMN + p: names[i] for i, p in enumerate(positions)}
            latest = first + valued[-1]
            charts.add(item, first, table.row_count, latest, has_target=target is not None, comparators=drawn)
    if not metrics:
        table.empty("No metrics among the accepted evidence.")
    table.finish()


class _RenderedChart(LineChart):
    """A chart whose XML is already rendered; openpyxl places it (anchor, drawing, relationships)
    and serialises a stand-in that ``_Book.save`` replaces with ``xml``. None of LineChart's own
    state is set up: building and serialising thousands of charts would cost seconds."""

    def __init__(self, xml: bytes, anchor: str, width: float, height: float):
        self.xml = xml
        self.anchor = anchor
        self.width = width
        self.height = height

    def _write(self):  # what openpyxl serialises for the chart's part
        return Element(f"{{{CHART_NS}}}chartSpace")


class _MetricCharts:
    """A native line chart per metric: value, target and each comparator over the periods.

    openpyxl renders one chart of each shape (with or without a target, with the
    comparator columns it draws) with stand-in text and rows; each metric's chart
    is that XML with its own title, names and rows put in.
    """

    TITLE, UNIT = "@@title@@", "@@unit@@"
    FIRST, LAST = 999_001, 999_002  # stand-in rows (openpyxl references stop at 1,000,000)
    LATEST = 999_003  # stand-in index of the labelled point
    STAND_INS = re.compile(r"@@(?:title|unit|comparator\d+)@@|\$99900[12]\b|(?<=idx val=\")999003(?=\")")
    WIDTH, HEIGHT = 17, 7.5

    def __init__(self, sheet: _Sheet, chart_column: int = CHART_COLUMN):
        self.sheet = sheet
        self.chart_column = chart_column
        self._templates: dict[tuple[bool, tuple[int, ...]], str] = {}

    @staticmethod
    def comparator_stand_in(column: int) -> str:
        return f"@@comparator{column}@@"

    def add(
        self, item: ItemView, first: int, last: int, latest: int, *, has_target: bool, comparators: dict[int, str]
    ) -> None:
        """The chart of rows ``first`` to ``last``, its value labelled at row ``latest``; ``comparators`` are the
        columns it draws, with their names."""
        percent = (item.details.get("unit") or "").strip() == "%"
        shape = (has_target, percent, tuple(sorted(comparators)))
        template = self._templates.get(shape)
        if template is None:
            template = self._templates[shape] = tostring(self._chart(*shape)._write()).decode("utf-8")
        title = sheet_text(f"{item.reference} {item.title}")
        title = title if len(title) <= 90 else title[:89] + "…"
        values = {
            self.TITLE: _xml_text(title),
            self.UNIT: _xml_text(sheet_text(item.details.get("unit") or "Value")),
            **{self.comparator_stand_in(c): _xml_text(sheet_text(name)) for c, name in comparators.items()},
            f"${self.FIRST}": f"${first}",
            f"${self.LAST}": f"${last}",
            str(self.LATEST): str(latest - first),
        }
        xml = self.STAND_INS.sub(lambda match: values[match.group(0)], template)  # one pass: inserted text stays
        anchor = f"{get_column_letter(self.chart_column)}{2 + len(self.sheet.charts) * CHART_ROWS}"
        chart = _RenderedChart(xml.encode("utf-8"), anchor, self.WIDTH, self.HEIGHT)
        self.sheet.charts.append(chart)
        self.sheet.ws.add_chart(chart)

    def _chart(self, has_target: bool, percent: bool, comparator_columns: tuple[int, ...]) -> LineChart:
        ws = self.sheet.ws
        chart = LineChart()
        chart.title = self.TITLE
        chart.title.tx.rich.p[0].pPr = ParagraphProperties(defRPr=CharacterProperties(sz=1200, b=True))
        chart.height = self.HEIGHT
        chart.width = self.WIDTH
        chart.legend.position = "b"
        chart.visible_cells_only = False  # filtering the table never empties a chart
        chart.display_blanks = "span"  # a comparator without a value for some period still draws as a line
        chart.x_axis.title = "Period"
        chart.x_axis.axPos = "b"
        chart.y_axis.title = self.UNIT
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        value = self._line(chart, 7, "Value", palette.SERIES_VALUE, dashed=False)
        # The latest value is labelled (the stand-in index becomes the metric's last row).
        label = DataLabel(idx=self.LATEST, showVal=True, showSerName=False, showCatName=False, showLegendKey=False)
        label.position = "t"
        value.dLbls = DataLabelList(dLbl=[label], showVal=False)
        if percent:  # from 0: a rise of two points must not look like a leap
            chart.y_axis.scaling.min = 0
        if has_target:
            self._line(chart, 8, "Target", palette.SERIES_TARGET, dashed=True)
        for index, column in enumerate(comparator_columns):
            colour = palette.comparator_colour(index)
            self._line(chart, column, self.comparator_stand_in(column), colour, dashed=True, marked=True)
        periods = Reference(ws, min_col=5, min_row=self.FIRST, max_row=self.LAST)
        for series in chart.series:  # the periods are labels ("2026 Q3"), so a string reference
            series.cat = AxDataSource(strRef=StrRef(f=str(periods)))
        return chart

    def _line(
        self, chart: LineChart, column: int, name: str, colour: str, *, dashed: bool, marked: bool = False
    ) -> Series:
        ws = self.sheet.ws
        series = Series(Reference(ws, min_col=column, min_row=self.FIRST, max_row=self.LAST), title=name)
        series.smooth = False
        series.graphicalProperties.line.solidFill = colour
        series.graphicalProperties.line.width = 28575  # 2.25 pt
        if dashed:
            series.graphicalProperties.line.dashStyle = "dash"
        if dashed and not marked:
            series.marker.symbol = "none"
        else:  # a comparator is marked at each value, so that a series of one value still shows
            series.marker.symbol = "circle" if not dashed else "square"
            series.marker.size = 6 if not dashed else 5
            series.marker.graphicalProperties = GraphicalProperties(solidFill=colour)
            series.marker.graphicalProperties.line.solidFill = colour
        chart.series.append(series)
        return series


# --- Quotes, actions, gaps -------------------------------------------------------


def _quotes(book: _Book, view: RoundView) -> None:
    columns = [
        Column("Reference", 10),
        Column("Quote", 60, WRAP),
        Column("Speaker's role", 22, WRAP),
        Column("Voice", 18, WRAP),
        Column("Tone", 11, WRAP),
        Column("Source", 22, WRAP),
        Column("Quality statements", 36, WRAP),
    ]
    table = _Table(book, "Quotes", columns)
    names = {s.key: s.name for s in view.statements}
    mappings = _mappings_by_item(view)
    quotes = [item for item in _items(view) if item.kind == Kind.QUOTE]
    for item in quotes:
        statements = dict.fromkeys(names.get(m.statement_key, m.statement_key) for m in mappings.get(item.id, []))
        table.row(
            [
                item.reference,
                item.details.get("quote_text") or item.title,
                item.details.get("speaker_role") or "",
                vocab_label(Voice, item.details.get("voice")),
                vocab_label(QuoteTone, item.details.get("quote_tone")),
                item.source,
                "; ".join(statements),
            ]
        )
    if not quotes:
        table.empty("No quotes among the accepted evidence.")
    table.finish()


def _actions(book: _Book, view: RoundView) -> None:
    columns = [
        Column("Quality statement", 30, WRAP),
        Column("Action", 60, WRAP),
        Column("Owner", 26, WRAP),
        Column("Due", 13, DATE),
        Column("Status", 13, WRAP),
        Column("Overdue", 10),
    ]
    table = _Table(book, "Actions", columns)
    names = {s.key: s.name for s in view.statements}
    order = {s.key: i for i, s in enumerate(view.statements)}
    overdue_look = {5: Look(bold=True, colour=palette.SCORE_COLOURS[1].text, fill=palette.SCORE_COLOURS[1].background)}
    for action in sorted(view.actions, key=lambda a: order.get(a.statement_key, len(order))):
        overdue = action.status != ActionStatus.DONE and action.due_date is not None and action.due_date < view.as_of
        table.row(
            [
                names.get(action.statement_key, action.statement_key),
                action.description,
                action.owner,
                action.due_date,
                vocab_label(ActionStatus, action.status),
                overdue,
            ],
            overdue_look if overdue else None,
        )
    if not view.actions:
        table.empty("No improvement actions.")
    table.finish()


def _gaps(book: _Book, view: RoundView) -> None:
    columns = [
        Column("Quality statement", 30, WRAP),
        Column("Evidence category", 26, WRAP),
        Column("Gap", 30, WRAP),
        Column("Detail", 70, WRAP),
    ]
    table = _Table(book, "Gaps", columns)
    gaps = view.gaps()
    for gap in gaps:
        table.row([gap.statement_name, gap.category_name or "", gap.label, gap.message])
    if not gaps:
        table.empty("No gaps found.")
    table.finish()
