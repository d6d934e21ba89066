"""Journey 4: the quality lead follows the dashboard's overdue actions into the tracker, updates one in place
and downloads the list; the manager reads what stands in the way of the sign-off, signs off with the tick
first, and is offered the next steps."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.helpers import MANAGER, QUALITY_LEAD, flash, nav, screenshot, sign_in, sign_out

ROUND = "Winter 2026 self-assessment"


def test_the_lead_works_through_overdue_actions_in_the_tracker(page: Page, tmp_path):
    sign_in(page, *QUALITY_LEAD)
    nav(page, "Dashboard")
    tile = page.get_by_test_id("overdue-count-tile")
    overdue = int(page.get_by_test_id("overdue-count").inner_text())
    assert overdue >= 1
    expect(tile).to_contain_text("1 overdue action" if overdue == 1 else f"{overdue} overdue actions")
    tile.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Improvement actions")
    expect(page.get_by_label("Due")).to_have_value("overdue")
    rows = page.locator("tbody tr.row--overdue")
    expect(rows).to_have_count(overdue)
    expect(page.get_by_test_id("tracker-count")).to_contain_text(f"{overdue} overdue action")
    screenshot(page, "journey4-lead-01-tracker-overdue")

    # Mark the first overdue action done, in place; the list comes back filtered as it was.
    first = rows.first
    description = first.locator("th").inner_text().splitlines()[0]
    first.get_by_label(re.compile("^Status of")).select_option("done")
    first.get_by_role("button", name=re.compile("^Save")).click()
    expect(flash(page, "is now done.")).to_be_visible()
    expect(page.get_by_label("Due")).to_have_value("overdue")
    expect(page.locator("tbody tr.row--overdue")).to_have_count(overdue - 1)
    screenshot(page, "journey4-lead-02-tracker-updated")

    # Every action, soonest due first, as a spreadsheet and as CSV.
    page.get_by_role("link", name="Clear all").click()
    listed = page.locator("tbody tr").count()
    assert listed >= 6
    with page.expect_download() as started:
        page.get_by_role("link", name="Excel", exact=True).click()
    assert started.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(started.value.path().read_bytes()))
    sheet = book["Actions"]
    assert [c.value for c in sheet[2]][:3] == ["Quality statement", "Round", "What will be done"]
    descriptions = [row[2] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert len(descriptions) == listed and description in descriptions
    with page.expect_download() as started:
        page.get_by_role("link", name="CSV", exact=True).click()
    rows_csv = list(csv.reader(io.StringIO(started.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows_csv) == listed + 1

    nav(page, "Dashboard")
    expect(page.get_by_test_id("overdue-count")).to_have_text(str(overdue - 1))


def test_the_manager_reads_the_readiness_ticks_then_confirms_and_is_offered_next_steps(page: Page):
    sign_in(page, *MANAGER)
    nav(page, "Rounds")
    page.get_by_role("link", name=ROUND).click()
    readiness = page.locator("#readiness")
    expect(readiness.get_by_role("heading", name="Before signing off")).to_be_visible()
    waiting = readiness.locator('[data-concern="awaiting_review"]')
    expect(waiting.get_by_role("heading")).to_have_text(
        re.compile(r"^\d+ submissions? (is|are) still waiting for review$")
    )
    expect(waiting.get_by_role("link").first).to_have_attribute("href", re.compile(r"^/evidence/\d+$"))
    screenshot(page, "journey4-manager-01-readiness")

    # Unticked, the button asks nothing: the page says to tick the box, and nothing is signed off.
    questions: list[str] = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Sign off this round").click()
    expect(page.locator(".error-summary")).to_contain_text("Tick the box to confirm")
    assert questions == []

    # Ticked, it asks once more, then signs off.
    page.get_by_label("I confirm this round is complete.").check()
    page.get_by_role("button", name="Sign off this round").click()
    expect(flash(page, f"“{ROUND}” is signed off and frozen.")).to_be_visible()
    assert questions == [f"Sign off “{ROUND}”? This cannot be undone."]
    expect(page.locator("#readiness")).to_have_count(0)

    steps = page.locator("#next-steps")
    expect(steps.get_by_role("link", name="Export this round")).to_be_visible()
    expect(steps.get_by_label("Carry forward the latest round")).to_be_checked()
    screenshot(page, "journey4-manager-02-next-steps")
    steps.get_by_label("Name of the round").fill("Spring 2027 self-assessment")
    steps.get_by_role("button", name="Create round").click()
    expect(flash(page, "Created “Spring 2027 self-assessment”. It is now the current round.")).to_be_visible()
    expect(page.get_by_test_id("overall")).to_contain_text("69%")  # carried forward, as before
    sign_out(page)
