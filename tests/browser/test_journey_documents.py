"""A manager downloads the demo round in each of the four formats from the Exports page, and each file opens."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.helpers import MANAGER, download_from_job, nav, screenshot, sign_in

ROUND = "Winter 2026 self-assessment"
FORMATS = {
    "Excel workbook (.xlsx)": ".xlsx",
    "Word document (.docx)": ".docx",
    "PDF document (.pdf)": ".pdf",
    "Markdown pack (.zip)": ".zip",
}


def download(page: Page, label: str, tmp_path) -> tuple[str, bytes]:
    nav(page, "Exports")
    page.get_by_label("Round", exact=True).select_option(label=f"{ROUND} (open)")
    page.get_by_label(label).check()
    page.get_by_role("button", name="Run the checks").click()
    checks = page.get_by_test_id("checks")
    expect(checks.get_by_role("heading", name=f"Before you export “{ROUND}”")).to_be_visible()
    expect(checks.get_by_role("heading", name="Personal data guard")).to_be_visible()
    expect(checks.get_by_role("heading", name="Gaps")).to_be_visible()
    checks.get_by_role("button", name=re.compile(rf"download the {re.escape(label)}$")).click(timeout=60_000)
    file = download_from_job(page)
    assert file.failure() is None
    target = tmp_path / file.suggested_filename
    file.save_as(target)
    expect(page.get_by_test_id("job")).to_contain_text(f"Exported “{ROUND}” as {file.suggested_filename}.")
    return file.suggested_filename, target.read_bytes()


def test_manager_downloads_the_demo_round_in_every_format(page: Page, tmp_path):
    sign_in(page, *MANAGER)
    nav(page, "Exports")
    offered = page.get_by_role("group", name="Format").get_by_role("radio")
    expect(offered).to_have_count(len(FORMATS))
    screenshot(page, "documents-01-exports")

    files = {}
    for label, extension in FORMATS.items():
        name, data = download(page, label, tmp_path)
        assert name == f"assure-winter-2026-self-assessment{extension}"
        files[extension] = data

    assert load_workbook(io.BytesIO(files[".xlsx"])).sheetnames[0] == "Summary"
    with zipfile.ZipFile(io.BytesIO(files[".zip"])) as pack:
        assert "README.md" in pack.namelist()
    word = docx.Document(io.BytesIO(files[".docx"]))
    statements = [p.text for p in word.paragraphs if p.style.name == "Heading 1"][1:]
    assert len(statements) == 9 and "Safe pathways, systems and transitions" in statements
    assert files[".pdf"].startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(files[".pdf"]))
    assert len(reader.pages) >= 10
    assert [item.title for item in reader.outline][2:] == statements
    assert "Northbrook County Council" in reader.pages[0].extract_text()
