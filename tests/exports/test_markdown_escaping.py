"""Hostile text in the markdown pack and its preview: plain-text fields read literally, markdown fields
keep their formatting with http, https and mailto links only.

Each check is a comparison: the same round with a harmless word in every plain-text field, and with
the payload there instead. Rendered, the two must have the same elements and links, and the payload's
rendering must read as the harmless one with the payload put in place of the word.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from datetime import date, datetime
from html.parser import HTMLParser
from io import BytesIO

import markdown
import pytest

from evidence.assessment.round_view import (
    ActionView,
    AssessmentView,
    ComparatorView,
    ItemView,
    MappingView,
    PointView,
    RoundView,
    StatementView,
)
from evidence.db import db
from evidence.models import Assessment, EvidenceCategory, QualityStatement, Theme
from evidence.settings import AUTHORITY_NAME, set_setting
from evidence.vocab import Kind, Role
from exports.markdown_pack import build_markdown_pack, statement_markdown
from exports.markup import markdown_to_html, sanitise_html
from exports.text import link_scheme, md_block, md_text, md_text_block, md_text_cell
from tests.exports.test_workbook import GENERATED
from tests.factories import make_action, make_item, make_round, statement
from tests.portal.test_hostile_input import HOSTILE_SAMPLES

MARKDOWN_PAYLOADS = [
    "[click me](javascript:alert(1))",
    "![x](http://evil/x.png)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "<javascript:alert(1)>",
    "<https://evil>",
    "**bold** and __strong__",
    "*em* and _em_",
    "# heading",
    "## heading ##",
    "ends with a hash #",
    "- item",
    "* item",
    "+ item",
    "1. item",
    "3) item",
    "> quoted",
    "| a | b |",
    "| --- | --- |",
    "<img src=x onerror=alert(1)>",
    "<!-- hidden -->",
    "<a href='javascript:alert(1)'>link</a>",
    "back\\slash \\*not em\\* C:\\path\\",
    "`code` and ``more code``",
    "```",
    "---",
    "===",
    "~~struck~~",
    "AT&T &amp; &lt;b&gt; &#106;",
    "[ref]: javascript:alert(1)",
    "[x][ref]",
    "javascript:alert(1)",
    "https://example.org/bare",
    "first line\nsecond line\n\n- a list item\n# a heading",
]
PAYLOADS = [*HOSTILE_SAMPLES, *MARKDOWN_PAYLOADS]
MARK = "Plainword"
ELEMENTS = {
    "a", "img", "em", "strong", "b", "i", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table",
    "tr", "th", "td", "script", "style", "iframe", "code", "pre", "blockquote", "hr", "del", "s", "br",
}  # fmt: skip
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


class _Reader(HTMLParser):
    """The elements, the link and image addresses, and the visible text of some HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: Counter = Counter()
        self.addresses: Counter = Counter()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ELEMENTS:
            self.elements[tag] += 1
        for name, value in attrs:
            if name in ("href", "src"):
                self.addresses[value] += 1
        self.text.append(" ")

    def handle_endtag(self, tag):
        self.text.append(" ")

    def handle_data(self, data):
        self.text.append(data)


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def visible(text: str) -> str:
    return " ".join(text.split())


def render(text: str) -> str:
    """As a markdown viewer would, with no sanitiser in the way."""
    return markdown.markdown(text, extensions=["tables", "fenced_code"])


def assert_literal(plain_html: str, hostile_html: str, payload: str, where: str) -> None:
    plain, hostile = read(plain_html), read(hostile_html)
    expected = visible(CONTROL.sub("", payload))
    if not expected:  # a blank field is left out or filled in with words of the pack's own: nothing is added
        assert all(hostile.elements[tag] <= plain.elements[tag] for tag in ELEMENTS), (where, payload[:60])
        assert set(hostile.addresses) <= set(plain.addresses), (where, payload[:60])
        return
    assert hostile.elements == plain.elements, (where, payload[:60])
    assert hostile.addresses == plain.addresses, (where, payload[:60])
    assert visible("".join(hostile.text)) == visible("".join(plain.text)).replace(MARK, expected), (where, payload[:60])


# --- the pack, from a round built by hand ---------------------------------------------------------


def hand_made_round(text: str) -> RoundView:
    """A signed-off round with ``text`` in every plain-text field the pack shows."""
    metric = ItemView(
        2, Kind.METRIC, text, "", text, date(2026, 4, 1), date(2026, 6, 30), None,
        {"unit": text, "target": 95},
        points=[PointView(date(2026, 4, 1), text, 85)],
        comparators=[ComparatorView(text, [PointView(date(2026, 4, 1), text, 82)])],
    )  # fmt: skip
    quote = ItemView(
        3, Kind.QUOTE, text, "", text, None, None, None,
        {"quote_text": text, "speaker_role": text, "voice": "staff", "quote_tone": "barrier"},
    )  # fmt: skip
    document = ItemView(1, Kind.DOCUMENT, text, "", text, date(2026, 4, 1), None, None, {})
    return RoundView(
        round_id=1,
        name=text,
        status="signed_off",
        created_at=datetime(2026, 9, 1),
        signed_off_at=datetime(2026, 12, 14, 16, 20),
        signed_off_by=text,
        authority=text,
        framework_version=text,
        as_of=date(2026, 12, 14),
        themes=[("leadership", text)],
        categories=[("processes", text), ("partners", text)],
        statements=[StatementView("governance", text, "leadership", text, text, [text, text])],
        items={1: document, 2: metric, 3: quote},
        mappings=[MappingView(i, "governance", "processes", "strength", text) for i in (1, 2, 3)],
        assessments={
            "governance": AssessmentView(
                "governance",
                3,
                "Cites [E-1], [E-2] and [E-3].",
                "",
                "",
                "",
                category_scores={"processes": 2, "partners": 3},
                override_reason=text,
            )
        },
        actions=[ActionView("governance", text, text, date(2027, 2, 28), "open")],
    )


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".md")}


