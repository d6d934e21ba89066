"""The Word self-assessment of a round (.docx), written with python-docx.

``build_docx(view, generated_at)`` lays out ``exports.report``: a cover, a
contents page (a real TOC field that Word refreshes on opening, already filled
with every entry so it reads before then), the summary of the nine statements
in their score colours, then one section per statement in the order of a CQC
assessment page. Headings use Word's own Heading styles, so the navigation
pane and the contents work; the header carries the council's name and the
footer "Page N of M".

User text is written literally, run by run (python-docx escapes it); the
characters XML cannot hold are dropped. Markdown fields go through the same
sanitised HTML as the portal and the PDF (``exports.markup``), walked into
Word paragraphs, lists and runs: only http, https and mailto links survive.

The package is re-zipped with one fixed time and fixed document properties,
so a signed-off round gives the same bytes every time.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, replace
from datetime import datetime
from io import BytesIO
from urllib.parse import quote

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from lxml import html as lxml_html

from evidence.assessment.round_view import RoundView
from evidence.library.citations import CITATION
from exports import palette
from exports.charts import ChartCache
from exports.markup import ALLOWED_SCHEMES, markdown_to_html
from exports.report import Report, Section, build_report
from exports.text import xml_safe
from exports.zipping import deterministic_zip

_WHITE_SPACE = re.compile(r"[ \t\r\n]+")

FONT = "Arial"
MONO = "Courier New"
LANGUAGE = "en-GB"
TEXT_WIDTH = Cm(17)  # A4 less 2 cm margins
CHART_WIDTH = Cm(16)

# Where a child may go among its siblings (ECMA-376): Word refuses a file whose elements are out of order.
_PPR_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
    "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
    "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_PPR_AFTER_SHD = _PPR_AFTER_PBDR[1:]
_TCPR_AFTER_SHD = ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")
_TBLPR_AFTER_BORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")
_TBLPR_AFTER_CELL_MARGINS = ("w:tblLook", "w:tblCaption", "w:tblDescription")
_SETTINGS_AFTER_UPDATE_FIELDS = (
    "w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat", "w:docVars", "w:rsids", "m:mathPr",
    "w:attachedSchema", "w:themeFontLang", "w:clrSchemeMapping", "w:doNotIncludeSubdocsInStats",
    "w:doNotAutoCompressPictures", "w:forceUpgrade", "w:captions", "w:readModeInkLockDown", "w:smartTagType",
    "sl:schemaLibrary", "w:shapeDefaults", "w:doNotEmbedSmartTags", "w:decimalSymbol", "w:listSeparator",
)  # fmt: skip


def _rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour)


@dataclass(frozen=True)
class _Format:
    """How a run of markdown text looks, and where it points."""

    bold: bool = False
    italic: bool = False
    code: bool = False
    strike: bool = False
    superscript: bool = False
    subscript: bool = False
    link: object = None  # the w:hyperlink element the run belongs in


def build_docx(view: RoundView, generated_at: datetime) -> bytes:
    """The round's self-assessment as a Word document (bytes)."""
    report = build_report(view, generated_at)
    writer = _Writer(report)
    writer.write()
    raw = BytesIO()
    writer.doc.save(raw)
    return _reproducible(raw.getvalue(), report.stamp)


def _reproducible(package: bytes, stamp: datetime) -> bytes:
    """The same parts, re-zipped in name order with one fixed time."""
    with zipfile.ZipFile(BytesIO(package)) as archive:
        entries = [(name, archive.read(name)) for name in archive.namelist()]
    return deterministic_zip(entries, stamp)


