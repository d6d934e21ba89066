"""The peer challenge in every export: the peers' rating beside the council's score, the difference, the
challenge and the council's response, in the workbook, the markdown pack, the Word document and the PDF;
and a signed-off round's exports stay what they were whatever happens to the ratings afterwards."""

from __future__ import annotations

import zipfile
from datetime import datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook

from evidence.assessment import peer
from evidence.assessment.round_view import round_view
from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.vocab import Role
from exports.markdown_pack import build_markdown_pack
from exports.pdf import build_pdf
from exports.word import build_docx
from exports.workbook import build_workbook
from tests.exports.documents import all_text, open_docx, open_pdf, pdf_text
from tests.factories import make_round, score_all, statement

GENERATED = datetime(2027, 1, 5, 9, 15, 0)
CHALLENGE = '=HYPERLINK("http://x.example") The audit sample (n = 12) is **too small** to show a good standard'
RESPONSE = "We will double the sample in Q1; <script>alert(1)</script>"


@pytest.fixture
def challenged(make_user):
    manager = make_user(Role.MANAGER, name="Mo Manager")
    reviewer = make_user(Role.PEER_REVIEWER, name="Rae Reviewer")
    lead = make_user(Role.QUALITY_LEAD)
    round_ = make_round("Winter 2026 self-assessment")
    score_all(round_, 3)
    peer.open_challenge(round_, manager)
    peer.invite(round_, reviewer, manager)
    peer.save_rating(round_, statement("safeguarding"), reviewer, 2, CHALLENGE)
    peer.save_rating(round_, statement("assessing-needs"), reviewer, 3, "Agreed.")
    peer.save_response(round_, statement("safeguarding"), lead, RESPONSE)
    return round_, manager


def test_the_workbook_puts_the_peer_rating_beside_the_score(challenged):
    round_, _ = challenged
    book = load_workbook(BytesIO(build_workbook(round_view(round_), GENERATED)))
    summary = [row for row in book["Summary"].iter_rows(values_only=True) if row and row[0]]
    header = next(row for row in summary if row[:4] == ("Theme", "Quality statement", "Score", "Label"))
    assert header[4:6] == ("Peer rating", "Peer rating against the council's")
    by_name = {row[1]: row for row in summary if len(row) > 5}
    assert by_name["Safeguarding"][2:6] == (3, "Evidence shows a good standard", 2, "Peers 1 lower")
    assert by_name["Assessing needs"][4:6] == (3, "Same")
    assert by_name["Partnerships and communities"][4:6] == ("Not rated", "Not rated by the peers")
    # The difference is highlighted where there is one.
    sheet = book["Summary"]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "Peers 1 lower")
    assert cell.fill.fgColor.rgb.endswith("FFF4E5") and cell.font.bold

    table = book["Quality statements"]
    head = [c.value for c in table[1]]
    assert head[2:6] == ["Score", "Label", "Peer rating", "Peer rating against the council's"]
    row = next(r for r in table.iter_rows(min_row=2, values_only=True) if r[1] == "Safeguarding")
    values = dict(zip(head, row, strict=True))
    assert values["Peer rating"] == 2 and values["Peer challenge"] == CHALLENGE
    assert values["The council's response"] == RESPONSE
    challenge_cell = next(c for r in table.iter_rows() for c in r if c.value == CHALLENGE)
    assert challenge_cell.data_type == "s" and challenge_cell.quotePrefix  # text, never a formula


def test_the_markdown_pack_shows_both_ratings_and_the_words(challenged):
    round_, _ = challenged
    files = {name: data.decode() for name, data in _unzip(build_markdown_pack(round_view(round_), GENERATED)).items()}
    readme = files["README.md"]
    assert "| theme | quality statement | score | label | peer rating | against the council's |" in readme
    assert "| 3 | Evidence shows a good standard | 2 | **Peers 1 lower** |" in readme
    assert "- **Peer challenge:** rated by Rae Reviewer: incomplete, 7 of 9 quality statements not rated" in readme
    document = next(text for name, text in files.items() if name.endswith("-safeguarding.md"))
    assert "## Peer challenge" in document and "**Peer rating: 2** (Evidence shows some shortfalls)" in document
    assert "Against the council's score: **Peers 1 lower**" in document
    assert "**too small**" in document and "We will double the sample in Q1" in document
    assert "<script>" not in document


def test_the_word_document_and_the_pdf_show_both_ratings_and_the_words(challenged):
    round_, _ = challenged
    view = round_view(round_)
    word = all_text(open_docx(build_docx(view, GENERATED)))
    pdf = "\n".join(pdf_text(open_pdf(build_pdf(view, GENERATED))))
    for text in (word, pdf):
        assert "Peer rating: 2" in text and "Peers 1 lower" in text
        assert "too small" in text and "We will double the sample in Q1" in text
        assert "Overall, as the peers rate it" in text and "Peer reviewers: Rae Reviewer" in text


def test_a_signed_off_rounds_exports_keep_the_ratings_it_was_signed_off_with(challenged):
    round_, manager = challenged
    sign_off(round_, manager, confirmed=True)
    view = round_view(round_)
    before = {
        "xlsx": build_workbook(view, GENERATED),
        "md": build_markdown_pack(view, GENERATED),
        "docx": build_docx(view, GENERATED),
    }
    row = peer.review_for(round_, statement("safeguarding"))
    row.rating, row.challenge = 4, "Changed afterwards"
    db.session.commit()
    view = round_view(round_)
    assert view.peer_rating("safeguarding") == 2
    assert build_workbook(view, GENERATED) == before["xlsx"]
    assert build_markdown_pack(view, GENERATED) == before["md"]
    assert build_docx(view, GENERATED) == before["docx"]


def test_a_round_without_a_peer_challenge_exports_as_before(make_user):
    round_ = make_round("Winter 2026 self-assessment")
    score_all(round_, 3)
    view = round_view(round_)
    assert not view.has_peer
    book = load_workbook(BytesIO(build_workbook(view, GENERATED)))
    assert "Peer rating" not in [c.value for c in book["Quality statements"][1]]
    assert "Peer" not in _unzip(build_markdown_pack(view, GENERATED))["README.md"].decode()


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
