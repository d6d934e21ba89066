"""Every format of a signed-off round is the same bytes every time; user text in the documents stays text.

The hostile payloads are the portal's own list (tests/portal/test_hostile_input.py), put into
every plain field a document prints; markdown fields keep their formatting, and only http,
https and mailto links survive in them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from markupsafe import escape

from evidence.assessment import round_view as round_view_module
from evidence.assessment.round_view import (
    ActionView,
    AssessmentView,
    ComparatorView,
    ItemView,
    MappingView,
    PointView,
    RoundView,
    StatementView,
    round_view,
)
from exports.packs import FORMATS, build_export
from exports.pdf import build_pdf, report_html
from exports.text import xml_safe
from exports.word import build_docx
from tests.exports.documents import all_text, hyperlink_targets, link_uris, open_docx, open_pdf, pdf_text
from tests.exports.test_workbook import GENERATED, SIGNED_OFF, build_round, sign_off
from tests.portal.test_hostile_input import HOSTILE_TEXT

# The fixed examples of the portal's hostile list (the strategy also draws arbitrary text).
HOSTILE_PAYLOADS = [p for p in HOSTILE_TEXT.original_strategies[0].elements if p.strip()]
LATER = datetime(2027, 6, 1, 12, 0, 0)
MARKDOWN_HOSTILE = (
    "Read [the plan](https://example.org/plan?a=1&b=2) or [write](mailto:team@example.org).\n\n"
    "Not [this](javascript:alert(1)) nor [that](data:text/html,hi) nor <script>alert(2)</script> "
    'nor <a href="javascript:alert(3)">raw</a>.\n\n'
    "- **bold** and *italic* in a list [E-7]\n"
    "- second point\n\n"
    "1. first\n2. second\n\n"
    "# A heading inside the text"
)


def hand_made_view(text: str, *, markdown: str = MARKDOWN_HOSTILE, signed_off: bool = False) -> RoundView:
    """A round (built by hand: no app, no database) whose every plain field holds ``text``."""
    statements = [
        StatementView("governance", f"Governance {text}", "leadership", f"Leadership {text}", f"We {text}", [text]),
        StatementView("learning", "Learning", "leadership", "Leadership", "We learn.", ["I am heard."]),
    ]
    items = {
        7: ItemView(
            7, "document", f"Board minutes {text}", text, f"Board {text}", date(2026, 4, 1), date(2026, 6, 30),
            None, {"evidences": text},
        ),
        8: ItemView(
            8, "quote", f"Quote {text}", "", text, None, None, None,
            {"quote_text": f"Words {text}", "speaker_role": f"Role {text}", "voice": "staff", "quote_tone": "barrier"},
        ),
        9: ItemView(
            9, "metric", f"Metric {text}", "", text, None, None, None,
            {"unit": text[:20] or "%", "target": 95.0},
            [PointView(date(2026, 1, 1), f"Q1 {text}"[:40], 80.0), PointView(date(2026, 4, 1), "Q2 $x$", 85.0)],
            comparators=[ComparatorView(f"Peers {text}", [PointView(date(2026, 4, 1), "Q2 $x$", 80.0)])],
        ),
    }  # fmt: skip
    return RoundView(
        round_id=1,
        name=f"Round {text}",
        status="signed_off" if signed_off else "open",
        created_at=datetime(2026, 1, 1),
        signed_off_at=SIGNED_OFF if signed_off else None,
        signed_off_by=f"Director {text}" if signed_off else None,
        authority=f"Council {text}",
        framework_version=text,
        as_of=date(2026, 6, 1),
        themes=[("leadership", "Leadership")],
        categories=[("processes", f"Processes {text}")],
        statements=statements,
        items=items,
        mappings=[MappingView(i, "governance", "processes", "strength", text) for i in items],
        assessments={
            "governance": AssessmentView(
                "governance",
                3,
                markdown + " [E-8] [E-9]",
                markdown,
                markdown,
                markdown,
                category_scores={"processes": 4},
                override_reason=f"Because {text}",
            ),
        },
        actions=[ActionView("governance", f"Do {text}", f"Owner {text}", date(2026, 3, 1), "open")],
    )


# --- the same bytes every time --------------------------------------------------------------------


def test_every_format_of_a_signed_off_round_is_the_same_bytes_every_time(app):
    round_ = sign_off(build_round()["round"])
    first = {fmt: build_export(round_view(round_), fmt, GENERATED) for fmt in FORMATS}
    round_view_module.clear_cache()  # read the sign-off snapshot again, from scratch
    again = {fmt: build_export(round_view(round_), fmt, LATER) for fmt in FORMATS}
    assert set(first) == {"xlsx", "docx", "pdf", "markdown"}
    for fmt in FORMATS:
        assert first[fmt].data == again[fmt].data, fmt
        assert first[fmt].sha256 == again[fmt].sha256
    assert open_docx(first["docx"].data).core_properties.created == SIGNED_OFF.replace(tzinfo=UTC)
    assert open_pdf(first["pdf"].data).metadata["/CreationDate"] == "D:20261214162000Z"


def test_an_open_round_carries_the_time_it_was_made(app):
    view = round_view(build_round()["round"])
    word = open_docx(build_docx(view, GENERATED))
    assert word.core_properties.created == GENERATED.replace(tzinfo=UTC)
    assert "Made" in all_text(word) and "5 January 2027" in all_text(word)
    assert open_pdf(build_pdf(view, GENERATED)).metadata["/CreationDate"] == "D:20270105091500Z"
    assert build_docx(view, LATER) != build_docx(view, GENERATED)


def test_documents_are_the_same_bytes_in_another_process():
    """Nothing in the files hangs on the process: hash seeds, font caches, object ids."""
    view = hand_made_view("Plain text", signed_off=True)
    script = (
        "import json, sys, hashlib\n"
        "from datetime import datetime\n"
        "from evidence.assessment.round_view import RoundView\n"
        "from exports.pdf import build_pdf\n"
        "from exports.word import build_docx\n"
        "view = RoundView.from_dict(json.loads(sys.stdin.read()))\n"
        "when = datetime(2030, 1, 1)\n"
        "print(hashlib.sha256(build_docx(view, when)).hexdigest(), hashlib.sha256(build_pdf(view, when)).hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(view.to_dict()),
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        digests.add(done.stdout.strip())
    assert len(digests) == 1


# --- hostile text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS, ids=lambda p: repr(p[:20]))
def test_hostile_text_in_every_plain_field_is_literal_in_the_word_document(payload):
    document = open_docx(build_docx(hand_made_view(payload), GENERATED))
    text = all_text(document)
    literal = xml_safe(payload).strip().replace("\r\n", "\n").replace("\r", "\n")  # a line ending is one break
    for field in ("Round", "Council", "Governance", "Board minutes", "Words", "Role", "Do", "Owner", "Because"):
        assert f"{field} {literal}" in text, field
    assert "Director" not in text  # an open round has no sign-off
    assert not any(t.startswith(("javascript:", "data:")) for t in hyperlink_targets(document))


class _Markup(HTMLParser):
    """Every tag and attribute of a page."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def markup_of(html: str) -> list[tuple[str, dict]]:
    parser = _Markup()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS, ids=lambda p: repr(p[:20]))
