"""A manager starts two exports: the second waits behind the first (the portal runs one job at a time here), and
its page shows the progress bar, then the Download button; without JavaScript the page refreshes itself."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import _serve
from tests.browser.helpers import LAPTOP, MANAGER, QUALITY_LEAD, download_from_job, nav, screenshot, sign_in
from tests.portal.test_imports import SURVEY_HEADER, csv_file

ROUND = "Winter 2026 self-assessment"


@pytest.fixture
def one_thread_server(demo_database, tmp_path):
    yield from _serve(demo_database, tmp_path, JOBS_THREADS="1")


def start_export(page: Page, label: str) -> str:
    nav(page, "Exports")
    page.get_by_label("Round", exact=True).select_option(label=f"{ROUND} (open)")
    page.get_by_label(label).check()
    page.get_by_role("button", name="Run the checks").click()
    page.get_by_test_id("checks").get_by_role("button", name=re.compile(rf"download the {re.escape(label)}$")).click()
    expect(page).to_have_url(re.compile(r"/jobs/[A-Za-z0-9_-]+$"))
    return page.url


def test_an_export_shows_its_progress_then_downloads(open_page, one_thread_server, browser, tmp_path):
    page = open_page(one_thread_server)
    sign_in(page, *MANAGER)
    first = start_export(page, "PDF document (.pdf)")  # takes the only job thread for a few seconds
    second = start_export(page, "Excel workbook (.xlsx)")
    job = page.get_by_test_id("job")
    expect(page.get_by_role("heading", level=1)).to_have_text("Excel workbook (.xlsx) of “Winter 2026 self-assessment”")
    expect(job.get_by_text("Waiting", exact=True)).to_be_visible()  # queued behind the PDF
    expect(job.locator("progress")).to_be_visible()
    screenshot(page, "jobs-01-waiting")
    download = download_from_job(page)  # the page follows the job by itself and shows the button
    screenshot(page, "jobs-02-done")
    assert download.suggested_filename == "assure-winter-2026-self-assessment.xlsx"
    assert load_workbook(io.BytesIO(download.path().read_bytes())).sheetnames[0] == "Summary"
    expect(job).to_contain_text(f"Exported “{ROUND}” as assure-winter-2026-self-assessment.xlsx.")

    # Without JavaScript the page refreshes itself until the job is done.
    context = browser.new_context(base_url=one_thread_server, viewport=LAPTOP, java_script_enabled=False)
    try:
        plain = context.new_page()
        sign_in(plain, *MANAGER)
        plain.goto(start_export(plain, "PDF document (.pdf)"))
        expect(plain.get_by_test_id("job-download")).to_be_visible(timeout=90_000)
        expect(plain.get_by_test_id("job-download")).to_have_text("Download assure-winter-2026-self-assessment.pdf")
    finally:
        context.close()
    page.goto(first)
    expect(page.get_by_test_id("job-download")).to_be_visible(timeout=60_000)
    assert second != first


@pytest.fixture
def small_jobs_server(demo_database, tmp_path):
    yield from _serve(demo_database, tmp_path, JOBS_IMPORT_ROWS="100")


def test_a_large_file_is_checked_with_a_progress_bar_then_previewed_and_imported(
    open_page, small_jobs_server, tmp_path
):
    rows = [SURVEY_HEADER] + [["ASCS 2025-26", f"Question {i}", "61%", "412", "2026-01-05", "", ""] for i in range(300)]
    path = tmp_path / "survey-large.csv"
    path.write_bytes(csv_file(rows))
    page = open_page(small_jobs_server)
    sign_in(page, *QUALITY_LEAD)
    nav(page, "Import")
    page.get_by_role("link", name=re.compile("Survey findings")).first.click()
    page.get_by_label("Spreadsheet to import").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    # The check's page, then (by itself, once every row is read) the preview it kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("Checking survey-large.csv (survey findings)")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import: survey findings", timeout=60_000)
    expect(page).to_have_url(re.compile(r"/import/survey/preview/[0-9a-f]{64}\?check="))
    expect(page.get_by_role("cell", name="ASCS 2025-26: Question 299", exact=True)).to_be_visible()
    screenshot(page, "jobs-03-checked-preview")
    page.get_by_role("button", name="Import 300 rows").click()
    expect(page.get_by_test_id("job")).to_contain_text("300", timeout=60_000)
    expect(page.get_by_test_id("job").get_by_text("Done", exact=True)).to_be_visible(timeout=60_000)
