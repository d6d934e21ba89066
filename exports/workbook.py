"""The Excel workbook of a round: summary, statements, evidence register, metrics, quotes, actions, gaps.

``build_workbook(view, generated_at)`` takes a ``RoundView`` and returns the
bytes of an .xlsx file. It reads nothing else: no database, no Flask.

* openpyxl builds the package: sheets, column widths, frozen and filtered
  header rows, print set-up, styles, document properties and the native line
  charts of the metrics.
* The rows are streamed as worksheet XML by ``_Sheet`` (a few string
  operations per cell, sharing a handful of styles registered with openpyxl
  once), and put in place of each sheet's empty ``<sheetData>`` when the
  package is re-zipped. A portfolio of tens of thousands of items costs little
  more than writing the file.
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
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.chart import LineChart, Reference, Series
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.drawing.text import CharacterProperties, ParagraphProperties
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.constants import CHART_NS
from openpyxl.xml.functions import Element, tostring

from evidence.round_view import ItemView, RoundView
from evidence.vocab import ActionStatus, Direction, Kind, QuoteTone, Stance, Voice
from exports import palette
from exports.text import looks_like_formula, sheet_text, vocab_label
from exports.zipping import deterministic_zip, fixed_time
from quality_statements import scoring

SHEET_NAMES = ("Summary", "Quality statements", "Evidence register", "Metrics", "Quotes", "Actions", "Gaps")
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0%"
CHART_COLUMN = 12  # charts sit to the right of the metrics table, from column L
CHART_ROWS = 17  # rows between the tops of two charts
EXCEL_EPOCH = date(1899, 12, 30)
_EMPTY_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")
_DIMENSION = re.compile(rb"<dimension ref=\"[^\"]*\"\s*/>")
ROWS_PER_CHUNK = 500


def build_workbook(view: RoundView, generated_at: datetime) -> bytes:
    """The round as an .xlsx workbook (bytes)."""
    stamp = fixed_time(view.signed_off_at, generated_at)
    book = _Book()
    _summary(book, view, stamp)
    _statements(book, view)
    _register(book, view)
    _metrics(book, view)
    _quotes(book, view)
    _actions(book, view)
    _gaps(book, view)
    return book.save(view, stamp)


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


# --- The workbook ----------------------------------------------------------------


class _Book:
    """The openpyxl workbook, the looks registered with it, and the rows of each sheet."""

    def __init__(self):
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.sheets: list[_Sheet] = []
        self._ids: dict[Look, int] = {}
        self._quoted: dict[int, int] = {}
        self._probe = Worksheet(self.wb, "probe")  # never added to the workbook

    def style_id(self, look: Look) -> int:
        """The index of the look among the workbook's cell formats, registering it the first time."""
        found = self._ids.get(look)
        if found is None:
            found = self._ids[look] = self._register(look)
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
        return self.wb._cell_styles.add(cell._style)

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
                for chart in sheet.ws._charts:
                    replacements[chart.path[1:]] = chart.xml
            entries = [(name, replacements.get(name) or archive.read(name)) for name in archive.namelist()]
        return deterministic_zip(entries, stamp)


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

    def __init__(self, book: _Book, title: str, widths: Sequence[float]):
        self.book = book
        self.ws = book.wb.create_sheet(title)
        book.sheets.append(self)
        self.rows: list[str] = []
        self.row_count = 0
        self.column_count = len(widths)
        self.letters = [get_column_letter(i) for i in range(1, len(widths) + 1)]
        for letter, width in zip(self.letters, widths, strict=True):
            self.ws.column_dimensions[letter].width = width
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.oddFooter.left.text = "&A"
        self.ws.oddFooter.right.text = "Page &P of &N"

    def append(self, values: Sequence[object], style_ids: Sequence[int]) -> None:
        number = self.row_count + 1
        cells = [
            self._cell(f"{letter}{number}", value, style_id)
            for letter, value, style_id in zip(self.letters, values, style_ids, strict=False)
            if value is not None and value != ""
        ]
        self.rows.append(f'<row r="{number}">{"".join(cells)}</row>')
        self.row_count = number

    def append_looks(self, values: Sequence[object], looks: Sequence[Look]) -> None:
        self.append(values, [self.book.style_id(look) for look in looks])

    def _cell(self, ref: str, value: object, style_id: int) -> str:
        """The one way a value becomes a cell. Text is always a string, never a formula."""
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        if isinstance(value, str):
            text = sheet_text(value)
            if looks_like_formula(text):
                style_id = self.book.quoted(style_id)
            text = _xml_text(text)
            return f'<c r="{ref}" s="{style_id}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
        if isinstance(value, date):
            if value.year < 1900:  # Excel has no such date (one stored before dates were checked): show it as text
                return self._cell(ref, value.isoformat(), style_id)
            return f'<c r="{ref}" s="{style_id}"><v>{_serial(value)}</v></c>'
        if isinstance(value, int | float):
            if not math.isfinite(value):
                return ""
            return f'<c r="{ref}" s="{style_id}"><v>{value!r}</v></c>'
        return self._cell(ref, str(value), style_id)

    def xml_chunks(self, sheet_xml: bytes) -> Iterator[bytes]:
        """The sheet's XML with the rows in place of the empty sheetData that openpyxl wrote,
        in chunks of rows, so that the zip can stream them."""
        empty = _EMPTY_SHEET_DATA.search(sheet_xml)
        if empty is None:
            raise RuntimeError(f"no empty sheetData in the sheet {self.ws.title!r}")
        last = f"{get_column_letter(max(self.column_count, 1))}{max(self.row_count, 1)}"
        yield _DIMENSION.sub(f'<dimension ref="A1:{last}"/>'.encode(), sheet_xml[: empty.start()], count=1)
        yield b"<sheetData>"
        for start in range(0, len(self.rows), ROWS_PER_CHUNK):
            yield "".join(self.rows[start : start + ROWS_PER_CHUNK]).encode("utf-8")
        yield b"</sheetData>" + sheet_xml[empty.end() :]


