"""Accounts in the browser: an administrator resets a forgotten password with a one-time link, the person
chooses a new one through it, and later changes it again on their account page."""

import re

from playwright.sync_api import expect

from tests.browser.helpers import ADMIN, STAFF, flash, nav, screenshot, sign_in, sign_out

NEW = "a kettle on the landing"
NEWER = "three herons over the weir"


def test_a_forgotten_password_is_reset_by_link_and_changed_later(open_page, live_server):
    admin = open_page(live_server)
    sign_in(admin, *ADMIN)
    nav(admin, "Users")
    admin.get_by_role("link", name=re.compile(r"^Reset password of Sam Whitcombe")).click()
    admin.get_by_label("Make a one-time link for them").check()
    admin.get_by_role("button", name="Reset the password").click()
    expect(flash(admin, "A one-time link for Sam Whitcombe is below.")).to_be_visible()
    link = admin.get_by_role("textbox", name="Link").input_value()
    assert "/password-reset/" in link
    screenshot(admin, "journey-accounts-01-link")

    person = open_page(live_server)
    person.goto(link)
    person.get_by_label("New password", exact=True).fill(NEW)
    person.get_by_label("New password again").fill(NEW)
    person.get_by_role("button", name="Set the new password").click()
    expect(flash(person, "Your new password is set, Sam Whitcombe. Sign in with it now.")).to_be_visible()
    sign_in(person, STAFF[0], NEW)

    # The link is spent.
    again = open_page(live_server)
    again.goto(link)
    expect(again.get_by_role("heading", name="This link no longer works")).to_be_visible()

    # Later, on their account page, they change it themselves.
    person.get_by_role("link", name="Your account").click()
    person.get_by_role("link", name="Change your password").click()
    person.get_by_label("Current password").fill(NEW)
    person.get_by_label("New password", exact=True).fill(NEWER)
    person.get_by_label("New password again").fill(NEWER)
    person.get_by_role("button", name="Change password").click()
    expect(flash(person, "Your password is changed.")).to_be_visible()
    screenshot(person, "journey-accounts-02-changed")
    sign_out(person)
    sign_in(person, STAFF[0], NEWER)
