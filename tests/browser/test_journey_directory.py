"""Signing in through the council's directory in Chromium: a real OpenID provider on 127.0.0.1 (tests/oidc),
the portal served for real and set up to use it, a person who clicks through both and signs out of both."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _serve
from tests.browser.helpers import flash, screenshot
from tests.openid_provider import openid_provider  # noqa: F401  (the fixture)

STAFF_EMAIL = "staff@example-council.gov.uk"  # a demo account, and an account in the test directory


@pytest.fixture
def directory_portal(demo_database, tmp_path, monkeypatch, openid_provider):  # noqa: F811
    for name, value in openid_provider.config().items():
        monkeypatch.setenv(name, value)
    yield from _serve(demo_database, tmp_path)


def test_a_member_of_staff_signs_in_and_out_through_the_directory(directory_portal, open_page, openid_provider):  # noqa: F811
    page = open_page(directory_portal)
    page.goto("/sign-in")
    page.get_by_role("link", name="Sign in with your council account").click()

    # The directory's own page, on the provider's address.
    expect(page.get_by_role("heading", name="Sign in to the directory")).to_be_visible()
    assert page.url.startswith(openid_provider.issuer)
    page.get_by_label("Directory email").fill(STAFF_EMAIL)
    page.get_by_role("button", name="Continue").click()

    # Back in the portal, signed in as the demo staff member the directory's verified email names.
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.url.startswith(directory_portal)
    expect(page.locator(".account__who")).to_contain_text("Staff")
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_text("Linked", exact=True)).to_be_visible()
    screenshot(page, "directory-signed-in-account")

    page.get_by_role("button", name="Sign out").click()
    expect(flash(page, "You have signed out.")).to_be_visible()
    page.get_by_role("link", name="Sign out of your council account too").click()
    expect(page.get_by_role("heading", name="Sign out of the directory")).to_be_visible()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile(re.escape(directory_portal) + r"/sign-in"))

    # Signed out of both: signing in again asks the directory who you are.
    page.get_by_role("link", name="Sign in with your council account").click()
    expect(page.get_by_role("heading", name="Sign in to the directory")).to_be_visible()