class _Table(_Sheet):
    """A sheet that is one table: a frozen, filtered header row repeated on every printed page."""

    def __init__(self, book: _Book, title: str, columns: Sequence[Column]):
        super().__init__(book, title, [c.width for c in columns])
        self.columns = columns
        self.column_ids = [book.style_id(c.look) for c in columns]
        self.ws.freeze_panes = "A2"
        self.ws.print_title_rows = "1:1"
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


def _mappings_by_item(view: RoundView) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for mapping in view.mappings:
        grouped[mapping.item_id].append(mapping)
    return grouped


def _items(view: RoundView) -> list[ItemView]:
    return sorted(view.items.values(), key=lambda item: item.id)


# --- Summary ---------------------------------------------------------------------


def _summary(book: _Book, view: RoundView, stamp: datetime) -> None:
    sheet = _Sheet(book, "Summary", [46, 44, 24, 44])
    label = Look(bold=True, colour=palette.MUTED)
    heading = Look(bold=True, size=13, colour=palette.BRAND)
    note = Look(italic=True, colour=palette.MUTED, wrap=True)
    blank = ((), ())

    rollup = view.rollup()
    overall = rollup.overall
    if view.signed_off:
        status = f"Signed off on {stamp:%-d %B %Y}" + (f" by {view.signed_off_by}" if view.signed_off_by else "")
    else:
        status = "Open: a working draft, not signed off"

    rows: list[tuple[Sequence[object], Sequence[Look | None]]] = [
        ((f"{view.name}: summary",), (Look(bold=True, size=16, colour=palette.BRAND),)),
        (("Authority", view.authority), (label, TEXT)),
        (("Round", view.name), (label, TEXT)),
        (("Status", status), (label, TEXT)),
        (("Date", stamp.date()), (label, DATE)),
        (("Framework version", view.framework_version), (label, TEXT)),
        blank,
    ]
    if overall.complete:
        rows.append(
            (
                ("Overall rating", overall.percent / 100, overall.band),
                (
                    heading,
                    band_look(overall.band, number_format=PERCENT_FORMAT, horizontal="center"),
                    band_look(overall.band),
                ),
            )
        )
    else:
        rows.append(
            (
                ("Overall rating", "Incomplete", f"{len(overall.missing)} of {overall.maximum // 4} not scored"),
                (heading, band_look(None), band_look(None)),
            )
        )
    rows += [
        (
            (
                f"The overall percentage is the sum of the {overall.maximum // 4} statement scores over "
                f"{overall.maximum}, rounded half up: 25–38% Inadequate · 39–62% Requires improvement · "
                "63–87% Good · 88–100% Outstanding. Theme percentages are indicative only: CQC publishes "
                "statement scores and the overall rating.",
            ),
            (note,),
        ),
        blank,
        (("Theme", "Indicative percentage", "Indicative band", "Points"), (HEADER,) * 4),
    ]
    for theme_key, theme_name in view.themes:
        result = rollup.themes[theme_key]
        points = f"{result.total} of {result.maximum} ({result.scored} of {result.maximum // 4} statements scored)"
        if result.complete:
            rows.append(
                (
                    (theme_name, result.percent / 100, result.band, points),
                    (
                        WRAP,
                        band_look(result.band, number_format=PERCENT_FORMAT, horizontal="center"),
                        band_look(result.band),
                        TEXT,
                    ),
                )
            )
        else:
            rows.append(((theme_name, "Incomplete", "", points), (WRAP, band_look(None), band_look(None), TEXT)))
    rows += [blank, (("Theme", "Quality statement", "Score", "Label"), (HEADER,) * 4)]
    for statement in view.statements:
        assessment = view.assessments.get(statement.key)
        score = assessment.score if assessment else None
        rows.append(
            (
                (statement.theme_name, statement.name, score if score else "Not scored", scoring.label_for(score)),
                (WRAP, WRAP, score_look(score, horizontal="center"), score_look(score, wrap=True)),
            )
        )
    for values, row_looks in rows:
        sheet.append_looks(values, row_looks)


