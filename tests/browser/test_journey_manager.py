"""Journey 3: the manager signs the round off and exports the workbook and the markdown pack."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.helpers import MANAGER, download_from_job, flash, nav, screenshot, sign_in

ROUND = "Winter 2026 self-assessment"
MANAGER_NAVIGATION = [
    "Dashboard",
    "Submit a finding",
    "My submissions",
    "Evidence library",
    "Quality statements",
    "Gaps",
    "Actions",
    "Rounds",
    "Exports",
]
SHEETS = ["Summary", "Quality statements", "Evidence register", "Metrics", "Quotes", "Actions", "Gaps"]


def export(page: Page, fmt: str, tmp_path) -> tuple[str, bytes]:
    """Choose the round and a format, look at the checks, and download; returns the file's name and bytes."""
    nav(page, "Exports")
    page.get_by_label("Round", exact=True).select_option(label=f"{ROUND} (signed off)")
    page.get_by_label(fmt).check()
    page.get_by_role("button", name="Run the checks").click()
    checks = page.get_by_test_id("checks")
    expect(checks.get_by_role("heading", name=f"Before you export “{ROUND}”")).to_be_visible()
    expect(checks).to_contain_text("The file is made from the record kept at sign-off")
    expect(checks.get_by_role("heading", name="Personal data guard")).to_be_visible()
    expect(checks).to_contain_text("No text looks like personal data.")
    expect(checks.get_by_role("heading", name="Gaps")).to_be_visible()
    screenshot(page, f"journey3-manager-checks-{fmt.split()[0].lower()}")
    checks.get_by_role("button", name=re.compile(rf"download the {re.escape(fmt)}$")).click()
    # The file is made by a job: its page follows it, then offers the file and says what was exported.
    download = download_from_job(page)
    assert download.failure() is None
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    expect(page.get_by_test_id("job")).to_contain_text(f"Exported “{ROUND}” as {download.suggested_filename}.")
    return download.suggested_filename, target.read_bytes()


def test_manager_signs_off_the_round_and_exports_it(page: Page, tmp_path):
    sign_in(page, *MANAGER)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(MANAGER_NAVIGATION)
    screenshot(page, "journey3-manager-01-dashboard")

    # Sign the round off: tick the confirmation, then confirm again in the dialog.
    nav(page, "Rounds")
    page.get_by_role("link", name=ROUND).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ROUND)
    expect(page.get_by_test_id("overall")).to_contain_text("69%")
    screenshot(page, "journey3-manager-02-round-open")
    page.get_by_label("I confirm this round is complete.").check()
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.get_by_role("button", name="Sign off this round").click()
    expect(flash(page, f"“{ROUND}” is signed off and frozen.")).to_be_visible()
    assert questions == [f"Sign off “{ROUND}”? This cannot be undone."]
    expect(page.get_by_role("heading", name="Sign off this round")).to_have_count(0)
    expect(page.locator(".overall .facts")).to_contain_text("Helen Okoro")
    expect(page.get_by_text("Signed off: the scores below are read from the record kept at sign-off")).to_be_visible()
    screenshot(page, "journey3-manager-03-round-signed-off")

    # The Excel workbook.
    name, data = export(page, "Excel workbook (.xlsx)", tmp_path)
    assert name == "assure-winter-2026-self-assessment.xlsx"
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == SHEETS
    summary = "\n".join(str(c) for row in book["Summary"].iter_rows(values_only=True) for c in row if c is not None)
    assert ROUND in summary
    assert "69%" in summary or "0.69" in summary
    statements = [r for r in book["Quality statements"].iter_rows(min_row=2, values_only=True) if any(r)]
    assert len(statements) == 9
    assert any("Safe pathways, systems and transitions" in str(cell) for row in statements for cell in row)
    register = book["Evidence register"]
    assert register.max_row > 40  # every accepted demo item has a row
    assert register.freeze_panes is not None

    # The markdown pack.
    name, data = export(page, "Markdown pack (.zip)", tmp_path)
    assert name == "assure-winter-2026-self-assessment.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        names = pack.namelist()
        files = {n: pack.read(n) for n in names}
    documents = sorted(n for n in names if n.startswith("statements/"))
    assert "README.md" in names and "MANIFEST.txt" in names
    assert len(documents) == 9
    readme = files["README.md"].decode()
    assert readme.startswith(f"# {ROUND}")
    assert re.search(r"\*\*Status:\*\* Signed off .* by Helen Okoro", readme)
    assert "**Overall rating:** 69% Good (25 of 36 points across 9 quality statements)" in readme
    for document in documents:
        assert document in readme  # the index links every statement document
    listed = {}
    for line in files["MANIFEST.txt"].decode().splitlines():
        digest, filename = line.split("  ", 1)
        listed[filename] = digest
    assert listed == {n: hashlib.sha256(files[n]).hexdigest() for n in names if n != "MANIFEST.txt"}
    safe = files[next(d for d in documents if d.endswith("-safe-pathways.md"))].decode()
    assert safe.startswith("# Safe pathways, systems and transitions")
    for heading in ("## Score: 3", "## What people expect", "## The local authority commitment", "## Key findings"):
        assert heading in safe
    assert "## Evidence cited" in safe and re.search(r"E-\d+", safe)

    screenshot(page, "journey3-manager-04-exports")
