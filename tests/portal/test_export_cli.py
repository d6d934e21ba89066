"""``flask export``: writes the file of the chosen (or latest) round; clear errors for a bad round or path."""

from __future__ import annotations

import sys
import zipfile

import docx
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from evidence.db import db
from evidence.models import AuditEvent
from evidence.vocab import Kind
from tests.exports.test_workbook import build_round, sign_off
from tests.factories import make_item, make_round


def exports_logged() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")))


def test_exports_the_latest_round_as_a_workbook(app, runner, tmp_path):
    build_round("Winter 2026 self-assessment")
    latest = make_round("Spring 2027 self-assessment")
    out = tmp_path / "pack.xlsx"
    result = runner.invoke(args=["export", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output and "Spring 2027 self-assessment" in result.output
    workbook = load_workbook(out)
    assert workbook.sheetnames[:3] == ["Summary", "Quality statements", "Evidence register"]
    assert workbook["Summary"]["B3"].value == "Spring 2027 self-assessment"
    [event] = exports_logged()
    assert event.entity_id == latest.id and event.user_id is None and "command line" in event.summary


def test_exports_a_named_round_as_a_markdown_pack(app, runner, tmp_path):
    built = build_round("Winter 2026 self-assessment")
    make_round("Spring 2027 self-assessment")
    out = tmp_path / "pack.zip"
    result = runner.invoke(
        args=["export", "--format", "markdown", "--out", str(out), "--round", "winter 2026 self-assessment"]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        readme = archive.read("README.md").decode()
    assert readme.startswith("# Winter 2026 self-assessment")
    assert exports_logged()[0].entity_id == built["round"].id


def test_a_signed_off_round_exports_the_same_bytes_each_time(app, runner, tmp_path):
    sign_off(build_round()["round"])
    for name in ("one.zip", "two.zip"):
        result = runner.invoke(args=["export", "--format", "markdown", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()


def test_an_unknown_round_is_a_clear_error(app, runner, tmp_path):
    make_round("Winter 2026 self-assessment")
    out = tmp_path / "pack.xlsx"
    result = runner.invoke(args=["export", "--format", "xlsx", "--out", str(out), "--round", "Summer 1999"])
    assert result.exit_code != 0
    assert "there is no round named “Summer 1999”" in result.output
    assert "“Winter 2026 self-assessment”" in result.output  # the rounds there are
    assert not out.exists() and exports_logged() == []


def test_no_rounds_at_all_is_a_clear_error(app, runner, tmp_path):
    result = runner.invoke(args=["export", "--format", "xlsx", "--out", str(tmp_path / "x.xlsx")])
    assert result.exit_code != 0 and "there are no rounds yet" in result.output


def test_a_path_that_cannot_be_written_is_a_clear_error(app, runner, tmp_path):
    make_round("Winter 2026 self-assessment")
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a folder")
    cases = {
        str(tmp_path / "missing" / "pack.xlsx"): "does not exist",
        str(tmp_path): "it is a folder",
        str(a_file / "pack.xlsx"): "is not a folder",
    }
    for path, message in cases.items():
        result = runner.invoke(args=["export", "--format", "xlsx", "--out", path])
        assert result.exit_code != 0, path
        assert f"cannot write {path}" in result.output and message in result.output, result.output
    assert exports_logged() == []
    assert a_file.read_text() == "not a folder"


def test_an_unknown_format_is_refused(app, runner, tmp_path):
    make_round()
    result = runner.invoke(args=["export", "--format", "odt", "--out", str(tmp_path / "x.odt")])
    assert result.exit_code != 0 and "'odt' is not one of 'xlsx', 'docx', 'pdf', 'markdown'" in result.output


def test_the_checks_are_reported_and_strict_stops_on_personal_data(app, runner, tmp_path):
    make_item("Drop-in feedback", Kind.PARTNER_FEEDBACK, summary="Ring 020 7946 0018 to follow up.")
    make_round()
    out = tmp_path / "pack.xlsx"
    result = runner.invoke(args=["export", "--format", "xlsx", "--out", str(out), "--strict"])
    assert result.exit_code != 0
    assert "Personal data? E-" in result.output and "UK phone number" in result.output
    assert "nothing written" in result.output and not out.exists()
    result = runner.invoke(args=["export", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0 and out.exists()
    assert "Gaps: " in result.output


def test_writes_a_word_document_and_a_pdf_after_the_same_checks(app, runner, tmp_path):
    make_item("Drop-in feedback", Kind.PARTNER_FEEDBACK, summary="Ring 020 7946 0018 to follow up.")
    built = build_round("Winter 2026 self-assessment")
    for fmt, name in (("docx", "report.docx"), ("pdf", "report.pdf")):
        out = tmp_path / name
        result = runner.invoke(args=["export", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "Personal data? E-" in result.output and "Gaps: " in result.output  # the checks ran first
        assert f"Wrote {out}" in result.output
        strict = runner.invoke(args=["export", "--format", fmt, "--out", str(tmp_path / f"strict-{name}"), "--strict"])
        assert strict.exit_code != 0 and not (tmp_path / f"strict-{name}").exists()
    document = docx.Document(tmp_path / "report.docx")
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"][1] == "Assessing needs"
    reader = PdfReader(tmp_path / "report.pdf")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-") and len(reader.pages) >= 10
    assert "Winter 2026 self-assessment" in reader.pages[0].extract_text()
    events = exports_logged()
    assert [e.after["format"] for e in events] == ["docx", "pdf"]
    assert all(e.entity_id == built["round"].id and "command line" in e.summary for e in events)


def test_a_pdf_without_pango_is_a_clear_error_that_writes_nothing(app, runner, tmp_path, monkeypatch):
    make_round()
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if WeasyPrint or Pango were missing
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["export", "--format", "pdf", "--out", str(out)])
    assert result.exit_code != 0
    assert "nothing written: the PDF needs WeasyPrint and the Pango library" in result.output
    assert "make install" in result.output
    assert not out.exists() and exports_logged() == []
