"""The markdown pack: the index, one CQC-style document per statement, resolved citations, manifest, escaping."""

from __future__ import annotations

import hashlib
import re
import zipfile
from datetime import date, datetime
from io import BytesIO

import markdown
import pytest

from evidence.assessment.round_view import live_view, round_view
from evidence.db import db
from evidence.library.metrics import format_value
from exports.markdown_pack import MANIFEST, README, build_markdown_pack, statement_markdown
from exports.text import close_fences, md_block, md_cell, md_inline, period_text, slugify
from tests.exports.test_workbook import GENERATED, build_round, sign_off

DOCUMENTS = [
    "statements/01-assessing-needs.md",
    "statements/02-healthier-lives.md",
    "statements/03-equity.md",
    "statements/04-care-provision.md",
    "statements/05-partnerships.md",
    "statements/06-safe-pathways.md",
    "statements/07-safeguarding.md",
    "statements/08-governance.md",
    "statements/09-learning.md",
]


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def html(text: str) -> str:
    """Rendered as a markdown viewer would, with no sanitiser in the way."""
    return markdown.markdown(text, extensions=["tables", "fenced_code"])


def table_rows(document: str, header: str) -> list[list[str]]:
    """The body rows of the markdown table under ``header``, split on unescaped pipes."""
    lines = document.split("\n")
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rows.append([c.strip() for c in cells])
    return rows


@pytest.fixture
def built(app):
    return build_round()


@pytest.fixture
def pack(built):
    return unzip(build_markdown_pack(live_view(built["round"]), GENERATED))


def test_the_pack_holds_an_index_a_document_per_statement_and_a_manifest(pack):
    assert sorted(pack) == sorted([README, MANIFEST, *DOCUMENTS])


def test_every_statement_document_reads_like_a_cqc_page(pack):
    for name in DOCUMENTS:
        doc = pack[name]
        headings = [line for line in doc.split("\n") if line.startswith("#")]
        assert headings[0].startswith("# ") and headings[1].startswith("## Score: "), name
        expected = [
            "## The local authority commitment",
            "## Key findings",
            "### Strengths",
            "### Areas for improvement",
            "### Actions",
            "## Evidence cited",
        ]
        assert [h for h in headings if h in expected] == expected, name
        assert "Theme: " in doc and "Self-assessment round: Winter 2026 self-assessment" in doc, name
        leadership = name.endswith(("08-governance.md", "09-learning.md"))
        if leadership:
            assert "## What people expect" in doc and "sets out no “I statements”" in doc, name
        else:
            expect = doc.split("## What people expect\n\n")[1].split("\n\n")[0]
            assert expect.startswith("- "), name


def test_a_known_statement_has_its_score_label_text_and_actions(pack, built):
    doc = pack["statements/06-safe-pathways.md"]
    assert doc.startswith("# Safe pathways, systems and transitions\n")
    assert "Theme: How the local authority ensures safety within the system" in doc
    assert "## Score: 3\n\nEvidence shows a good standard\n\n## What people expect\n" in doc
    assert f"Discharge improved over the winter [E-{built['metric'].id}]." in doc
    assert "- When I move between services" in doc
    assert "We work with people and partners to keep systems of care safe" in doc
    assert "- Overnight AMHP cover doubled" in doc
    actions = table_rows(doc, "| action | owner | due | status |")
    due = built["action"].due_date
    assert actions == [["Deliver transitions training \\| to locality teams", "Head of Transitions",
                        f"{due.day} {due:%b %Y}", "Open"]]  # fmt: skip


