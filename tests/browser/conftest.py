"""Browser journeys: real headless Chromium (Debian's) against the portal served on 127.0.0.1.

The demo portfolio is loaded once per session into a template database. A test
that changes things gets its own server on a fresh copy (``live_server``); tests
that only read share one server per module (``shared_server``).

Every page opened through these fixtures is watched: a server error, a console
error (a Content Security Policy violation shows up as one), a broken asset or a
request to another host fails the test that caused it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

from tests.browser.helpers import LAPTOP, LOCAL_HOSTS, ROOT, screenshot, sign_in  # noqa: F401  (helpers for tests)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI must run the browser journeys", pytrace=False)
    pytest.skip(reason)


# --- The portal, served ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(database: Path, uploads: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "browser-tests",
        "UPLOAD_DIR": str(uploads),
        "SESSION_COOKIE_SECURE": "false",
        "FLASK_APP": "portal",
    }
    env.pop("FLASK_DEBUG", None)
    return env


FLASK = [sys.executable, "-m", "flask"]


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """A SQLite database holding the schema and the demo portfolio, built once and copied per server."""
    folder = tmp_path_factory.mktemp("demo-database")
    database = folder / "demo.sqlite"
    env = _environment(database, folder / "uploads")
    for command in (["db", "upgrade"], ["demo"]):
        done = subprocess.run([*FLASK, *command], env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return database


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal exited early:\n{process.stdout.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the portal did not answer within {timeout:g} seconds")


def _serve(demo_database: Path, folder: Path, **settings: str):
    """Serve the portal on a fresh copy of the demo database, with any more environment ``settings``; yields
    its base URL."""
    database = folder / "browser.sqlite"
    shutil.copyfile(demo_database, database)
    env = {**_environment(database, folder / "uploads"), **settings}
    port = _free_port()
    process = subprocess.Popen(
        [*FLASK, "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@pytest.fixture
def live_server(demo_database, tmp_path):
    """The portal with the demo portfolio, for this test alone (it may change anything)."""
    yield from _serve(demo_database, tmp_path)


@pytest.fixture(scope="module")
def shared_server(demo_database, tmp_path_factory):
    """The portal with the demo portfolio, shared by a module's tests: only for tests that change nothing."""
    yield from _serve(demo_database, tmp_path_factory.mktemp("shared-server"))


# --- The browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _skip_or_fail("Chromium is not installed (make test installs Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # any launch failure means the journeys cannot run here
            _skip_or_fail(f"Chromium at {CHROMIUM} could not be launched: {str(exc).splitlines()[0]}")
        yield browser
        browser.close()


class Watch:
    """What went wrong while a page was open: server errors, broken assets, console errors, other hosts."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def attach(self, context) -> None:
        context.on("request", self._request)
        context.on("response", self._response)
        context.on("page", self.attach_page)

    def attach_page(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _request(self, request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:")) and host not in LOCAL_HOSTS:
            self.problems.append(f"request to another host: {request.url}")

    def _response(self, response) -> None:
        if response.status >= 500 or (response.status >= 400 and response.request.resource_type != "document"):
            self.problems.append(f"{response.status} for {response.request.method} {response.url}")

    def _console(self, message) -> None:
        # A document answered 4xx on purpose (a refused form) is logged too; statuses are checked above.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")


@pytest.fixture
def open_page(browser):
    """open_page(base_url, viewport=LAPTOP) -> a page in a browser context of its own (a separate person)."""
    opened = []

    def open_(base_url: str, viewport: dict | None = None):
        context = browser.new_context(
            base_url=base_url,
            viewport=viewport or LAPTOP,
            locale="en-GB",
            timezone_id="Europe/London",
            accept_downloads=True,
        )
        watch = Watch()
        watch.attach(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        opened.append((context, watch))
        return page

    yield open_
    problems = [p for _, watch in opened for p in watch.problems]
    for context, _ in opened:
        context.close()
    if problems:
        pytest.fail("the browser saw problems:\n  " + "\n  ".join(dict.fromkeys(problems)), pytrace=False)


@pytest.fixture
def page(open_page, live_server):
    """A laptop-sized page on this test's own server."""
    return open_page(live_server)