def test_every_payload_in_every_plain_field_is_literal_in_the_pack():
    plain = unzip(build_markdown_pack(hand_made_round(MARK), GENERATED))
    assert plain["statements/01-governance.md"].count(MARK) >= 15  # every field is there to be tested
    for payload in PAYLOADS:
        hostile = unzip(build_markdown_pack(hand_made_round(payload), GENERATED))
        assert sorted(hostile) == sorted(plain)
        for name, text in hostile.items():
            assert_literal(render(plain[name]), render(text), payload, name)
            assert "<script" not in render(text), (name, payload)


def test_the_pack_keeps_its_own_structure_around_hostile_names():
    doc = statement_markdown(hand_made_round("[click me](javascript:alert(1))"), "governance")
    rendered = read(render(doc))
    assert rendered.elements["h1"] == 1 and rendered.elements["table"] == 3  # category scores, actions, evidence
    assert "javascript:alert(1)" not in "".join(rendered.addresses)
    assert doc.startswith("# \\[click me\\](javascript:alert(1))\n")


# --- markdown fields -----------------------------------------------------------------------------

SAFE_LINKS = {
    "[site](https://example.org/a)": "https://example.org/a",
    "[plain](http://example.org/b)": "http://example.org/b",
    "[write](mailto:quality@example.gov.uk)": "mailto:quality@example.gov.uk",
    "[relative](statements/01-governance.md)": "statements/01-governance.md",
}
UNSAFE_LINKS = [
    "[a](javascript:alert(1))",
    "[b](JavaScript:alert(1))",
    "[c]( javascript:alert(1) )",
    "[d](jav&#x61;script:alert(1))",
    "[e](javascript\\:alert(1))",
    "[f](<javascript:alert(1)>)",
    "[g](java\tscript:alert(1))",
    "[h](vbscript:msgbox(1))",
    "[i](data:text/html;base64,PHNjcmlwdD4=)",
    "![j](data:image/png;base64,iVBORw0KGgo=)",
    "[k][ref]\n\n[ref]: javascript:alert(1)",
    "[l][other]\n\n  [other]: <vbscript:msgbox(1)>",
    "<javascript:alert(1)>",
    "<a href='javascript:alert(1)'>m</a>",
]


def test_markdown_fields_keep_their_formatting_and_safe_links():
    text = "**Strong** and _em_, a list:\n\n- one\n- two\n\n" + " ".join(SAFE_LINKS)
    rendered = read(render(md_block(text)))
    assert rendered.elements["strong"] == 1 and rendered.elements["em"] == 1 and rendered.elements["li"] == 2
    assert set(rendered.addresses) == set(SAFE_LINKS.values())


@pytest.mark.parametrize("link", UNSAFE_LINKS)
def test_markdown_fields_lose_links_of_any_other_scheme(link):
    rendered = read(render(md_block(f"Before {link} after")))
    assert rendered.elements["a"] == 0 and rendered.elements["img"] == 0, md_block(link)
    assert not rendered.addresses
    assert "Before" in "".join(rendered.text) and "after" in "".join(rendered.text)


def test_link_scheme_reads_a_destination_as_a_browser_would():
    assert link_scheme("https://example.org") == "https"
    assert link_scheme("JAVASCRIPT:alert(1)") == "javascript"
    assert link_scheme("jav&#x61;script:x") == "javascript"
    assert link_scheme("java\tscript:x") == "javascript"
    assert link_scheme("\x01 javascript:x") == "javascript"
    assert link_scheme("<data:text/html,x>") == "data"
    assert link_scheme("statements/01.md") is None and link_scheme("#top") is None


def test_plain_text_helpers():
    assert md_text("a\nb  c") == "a b c"
    assert md_text(None) == "" and md_text("  ") == ""
    assert md_text_cell("a | b") == "a \\| b"
    assert md_text("- item") == "\\- item" and md_text("1. item") == "1\\. item"
    assert md_text("# h") == "\\# h" and md_text("=== x") == "&#61;== x"
    assert md_text("<b>&amp;") == "&lt;b>&amp;amp;"
    assert md_text_block("one\n\n\n- two\n  three") == "one\n\n\\- two\nthree"


# --- the portal's preview ----------------------------------------------------------------------