# --- Quality statements ----------------------------------------------------------


def _statements(book: _Book, view: RoundView) -> None:
    columns = [
        Column("Theme", 30, WRAP),
        Column("Quality statement", 30, WRAP),
        Column("Score", 9, CENTRE),
        Column("Label", 26, WRAP),
        Column("Rationale", 60, WRAP),
        Column("Key findings", 60, WRAP),
        Column("Strengths", 45, WRAP),
        Column("Areas for improvement", 45, WRAP),
        Column("Evidence cited", 18, WRAP),
        *[Column(f"{name} (items)", 16, NUMBER) for _, name in view.categories],
    ]
    table = _Table(book, "Quality statements", columns)
    summary = view.summary()
    for statement in view.statements:
        assessment = view.assessments.get(statement.key)
        score = assessment.score if assessment else None
        counts = [summary[(statement.key, c_key)].total for c_key, _ in view.categories]
        table.row(
            [
                statement.theme_name,
                statement.name,
                score if score else "Not scored",
                scoring.label_for(score),
                assessment.rationale if assessment else "",
                assessment.key_findings if assessment else "",
                assessment.strengths if assessment else "",
                assessment.areas_for_improvement if assessment else "",
                ", ".join(assessment.citations) if assessment else "",
                *counts,
            ],
            {2: score_look(score, horizontal="center"), 3: score_look(score, wrap=True)},
        )
    table.finish()


# --- Evidence register -----------------------------------------------------------