class _Writer:
    def __init__(self, report: Report) -> None:
        self.report = report
        self.doc = Document()
        self.charts = ChartCache()
        self._bookmarks = 0
        self._style_ids: dict[str, str] = {}
        self._section: Section | None = None

    # --- the document ----------------------------------------------------------------------

    def write(self) -> None:
        self._styles()
        self._page()
        self._properties()
        self._cover()
        self._contents()
        self._summary()
        for section in self.report.sections:
            self._statement(section)
        self._paragraph(self.report.end_note, "Small", space_before=Pt(18))
        self._update_fields_on_open()

    def _properties(self) -> None:
        core = self.doc.core_properties
        report = self.report
        core.title = _property(report.title)
        core.subject = report.subject
        core.author = _property(report.authority)
        core.last_modified_by = "Assure"
        core.keywords = "CQC; local authority assessment; self-assessment; adult social care"
        core.category = report.status
        core.comments = ""
        core.language = LANGUAGE
        core.created = core.modified = core.last_printed = report.stamp
        core.revision = 1

    def _page(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2)
        section.top_margin, section.bottom_margin = Cm(2.3), Cm(2.1)
        section.header_distance = section.footer_distance = Cm(1.1)
        section.different_first_page_header_footer = True  # the cover has neither
        header = section.header.paragraphs[0]
        self._right_tab(header)
        self._run(header, self.report.running_authority)
        header.add_run("\t")
        self._run(header, self.report.running_title)
        footer = section.footer.paragraphs[0]
        self._right_tab(footer)
        self._run(footer, self.report.footer)
        footer.add_run("\tPage ")
        self._field(footer, "PAGE", "1")
        footer.add_run(" of ")
        self._field(footer, "NUMPAGES", "1")

    # --- styles ------------------------------------------------------------------------------

    def _styles(self) -> None:
        styles_part = self.doc.styles.element
        # The template's theme fonts and colours would win over the ones set below: drop them.
        for fonts in styles_part.iter(qn("w:rFonts")):
            for name in list(fonts.attrib):
                if name.endswith(("Theme", "theme")):
                    del fonts.attrib[name]
        for colour in styles_part.iter(qn("w:color")):
            for name in ("themeColor", "themeShade", "themeTint"):
                colour.attrib.pop(qn(f"w:{name}"), None)
        defaults = styles_part.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        for name in ("ascii", "hAnsi", "eastAsia", "cs"):
            fonts.set(qn(f"w:{name}"), FONT)
        rpr.find(qn("w:lang")).set(qn("w:val"), LANGUAGE)
        for size in (rpr.find(qn("w:sz")), rpr.find(qn("w:szCs"))):
            size.set(qn("w:val"), "20")  # 10 pt
        spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
        spacing.set(qn("w:after"), "120")
        spacing.set(qn("w:line"), "264")

        styles = self.doc.styles
        self._style_font("Title", size=28, bold=True, colour=palette.BRAND)
        title = styles["Title"].element.find(qn("w:pPr"))
        title.remove(title.find(qn("w:pBdr")))
        self._style_font("Subtitle", size=12, colour=palette.MUTED, italic=False)
        self._style_font("Heading 1", size=18, bold=True, colour=palette.BRAND)
        self._style_spacing("Heading 1", before=0, after=8)
        self._style_font("Heading 2", size=13, bold=True, colour=palette.BRAND)
        self._style_spacing("Heading 2", before=14, after=4)
        self._style_font("Heading 3", size=11, bold=True, colour=palette.BRAND_2, italic=False)
        self._style_spacing("Heading 3", before=10, after=3)
        self._style_font("TOC Heading", size=18, bold=True, colour=palette.BRAND)
        self._style_spacing("TOC Heading", before=0, after=12)
        self._style_font("Quote", size=10.5, italic=True, colour=palette.INK)
        styles["Quote"].paragraph_format.left_indent = Cm(0.6)
        self._style_spacing("Quote", before=6, after=2)
        for name in ("Header", "Footer"):
            self._style_font(name, size=8, colour=palette.MUTED)
            tabs = styles[name].element.find(qn("w:pPr")).find(qn("w:tabs"))
            if tabs is not None:
                tabs.getparent().remove(tabs)
        self._style_font("Caption", size=8.5, bold=False, colour=palette.MUTED)

        self._new_style("Small", size=8.5, colour=palette.MUTED)
        self._new_style("Table Text", size=9, after=0)
        self._new_style("Table Meta", size=8, colour=palette.MUTED, after=0)
        self._new_style("Table Head", size=9, after=0, bold=True, colour="FFFFFF")
        self._new_style("Score", size=14, bold=True, after=0)
        self._new_style("Score Label", size=10.5, bold=True, after=8)
        self._new_style("Theme Line", size=8.5, colour=palette.MUTED, after=2)
        self._new_style("Cover Authority", size=14, bold=True, colour=palette.BRAND, after=0)
        self._new_style("Cover Kind", size=10, colour=palette.MUTED, after=4)
        self._new_style("Overall", size=10, after=0)
        toc = self._new_style("toc 1", size=10.5, after=4, style_id="TOC1")
        toc.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
        link = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
        link.font.color.rgb = _rgb(palette.BRAND_2)
        link.font.underline = True
        code = styles.add_style("Code", WD_STYLE_TYPE.CHARACTER)
        code.font.name = MONO
        code.font.size = Pt(9)
        self._style_ids = {style.name: style.style_id for style in styles}

    def _style_font(self, name, *, size=None, bold=None, italic=None, colour=None):
        font = self.doc.styles[name].font
        if size is not None:
            font.size = Pt(size)
        if bold is not None:
            font.bold = bold
        if italic is not None:
            font.italic = italic
        if colour is not None:
            font.color.rgb = _rgb(colour)

    def _style_spacing(self, name, *, before: float, after: float) -> None:
        fmt = self.doc.styles[name].paragraph_format
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)

    def _new_style(self, name, *, size, after=6, bold=None, colour=None, style_id=None):
        style = self.doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if style_id:
            style.element.set(qn("w:styleId"), style_id)
        style.base_style = self.doc.styles["Normal"]
        style.font.size = Pt(size)
        if bold is not None:
            style.font.bold = bold
        if colour:
            style.font.color.rgb = _rgb(colour)
        style.paragraph_format.space_after = Pt(after)
        return style

    # --- cover, contents, summary -------------------------------------------------------------

    def _cover(self) -> None:
        report = self.report
        self._paragraph(report.authority, "Cover Authority", space_before=Pt(40))
        self._paragraph("Self-assessment of adult social care".upper(), "Cover Kind", space_before=Pt(90))
        self._paragraph(report.title, "Title")
        self._paragraph(report.subject, "Subtitle", space_after=Pt(36))
        overall = report.overall
        box = [
            ("Overall".upper(), 8, False),
            (f"{overall.figure}  {overall.band}".strip(), 24, True),
            (overall.detail, 9, False),
        ]
        for position, (text, size, bold) in enumerate(box):
            p = self._paragraph("", "Overall")
            self._run(p, text, size=Pt(size), bold=bold, colour=overall.colours.text)
            p.paragraph_format.right_indent = Cm(8)
            p.paragraph_format.left_indent = Cm(0.3)
            if position == 0:
                p.paragraph_format.space_before = Pt(0)
            self._shade_paragraph(p, overall.colours, left_border=True)
        facts = [("Status", report.status), (report.dated_label, report.dated)]
        if report.framework_version:
            facts.append(("Framework", f"CQC local authority assessment framework, version {report.framework_version}"))
        if report.peer_reviewers:
            facts.append(("Peer challenge", report.peer_reviewers))
        self._paragraph("", "Normal", space_before=Pt(30))
        table = self._table([Cm(3.2), Cm(13.8)], header=None, borders=False)
        for label, value in facts:
            cells = table.add_row().cells
            self._cell_text(cells[0], label, colour=palette.MUTED)
            self._cell_text(cells[1], value, bold=label == "Status")
        self._fix_widths(table, [Cm(3.2), Cm(13.8)])

    def _contents(self) -> None:
        report = self.report
        heading = self._paragraph("Contents", "TOC Heading")
        heading.paragraph_format.page_break_before = True
        entries = [("Summary", "summary")] + [(f"{row.number}. {row.name}", row.anchor) for row in report.statements]
        for position, (text, anchor) in enumerate(entries):
            p = self._paragraph("", "toc 1")
            if position == 0:
                self._field_begin(p, 'TOC \\o "1-1" \\h \\z \\u', dirty=True)
            # Until Word refreshes the field (it asks to on opening), the entries read as a linked list.
            self._run(p, text, link=self._internal_link(p, _bookmark(anchor)))
            if position == len(entries) - 1:
                self._field_end(p)
        if report.summarised:
            self._paragraph(report.summaries_note, "Small", space_before=Pt(12))

    def _summary(self) -> None:
        report = self.report
        heading = self._heading("Summary", 1, anchor="summary")
        heading.paragraph_format.page_break_before = True
        peer = report.peer_overall is not None
        if peer:
            widths = [Cm(3.6), Cm(4.4), Cm(1.4), Cm(3.8), Cm(1.4), Cm(2.4)]
            header = ["Theme", "Quality statement", "Score", "Label", "Peer rating", "Difference"]
        else:
            widths = [Cm(4.6), Cm(5.4), Cm(1.4), Cm(5.6)]
            header = ["Theme", "Quality statement", "Score", "Label"]
        table = self._table(widths, header=header)
        theme_started: dict[str, object] = {}
        for row in report.statements:
            cells = table.add_row().cells
            if row.theme in theme_started:  # a theme reads once, beside all of its statements
                theme_started[row.theme].merge(cells[0])
            else:
                theme_started[row.theme] = cells[0]
                self._cell_text(cells[0], row.theme, colour=palette.MUTED)
            self._cell_text(cells[1], row.name)
            self._cell_text(cells[2], str(row.score or "–"), bold=True, colour=row.colours.text, centre=True)
            self._cell_text(cells[3], row.label if row.score else "Not scored", bold=True, colour=row.colours.text)
            self._shade_cell(cells[2], row.colours.background)
            self._shade_cell(cells[3], row.colours.background)
            if peer and row.peer is not None:
                p = row.peer
                self._cell_text(cells[4], str(p.rating or "–"), bold=True, colour=p.colours.text, centre=True)
                self._shade_cell(cells[4], p.colours.background)
                self._cell_text(cells[5], p.difference, bold=p.differs, colour=p.difference_colours.text)
                self._shade_cell(cells[5], p.difference_colours.background)
        self._fix_widths(table, widths)

        self._heading("Themes and overall rating", 2)
        widths = [Cm(10), Cm(2.6), Cm(4.4)]
        table = self._table(widths, header=["Theme (indicative)", "Percentage", "Band"])
        rows = [(t.name, t.figure, t.band or "–", t.colours, False) for t in report.themes]
        overall = report.overall
        rows.append(("Overall", overall.figure, overall.band or "–", overall.colours, True))
        if report.peer_overall is not None:
            peers = report.peer_overall
            rows.append(("Overall, as the peers rate it", peers.figure, peers.band or "–", peers.colours, True))
        for name, figure, band, colours, bold in rows:
            cells = table.add_row().cells
            self._cell_text(cells[0], name, bold=bold)
            self._cell_text(cells[1], figure, bold=bold, centre=True)
            self._cell_text(cells[2], band, bold=bold, colour=colours.text)
            self._shade_cell(cells[2], colours.background)
        self._fix_widths(table, widths)
        detail = overall.detail[:1].upper() + overall.detail[1:]
        self._paragraph(f"{detail}. {report.scoring_note}", "Small", space_before=Pt(8))

    # --- one statement -----------------------------------------------------------------------

    def _statement(self, s: Section) -> None:
        """One statement's section, in the order of a CQC assessment page."""
        self._section = s
        self._statement_head(s)
        if s.peer is not None:
            self._peer(s)
        self._statement_texts(s)
        self._heading("Category scores", 3)
        self._category_scores(s)
        self._heading("Actions", 3)
        self._actions(s)
        self._heading("Evidence cited", 2)
        self._evidence(s)
        if s.quotes:
            self._heading("In their words", 3)
            self._quotes(s)
        if s.charts:
            self._heading("Trends", 3)
            self._charts(s)
        self._section = None

    def _statement_head(self, s: Section) -> None:
        """The theme, the statement's name, its score and label in its colours, and the rationale."""
        theme = self._paragraph(f"Theme: {s.theme}".upper(), "Theme Line")
        theme.paragraph_format.page_break_before = True
        theme.paragraph_format.keep_with_next = True
        self._heading(s.name, 1, anchor=s.anchor)
        score = self._paragraph(s.score_text, "Score", colour=s.colours.text)
        score.paragraph_format.keep_with_next = True
        self._shade_paragraph(score, s.colours, left_border=True)
        label = self._paragraph(s.label, "Score Label", colour=s.colours.text)
        self._shade_paragraph(label, s.colours, left_border=True)
        if s.rationale.strip():
            self._markdown(s.rationale)

    def _peer(self, s: Section) -> None:
        """The peers' rating beside the council's score, the difference, their challenge and the response."""
        peer = s.peer
        self._heading("Peer challenge", 2)
        rating = self._paragraph(peer.rating_text, "Score", colour=peer.colours.text)
        rating.paragraph_format.keep_with_next = True
        self._shade_paragraph(rating, peer.colours, left_border=True)
        label = self._paragraph(peer.label, "Score Label", colour=peer.colours.text)
        self._shade_paragraph(label, peer.colours, left_border=True)
        p = self._paragraph("", "Normal")
        self._run(p, "Against the council's score: ", bold=True)
        self._run(p, peer.difference, bold=peer.differs, colour=peer.difference_colours.text)
        if peer.differs:
            self._shade_paragraph(p, peer.difference_colours, left_border=True)
        self._heading("The peers' challenge", 3)
        self._markdown_or(peer.challenge, "No written challenge.")
        self._heading("The council's response", 3)
        self._markdown_or(peer.response, "No response recorded.")

    def _statement_texts(self, s: Section) -> None:
        """What people expect, the authority's commitment, and the key findings, strengths and areas."""
        self._heading("What people expect", 2)
        if s.i_statements:
            for text in s.i_statements:
                self._paragraph(text, "List Bullet")
        else:
            self._paragraph("The framework sets out no “I statements” for this quality statement.", "Small")
        self._heading("The local authority commitment", 2)
        self._paragraph(s.we_statement or "–")

        self._heading("Key findings", 2)
        self._markdown_or(s.key_findings, "No key findings recorded.")
        self._heading("Strengths", 3)
        self._markdown_or(s.strengths, "No strengths recorded.")
        self._heading("Areas for improvement", 3)
        self._markdown_or(s.areas_for_improvement, "No areas for improvement recorded.")

    def _category_scores(self, s: Section) -> None:
        if s.category_scores:
            widths = [Cm(7.4), Cm(1.6), Cm(8)]
            table = self._table(widths, header=["Evidence category", "Score", "Label"])
            for position, c in enumerate(s.category_scores, start=1):
                cells = table.add_row().cells
                if position < len(s.category_scores):  # a few rows: kept on one page together
                    for cell in cells:
                        cell.paragraphs[0].paragraph_format.keep_with_next = True
                self._cell_text(cells[0], c.name)
                self._cell_text(cells[1], str(c.score or "–"), bold=True, colour=c.colours.text, centre=True)
                self._cell_text(cells[2], c.label, bold=True, colour=c.colours.text)
                self._shade_cell(cells[1], c.colours.background)
                self._shade_cell(cells[2], c.colours.background)
            self._fix_widths(table, widths)
            if s.suggested:
                self._paragraph(f"{s.suggested}.", "Small", space_before=Pt(4))
        else:
            self._paragraph("No category scores recorded.", "Small")
        if s.override_reason:
            p = self._paragraph("", "Normal")
            self._run(p, "Why the score departs from the suggestion: ", bold=True)
            self._run(p, s.override_reason)
            self._shade_paragraph(p, palette.NONE_COLOURS, left_border=True)

    def _actions(self, s: Section) -> None:
        if not s.actions:
            self._paragraph("No improvement actions recorded.", "Small")
            return
        widths = [Cm(8), Cm(3.8), Cm(2.8), Cm(2.4)]
        table = self._table(widths, header=["Action", "Owner", "Due", "Status"])
        for a in s.actions:
            cells = table.add_row().cells
            self._cell_text(cells[0], a.description)
            self._cell_text(cells[1], a.owner)
            self._cell_text(cells[2], a.due)
            overdue = palette.SCORE_COLOURS[1].text if a.overdue else None
            self._cell_text(cells[3], a.status, bold=a.overdue, colour=overdue)
        self._fix_widths(table, widths)

    def _evidence(self, s: Section) -> None:
        """The evidence the statement's text cites, and how many more items are mapped to it uncited."""
        if s.evidence:
            widths = [Cm(1.6), Cm(8.2), Cm(3.4), Cm(3.8)]
            table = self._table(widths, header=["Ref", "Evidence", "Category", "Latest value"])
            for e in s.evidence:
                cells = table.add_row().cells
                first = self._cell_text(cells[0], e.reference, bold=True, colour=palette.BRAND)
                self._bookmark(first, _bookmark(f"{s.anchor}-{e.reference}"))
                if not e.found:
                    merged = cells[1].merge(cells[3])
                    self._cell_text(merged, e.title, colour=palette.MUTED)
                    continue
                self._cell_text(cells[1], e.title, bold=True)
                meta = " · ".join(part for part in (e.kind, e.source, e.period) if part)
                self._cell_text(cells[1], meta, style="Table Meta", new_paragraph=True)
                self._cell_text(cells[2], e.category)
                if e.stance:
                    self._cell_text(cells[2], e.stance, style="Table Meta", new_paragraph=True)
                self._cell_text(cells[3], e.reading or "–")
                for against in e.against:
                    self._cell_text(cells[3], against[:1].upper() + against[1:], style="Table Meta", new_paragraph=True)
            self._fix_widths(table, widths)
        else:
            self._paragraph("No evidence is cited in this statement’s text.", "Small")
        if s.uncited:
            self._paragraph(s.uncited, "Small", space_before=Pt(4))

    def _quotes(self, s: Section) -> None:
        for q in s.quotes:
            self._paragraph(f"“{q.words}”", "Quote")
            p = self._paragraph(f"— {q.attribution} ", "Small")
            p.paragraph_format.left_indent = Cm(0.6)
            self._run(p, f"[{q.reference}]", bold=True, colour=palette.BRAND)

    def _charts(self, s: Section) -> None:
        for chart in s.charts:
            picture = self.doc.add_paragraph()
            picture.paragraph_format.keep_with_next = True
            picture.paragraph_format.space_after = Pt(2)
            run = picture.add_run()
            run.add_picture(BytesIO(self.charts.png(chart.item)), width=CHART_WIDTH)
            for properties in run._r.iter(qn("wp:docPr")):
                properties.set("descr", xml_safe(f"{chart.title}: {chart.caption}"))
            caption = self._paragraph("", "Caption")
            self._run(caption, chart.reference, bold=True, colour=palette.BRAND)
            self._run(caption, f" {chart.title}. ", colour=palette.INK)
            self._run(caption, chart.caption)
            caption.paragraph_format.space_after = Pt(10)

    # --- markdown ----------------------------------------------------------------------------

    def _markdown_or(self, text: str, nothing: str) -> None:
        if text and text.strip():
            self._markdown(text)
        else:
            self._paragraph(nothing, "Small")

    def _markdown(self, text: str) -> None:
        html = markdown_to_html(xml_safe(text))
        if not html.strip():
            return
        root = lxml_html.fragment_fromstring(html, create_parent="div")
        if root.text and root.text.strip():
            self._inline_text(self._paragraph("", "Normal"), root.text, _Format())
        for element in root:
            self._block(element, style="Normal", depth=0)
            if element.tail and element.tail.strip():
                self._inline_text(self._paragraph("", "Normal"), element.tail, _Format())

    def _block(self, element, *, style: str, depth: int) -> None:
        tag = element.tag
        if tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6"):
            p = self._paragraph("", style)
            # A heading inside a lead's text is bold text, never a Word heading: it stays out of the contents.
            self._inline(p, element, _Format(bold=tag != "p"))
            if tag != "p":
                p.paragraph_format.keep_with_next = True
        elif tag in ("ul", "ol"):
            self._list(element, ordered=tag == "ol", depth=depth + 1)
        elif tag == "blockquote":
            for child in element:
                self._block(child, style="Quote", depth=depth)
        elif tag == "pre":
            p = self._paragraph("", style)
            self._add_run(p, element.text_content().rstrip("\n"), _Format(code=True))
        elif tag == "table":
            self._html_table(element)
        elif tag == "hr":
            self._paragraph("", style)
        else:  # anything else the sanitiser lets through reads as a paragraph
            p = self._paragraph("", style)
            self._inline(p, element, _Format())

    def _list(self, element, *, ordered: bool, depth: int) -> None:
        level = min(depth, 3)
        style = ("List Number" if ordered else "List Bullet") + (f" {level}" if level > 1 else "")
        number = self._restart_numbering(style) if ordered else None
        for item in element:
            if item.tag != "li":
                continue
            p = self._paragraph("", style)
            if number is not None:
                num_pr = p._p.get_or_add_pPr().get_or_add_numPr()
                num_pr.get_or_add_ilvl().val = 0
                num_pr.get_or_add_numId().val = number
            if item.text:
                self._inline_text(p, item.text, _Format())
            started = bool(item.text and item.text.strip())
            for child in item:
                if child.tag in ("ul", "ol"):
                    self._list(child, ordered=child.tag == "ol", depth=depth + 1)
                elif child.tag in ("p", "blockquote", "pre", "table"):
                    if not started and child.tag == "p":
                        self._inline(p, child, _Format())
                        started = True
                    else:
                        self._block(child, style="List Continue", depth=depth)
                else:
                    self._inline_element(p, child, _Format())
                    started = True
                if child.tail and child.tail.strip():
                    self._inline_text(p, child.tail, _Format())

    def _restart_numbering(self, style: str) -> int:
        """A new numbering instance for the style's list, starting again at 1."""
        numbering = self.doc.part.numbering_part.element
        style_num = self.doc.styles[style].element.pPr.numPr.numId.val
        abstract = next(n for n in numbering.num_lst if n.numId == style_num).abstractNumId.val
        num = numbering.add_num(abstract)
        num.add_lvlOverride(ilvl=0).add_startOverride(1)
        return num.numId

    def _html_table(self, element) -> None:
        rows = [row for row in element.iter("tr")]
        columns = max((len(row.findall("th")) + len(row.findall("td")) for row in rows), default=0)
        if not columns:
            return
        widths = [Cm(17 / columns)] * columns
        table = self._table(widths, header=None, borders=True)
        for row in rows:
            cells = table.add_row().cells
            for cell, source in zip(cells, [c for c in row if c.tag in ("th", "td")], strict=False):
                p = cell.paragraphs[0]
                self._style(p, "Table Text")
                self._inline(p, source, _Format(bold=source.tag == "th"))
        self._fix_widths(table, widths)

    def _inline(self, paragraph, element, fmt: _Format) -> None:
        if element.text:
            self._inline_text(paragraph, element.text, fmt)
        for child in element:
            self._inline_element(paragraph, child, fmt)
            if child.tail:
                self._inline_text(paragraph, child.tail, fmt)

    def _inline_element(self, paragraph, child, fmt: _Format) -> None:
        tag = child.tag
        if tag == "br":
            paragraph.add_run().add_break()
            return
        if tag in ("strong", "b"):
            fmt = replace(fmt, bold=True)
        elif tag in ("em", "i"):
            fmt = replace(fmt, italic=True)
        elif tag == "code":
            fmt = replace(fmt, code=True)
        elif tag == "del":
            fmt = replace(fmt, strike=True)
        elif tag == "sup":
            fmt = replace(fmt, superscript=True)
        elif tag == "sub":
            fmt = replace(fmt, subscript=True)
        elif tag == "a" and fmt.link is None:
            target = _safe_url(child.get("href"))
            if target:
                fmt = replace(fmt, link=self._external_link(paragraph, target))
        self._inline(paragraph, child, fmt)

    def _inline_text(self, paragraph, text: str, fmt: _Format) -> None:
        """Text of a markdown field; each [E-12] it cites links to its row in the section's evidence table."""
        position = 0
        for match in CITATION.finditer(text):
            self._add_run(paragraph, text[position : match.start()], fmt)
            reference = match.group(1).upper()
            citation = replace(fmt, bold=True)
            if fmt.link is None and self._section is not None:
                row = _bookmark(f"{self._section.anchor}-{reference}")
                citation = replace(citation, link=self._internal_link(paragraph, row))
            self._add_run(paragraph, f"[{reference}]", citation)
            position = match.end()
        self._add_run(paragraph, text[position:], fmt)

    def _add_run(self, paragraph, text: str, fmt: _Format) -> None:
        if not text:
            return
        if not fmt.code:  # HTML's white space: runs of spaces and line breaks read as one space
            text = _WHITE_SPACE.sub(" ", text)
            if not paragraph.text:
                text = text.lstrip()
            if not text:
                return
        run = paragraph.add_run(_word_text(text))
        font = run.font
        if fmt.bold:
            font.bold = True
        if fmt.italic:
            font.italic = True
        if fmt.strike:
            font.strike = True
        if fmt.superscript:
            font.superscript = True
        if fmt.subscript:
            font.subscript = True
        if fmt.code:
            run._r.style = self._style_ids["Code"]
        if fmt.link is not None:
            if not fmt.code:
                run._r.style = self._style_ids["Hyperlink"]
            fmt.link.append(run._r)

    # --- building blocks -------------------------------------------------------------------------

    def _style(self, paragraph, name: str):
        """Give the paragraph a style by its id (python-docx looks a name up among every style, each time)."""
        paragraph._p.style = self._style_ids[name]
        return paragraph

    def _paragraph(self, text: str = "", style: str = "Normal", *, colour=None, space_before=None, space_after=None):
        p = self._style(self.doc.add_paragraph(), style)
        if text:
            self._run(p, text, colour=colour)
        if space_before is not None:
            p.paragraph_format.space_before = space_before
        if space_after is not None:
            p.paragraph_format.space_after = space_after
        return p

    def _run(self, paragraph, text: str, *, bold=None, colour=None, size=None, link=None):
        run = paragraph.add_run(_word_text(text))
        if bold is not None:
            run.font.bold = bold
        if colour:
            run.font.color.rgb = _rgb(colour)
        if size is not None:
            run.font.size = size
        if link is not None:
            link.append(run._r)
        return run

    def _heading(self, text: str, level: int, *, anchor: str | None = None):
        p = self._style(self.doc.add_paragraph(), f"Heading {level}")
        self._run(p, text)
        if anchor:
            self._bookmark(p, _bookmark(anchor))
        return p

    def _bookmark(self, paragraph, name: str) -> None:
        self._bookmarks += 1
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(self._bookmarks))
        start.set(qn("w:name"), name)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(self._bookmarks))
        p = paragraph._p
        position = 1 if p.pPr is not None else 0
        p.insert(position, start)
        p.append(end)

    def _internal_link(self, paragraph, bookmark: str):
        link = OxmlElement("w:hyperlink")
        link.set(qn("w:anchor"), bookmark)
        link.set(qn("w:history"), "1")
        paragraph._p.append(link)
        return link

    def _external_link(self, paragraph, url: str):
        link = OxmlElement("w:hyperlink")
        link.set(qn("r:id"), paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True))
        link.set(qn("w:history"), "1")
        paragraph._p.append(link)
        return link

    def _field(self, paragraph, instruction: str, shown: str) -> None:
        """A complete field (PAGE, NUMPAGES) with what it shows until Word updates it."""
        self._field_begin(paragraph, instruction)
        paragraph.add_run(shown)
        self._field_end(paragraph)

    def _field_begin(self, paragraph, instruction: str, *, dirty: bool = False) -> None:
        target = paragraph._p
        begin = OxmlElement("w:fldChar")
        begin.set(qn("w:fldCharType"), "begin")
        if dirty:
            begin.set(qn("w:dirty"), "true")  # refresh when the document opens
        target.append(_run_with(begin))
        text = OxmlElement("w:instrText")
        text.set(qn("xml:space"), "preserve")
        text.text = f" {instruction} "
        target.append(_run_with(text))
        separate = OxmlElement("w:fldChar")
        separate.set(qn("w:fldCharType"), "separate")
        target.append(_run_with(separate))

    def _field_end(self, paragraph) -> None:
        end = OxmlElement("w:fldChar")
        end.set(qn("w:fldCharType"), "end")
        paragraph._p.append(_run_with(end))

    def _right_tab(self, paragraph) -> None:
        paragraph.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)

    def _shade_paragraph(self, paragraph, colours: palette.Colours, *, left_border: bool = False) -> None:
        ppr = paragraph._p.get_or_add_pPr()
        if left_border:
            borders = OxmlElement("w:pBdr")
            left = OxmlElement("w:left")
            for name, value in (("val", "single"), ("sz", "36"), ("space", "6"), ("color", colours.text)):
                left.set(qn(f"w:{name}"), value)
            borders.append(left)
            ppr.insert_element_before(borders, *_PPR_AFTER_PBDR)
        ppr.insert_element_before(_shading(colours.background), *_PPR_AFTER_SHD)

    def _table(self, widths, *, header: list[str] | None, borders: bool = True):
        table = self.doc.add_table(rows=0, cols=len(widths))
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        if borders:
            edges = OxmlElement("w:tblBorders")
            for edge in ("top", "bottom", "insideH"):
                line = OxmlElement(f"w:{edge}")
                for name, value in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", palette.LINE)):
                    line.set(qn(f"w:{name}"), value)
                edges.append(line)
            tbl_pr.insert_element_before(edges, *_TBLPR_AFTER_BORDERS)
        margins = OxmlElement("w:tblCellMar")
        for edge, twips in (("top", 45), ("left", 85), ("bottom", 45), ("right", 85)):
            margin = OxmlElement(f"w:{edge}")
            margin.set(qn("w:w"), str(twips))
            margin.set(qn("w:type"), "dxa")
            margins.append(margin)
        tbl_pr.insert_element_before(margins, *_TBLPR_AFTER_CELL_MARGINS)
        if header:
            row = table.add_row()
            row_pr = row._tr.get_or_add_trPr()
            row_pr.append(OxmlElement("w:tblHeader"))  # repeats at the top of every page the table runs onto
            for cell, text in zip(row.cells, header, strict=True):
                p = cell.paragraphs[0]
                self._style(p, "Table Head")
                self._run(p, text)
                self._shade_cell(cell, palette.BRAND)
        return table

    def _fix_widths(self, table, widths) -> None:
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = width

    def _cell_text(self, cell, text, *, bold=None, colour=None, centre=False, style="Table Text", new_paragraph=False):
        p = cell.add_paragraph() if new_paragraph else cell.paragraphs[-1]
        self._style(p, style)
        if centre:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._run(p, text, bold=bold, colour=colour)
        return p

    def _shade_cell(self, cell, fill: str) -> None:
        cell._tc.get_or_add_tcPr().insert_element_before(_shading(fill), *_TCPR_AFTER_SHD)

    def _update_fields_on_open(self) -> None:
        """Ask Word to bring the contents and page numbers up to date when the document opens."""
        settings = self.doc.settings.element
        update = OxmlElement("w:updateFields")
        update.set(qn("w:val"), "true")
        settings.insert_element_before(update, *_SETTINGS_AFTER_UPDATE_FIELDS)


def _property(text: str) -> str:
    """A document property: Word holds at most 255 characters."""
    text = " ".join(xml_safe(text).split())
    return text if len(text) <= 255 else text[:254] + "…"


def _run_with(child):
    run = OxmlElement("w:r")
    run.append(child)
    return run


def _shading(fill: str):
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill.background if isinstance(fill, palette.Colours) else fill)
    return shading


def _bookmark(anchor: str) -> str:
    """A hidden Word bookmark name (a leading underscore), within Word's 40 characters."""
    return "_" + "".join(ch if ch.isalnum() else "_" for ch in anchor)[:39]


def _word_text(text: str) -> str:
    """Text for a run: XML-safe, and each line ending one line break (python-docx makes every \\r and \\n one)."""
    return xml_safe(text.replace("\r\n", "\n").replace("\r", "\n"))


def _safe_url(href: str | None) -> str | None:
    """An http, https or mailto address as Word can hold it, or None."""
    if not href:
        return None
    href = href.strip()
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    if scheme not in ALLOWED_SCHEMES:
        return None
    return quote(xml_safe(href), safe="/:?#[]@!$&'()*+,;=%-._~")
