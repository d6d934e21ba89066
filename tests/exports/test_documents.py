"""The Word document and the PDF of the demo round, read back: order, scores, headings, charts, pages, colours.

The demo portfolio is loaded once for the module and both documents built once from its
round; every expectation is computed from the round itself (scores, citations, charts), not
written down here.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import pytest
from docx.oxml.ns import qn
from sqlalchemy import select

from evidence.assessment import round_view as round_view_module
from evidence.assessment.round_view import RoundView, live_view
from evidence.db import db
from evidence.demo import load_demo
from evidence.framework_sync import sync_framework
from evidence.models import Round
from exports import palette
from exports.pdf import build_pdf
from exports.report import Report, build_report, unmarked
from exports.word import build_docx
from portal import create_app
from quality_statements import scoring
from tests.conftest import _empty_all_tables
from tests.exports.documents import (
    all_text,
    body_paragraphs,
    field_instructions,
    headings,
    image_draws,
    open_docx,
    open_pdf,
    outline_titles,
    pdf_text,
)
from tests.tools import soffice

GENERATED = datetime(2027, 1, 5, 9, 15, 0)
DEMO_ROUND = "Winter 2026 self-assessment"
SUBSECTIONS_2 = ["What people expect", "The local authority commitment", "Key findings", "Evidence cited"]


@dataclass
class Built:
    view: RoundView
    report: Report
    docx: bytes
    pdf: bytes
    seconds: dict[str, float]


@pytest.fixture(scope="module")
def demo(_schema) -> Built:
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": _schema})
    round_view_module.clear_cache()
    with app.app_context():
        _empty_all_tables()
        sync_framework()
        load_demo()
        view = live_view(db.session.scalar(select(Round).where(Round.name == DEMO_ROUND)))
        _empty_all_tables()
        db.session.remove()
    seconds = {}
    started = time.perf_counter()
    word = build_docx(view, GENERATED)
    seconds["docx"] = time.perf_counter() - started
    started = time.perf_counter()
    pdf = build_pdf(view, GENERATED)
    seconds["pdf"] = time.perf_counter() - started
    return Built(view, build_report(view, GENERATED), word, pdf, seconds)


def scores(view: RoundView) -> list[tuple[str, int]]:
    return [(s.name, view.assessments[s.key].score) for s in view.statements]


# --- Word --------------------------------------------------------------------------------------------


def test_word_has_every_statement_heading_then_its_score_and_label_in_order(demo):
    document = open_docx(demo.docx)
    assert headings(document, 1) == ["Summary", *(s.name for s in demo.view.statements)]
    paragraphs = body_paragraphs(document)
    for name, score in scores(demo.view):
        at = next(i for i, p in enumerate(paragraphs) if p.style.name == "Heading 1" and p.text == name)
        assert paragraphs[at + 1].text == f"Score: {score}", name
        assert paragraphs[at + 2].text == scoring.label_for(score), name
        assert paragraphs[at - 1].text.startswith("THEME: "), name


def test_word_sections_follow_the_cqc_page_order(demo):
    paragraphs = body_paragraphs(open_docx(demo.docx))
    starts = [*(i for i, p in enumerate(paragraphs) if p.style.name == "Heading 1"), len(paragraphs)][1:]
    for section, (start, end) in zip(demo.report.sections, pairwise(starts), strict=True):
        within = paragraphs[start:end]
        assert [p.text for p in within if p.style.name == "Heading 2"] == SUBSECTIONS_2, section.name
        level_3 = ["Strengths", "Areas for improvement", "Category scores", "Actions"]
        level_3 += ["In their words"] if section.quotes else []
        level_3 += ["Trends"] if section.charts else []
        assert [p.text for p in within if p.style.name == "Heading 3"] == level_3, section.name
        expected = [unmarked(t) for t in demo.view.statement(section.key).i_statements]
        assert [p.text for p in within if p.style.name == "List Bullet"][: len(expected)] == expected


def test_word_headings_are_words_own_heading_styles(demo):
    document = open_docx(demo.docx)
    for level in (1, 2, 3):
        style = document.styles[f"Heading {level}"]
        assert style.style_id == f"Heading{level}" and style.type == 1  # a paragraph style
        outline = style.element.pPr.find(qn("w:outlineLvl"))
        assert outline is not None and outline.get(qn("w:val")) == str(level - 1)
    # a lead's own "# heading" in a markdown field never becomes a Word heading
    assert all(p.text.strip() for p in document.paragraphs if p.style.name.startswith("Heading"))


def test_word_cover_contents_header_and_footer(demo):
    document = open_docx(demo.docx)
    overall = demo.view.rollup().overall
    first = [p.text for p in document.paragraphs[:12]]
    assert demo.view.authority in first and DEMO_ROUND in first
    assert f"{overall.percent}%  {overall.band}" in first
    cover_facts = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert cover_facts[0] == ["Status", "Draft"]
    assert cover_facts[1][0] == "Made" and cover_facts[1][1].startswith("5 January 2027")
    body = document.element.body
    toc = [i for i in field_instructions(body) if i.startswith("TOC")]
    assert toc == ['TOC \\o "1-1" \\h \\z \\u']
    contents = [p.text for p in document.paragraphs if p.style.name == "toc 1"]
    assert contents == ["Summary", *(f"{n}. {s.name}" for n, s in enumerate(demo.view.statements, start=1))]
    assert document.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert section.different_first_page_header_footer  # the cover carries neither
    assert section.header.paragraphs[0].text == f"{demo.view.authority}\t{DEMO_ROUND}"
    footer = section.footer.paragraphs[0]
    assert footer.text.startswith(f"{DEMO_ROUND} · Draft\tPage ")
    assert field_instructions(section.footer._element) == ["PAGE", "NUMPAGES"]


def test_word_summary_table_wears_the_score_colours(demo):
    document = open_docx(demo.docx)
    summary = document.tables[1]
    header = [c.text for c in summary.rows[0].cells]
    assert header == ["Theme", "Quality statement", "Score", "Label"]
    rows = summary.rows[1:]
    assert [(r.cells[1].text, int(r.cells[2].text)) for r in rows] == scores(demo.view)
    for row in rows:
        colours = palette.score_colours(int(row.cells[2].text))
        shading = row.cells[2]._tc.tcPr.find(qn("w:shd"))
        assert shading.get(qn("w:fill")) == colours.background
        assert str(row.cells[3].paragraphs[0].runs[0].font.color.rgb) == colours.text


def test_word_charts_are_images_one_per_cited_metric(demo):
    document = open_docx(demo.docx)
    charts = [c for s in demo.report.sections for c in s.charts]
    assert charts, "the demo cites metrics with values"
    assert len(document.inline_shapes) == len(charts)
    for shape in document.inline_shapes:
        assert round(shape.width.cm, 1) == 16.0
    images = [p for p in document.part.package.parts if p.content_type == "image/png"]
    assert len(images) == len({c.item.id for c in charts})  # a metric cited twice is stored once
    assert all(image.blob.startswith(b"\x89PNG") for image in images)
    descriptions = [e.get("descr") for e in document.element.body.iter(qn("wp:docPr"))]
    assert descriptions == [f"{c.title}: {c.caption}" for c in charts]


def test_word_evidence_cited_lists_each_citation_in_order(demo):
    document = open_docx(demo.docx)
    text = all_text(document)
    for section in demo.report.sections:
        assert [e.reference for e in section.evidence] == demo.view.assessments[section.key].citations
    safe = next(s for s in demo.report.sections if s.key == "safe-pathways")
    table = next(t for t in document.tables if t.rows[1].cells[0].text == safe.evidence[0].reference)
    assert [r.cells[0].text for r in table.rows[1:]] == [e.reference for e in safe.evidence]
    metric = next(e for e in safe.evidence if e.reading)
    assert metric.reading in text and " in " in metric.reading


# --- PDF ---------------------------------------------------------------------------------------------


def test_pdf_has_every_statement_heading_then_its_score_and_label_in_order(demo):
    reader = open_pdf(demo.pdf)
    pages = pdf_text(reader)
    outline = outline_titles(reader)
    assert [title for title, _ in outline] == ["Contents", "Summary", *(s.name for s in demo.view.statements)]
    numbers = [page for _, page in outline]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    for (name, score), (_, page) in zip(scores(demo.view), outline[2:], strict=True):
        lines = [line.strip() for line in pages[page].splitlines()]
        at = lines.index(name)
        assert lines[at + 1 : at + 3] == [f"Score: {score}", scoring.label_for(score)], name
        assert lines[at - 1].startswith("THEME: "), name


def test_pdf_pages_are_a_finished_report(demo):
    reader = open_pdf(demo.pdf)
    pages = pdf_text(reader)
    assert 10 <= len(pages) <= 60
    for number, text in enumerate(pages[1:], start=2):  # the cover has no running header or footer
        assert demo.view.authority in text and f"Page {number} of {len(pages)}" in text, number
    assert f"Page 1 of {len(pages)}" not in pages[0]
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    contents = pages[1]
    for title, page in outline_titles(reader)[1:]:
        assert re.search(rf"{re.escape(title)}\s*\.+\s*{page + 1}\b", contents), title


def test_pdf_charts_are_drawn_as_images_one_per_cited_metric(demo):
    reader = open_pdf(demo.pdf)
    draws = image_draws(reader)
    charts = [c for s in demo.report.sections for c in s.charts]
    assert sum(draws) == len(charts) > 0
    first_chart_page = next(i for i, n in enumerate(draws) if n)
    assert charts[0].title in pdf_text(reader)[first_chart_page]


def test_pdf_metadata_carries_the_round_and_one_fixed_time(demo):
    reader = open_pdf(demo.pdf)
    info = reader.metadata
    assert info["/Title"] == f"{DEMO_ROUND} · {demo.view.authority}"
    assert info["/Author"] == demo.view.authority
    assert info["/CreationDate"] == info["/ModDate"] == "D:20270105091500Z"
    assert len(reader.trailer["/ID"]) == 2


def test_both_documents_build_quickly_and_stay_small(demo):
    assert demo.seconds["docx"] < 30 and demo.seconds["pdf"] < 60, demo.seconds
    assert len(demo.docx) < 2_000_000 and len(demo.pdf) < 2_000_000


@pytest.mark.slow
def test_libreoffice_opens_the_word_document(demo, tmp_path):
    office = soffice()
    source = tmp_path / "report.docx"
    source.write_bytes(demo.docx)
    done = subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    converted = tmp_path / "report.pdf"
    assert converted.exists(), done.stdout + done.stderr
    reader = open_pdf(converted.read_bytes())
    assert 10 <= len(reader.pages) <= 60
    text = "\n".join(pdf_text(reader))
    assert all(s.name in text for s in demo.view.statements)
