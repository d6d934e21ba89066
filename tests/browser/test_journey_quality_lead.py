"""Journey 2: the quality lead reviews, maps, follows a gap, scores, and sees the dashboard move."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import QUALITY_LEAD, band, flash, nav, percent, reference_in, screenshot, sign_in

# Two findings the demo portfolio holds in the review queue.
TO_ACCEPT = "Stretched community teams hesitate to accept discharges"
TO_RETURN = "Carers assessments offered at the point of hospital discharge"
RETURN_REASON = "Please say how many of the 20 carers were offered an assessment, so the finding can be weighed."

SAFE_PATHWAYS = "Safe pathways, systems and transitions"
STAFF_AND_LEADERS = "Feedback from staff and leaders"
# The dashboard's count of accepted evidence for Safe pathways under feedback from staff and leaders.
SAFE_PATHWAYS_STAFF_CELL = 'tr[data-statement="safe-pathways"] .heat__cell a[href$="category=staff-leaders"]'
THEMES = {
    "working-with-people": ("assessing-needs", "healthier-lives", "equity"),
    "providing-support": ("care-provision", "partnerships"),
    "ensuring-safety": ("safe-pathways", "safeguarding"),
    "leadership": ("governance", "learning"),
}


def read_dashboard(page: Page) -> dict:
    """What the dashboard shows: every statement's score, each theme's figure and the overall rating."""
    nav(page, "Dashboard")
    expect(page.get_by_test_id("overall")).to_be_visible()
    scores = {}
    for key in (key for keys in THEMES.values() for key in keys):
        text = page.locator(f'tr[data-statement="{key}"] .heat__score .score').inner_text().strip()
        scores[key] = int(text)
    return {
        "scores": scores,
        "overall": " ".join(page.get_by_test_id("overall").inner_text().split()),
        "themes": {key: page.locator(f"#theme-{key} .heat__theme-row .band").inner_text() for key in THEMES},
        "waiting": int(page.get_by_test_id("waiting-submitted").inner_text()),
        "cell": " ".join(page.locator(SAFE_PATHWAYS_STAFF_CELL).inner_text().split()),
    }


def expected_figures(scores: dict[str, int]) -> tuple[str, dict[str, str]]:
    """The overall rating and theme figures the product brief's roll-up gives for these scores."""
    overall = percent(sum(scores.values()), 4 * len(scores))
    themes = {}
    for theme, keys in THEMES.items():
        pct = percent(sum(scores[k] for k in keys), 4 * len(keys))
        themes[theme] = f"{pct}% · {band(pct)}"
    return f"{overall}% {band(overall)}", themes


