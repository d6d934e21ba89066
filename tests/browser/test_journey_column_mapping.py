"""Journey: a national file in its own columns, mapped once in the browser, filtered to the council and imported;
the same file again goes straight to a preview that changes nothing."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import ADMIN, QUALITY_LEAD, flash, nav, screenshot, sign_in, sign_out
from tests.evidence.imports.test_layouts import HEADER, OURS, national_rows


def national_csv(folder) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *national_rows(count=120)])
    path = folder / "ascof-national.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return str(path)


def upload(page: Page, path: str) -> None:
    nav(page, "Import")
    page.get_by_role("link", name=re.compile("Metric points")).first.click()
    page.get_by_label("Spreadsheet to import").set_input_files(path)
    page.get_by_role("button", name="Upload and preview").click()


def test_a_quality_lead_maps_a_national_files_columns_and_imports_the_councils_rows(page: Page, tmp_path):
    sign_in(page, *ADMIN)
    nav(page, "Council")
    page.get_by_label("ONS code").fill(OURS)
    page.get_by_role("button", name="Save council details").click()
    expect(flash(page, "Council details saved.")).to_be_visible()
    sign_out(page)

    sign_in(page, *QUALITY_LEAD)
    path = national_csv(tmp_path)
    upload(page, path)

    # The file's columns, with values from its first rows, and what the import needs from them.
    expect(page.get_by_role("heading", level=1)).to_have_text("Which column is which: metric points")
    columns = page.get_by_test_id("file-columns")
    expect(columns.get_by_role("row", name=re.compile("Local authority code"))).to_contain_text(OURS)
    expect(page.get_by_text("missing the columns Metric, Period")).to_be_visible()
    # Offered already: the Value column by its heading, and the council's own rows by its ONS code.
    expect(page.get_by_label("Value", exact=True)).to_have_value("4")
    expect(page.locator("#filter_0")).to_have_value("1")
    expect(page.locator("#filter_value_0")).to_have_value(OURS)
    screenshot(page, "journey-columns-01-mapping")

    page.get_by_role("button", name="Save the layout and preview").click()
    expect(page.get_by_text("Metric: choose the column that holds it.").first).to_be_visible()

    page.get_by_label("Metric", exact=True).select_option(label="D · Measure")
    page.get_by_label("Period", exact=True).select_option(label="A · Financial year")
    page.get_by_label("Comparator column 1").select_option(label="F · MEDIAN")
    page.get_by_label("Comparator 1 is").fill("Median of councils")
    page.get_by_label("Name of this layout").fill("ASCOF national file")
    page.get_by_role("button", name="Save the layout and preview").click()

    expect(flash(page, "Layout “ASCOF national file” saved")).to_be_visible()
    expect(page.get_by_text("read with the saved layout “ASCOF national file”")).to_be_visible()
    expect(page.get_by_text("60 of 7,200 rows")).to_be_visible()
    rows = page.locator("table.import-rows tbody tr")
    expect(rows).to_have_count(60)
    expect(rows.first).to_contain_text("2020/21")
    screenshot(page, "journey-columns-02-preview")
    page.get_by_role("button", name="Import 60 rows").click()
    # A file of 7,200 rows is read again and written by a job: its page follows it and says what was added.
    expect(page.get_by_test_id("job")).to_contain_text(re.compile(r"10 new metrics, 60 points added"), timeout=60_000)

    # The same file again: read with the saved layout, without asking, and nothing to change.
    upload(page, path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import: metric points")
    expect(page.get_by_text("Everything in this file is already in the portfolio")).to_be_visible()
    expect(page.get_by_role("link", name="Change the layout “ASCOF national file”")).to_be_visible()