PREVIEW_LIMIT = 40  # the shortest of the columns filled (a metric's unit, a point's label)


def preview_payload(payload: str) -> str:
    return payload.replace("\x00", "")[:PREVIEW_LIMIT]  # a database cannot hold NUL


@pytest.fixture
def preview_round(app):
    """A round whose safe-pathways document shows every plain-text field; ``fill`` puts text in all of them."""
    metric = make_item(
        "Metric", Kind.METRIC, mappings=[("safe-pathways", "processes", "strength")],
        points=[(date(2026, 4, 1), "2026 Q2", 85)], unit="%", target=95,
        comparators={"England": [(date(2026, 4, 1), "2026 Q2", 82)]},
    )  # fmt: skip
    quote = make_item(
        "Quote", Kind.QUOTE, mappings=[("safe-pathways", "partners", "shortfall")],
        quote_text="Words", speaker_role="Role", voice="staff", quote_tone="barrier",
    )  # fmt: skip
    round_ = make_round("Round")
    assessment = Assessment(
        round=round_,
        statement=statement("safe-pathways"),
        score=2,
        rationale=f"Cites [E-{metric.id}] and [E-{quote.id}].",
        category_scores={"processes": 3, "partners": 3},
    )
    db.session.add(assessment)
    action = make_action("safe-pathways", "Action", round_id=round_.id)

    def fill(text: str) -> None:
        round_.name = text
        set_setting(AUTHORITY_NAME, text)
        safe = statement("safe-pathways")
        safe.name, safe.we_statement, safe.i_statements = text, text, [text, text]
        db.session.get(Theme, safe.theme_id).name = text
        for category in db.session.query(EvidenceCategory):
            category.name = text
        for item in (metric, quote):
            item.title, item.source = text, text
        metric.unit, metric.comparators[0].name, metric.points[0].label = text, text, text
        metric.comparators[0].points[0].label = text
        quote.quote_text, quote.speaker_role = text, text
        action.description, action.owner = text, text
        assessment.override_reason = text
        db.session.commit()

    return round_, fill


def preview_document(client, round_) -> str:
    page = client.get(f"/exports/preview/{round_.id}/safe-pathways")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html.split('data-testid="document">', 1)[1].split("</article>", 1)[0]


def test_every_payload_in_every_plain_field_is_literal_in_the_preview(client, login, preview_round):
    round_, fill = preview_round
    login(Role.MANAGER)
    fill(MARK)
    plain = preview_document(client, round_)
    assert plain.count(MARK) >= 12
    for payload in PAYLOADS:
        text = preview_payload(payload)
        fill(text)
        hostile = preview_document(client, round_)
        assert_literal(plain, hostile, text, "preview")
        assert "<script" not in hostile and "<img" not in hostile, text


def test_the_preview_keeps_safe_links_in_markdown_fields_and_drops_the_rest(client, login, preview_round):
    round_, _fill = preview_round
    login(Role.MANAGER)
    assessment = db.session.query(Assessment).filter_by(round_id=round_.id).one()
    assessment.key_findings = " ".join([*SAFE_LINKS, *UNSAFE_LINKS[:10]])
    db.session.commit()
    document = read(preview_document(client, round_))
    hrefs = {address for address in document.addresses if not address.startswith("/evidence/")}  # citations
    assert hrefs == set(SAFE_LINKS.values())
    assert document.elements["img"] == 0


def test_the_preview_sanitiser_allows_only_http_https_and_mailto():
    html = (
        '<a href="https://a.example">1</a><a href="http://b.example">2</a><a href="mailto:c@d.example">3</a>'
        '<a href="javascript:alert(1)">4</a><a href="JaVaScRiPt&colon;alert(1)">5</a><a href="vbscript:x">6</a>'
        '<a href="data:text/html,x">7</a><a href="ftp://e.example">8</a><a href="../relative">9</a>'
        '<img src="data:image/png;base64,iVBORw0KGgo="><img src="https://f.example/x.png">'
    )
    cleaned = read(sanitise_html(html))
    assert set(cleaned.addresses) == {"https://a.example", "http://b.example", "mailto:c@d.example", "../relative"}
    assert cleaned.elements["img"] == 0  # images are not part of what the portal shows
    assert "".join(cleaned.text).split() == ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    assert markdown_to_html("![x](data:image/png;base64,iVBORw0KGgo=)") == "<p></p>"


def test_renamed_framework_text_stays_literal_on_the_statement_pages_too(client, login, preview_round):
    """The portal's own pages escape the same text (Jinja); the preview is not the only reader."""
    round_, fill = preview_round
    login(Role.MANAGER)
    fill("**bold** <b>x</b>")
    page = client.get(f"/exports/preview/{round_.id}/safe-pathways").get_data(as_text=True)
    nav = page.split('aria-labelledby="documents-heading"', 1)[1].split("</nav>", 1)[0]
    assert "**bold** &lt;b&gt;x&lt;/b&gt;" in nav
    assert db.session.query(QualityStatement).filter_by(key="safe-pathways").one().name == "**bold** <b>x</b>"