def test_hostile_text_in_every_plain_field_is_escaped_in_the_pdf_html(payload):
    html = report_html(hand_made_view(payload, signed_off=True), GENERATED)
    literal = str(escape(xml_safe(payload).strip()))
    for field in ("Round", "Council", "Governance", "Board minutes", "Words", "Role", "Do", "Owner", "Because"):
        assert f"{field} {literal}" in html, field
    tags = markup_of(html)
    assert "script" not in {tag for tag, _ in tags}
    assert all(not name.startswith("on") for _, attrs in tags for name in attrs)
    assert all(attrs["src"].startswith("data:image/png;base64,") for tag, attrs in tags if tag == "img")
    hrefs = {attrs.get("href") for tag, attrs in tags if tag == "a"} - {None}
    assert all(h.startswith(("#", "https://example.org/", "mailto:")) for h in hrefs), hrefs


def test_hostile_text_is_literal_in_the_pdf_itself():
    payload = '<script>alert(1)</script> "><img src=x onerror=alert(1)> [x](javascript:alert(1))'
    reader = open_pdf(build_pdf(hand_made_view(payload, signed_off=True), GENERATED))
    text = " ".join(" ".join(pdf_text(reader)).split())
    for field in ("Round", "Words", "Role", "Because"):  # full-width lines, which extract in reading order
        assert f"{field} {payload}" in text, field
    # rationale, key findings, strengths and areas for improvement each keep their two safe links, and only those
    assert link_uris(reader) == ["https://example.org/plan?a=1&b=2", "mailto:team@example.org"] * 4


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=HOSTILE_TEXT)
def test_any_text_makes_a_word_document_and_pdf_html_that_open(text):
    document = open_docx(build_docx(hand_made_view(text), GENERATED))
    assert document.paragraphs[0].text.split() == xml_safe(f"Council {text}").split()
    assert "script" not in {tag for tag, _ in markup_of(report_html(hand_made_view(text), GENERATED))}


def test_markdown_fields_keep_formatting_and_only_safe_links():
    document = open_docx(build_docx(hand_made_view("x"), GENERATED))
    assert sorted(set(hyperlink_targets(document))) == ["https://example.org/plan?a=1&b=2", "mailto:team@example.org"]
    body = document.element.body
    texts = "".join(t.text for t in body.iter(qn("w:t")))
    assert "alert(2)" not in texts and "raw" in texts and "this" in texts  # the words stay, the links go
    bold = [r.text for p in document.paragraphs for r in p.runs if r.bold]
    italic = [r.text for p in document.paragraphs for r in p.runs if r.italic]
    assert "bold" in bold and "italic" in italic
    styles = [p.style.name for p in document.paragraphs]
    assert "List Number" in styles and "List Bullet" in styles
    inner_heading = next(p for p in document.paragraphs if p.text == "A heading inside the text")
    assert inner_heading.style.name == "Normal" and inner_heading.runs[0].bold
    # each numbered list starts again at 1: its own numbering instance
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    assert len({p._p.pPr.numPr.numId.val for p in numbered}) == len(numbered) // 2
    # a citation links to its row in the statement's evidence table
    anchors = [h.get(qn("w:anchor")) for h in body.iter(qn("w:hyperlink")) if h.get(qn("w:anchor"))]
    bookmarks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    assert "_statement_1_E_7" in anchors and set(anchors) <= bookmarks


def test_an_unscored_round_reads_incomplete_and_keeps_going():
    view = hand_made_view("x")
    view.assessments.clear()
    word = all_text(open_docx(build_docx(view, GENERATED)))
    assert "Incomplete" in word and "2 of 2 quality statements are not scored" in word
    assert "Score: not scored" in word
    html = report_html(view, GENERATED)
    assert "Incomplete" in html and "This quality statement has not been scored in this round." in html
