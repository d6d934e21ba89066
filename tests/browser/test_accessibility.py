"""The key pages, checked in the browser: labels, titles, one heading, own assets, keyboard, narrow screens."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from evidence.vocab import Kind
from tests.browser.helpers import ADMIN, MANAGER, PHONE, QUALITY_LEAD, ROOT, STAFF, flash, screenshot, sign_in

# What each page must be, checked in the page itself.
PAGE_PROBLEMS = """
() => {
  const problems = [];
  const title = document.title.trim();
  if (!/^\\S.* · Assure$/.test(title)) problems.push(`the title is "${title}"`);
  const headings = [...document.querySelectorAll('h1')];
  if (headings.length !== 1) problems.push(`${headings.length} h1 headings`);
  else if (!headings[0].textContent.trim()) problems.push('the h1 is empty');

  const skip = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.tagName === 'INPUT' && skip.has((el.getAttribute('type') || 'text').toLowerCase())) continue;
    const byLabel = [...(el.labels || [])].some((label) => label.textContent.trim());
    const byAria = (el.getAttribute('aria-label') || '').trim() !== '';
    const byIds = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .some((id) => (document.getElementById(id)?.textContent || '').trim());
    if (!byLabel && !byAria && !byIds) {
      problems.push(`no label for <${el.tagName.toLowerCase()} name="${el.name}" id="${el.id}">`);
    }
  }

  const ids = new Map();
  for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids) if (n > 1) problems.push(`id "${id}" is used ${n} times`);

  // Assets come from the portal itself; a link out is only ever user-given evidence, opened safely.
  const attributes = ['src', 'href', 'action', 'data', 'poster', 'formaction', 'srcset', 'xlink:href'];
  for (const el of document.querySelectorAll('*')) {
    for (const name of attributes) {
      const value = el.getAttribute(name);
      if (!value) continue;
      for (const part of name === 'srcset' ? value.split(',').map((s) => s.trim().split(/\\s+/)[0]) : [value]) {
        const url = new URL(part, document.baseURI);
        if (!/^https?:$/.test(url.protocol) || url.host === location.host) continue;
        const rel = (el.getAttribute('rel') || '').split(/\\s+/);
        const safeLink = el.tagName === 'A' && name === 'href'
          && rel.includes('noopener') && rel.includes('noreferrer');
        if (!safeLink) problems.push(`<${el.tagName.toLowerCase()} ${name}="${part}"> points to another host`);
      }
    }
  }
  for (const sheet of document.styleSheets) {
    if (sheet.href && new URL(sheet.href).host !== location.host) problems.push(`stylesheet from ${sheet.href}`);
    for (const rule of sheet.cssRules) {
      for (const m of rule.cssText.matchAll(/url\\(["']?(https?:[^"')]+)/g)) {
        if (new URL(m[1]).host !== location.host) problems.push(`CSS fetches ${m[1]}`);
      }
    }
  }
  return problems;
}
"""


@dataclass(frozen=True)
class KeyPage:
    name: str
    url: str
    then: Callable[[Page], None] | None = None  # what to do on the page before checking it


def click(role: str, name: str | re.Pattern, **options) -> Callable[[Page], None]:
    def act(page: Page) -> None:
        page.get_by_role(role, name=name, **options).first.click()
        page.wait_for_load_state()

    return act


def click_in(selector: str) -> Callable[[Page], None]:
    def act(page: Page) -> None:
        page.locator(selector).first.click()
        page.wait_for_load_state()

    return act


def run_checks(page: Page) -> None:
    page.get_by_role("button", name="Run the checks").click()
    expect(page.get_by_test_id("checks")).to_be_visible()


def steps(*acts: Callable[[Page], None]) -> Callable[[Page], None]:
    def act(page: Page) -> None:
        for one in acts:
            one(page)

    return act


KEY_PAGES: dict[str, tuple[tuple[str, str] | None, list[KeyPage]]] = {
    "anonymous": (
        None,
        [
            KeyPage("sign-in", "/sign-in"),
            KeyPage("sign-in-with-errors", "/sign-in", click("button", "Sign in")),
        ],
    ),
    "staff": (
        STAFF,
        [
            KeyPage("choose-a-kind", "/submit"),
            *(KeyPage(f"submit-{kind.value}", f"/submit?kind={kind.value}") for kind in Kind),
            KeyPage("submit-with-errors", "/submit?kind=metric", click("button", "Submit for review")),
            KeyPage("my-submissions", "/my-submissions"),
            KeyPage("correct-and-resubmit", "/my-submissions", click("link", "Correct and resubmit")),
            KeyPage("own-item", "/my-submissions", click_in("table td a")),
            KeyPage("account", "/account"),
            KeyPage("change-password", "/account/password"),
            KeyPage("change-password-with-errors", "/account/password", click("button", "Change password")),
        ],
    ),
    "quality-lead": (
        QUALITY_LEAD,
        [
            KeyPage("dashboard", "/dashboard"),
            KeyPage("review-queue", "/review"),
            KeyPage("review-item", "/review", click("link", re.compile(r"^Review E-\d+"))),
            KeyPage("library", "/evidence"),
            KeyPage("item-metric", "/evidence?kind=metric", click_in(".library-table th a")),
            KeyPage("item-document", "/evidence?kind=document", click_in(".library-table th a")),
            KeyPage("statements", "/statements"),
            KeyPage("statement", "/statements/safe-pathways"),
            KeyPage("statement-preview", "/statements/safe-pathways", click("button", "Preview")),
            KeyPage("action-edit", "/statements/safe-pathways", click_in("#actions td a")),
            KeyPage("gaps", "/gaps"),
            KeyPage("gap-candidates", "/gaps?kind=no_evidence", click("link", re.compile(r"^Find evidence"))),
            KeyPage("rounds", "/rounds"),
            KeyPage("round", "/rounds", click_in("table th a")),
            KeyPage("exports", "/exports"),
            KeyPage("exports-checks", "/exports", run_checks),
            KeyPage("export-preview", "/exports", steps(run_checks, click_in("[data-testid=checks] .plain-list a"))),
            KeyPage("import", "/import"),
        ],
    ),
    "manager": (
        MANAGER,
        [
            KeyPage("dashboard", "/dashboard"),
            KeyPage("round-sign-off", "/rounds", click_in("table th a")),
        ],
    ),
    "admin": (
        ADMIN,
        [
            KeyPage("users", "/admin/users"),
            KeyPage("reset-password", "/admin/users", click("link", re.compile(r"^Reset password"))),
        ],
    ),
}


@pytest.mark.parametrize("role", list(KEY_PAGES))
def test_key_pages_have_labels_a_title_one_heading_and_only_their_own_assets(role, open_page, shared_server):
    account, pages = KEY_PAGES[role]
    page = open_page(shared_server)
    if account:
        sign_in(page, *account)
    problems = []
    for key_page in pages:
        response = page.goto(key_page.url)
        assert response and response.ok, f"{key_page.url} answered {response and response.status}"
        if key_page.then:
            key_page.then(page)
        problems += [f"{key_page.name} ({page.url}): {problem}" for problem in page.evaluate(PAGE_PROBLEMS)]
        screenshot(page, f"page-{role}-{key_page.name}")
    assert not problems, "\n".join(problems)


NARROW_PAGES = {
    "quality-lead": (
        QUALITY_LEAD,
        [
            "/dashboard",
            "/evidence",
            "/evidence?kind=metric",
            "/review",
            "/statements",
            "/statements/safe-pathways",
            "/gaps",
            "/rounds",
            "/exports",
        ],
    ),
    "staff": (STAFF, ["/my-submissions", "/submit", "/submit?kind=metric"]),
}


@pytest.mark.parametrize("role", list(NARROW_PAGES))
def test_pages_fit_a_narrow_screen(role, open_page, shared_server):
    account, urls = NARROW_PAGES[role]
    page = open_page(shared_server, viewport=PHONE)
    sign_in(page, *account)
    too_wide = []
    for url in urls:
        page.goto(url)
        width, room = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width > room + 1:
            too_wide.append(f"{url} is {width}px wide on a {room}px screen")
        if url in ("/dashboard", "/evidence"):
            screenshot(page, f"narrow-{role}-{url.strip('/')}")
    assert not too_wide, "\n".join(too_wide)
    # The menu is one row that scrolls sideways: its last link can be brought into view.
    menu = page.get_by_role("navigation", name="Main")
    assert menu.bounding_box()["height"] < 60, "the menu takes more than one row on a phone"
    last = menu.get_by_role("link").last
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1


def test_on_a_phone_the_library_shows_results_before_its_filters(open_page, shared_server):
    page = open_page(shared_server, viewport=PHONE)
    sign_in(page, *QUALITY_LEAD)
    page.goto("/evidence")
    filters = page.locator("details.filter-panel")
    expect(filters).not_to_have_attribute("open", "")
    expect(page.get_by_label("Kind")).to_be_hidden()
    assert (
        page.get_by_role("status").filter(has_text="items of accepted evidence").bounding_box()["y"] < PHONE["height"]
    )
    page.get_by_text("Filters and sorting").click()
    page.get_by_label("Kind").select_option(label="Metric")
    page.get_by_role("button", name="Apply filters").click()
    # A filter in use stays in view, so it is plain why the list is shorter.
    expect(page.get_by_label("Kind")).to_have_value("metric")
    expect(page.get_by_text("Filters and sorting (in use)")).to_be_visible()


# --- Without a mouse -----------------------------------------------------------------------------------


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page: Page, locator: Locator, limit: int = 80) -> None:
    """Press Tab until ``locator`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if is_focused(locator):
            return
    raise AssertionError(f"{locator} cannot be reached with the Tab key")


def arrow_to(page: Page, radio: Locator, limit: int = 8) -> None:
    """Move through a focused radio group with the arrow keys until ``radio`` is chosen."""
    for _ in range(limit):
        if radio.is_checked():
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{radio} cannot be chosen with the arrow keys")


def test_skip_link_is_the_first_stop_and_leads_to_the_content(open_page, shared_server):
    page = open_page(shared_server)
    sign_in(page, *QUALITY_LEAD)
    page.goto("/gaps")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # it appears when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused_in_main = page.evaluate("document.querySelector('main').contains(document.activeElement)")
    assert focused_in_main, "after the skip link, Tab should move into the main content"


def test_sign_in_with_the_keyboard_alone(open_page, shared_server):
    page = open_page(shared_server)
    page.goto("/sign-in")
    email, password = page.get_by_label("Email address"), page.get_by_label("Password")
    expect(email).to_be_focused()  # the form starts where the typing starts
    page.keyboard.type(QUALITY_LEAD[0])
    page.keyboard.press("Tab")
    expect(password).to_be_focused()
    page.keyboard.type(QUALITY_LEAD[1])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Keep me signed in on this device")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile(r"^Dashboard · Assure$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_wrong_password_is_announced_and_the_keyboard_can_try_again(open_page, shared_server):
    page = open_page(shared_server)
    page.goto("/sign-in")
    # The email field takes the focus on load; type only once it has.
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type(STAFF[0])
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("That email address and password do not match an account.")
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(STAFF[1])
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile(r"^My submissions · Assure$"))


def test_submit_a_finding_with_the_keyboard_alone(page: Page):
    page.goto("/sign-in")
    # The email field takes the focus on load; type only once it has.
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type(STAFF[0])
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF[1])
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile(r"^My submissions"))

    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Submit a finding"))
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile(r"^Submit a finding · Assure$"))
    tab_to(page, page.get_by_role("link", name="Quote", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit a finding: quote")

    title = "Night carers say handovers now include the person's own wishes"
    for label, text in (
        ("Title", title),
        ("Summary", "A night care worker on the new handover sheet."),
        ("Source", "Home care provider forum"),
        ("Quote", "We know what matters to the person before we go in, not just the tasks."),
        ("Speaker's role", "Night care worker 2"),
    ):
        tab_to(page, page.get_by_label(label, exact=True))
        page.keyboard.type(text)
    tab_to(page, page.get_by_label("Person who uses services"))
    arrow_to(page, page.get_by_label("Staff", exact=True))
    tab_to(page, page.get_by_label("Neutral"))  # the chosen tone is the group's tab stop
    arrow_to(page, page.get_by_label("Facilitator"))
    tab_to(page, page.get_by_role("button", name="Submit for review"))
    page.keyboard.press("Enter")

    expect(flash(page, f"“{title}” is with the quality lead for review")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=title))
    expect(row.locator(".tag--submitted")).to_have_text("Submitted")
    tab_to(page, row.get_by_role("link"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    details = page.locator(".facts").first
    expect(details).to_contain_text("Staff")
    expect(details).to_contain_text("Facilitator")


def test_templates_and_static_files_fetch_nothing_from_other_hosts():
    """Every page's assets are the portal's own: no template or static file names another host to load from."""
    loads = re.compile(
        r"""(?:\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?|url\(\s*["']?|@import\s+["'])(?:https?:)?//"""
    )
    offenders = []
    for folder in (ROOT / "portal" / "templates", ROOT / "portal" / "static"):
        for path in folder.rglob("*"):
            if path.suffix in {".html", ".css", ".js", ".svg"}:
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                    if loads.search(line):
                        offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_score_and_band_colours_on_screen_are_the_exports_colours(open_page, shared_server):
    from exports.palette import BAND_COLOURS, SCORE_COLOURS

    def hex_of(rgb: str) -> str:
        return "".join(f"{int(n):02X}" for n in re.findall(r"\d+", rgb)[:3])

    page = open_page(shared_server)
    sign_in(page, *QUALITY_LEAD)
    page.goto("/dashboard")
    seen = page.evaluate(
        """() => [...document.querySelectorAll('.heat__table .score, .heat__table .band, [data-testid=overall]')]
            .map((el) => [el.textContent.trim(), getComputedStyle(el).color, getComputedStyle(el).backgroundColor])"""
    )
    scores = {text: (hex_of(fg), hex_of(bg)) for text, fg, bg in seen if text.isdigit()}
    bands = {text.split()[-1]: (hex_of(fg), hex_of(bg)) for text, fg, bg in seen if "%" in text}
    assert set(scores) == {"2", "3"} and {"Good", "improvement"} <= set(bands)  # what the demo round holds
    for score, colours in scores.items():
        assert colours == (SCORE_COLOURS[int(score)].text, SCORE_COLOURS[int(score)].background), score
    for last_word, colours in bands.items():
        name = next(band for band in BAND_COLOURS if band.endswith(last_word))
        assert colours == (BAND_COLOURS[name].text, BAND_COLOURS[name].background), name
