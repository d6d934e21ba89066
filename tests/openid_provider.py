"""A real OpenID provider for the single sign-on tests: tests/oidc/provider.mjs (the `oidc-provider` package
on Node.js), run on a free port of 127.0.0.1 for the test session and stopped afterwards.

``make test`` installs its packages (``npm ci`` in tests/oidc); run alone, the fixture does it once. The
tests skip, saying why, when Node.js is missing, and fail instead under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

FOLDER = Path(__file__).resolve().parent / "oidc"
SECRET = "test-client-secret-that-is-long-enough-0123456789"
CLIENT_ID = "assure"
# Clients whose ID tokens the provider spoils after issuing them (see provider.mjs).
WRONG_AUDIENCE = "assure-wrong-audience"
BAD_SIGNATURE = "assure-bad-signature"
EXPIRED = "assure-expired"

# Directory accounts: the id is the subject the provider gives.
ACCOUNTS = [
    {
        "id": "ada-subject",
        "claims": {
            "email": "ada.lovelace@example-council.gov.uk",
            "email_verified": True,
            "name": "Ada Lovelace",
            "groups": ["assure-quality-leads", "all-staff"],
        },
    },
    {
        "id": "grace-subject",
        "claims": {"email": "grace@example-council.gov.uk", "email_verified": True, "name": "Grace Hopper"},
    },
    {
        "id": "mallory-subject",
        "claims": {"email": "mallory@example-council.gov.uk", "email_verified": False, "name": "Mallory"},
    },
    {
        "id": "staff-subject",
        "claims": {"email": "staff@example-council.gov.uk", "email_verified": True, "name": "Sam Staff"},
    },
]


def _skip_or_fail(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI must run the single sign-on tests", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Provider:
    issuer: str

    def config(self, client_id: str = CLIENT_ID) -> dict:
        """The portal's settings for signing in through this provider as ``client_id``."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": SECRET}


def _install() -> None:
    if (FOLDER / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        _skip_or_fail("npm is not installed, so the test OpenID provider cannot be installed")
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FOLDER, capture_output=True, text=True)
    if done.returncode:
        _skip_or_fail(f"npm ci for the test OpenID provider failed: {done.stderr.strip()[-500:]}")


@pytest.fixture(scope="session")
def openid_provider(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        _skip_or_fail("Node.js is not installed, so the test OpenID provider cannot run")
    _install()
    port = _free_port()
    clients = [{"client_id": CLIENT_ID, "client_secret": SECRET}] + [
        {"client_id": name, "client_secret": SECRET, "mischief": name.removeprefix("assure-")}
        for name in (WRONG_AUDIENCE, BAD_SIGNATURE, EXPIRED)
    ]
    config = tmp_path_factory.mktemp("openid-provider") / "provider.json"
    config.write_text(json.dumps({"port": port, "accounts": ACCOUNTS, "clients": clients}))
    process = subprocess.Popen(
        [node, str(FOLDER / "provider.mjs"), str(config)],
        cwd=FOLDER,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the test OpenID provider exited:\n{process.stdout.read().decode()}")
            try:
                with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the test OpenID provider did not answer within 30 seconds") from None
                time.sleep(0.1)
        yield Provider(issuer)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def through_directory(start_url: str, email: str, callback_prefix: str) -> str:
    """Follow the portal's redirect to the provider, sign in there as ``email``, and return the address the
    provider sends the browser back to (the portal's callback, with its code and state), without opening it."""
    directory = requests.Session()
    url = start_url
    for _ in range(10):
        if url.startswith(callback_prefix):
            return url
        response = directory.get(url, allow_redirects=False, timeout=10)
        if response.status_code == 200 and "/interaction/" in url:
            response = directory.post(url, data={"email": email}, allow_redirects=False, timeout=10)
        if response.status_code not in (302, 303):
            raise AssertionError(f"the provider answered {response.status_code} at {url}: {response.text[:500]}")
        url = urljoin(url, response.headers["Location"])
    raise AssertionError(f"the provider did not send the browser back to the portal (last at {urlsplit(url).path})")


def portal_signing_in_through(app, provider: Provider, client_id: str = CLIENT_ID, **config):
    """Another app on the test's database, set up to sign in through ``provider`` as ``client_id``."""
    from flask import g

    from portal import create_app

    keep = ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "SECRET_KEY")
    portal = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            **{key: app.config[key] for key in keep},
            **provider.config(client_id),
            **config,
        }
    )

    @portal.before_request
    def _fresh_login_per_request():  # as the app fixture does: the test holds the app context open
        g.pop("_login_user", None)

    return portal
