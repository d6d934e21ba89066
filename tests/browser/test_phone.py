"""At a phone's width (390 px) the controls people act on are in view: stacked rows, not tables that
scroll sideways out of sight."""

from playwright.sync_api import Locator, expect

from tests.browser.helpers import PHONE, QUALITY_LEAD, STAFF, screenshot, sign_in

# Why an element is not in plain view without scrolling sideways, or "" when it is: it must lie within the
# screen's width, and no box around it may hold content wider than itself (a table that scrolls sideways).
OUT_OF_VIEW = """el => {
  const box = el.getBoundingClientRect();
  if (box.width === 0 || box.height === 0) return 'not shown';
  if (box.left < 0 || box.right > window.innerWidth + 1) return `at ${Math.round(box.left)}-${Math.round(box.right)}px`;
  for (let around = el.parentElement; around; around = around.parentElement) {
    const overflow = getComputedStyle(around).overflowX;
    if (overflow !== 'visible' && around.scrollWidth > around.clientWidth + 1) {
      return `inside a box that scrolls sideways (${around.scrollWidth}px in ${around.clientWidth}px)`;
    }
  }
  return '';
}"""


def out_of_view(locators: list[Locator]) -> list[str]:
    problems = []
    for locator in locators:
        if why := locator.evaluate(OUT_OF_VIEW):
            problems.append(f"{locator.evaluate('el => el.textContent.trim().slice(0, 60)')!r}: {why}")
    return problems


def assert_page_fits(page) -> None:
    width, room = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= room + 1, f"{page.url} is {width}px wide on a {room}px screen"


def test_on_a_phone_my_submissions_shows_each_status_and_the_resubmit_button(open_page, shared_server):
    page = open_page(shared_server, viewport=PHONE)
    sign_in(page, *STAFF)
    page.goto("/my-submissions")
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    statuses = [row.locator(".tag").first for row in rows.all()]
    resubmit = page.get_by_role("link", name="Correct and resubmit")
    expect(resubmit.first).to_be_visible()
    screenshot(page, "phone-my-submissions")
    assert_page_fits(page)
    assert out_of_view([*statuses, *resubmit.all()]) == []
    # Each row still says what its status is, by name.
    assert rows.first.locator("td[data-label='Status']").evaluate("el => getComputedStyle(el, '::before').content")


def test_on_a_phone_the_dashboard_shows_every_category_of_a_statement(open_page, shared_server):
    page = open_page(shared_server, viewport=PHONE)
    sign_in(page, *QUALITY_LEAD)
    page.goto("/dashboard")
    statements = page.locator("tr[data-statement]")
    expect(statements.first).to_be_visible()
    cells = [cell for row in statements.all() for cell in row.locator("td.heat__cell").all()]
    scores = [row.locator("td.heat__score").first for row in statements.all()]
    categories = page.locator("th.heat__cat").count()
    assert categories >= 4 and len(cells) == categories * statements.count()
    screenshot(page, "phone-dashboard")
    assert_page_fits(page)
    assert out_of_view([*scores, *cells]) == []
    # A cell names its category, as the column heading did on a laptop.
    first = statements.first.locator("td.heat__cell").first
    heading = page.locator("th.heat__cat").first.inner_text()
    assert heading in first.evaluate("el => getComputedStyle(el, '::before').content")


def test_on_a_phone_the_review_queue_shows_each_review_button(open_page, shared_server):
    page = open_page(shared_server, viewport=PHONE)
    sign_in(page, *QUALITY_LEAD)
    page.goto("/review")
    buttons = page.locator("table tbody a.button").filter(has_text="Review")
    expect(buttons.first).to_be_visible()
    assert buttons.count() >= 2
    screenshot(page, "phone-review-queue")
    assert_page_fits(page)
    assert out_of_view(buttons.all()) == []
    buttons.first.click()
    expect(page.get_by_role("button", name="Accept", exact=True)).to_be_visible()
