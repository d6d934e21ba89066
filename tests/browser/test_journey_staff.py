"""Journey 1: a member of staff submits two findings and sees what the quality lead made of them."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import QUALITY_LEAD, STAFF, flash, nav, reference_in, screenshot, sign_in, small_pdf

SURVEY_TITLE = "Most discharge staff say the transfer of care hub speeds up decisions"
METRIC_TITLE = "Days from referral to a first Care Act assessment"
RETURN_REASON = "Please give the source of these figures and the quarter each one covers, then send it back."


def submitted_reference(page: Page, title: str) -> str:
    """The reference from the thank-you message the portal shows after a submission."""
    message = flash(page, f"“{title}” is with the quality lead for review")
    expect(message).to_be_visible()
    return reference_in(message.inner_text())


def submission_row(page: Page, title: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=title))


def test_staff_submit_findings_and_see_them_accepted_and_returned(page: Page, open_page, live_server, tmp_path):
    report = tmp_path / "transfer-of-care-hub-survey.pdf"
    report.write_bytes(small_pdf("Transfer of care hub: staff pulse survey, September 2026"))

    # Sam, a discharge social worker, starts at their own submissions.
    sign_in(page, *STAFF)
    expect(page).to_have_title(re.compile(r"^My submissions"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Submit a finding", "My submissions"]
    )

    # A survey finding, with the survey report attached.
    nav(page, "Submit a finding")
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit a finding")
    page.get_by_role("link", name="Survey finding").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit a finding: survey finding")
    page.get_by_label("Title", exact=True).fill(SURVEY_TITLE)
    page.get_by_label("Summary", exact=True).fill(
        "Three in four staff in the hospital discharge team said the **transfer of care hub** helps them "
        "agree a discharge plan on the day."
    )
    page.get_by_label("Source", exact=True).fill("Hospital discharge team pulse survey")
    page.get_by_label("Period start", exact=True).fill("2026-09-01")
    page.get_by_label("Period end", exact=True).fill("2026-09-30")
    page.get_by_label("Survey name", exact=True).fill("Discharge team pulse survey 2026")
    page.get_by_label("Question", exact=True).fill(
        "Does the transfer of care hub help you agree a discharge plan on the day?"
    )
    page.get_by_label("Respondents (n)", exact=True).fill("42")
    page.get_by_label("Result (%)", exact=True).fill("74%")
    page.get_by_label("Population", exact=True).fill("Hospital discharge team social workers and care coordinators")
    page.get_by_label("Safe pathways, systems and transitions").check()
    page.get_by_label("File", exact=True).set_input_files(report)
    screenshot(page, "journey1-staff-01-survey-form")
    page.get_by_role("button", name="Submit for review").click()
    survey_ref = submitted_reference(page, SURVEY_TITLE)
    expect(page).to_have_title(re.compile(r"^My submissions"))

    # A metric with three quarters of values.
    nav(page, "Submit a finding")
    page.get_by_role("link", name="Metric", exact=True).click()
    page.get_by_label("Title", exact=True).fill(METRIC_TITLE)
    page.get_by_label("Summary", exact=True).fill(
        "The average wait from a referral to the start of an assessment, by quarter."
    )
    page.get_by_label("Source", exact=True).fill("Adult social care case management system")
    page.get_by_label("Unit", exact=True).fill("days")
    page.get_by_label("Lower is better", exact=True).check()
    page.get_by_label("Target", exact=True).fill("20")
    for row, (period, value) in enumerate((("2026 Q1", "31"), ("2026 Q2", "27.5"), ("2026 Q3", "23")), start=1):
        page.get_by_label(f"Period {row}", exact=True).fill(period)
        page.get_by_label(f"Value {row}", exact=True).fill(value)
    screenshot(page, "journey1-staff-02-metric-form")
    page.get_by_role("button", name="Submit for review").click()
    metric_ref = submitted_reference(page, METRIC_TITLE)
    assert metric_ref != survey_ref

    # Both are in My submissions, waiting for review.
    for title, ref in ((SURVEY_TITLE, survey_ref), (METRIC_TITLE, metric_ref)):
        row = submission_row(page, title)
        expect(row.get_by_role("link", name=ref, exact=True)).to_be_visible()
        expect(row.locator(".tag--submitted")).to_have_text("Submitted")
    screenshot(page, "journey1-staff-03-my-submissions-submitted")

    # The metric's page draws the three values and lists them as text.
    submission_row(page, METRIC_TITLE).get_by_role("link", name=metric_ref, exact=True).click()
    expect(page.get_by_text("This item is waiting for review.")).to_be_visible()
    values = page.get_by_role("table", name=f"Values of {METRIC_TITLE} by period")
    expect(values.get_by_role("rowheader")).to_have_text(["2026 Q1", "2026 Q2", "2026 Q3"])
    expect(values.locator("tbody td.num").first).to_contain_text("31")
    # Sam adds the regional average for the latest quarter: a comparator series of its own, drawn beside the values.
    comparator = page.locator("form").filter(has=page.get_by_role("button", name="Add comparator value"))
    comparator.get_by_label("Comparator", exact=True).fill("Regional average")
    comparator.get_by_label("Period", exact=True).fill("2026 Q3")
    comparator.get_by_label("Value", exact=True).fill("24")
    comparator.get_by_role("button", name="Add comparator value").click()
    expect(flash(page, "Regional average, 2026 Q3: 24 days saved")).to_be_visible()
    expect(page.locator(".chart-legend")).to_contain_text("Regional average")
    values = page.get_by_role("table", name=f"Values of {METRIC_TITLE} by period, beside its comparators")
    expect(values.get_by_role("columnheader")).to_have_text(["Period", "Value", "Target", "Regional average"])
    expect(page.locator("svg .chart__latest")).to_have_text("23 days")
    screenshot(page, "journey1-staff-04-metric-page")

    # Meanwhile, the quality lead reviews them in a browser of their own.
    lead = open_page(live_server)
    sign_in(lead, *QUALITY_LEAD)
    nav(lead, "Review queue")
    queue_row = lead.get_by_role("row").filter(has_text=SURVEY_TITLE)
    expect(queue_row.get_by_text("1 file")).to_be_visible()
    queue_row.get_by_role("link", name=SURVEY_TITLE, exact=True).click()
    expect(lead.get_by_text("Nothing that looks like an email address")).to_be_visible()
    with lead.expect_download() as attached:
        lead.get_by_role("link", name=report.name).click()
    assert attached.value.path().read_bytes() == report.read_bytes()
    lead.get_by_role("button", name="Accept", exact=True).click()
    expect(flash(lead, f"{survey_ref} accepted")).to_be_visible()

    nav(lead, "Review queue")
    lead.get_by_role("row").filter(has_text=METRIC_TITLE).get_by_role("link", name=METRIC_TITLE, exact=True).click()
    lead.get_by_label("Reason for returning it").fill(RETURN_REASON)
    lead.get_by_role("button", name="Return with this reason").click()
    expect(flash(lead, f"{metric_ref} returned to Sam Whitcombe")).to_be_visible()
    screenshot(lead, "journey1-lead-05-queue-after-review")

    # Back with Sam: one accepted, one returned with its reason and a way to put it right.
    nav(page, "My submissions")
    accepted = submission_row(page, SURVEY_TITLE)
    expect(accepted.locator(".tag--accepted")).to_have_text("Accepted")
    expect(accepted.get_by_role("link", name="Correct and resubmit")).to_have_count(0)
    returned = submission_row(page, METRIC_TITLE)
    expect(returned.locator(".tag--returned")).to_have_text("Returned")
    expect(returned.locator(".return-reason")).to_contain_text(f"Reason: {RETURN_REASON}")
    expect(returned.locator(".return-reason")).to_contain_text("Morgan Ellery")
    expect(returned.get_by_role("link", name="Correct and resubmit")).to_be_visible()
    screenshot(page, "journey1-staff-06-my-submissions-reviewed")

    # The accepted survey keeps its file, which Sam can still download.
    accepted.get_by_role("link", name=survey_ref, exact=True).click()
    expect(page.locator(".tags-row .tag--accepted")).to_have_text("Accepted")
    with page.expect_download() as downloaded:
        page.get_by_role("link", name=report.name).click()
    assert downloaded.value.path().read_bytes() == report.read_bytes()
    screenshot(page, "journey1-staff-07-accepted-item")