def test_each_cited_reference_resolves_to_the_item(pack, built):
    doc = pack["statements/06-safe-pathways.md"]
    rows = {row[0]: row for row in table_rows(doc, "| ref | kind | title | source | period | category | stance |")}
    metric, survey, quote = built["metric"], built["survey"], built["quote"]
    assert list(rows) == [metric.reference, survey.reference, quote.reference, "E-99999"]  # first-cited order
    assert rows[metric.reference] == [
        metric.reference,
        "Metric",
        "Over-65s discharged to their usual place of residence: 85% in 2026 Q3 "
        "(target 95%; England average 82%; Region 84.5%)",
        "BI team",
        "Apr–Jun 2026",
        "Processes",
        "Shortfall",
    ]
    assert rows[survey.reference][1:3] == ["Survey finding", "Adult transitions staff survey: confidence (n = 212)"]
    assert rows[survey.reference][5:] == ["Feedback from staff and leaders", "Shortfall"]
    assert rows["E-99999"][2] == "not among the accepted evidence of this round"
    # cited elsewhere but not mapped to this statement: said so, not hidden
    equity = pack["statements/03-equity.md"]
    equity_rows = table_rows(equity, "| ref | kind | title | source | period | category | stance |")
    assert [survey.reference, "Survey finding"] == equity_rows[0][:2]
    assert equity_rows[0][5] == "not mapped to this statement"


def test_quotes_appear_with_the_speakers_role_never_a_name(pack, built):
    doc = pack["statements/06-safe-pathways.md"]
    block = doc.split("### In their words\n\n")[1]
    assert block.startswith("> “We went a year without a ward social worker")
    assert f"> — Participant 2, staff · barrier [{built['quote'].reference}]" in block
    everything = "\n".join(pack.values())
    assert "Alex Jones" not in everything and "alex.jones" not in everything


def test_the_readme_indexes_the_round_and_links_every_document(pack):
    readme = pack[README]
    assert readme.startswith("# Winter 2026 self-assessment\n")
    assert "- **Status:** Open: a working draft, not signed off" in readme
    assert "- **Overall rating:** 75% Good (27 of 36 points across 9 quality statements)" in readme
    themes = table_rows(readme, "| theme (indicative) | percentage | band |")
    assert ["Leadership", "88%", "Outstanding"] in themes
    assert ["**Overall**", "**75%**", "**Good**"] in themes
    statements = table_rows(readme, "| theme | quality statement | score | label |")
    assert statements[2] == [
        "How the local authority works with people",
        "[Equity in experience and outcomes](statements/03-equity.md)",
        "2",
        "Evidence shows some shortfalls",
    ]
    links = re.findall(r"\]\((statements/[^)]+)\)", readme)
    assert set(links) == set(DOCUMENTS)


def test_the_manifest_holds_the_sha256_of_every_other_file(pack):
    lines = pack[MANIFEST].strip().split("\n")
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert sorted(listed) == sorted([README, *DOCUMENTS])
    for name, digest in listed.items():
        assert hashlib.sha256(pack[name].encode("utf-8")).hexdigest() == digest, name


def test_a_signed_off_round_exports_byte_identically_and_stays_frozen(built, make_user):
    director = make_user("manager", name="Director of Adult Social Care")
    round_ = sign_off(built["round"], by=director)
    first = build_markdown_pack(round_view(round_), GENERATED)
    built["metric"].title = "Changed after sign-off"
    db.session.commit()
    second = build_markdown_pack(round_view(round_), datetime(2027, 3, 1, 8, 0, 0))
    assert first == second
    with zipfile.ZipFile(BytesIO(first)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {(2026, 12, 14, 16, 20, 0)}
    files = unzip(first)
    assert "(signed off 14 December 2026 by Director of Adult Social Care)" in files[DOCUMENTS[0]]
    assert "- **Status:** Signed off 14 December 2026 by Director of Adult Social Care" in files[README]
    assert "*Generated by Assure from the signed-off round; manifest SHA-256 in `MANIFEST.txt`.*" in files[DOCUMENTS[5]]
    # the portal's preview is the same text as the document in the pack
    assert statement_markdown(round_view(round_), "safe-pathways") == files["statements/06-safe-pathways.md"]


def test_hostile_text_cannot_break_a_table_or_open_raw_html(pack, built):
    equity = pack["statements/03-equity.md"]
    assert "<script" not in equity and "&lt;script>" in equity
    rendered = html(equity)
    assert "<script" not in rendered
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, flags=re.S)
    piped = next(r for r in rows if built["piped"].reference in r)
    assert piped.count("<td>") == 7  # the pipe in the title and source stayed inside their cells
    assert "Carers | survey" in piped
    # prose keeps its markdown: the pipe in key findings is left as written
    assert f"Carers said so | plainly &lt;script>alert('x')&lt;/script> [{built['piped'].reference}]." in equity
    assert "<script" not in "\n".join(pack.values())


