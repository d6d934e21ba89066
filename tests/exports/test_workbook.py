"""The Excel workbook: every sheet, the values of a known statement, charts, colours, formula safety, reproducibility.

``build_round`` and ``sign_off`` are shared with the other export tests.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook

from evidence.assessment.round_view import live_view, round_view
from evidence.db import db
from evidence.models import Assessment, Round, User
from evidence.vocab import Kind, RoundStatus
from exports import palette
from exports.workbook import SHEET_NAMES, build_workbook
from tests.factories import make_action, make_item, make_round, statement

GENERATED = datetime(2027, 1, 5, 9, 15, 0)
SIGNED_OFF = datetime(2026, 12, 14, 16, 20, 0)
HOSTILE_TITLES = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1", "-1", "\tTabbed", "#N/A"]


def build_round(name: str = "Winter 2026 self-assessment") -> dict:
    """A round of every statement scored 3, with a survey, a metric, a quote and hostile text."""
    submitter = User(email="alex.jones@example.gov.uk", name="Alex Jones", role="staff", password_hash="x")
    db.session.add(submitter)
    survey = make_item(
        "Adult transitions staff survey: confidence (n = 212)",
        Kind.SURVEY,
        mappings=[("safe-pathways", "staff-leaders", "shortfall")],
        survey_name="Transitions survey",
        respondents=212,
        result_percent=61,
        period_start=date(2026, 4, 1),
        period_end=date(2026, 6, 30),
        commit=False,
    )
    metric = make_item(
        "Over-65s discharged to their usual place of residence",
        Kind.METRIC,
        mappings=[("safe-pathways", "processes", "shortfall"), ("care-provision", "processes", "context")],
        points=[
            (date(2026, 1, 1), "2026 Q1", 80),
            (date(2026, 4, 1), "2026 Q2", 83),
            (date(2026, 7, 1), "2026 Q3", 85),
        ],
        unit="%",
        direction="higher",
        target=95,
        comparators={
            "England average": [
                (date(2026, 1, 1), "2026 Q1", 81),
                (date(2026, 4, 1), "2026 Q2", 81.5),
                (date(2026, 7, 1), "2026 Q3", 82),
            ],
            "Region": [(date(2026, 4, 1), "2026 Q2", 84), (date(2026, 7, 1), "2026 Q3", 84.5)],
        },
        source="BI team",
        commit=False,
    )
    quote = make_item(
        "Ward social worker cover",
        Kind.QUOTE,
        mappings=[("safe-pathways", "staff-leaders", "shortfall")],
        quote_text="We went a year without a ward social worker, with people covering for each other.",
        speaker_role="Participant 2",
        voice="staff",
        quote_tone="barrier",
        source="Staff interviews",
        submitted_by=submitter,
        commit=False,
    )
    hostile = [
        make_item(
            title,
            Kind.DOCUMENT,
            mappings=[("governance", "processes", "context")],
            evidences="Board minutes",
            commit=False,
        )
        for title in HOSTILE_TITLES
    ]
    hostile[0].summary = "@SUM(A1) in a summary"
    hostile[0].source = "=1+1"
    hostile[0].mappings[0].note = "-2 from the board"
    piped = make_item(
        "Carers | survey <script>alert(1)</script>",
        Kind.SURVEY,
        mappings=[("equity", "peoples-experience", "strength")],
        source="Carers' centre | annual",
        commit=False,
    )
    unmapped = make_item("Draft market position statement", Kind.DOCUMENT, evidences="Commissioning", commit=False)
    round_ = make_round(name)
    for s_key in (
        "assessing-needs", "healthier-lives", "equity", "care-provision", "partnerships",
        "safe-pathways", "safeguarding", "governance", "learning",
    ):  # fmt: skip
        db.session.add(
            Assessment(round=round_, statement=statement(s_key), score=3, rationale=f"Cites [E-{survey.id}].")
        )
    safe = _assessment(round_, "safe-pathways")
    safe.rationale = f"Discharge improved over the winter [E-{metric.id}]."
    safe.key_findings = (
        f"Staff are not yet confident about transitions [E-{survey.id}].\n\n"
        f"Cover for wards was thin [E-{quote.id}]. Unknown evidence is cited too [E-99999]."
    )
    safe.strengths = f"- Overnight AMHP cover doubled [E-{metric.id}]."
    safe.areas_for_improvement = "- Access to the trust's records for AMHPs."
    equity = _assessment(round_, "equity")
    equity.score = 2
    equity.key_findings = f"Carers said so | plainly <script>alert('x')</script> [E-{piped.id}]."
    governance = _assessment(round_, "governance")
    governance.score = 4
    governance.rationale = '=HYPERLINK("http://x","y") in a rationale'
    db.session.commit()
    action = make_action(
        "safe-pathways",
        "Deliver transitions training | to locality teams",
        owner="Head of Transitions",
        round_id=round_.id,
    )
    return {
        "round": round_,
        "survey": survey,
        "metric": metric,
        "quote": quote,
        "hostile": hostile,
        "piped": piped,
        "unmapped": unmapped,
        "action": action,
        "submitter": submitter,
    }


def _assessment(round_: Round, key: str) -> Assessment:
    return next(a for a in round_.assessments if a.statement.key == key)


def sign_off(round_: Round, by: User | None = None, at: datetime = SIGNED_OFF) -> Round:
    """Freeze a round as the rounds feature does: status, time, who, and the snapshot."""
    round_.status = RoundStatus.SIGNED_OFF
    round_.signed_off_at = at
    round_.signed_off_by = by
    db.session.commit()
    round_.snapshot = live_view(round_).to_dict()
    db.session.commit()
    return round_


def open_workbook(data: bytes):
    return load_workbook(BytesIO(data))


def rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


@pytest.fixture
def built(app):
    return build_round()


@pytest.fixture
def workbook(built):
    return open_workbook(build_workbook(live_view(built["round"]), GENERATED))


def test_every_sheet_is_present_in_order(workbook):
    assert workbook.sheetnames == list(SHEET_NAMES)


def test_table_sheets_have_their_header_row_frozen_filtered_and_printed(workbook):
    headers = {
        "Quality statements": ("Theme", "Quality statement", "Score", "Label", "Rationale", "Key findings"),
        "Evidence register": ("Reference", "Kind", "Title", "Summary", "Source", "Period start", "Period end",
                              "Review by", "Stale", "Quality statement", "Evidence category", "Stance", "Note"),
        "Metrics": ("Reference", "Metric", "Unit", "Direction", "Period", "Period start", "Value", "Target",
                    "England average", "Region"),
        "Quotes": ("Reference", "Quote", "Speaker's role", "Voice", "Tone", "Source", "Quality statements"),
        "Actions": ("Quality statement", "Action", "Owner", "Due", "Status", "Overdue"),
        "Gaps": ("Quality statement", "Evidence category", "Gap", "Detail"),
    }  # fmt: skip
    for name, expected in headers.items():
        ws = workbook[name]
        header = rows(ws)[0]
        assert header[: len(expected)] == expected, name
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws.print_title_rows == "$1:$1", name
        assert ws.page_setup.orientation == "landscape", name
        if name in ("Quality statements", "Evidence register"):  # too wide to fit a page readably
            assert not ws.sheet_properties.pageSetUpPr.fitToPage, name
            assert ws.print_title_cols and ws.page_setup.pageOrder == "overThenDown", name
        else:
            assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws["A1"].font.bold, name
        assert ws.column_dimensions["A"].width >= 8, name


def test_summary_shows_the_round_the_overall_rating_themes_and_statement_scores(workbook, built):
    ws = workbook["Summary"]
    values = rows(ws)
    flat = [v for row in values for v in row if v is not None]
    assert "Winter 2026 self-assessment" in flat
    assert "Open: a working draft, not signed off" in flat
    overall = next(row for row in values if row[0] == "Overall rating")
    # 7 statements at 3, equity 2, governance 4: 27/36 = 75% Good
    assert overall[1] == pytest.approx(0.75)
    assert overall[2] == "Good"
    assert any("indicative" in str(v).lower() for v in flat)
    theme_row = next(row for row in values if row[0] == "Leadership" and row[1] is not None and row[2] is not None)
    assert theme_row[1] == pytest.approx(0.88) and theme_row[2] == "Outstanding"  # (4 + 3) / 8 = 87.5 -> 88%
    statement_rows = {row[1]: row for row in values if row[0] and row[1] and row[3] and "Evidence shows" in row[3]}
    assert statement_rows["Equity in experience and outcomes"][2:4] == (2, "Evidence shows some shortfalls")
    # colours: score 2 wears the palette's score-2 colours, Good the score-3 colours
    equity_cell = next(c for row in ws.iter_rows() for c in row if c.value == "Equity in experience and outcomes")
    score_cell = ws.cell(row=equity_cell.row, column=3)
    assert score_cell.fill.fgColor.rgb.endswith(palette.SCORE_COLOURS[2].background)
    assert score_cell.font.color.rgb.endswith(palette.SCORE_COLOURS[2].text)
    band_cell = next(c for row in ws.iter_rows() for c in row if c.value == "Good")
    assert band_cell.fill.fgColor.rgb.endswith(palette.BAND_COLOURS["Good"].background)


def test_quality_statements_sheet_holds_a_known_statement(workbook, built):
    ws = workbook["Quality statements"]
    header, *body = rows(ws)
    assert len(body) == 9
    safe = dict(zip(header, next(r for r in body if r[1] == "Safe pathways, systems and transitions"), strict=True))
    assert safe["Theme"] == "How the local authority ensures safety within the system"
    assert safe["Score"] == 3
    assert safe["Label"] == "Evidence shows a good standard"
    assert safe["Rationale"] == f"Discharge improved over the winter [E-{built['metric'].id}]."
    assert safe["Key findings"].startswith("Staff are not yet confident")
    assert safe["Strengths"].startswith("- Overnight AMHP")  # starts with "-": still the literal text
    assert f"E-{built['survey'].id}" in safe["Evidence cited"]
    assert safe["Feedback from staff and leaders (items)"] == 2
    assert safe["Processes (items)"] == 1
    assert safe["People's experience (items)"] == 0
    assert ws.cell(row=2, column=5).alignment.wrap_text


def test_evidence_register_has_a_row_per_item_and_mapping(workbook, built):
    header, *body = rows(workbook["Evidence register"])
    metric_rows = [dict(zip(header, r, strict=True)) for r in body if r[0] == built["metric"].reference]
    assert [r["Quality statement"] for r in metric_rows] == [
        "Safe pathways, systems and transitions",
        "Care provision, integration and continuity",
    ]
    first = metric_rows[0]
    assert first["Kind"] == "Metric"
    assert first["Evidence category"] == "Processes"
    assert first["Stance"] == "Shortfall"
    assert first["Stale"] == "No"
    assert first["Period start"].date() == date(2026, 4, 1)
    unmapped = [r for r in body if r[0] == built["unmapped"].reference]
    assert len(unmapped) == 1 and unmapped[0][9] is None
    # one row per mapping, one per unmapped item
    assert len(body) == 1 + 2 + 1 + len(HOSTILE_TITLES) + 1 + 1


def test_metrics_sheet_has_the_series_and_a_native_line_chart_per_metric(workbook, built):
    ws = workbook["Metrics"]
    header, *body = rows(ws)
    series = [dict(zip(header, r, strict=True)) for r in body if r[0] == built["metric"].reference]
    # each comparator series beside the council's own value, period by period
    assert [(r["Period"], r["Value"], r["Target"], r["England average"], r["Region"]) for r in series] == [
        ("2026 Q1", 80, 95, 81, None),
        ("2026 Q2", 83, 95, 81.5, 84),
        ("2026 Q3", 85, 95, 82, 84.5),
    ]
    assert len(ws._charts) == 1
    chart = ws._charts[0]
    assert chart.tagname == "lineChart"
    titles = [s.tx.v for s in chart.series]
    assert titles == ["Value", "Target", "England average", "Region"]
    assert chart.series[0].val.numRef.f == "'Metrics'!$G$2:$G$4"
    assert [s.val.numRef.f for s in chart.series[2:]] == ["'Metrics'!$I$2:$I$4", "'Metrics'!$J$2:$J$4"]
    # a percentage's axis starts at 0, and the latest value (2026 Q3, the third row) is labelled
    assert chart.y_axis.scaling.min == 0
    assert [label.idx for label in chart.series[0].dLbls.dLbl] == [2]
    assert chart.series[0].dLbls.dLbl[0].showVal


def test_quotes_sheet_shows_the_speakers_role_and_never_a_name(workbook, built):
    header, *body = rows(workbook["Quotes"])
    assert "Speaker's role" in header and not any("name" in h.lower() for h in header)
    quote = dict(zip(header, body[0], strict=True))
    assert quote["Quote"].startswith("We went a year")
    assert quote["Speaker's role"] == "Participant 2"
    assert quote["Voice"] == "Staff" and quote["Tone"] == "Barrier"
    assert quote["Quality statements"] == "Safe pathways, systems and transitions"
    everything = [v for ws in workbook.worksheets for row in rows(ws) for v in row]
    assert "Alex Jones" not in everything and "alex.jones@example.gov.uk" not in everything


def test_actions_and_gaps_sheets(workbook, built):
    header, *body = rows(workbook["Actions"])
    action = dict(zip(header, body[0], strict=True))
    assert action["Action"] == "Deliver transitions training | to locality teams"
    assert action["Status"] == "Open" and action["Overdue"] == "No"
    header, *body = rows(workbook["Gaps"])
    gaps = [dict(zip(header, r, strict=True)) for r in body]
    expected = {
        "Quality statement": "Assessing needs",
        "Evidence category": "People's experience",
        "Gap": "No accepted evidence",
        "Detail": "No accepted evidence under People's experience.",
    }
    assert expected in gaps


def test_text_that_looks_like_a_formula_is_stored_as_text(workbook, built):
    ws = workbook["Evidence register"]
    cells = {ws.cell(row=r, column=3).value: ws.cell(row=r, column=3) for r in range(2, ws.max_row + 1)}
    for title in HOSTILE_TITLES:
        cell = cells[title]
        assert cell.value == title
        assert cell.data_type == "s", title
    for title in ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1", "-1", "\tTabbed"]:
        assert cells[title].quotePrefix, title
    assert not cells["Draft market position statement"].quotePrefix
    row = cells['=HYPERLINK("http://x","y")'].row
    assert ws.cell(row=row, column=4).value == "@SUM(A1) in a summary"
    assert ws.cell(row=row, column=5).value == "=1+1" and ws.cell(row=row, column=5).data_type == "s"
    assert ws.cell(row=row, column=13).value == "-2 from the board"
    rationale = next(r for r in workbook["Quality statements"].iter_rows(min_row=2) if r[1].value.startswith("Gov"))[4]
    assert rationale.value.startswith("=HYPERLINK") and rationale.data_type == "s"


def test_no_formula_is_written_anywhere(built):
    data = build_workbook(live_view(built["round"]), GENERATED)
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(SHEET_NAMES)
        formats = int(re.search(rb'<cellXfs count="(\d+)"', archive.read("xl/styles.xml")).group(1))
        for name in sheets:
            xml = archive.read(name)
            assert b"<f>" not in xml and b"<f " not in xml, name
            # every cell's style is one the workbook defines (a dangling one makes Excel repair the file)
            assert max(int(n) for n in re.findall(rb' s="(\d+)"', xml)) < formats, name


def test_control_characters_are_dropped_rather_than_breaking_the_file(app):
    make_item("Bell\x07 and form feed\x0c in a title", Kind.DOCUMENT, mappings=[("learning", "processes", "context")])
    round_ = make_round("Spring")
    wb = open_workbook(build_workbook(live_view(round_), GENERATED))
    assert rows(wb["Evidence register"])[1][2] == "Bell and form feed in a title"


def test_an_empty_round_still_makes_a_workbook(app):
    round_ = make_round("Empty round")
    wb = open_workbook(build_workbook(live_view(round_), GENERATED))
    assert rows(wb["Evidence register"])[1][0] == "No accepted evidence."
    overall = next(row for row in rows(wb["Summary"]) if row[0] == "Overall rating")
    assert overall[1] == "Incomplete"
    assert wb["Metrics"]._charts == []


def test_signed_off_round_exports_byte_identically_with_its_sign_off_time(built):
    round_ = sign_off(built["round"])
    first = build_workbook(round_view(round_), GENERATED)
    second = build_workbook(round_view(round_), datetime(2027, 6, 1, 12, 0, 0))
    assert first == second
    wb = open_workbook(first)
    assert wb.properties.created == SIGNED_OFF and wb.properties.modified == SIGNED_OFF
    with zipfile.ZipFile(BytesIO(first)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {(2026, 12, 14, 16, 20, 0)}
    summary = rows(wb["Summary"])
    assert ("Status", "Signed off on 14 December 2026") in [r[:2] for r in summary]


def test_an_open_round_carries_the_time_it_was_generated(built):
    wb = open_workbook(build_workbook(live_view(built["round"]), GENERATED))
    assert wb.properties.created == GENERATED and wb.properties.modified == GENERATED


def test_builders_need_no_app_or_database():
    """The exporters read a RoundView and nothing else: one built by hand will do."""
    from evidence.assessment.round_view import AssessmentView, ItemView, MappingView, RoundView, StatementView
    from exports.markdown_pack import build_markdown_pack

    view = RoundView(
        round_id=1,
        name="Hand-made round",
        status="open",
        created_at=datetime(2026, 1, 1),
        signed_off_at=None,
        signed_off_by=None,
        authority="Example County Council",
        framework_version="test",
        as_of=date(2026, 6, 1),
        themes=[("leadership", "Leadership")],
        categories=[("processes", "Processes")],
        statements=[StatementView("governance", "Governance", "leadership", "Leadership", "We govern well.", [])],
        items={7: ItemView(7, "document", "Board minutes", "", "Board", None, None, None, {})},
        mappings=[MappingView(7, "governance", "processes", "strength", "")],
        assessments={"governance": AssessmentView("governance", 4, "See [E-7].", "", "", "")},
        actions=[],
    )
    wb = open_workbook(build_workbook(view, GENERATED))
    assert rows(wb["Quality statements"])[1][:4] == (
        "Leadership",
        "Governance",
        4,
        "Evidence shows an exceptional standard",
    )
    with zipfile.ZipFile(BytesIO(build_markdown_pack(view, GENERATED))) as archive:
        assert (
            "| E-7 | Document / process | Board minutes | Board |"
            in archive.read("statements/01-governance.md").decode()
        )
