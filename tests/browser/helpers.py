"""What the browser journeys share: demo sign-ins, screen sizes, screenshots and small page helpers."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Demo sign-ins (evidence/demo_data/portfolio.yaml).
STAFF = ("staff@example-council.gov.uk", "assure-staff-2026")
QUALITY_LEAD = ("quality@example-council.gov.uk", "assure-quality-2026")
MANAGER = ("manager@example-council.gov.uk", "assure-manager-2026")
ADMIN = ("admin@example-council.gov.uk", "assure-admin-2026")

REFERENCE = re.compile(r"\bE-\d+\b")


def screenshot(page: Page, name: str) -> None:
    """Full-page screenshot kept as test output (not committed) for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(flash(page, "You have signed out.")).to_be_visible()


def nav(page: Page, name: str) -> None:
    """Follow a link of the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def flash(page: Page, text: str | re.Pattern):
    """The flash message that says ``text``."""
    return page.locator(".flashes .flash").filter(has_text=text)


def reference_in(text: str) -> str:
    """The first evidence reference (E-12) in ``text``."""
    found = REFERENCE.search(text)
    assert found, f"no evidence reference in {text!r}"
    return found.group()


def percent(points: int, maximum: int) -> int:
    """A share of the maximum as a whole percent, rounded half up (as the product brief defines it)."""
    return int((Decimal(points) * 100 / Decimal(maximum)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def band(pct: int) -> str:
    for floor, name in ((88, "Outstanding"), (63, "Good"), (39, "Requires improvement"), (25, "Inadequate")):
        if pct >= floor:
            return name
    raise ValueError(f"{pct}% is below the scale")


def small_pdf(text: str) -> bytes:
    """A real, one-page PDF that says ``text`` (what a council officer might attach)."""
    stream = f"BT /F1 14 Tf 72 770 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def download_from_job(page: Page, timeout: float = 60_000):
    """On a job's page (where starting an export leads): wait for its Download button, which the page shows
    once the job is done, and download the file; the Playwright download."""
    expect(page.get_by_test_id("job").locator("progress")).to_be_visible()
    button = page.get_by_test_id("job-download")
    expect(button).to_be_visible(timeout=timeout)
    with page.expect_download(timeout=timeout) as started:
        button.click()
    return started.value