def test_quality_lead_reviews_maps_scores_and_moves_the_dashboard(page: Page):
    sign_in(page, *QUALITY_LEAD)
    before = read_dashboard(page)
    overall, themes = expected_figures(before["scores"])
    assert (before["overall"], before["themes"]) == (overall, themes)
    assert before["overall"] == "69% Good"  # 25 of 36 points in the demo round
    screenshot(page, "journey2-lead-01-dashboard-before")

    # The review queue, from the dashboard's "work waiting".
    page.get_by_test_id("waiting-submitted-tile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    expect(page.get_by_role("link", name=re.compile(r"^Waiting for review"))).to_have_attribute("aria-current", "page")
    screenshot(page, "journey2-lead-02-review-queue")
    page.get_by_role("link", name=TO_ACCEPT, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TO_ACCEPT)
    screenshot(page, "journey2-lead-03-review-item")
    page.get_by_role("button", name="Accept", exact=True).click()
    accepted = flash(page, "accepted. Map it to the quality statements it evidences.")
    expect(accepted).to_be_visible()
    reference = reference_in(accepted.inner_text())

    nav(page, "Review queue")
    page.get_by_role("link", name=TO_RETURN, exact=True).click()
    page.get_by_label("Reason for returning it").fill(RETURN_REASON)
    page.get_by_role("button", name="Return with this reason").click()
    expect(flash(page, re.compile(r"E-\d+ returned to Sam Whitcombe"))).to_be_visible()
    expect(page.get_by_role("link", name=TO_RETURN, exact=True)).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"^Returned, waiting for the submitter")).click()
    expect(page.get_by_role("row").filter(has_text=TO_RETURN)).to_contain_text(RETURN_REASON)

    # Find the accepted item in the library by its reference, and map it.
    nav(page, "Evidence library")
    page.get_by_label("Search", exact=True).fill(reference)
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name=TO_ACCEPT, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TO_ACCEPT)
    mappings = page.locator("#mappings")
    mappings.get_by_label("Quality statement").select_option(label=SAFE_PATHWAYS)
    mappings.get_by_label("Evidence category").select_option(label=STAFF_AND_LEADERS)
    mappings.get_by_label("Stance").select_option(label="Shortfall")
    mappings.get_by_label("Note").fill("Capacity in community teams slows discharges from mental health wards.")
    mappings.get_by_role("button", name="Add mapping").click()
    expect(flash(page, f"{reference} mapped to {SAFE_PATHWAYS} under {STAFF_AND_LEADERS}.")).to_be_visible()
    mapped = page.locator("#mappings .mapping-list li").filter(has_text=SAFE_PATHWAYS)
    expect(mapped).to_contain_text(STAFF_AND_LEADERS)
    expect(mapped.locator(".tag--shortfall")).to_have_text("Shortfall")
    screenshot(page, "journey2-lead-04-item-mapped")

    # The gaps page: Governance has no evidence of people's experience; follow it to the statement.
    nav(page, "Gaps")
    gap = page.locator('tr[data-gap="no_evidence"][data-statement="governance"]')
    expect(gap).to_contain_text("No accepted evidence under People's experience.")
    screenshot(page, "journey2-lead-05-gaps")
    gap.get_by_role("link", name="Governance, management and sustainability", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Governance, management and sustainability")

    # Score it 2, citing the newly accepted item.
    rationale = (
        "Oversight is clear, but leaders have not yet matched community team capacity to discharge demand: "
        f"staff say stretched teams hesitate to accept discharges [{reference}]. We hold no evidence of how "
        "people who use services see our leadership."
    )
    edit = page.locator("#edit")
    edit.get_by_label("Score", exact=True).select_option(label="2 · Evidence shows some shortfalls")
    edit.get_by_label("Rationale", exact=True).fill(rationale)
    edit.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("hesitate to accept discharges")
    expect(page.locator("#preview").get_by_role("link", name=f"[{reference}]", exact=True)).to_be_visible()
    page.locator("#edit").get_by_role("button", name="Save assessment").click()
    expect(flash(page, "Assessment of Governance, management and sustainability saved.")).to_be_visible()
    assessment = page.locator("#assessment")
    expect(assessment.locator(".score-line")).to_contain_text("Evidence shows some shortfalls")
    expect(assessment.locator(".score-line .score")).to_have_text("2")
    cited = assessment.get_by_role("link", name=f"[{reference}]", exact=True)
    expect(cited).to_be_visible()
    screenshot(page, "journey2-lead-06-statement-scored")

    # The citation leads back to the item, which now knows where it is cited.
    cited.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TO_ACCEPT)
    expect(page.locator("section").filter(has_text="Where it is cited")).to_contain_text(
        "Governance, management and sustainability (rationale)"
    )

    # The dashboard: Leadership and the overall rating move as the roll-up says they should.
    after = read_dashboard(page)
    assert after["scores"] == {**before["scores"], "governance": 2}
    overall, themes = expected_figures(after["scores"])
    assert after["overall"] == overall == "67% Good"  # 24 of 36
    assert after["themes"] == themes
    assert after["themes"]["leadership"] == "63% · Good" != before["themes"]["leadership"]  # 5 of 8, half up
    assert {k: v for k, v in after["themes"].items() if k != "leadership"} == {
        k: v for k, v in before["themes"].items() if k != "leadership"
    }
    assert after["waiting"] == before["waiting"] - 2
    # Safe pathways now has one more shortfall under feedback from staff and leaders.
    n, strengths, shortfalls = (int(x) for x in re.findall(r"\d+", before["cell"]))
    assert after["cell"] == f"{n + 1} +{strengths} −{shortfalls + 1}"
    screenshot(page, "journey2-lead-07-dashboard-after")