def _register(book: _Book, view: RoundView) -> None:
    columns = [
        Column("Reference", 10),
        Column("Kind", 18),
        Column("Title", 40, WRAP),
        Column("Summary", 60, WRAP),
        Column("Source", 24, WRAP),
        Column("Period start", 13, DATE),
        Column("Period end", 13, DATE),
        Column("Review by", 13, DATE),
        Column("Stale", 8),
        Column("Quality statement", 30, WRAP),
        Column("Evidence category", 26, WRAP),
        Column("Stance", 11),
        Column("Note", 40, WRAP),
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


def _metrics(book: _Book, view: RoundView) -> None:
    columns = [
        Column("Reference", 10),
        Column("Metric", 40, WRAP),
        Column("Unit", 10),
        Column("Direction", 16),
        Column("Period", 12),
        Column("Period start", 13, DATE),
        Column("Value", 11, NUMBER),
        Column("Target", 11, NUMBER),
        Column("Comparator", 22, WRAP),
        Column("Comparator value", 13, NUMBER),
    ]
    table = _Table(book, "Metrics", columns)
    charts = _MetricCharts(table.ws)
    metrics = [item for item in _items(view) if item.kind == Kind.METRIC]
    for item in metrics:
        details = item.details
        target = details.get("target")
        comparator_value = details.get("comparator_value")
        comparator = details.get("comparator_label") or ("Comparator" if comparator_value is not None else "")
        head = [item.reference, item.title, details.get("unit") or "", vocab_label(Direction, details.get("direction"))]
        if not item.points:
            table.row([*head, "", None, None, target, comparator, comparator_value])
            continue
        first = table.row_count + 1
        for point in item.points:
            table.row([*head, point.label, point.period, point.value, target, comparator, comparator_value])
        charts.add(item, first, table.row_count, has_target=target is not None, comparator=comparator)
    if not metrics:
        table.empty("No metrics among the accepted evidence.")
    table.finish()


class _RenderedChart(ChartBase):
    """A chart whose XML is already rendered; openpyxl places it (anchor, drawing, relationships)
    and writes a stand-in that ``_Book.save`` replaces with ``xml``."""

    tagname = "lineChart"

    def __init__(self, xml: bytes, anchor: str, width: float, height: float):  # no ChartBase state is needed
        self.xml = xml
        self.anchor = anchor
        self.width = width
        self.height = height

    def _write(self):
        return Element(f"{{{CHART_NS}}}chartSpace")


class _MetricCharts:
    """A native line chart per metric: value, target and comparator over the periods.

    openpyxl renders one chart of each shape (with or without a target, with or
    without a comparator) with stand-in text and rows; each metric's chart is
    that XML with its own title, names and rows put in.
    """

    TITLE, UNIT, COMPARATOR = "@@title@@", "@@unit@@", "@@comparator@@"
    FIRST, LAST = 999_001, 999_002  # stand-in rows (openpyxl references stop at 1,000,000)
    STAND_INS = re.compile(r"@@(?:title|unit|comparator)@@|\$99900[12]\b")
    WIDTH, HEIGHT = 17, 7.5

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self._templates: dict[tuple[bool, bool], str] = {}

    def add(self, item: ItemView, first: int, last: int, *, has_target: bool, comparator: str) -> None:
        shape = (has_target, bool(comparator))
        template = self._templates.get(shape)
        if template is None:
            template = self._templates[shape] = tostring(self._chart(*shape)._write()).decode("utf-8")
        title = sheet_text(f"{item.reference} {item.title}")
        title = title if len(title) <= 90 else title[:89] + "…"
        values = {
            self.TITLE: _xml_text(title),
            self.UNIT: _xml_text(sheet_text(item.details.get("unit") or "Value")),
            self.COMPARATOR: _xml_text(sheet_text(comparator)),
            f"${self.FIRST}": f"${first}",
            f"${self.LAST}": f"${last}",
        }
        xml = self.STAND_INS.sub(lambda match: values[match.group(0)], template)  # one pass: inserted text stays
        anchor = f"{get_column_letter(CHART_COLUMN)}{2 + len(self.ws._charts) * CHART_ROWS}"
        self.ws.add_chart(_RenderedChart(xml.encode("utf-8"), anchor, self.WIDTH, self.HEIGHT))

    def _chart(self, has_target: bool, has_comparator: bool) -> LineChart:
        chart = LineChart()
        chart.title = self.TITLE
        chart.title.tx.rich.p[0].pPr = ParagraphProperties(defRPr=CharacterProperties(sz=1200, b=True))
        chart.height = self.HEIGHT
        chart.width = self.WIDTH
        chart.legend.position = "b"
        chart.visible_cells_only = False  # filtering the table never empties a chart
        chart.x_axis.title = "Period"
        chart.x_axis.axPos = "b"
        chart.y_axis.title = self.UNIT
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        self._line(chart, 7, "Value", palette.SERIES_VALUE, dashed=False)
        if has_target:
            self._line(chart, 8, "Target", palette.SERIES_TARGET, dashed=True)
        if has_comparator:
            self._line(chart, 10, self.COMPARATOR, palette.SERIES_COMPARATOR, dashed=True)
        periods = Reference(self.ws, min_col=5, min_row=self.FIRST, max_row=self.LAST)
        for series in chart.series:  # the periods are labels ("2026 Q3"), so a string reference
            series.cat = AxDataSource(strRef=StrRef(f=str(periods)))
        return chart

    def _line(self, chart: LineChart, column: int, name: str, colour: str, *, dashed: bool) -> None:
        series = Series(Reference(self.ws, min_col=column, min_row=self.FIRST, max_row=self.LAST), title=name)
        series.smooth = False
        series.graphicalProperties.line.solidFill = colour
        series.graphicalProperties.line.width = 28575  # 2.25 pt
        if dashed:
            series.graphicalProperties.line.dashStyle = "dash"
            series.marker.symbol = "none"
        else:
            series.marker.symbol = "circle"
            series.marker.size = 6
        chart.series.append(series)


# --- Quotes, actions, gaps -------------------------------------------------------


def _quotes(book: _Book, view: RoundView) -> None:
    columns = [
        Column("Reference", 10),
        Column("Quote", 60, WRAP),
        Column("Speaker's role", 24, WRAP),
        Column("Voice", 22, WRAP),
        Column("Tone", 12),
        Column("Source", 24, WRAP),
        Column("Quality statements", 40, WRAP),
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
        Column("Status", 13),
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