def test_an_unclosed_code_fence_cannot_swallow_the_rest_of_the_document(built):
    assessment = next(a for a in built["round"].assessments if a.statement.key == "learning")
    assessment.key_findings = "Before\n\n```\ncode that never ends <b>"
    db.session.commit()
    doc = statement_markdown(live_view(built["round"]), "learning")
    rendered = html(doc)
    assert "<h3>Strengths</h3>" in rendered and "<h2>Evidence cited</h2>" in rendered
    assert "<b>" not in rendered


def test_unknown_statement_is_refused(built):
    with pytest.raises(KeyError):
        statement_markdown(live_view(built["round"]), "no-such-statement")


def test_an_unscored_statement_says_so(app):
    from tests.factories import make_round

    round_ = make_round("Spring 2027", scores={"assessing-needs": None})
    pack = unzip(build_markdown_pack(live_view(round_), GENERATED))
    assert "## Score: not scored" in pack[DOCUMENTS[0]]
    assert "- **Overall rating:** incomplete: 9 of 9 quality statements are not scored" in pack[README]


# --- the text helpers ---------------------------------------------------------------------------


def test_md_cell_keeps_a_value_in_one_cell_and_out_of_html():
    assert md_cell("a | b\nc\r\nd") == "a \\| b c d"
    assert md_cell("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)>"
    assert md_cell(None) == "" and md_cell(12) == "12"


def test_md_block_passes_markdown_through_but_not_html():
    text = "**Bold** and _em_ [E-1]\n\n- a list\n> a quote"
    assert md_block(text) == text
    assert md_block("<!-- hidden --> <a href='x'>") == "&lt;!-- hidden --> &lt;a href='x'>"
    assert md_block("line\r\nbreaks\r") == "line\nbreaks"
    assert md_inline("two\nlines") == "two lines"


def test_close_fences():
    assert close_fences("```python\nx = 1") == "```python\nx = 1\n```"
    assert close_fences("```\nx\n```") == "```\nx\n```"
    assert close_fences("~~~~\nx\n~~~") == "~~~~\nx\n~~~\n~~~~"  # a shorter fence does not close it
    assert close_fences("```not`a fence") == "```not`a fence"


def test_periods_numbers_and_slugs():
    assert period_text(date(2026, 4, 1), date(2026, 6, 30)) == "Apr–Jun 2026"
    assert period_text(date(2026, 9, 1), date(2026, 9, 30)) == "Sep 2026"
    assert period_text(date(2026, 1, 1), date(2026, 12, 31)) == "2026"
    assert period_text(date(2025, 10, 1), date(2026, 3, 31)) == "Oct 2025 – Mar 2026"
    assert period_text(date(2026, 4, 3), date(2026, 6, 17)) == "3 Apr 2026 – 17 Jun 2026"
    assert period_text(date(2026, 4, 3)) == "3 Apr 2026" and period_text(None) == ""
    assert format_value(85.0, "%") == "85%" and format_value(12345.678, "days") == "12,345.68 days"
    assert format_value(0.5, None) == "0.5"
    assert slugify("Winter 2026 self-assessment") == "winter-2026-self-assessment"
    assert slugify("«»") == "export"
