"""One portal, two app servers behind haproxy: whatever a person does on one server holds on the other.

Both gunicorn servers share PostgreSQL, Redis and the upload folder and have the same SECRET_KEY, as the
README's "Running at scale" asks. A session started on one is good on the other, a form shown by one is
accepted by the other, what one saves the other shows, and sign-out and the sign-in throttle act on both.
"""

from __future__ import annotations

import itertools
import re
import sys
import time
import uuid

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.scale.cluster import SERVED_BY
from tests.scale.conftest import PASSWORD, flask

# One cluster for the module: under pytest-xdist (make test passes --dist loadgroup) its tests share one worker.
pytestmark = [pytest.mark.scale, pytest.mark.slow, pytest.mark.xdist_group("scale")]

LEAD = "quality@scale.example.gov.uk"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class _FromAddress(HTTPAdapter):
    """Connections from another loopback address than the proxy's, so the two can be told apart."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(address: str | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # only ever 127.0.0.1, never a proxy from the environment
    if address:
        session.mount("http://", _FromAddress(address))
    return session


def csrf_token(page: requests.Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    return match.group(1) or match.group(2)


def sign_in(session: requests.Session, base: str, email: str = LEAD, password: str = PASSWORD, **headers):
    form = session.get(f"{base}/sign-in", timeout=10)
    return session.post(
        f"{base}/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_token(form)},
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )


def signed_in(session: requests.Session, base: str) -> bool:
    return session.get(f"{base}/dashboard", allow_redirects=False, timeout=10).status_code == 200


@pytest.fixture(scope="module")
def cluster(start_cluster):
    return start_cluster()


def test_flask_check_passes_with_the_shared_set_up_and_prints_one_fingerprint(portal_env):
    done = flask(portal_env, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PROBLEM" not in done.stdout
    fingerprint = re.search(r"Shared settings fingerprint: (\w+)", done.stdout).group(1)
    # Another server with another SECRET_KEY shows another fingerprint, and an unreachable Redis is refused.
    other = flask({**portal_env, "SECRET_KEY": "another-" + "x" * 40, "REDIS_URL": "redis://127.0.0.1:1/0"}, "check")
    assert other.returncode == 1
    assert re.search(r"PROBLEM  REDIS_URL: redis://127.0.0.1:1/0 does not answer", other.stdout), other.stdout
    assert fingerprint not in other.stdout


def test_requests_through_the_proxy_alternate_between_the_servers(cluster):
    session = browser()
    assert sign_in(session, cluster.proxy_url).status_code == 302
    served_by = [session.get(f"{cluster.proxy_url}/dashboard", timeout=10) for _ in range(6)]
    assert all(r.status_code == 200 and "Dashboard" in r.text for r in served_by)
    names = [r.headers[SERVED_BY] for r in served_by]
    assert set(names) == {"a", "b"}
    assert all(first != second for first, second in itertools.pairwise(names)), names


def test_a_form_shown_by_one_server_is_accepted_by_the_other_and_its_item_listed_there(cluster):
    a, b = cluster.server("a").url, cluster.server("b").url
    session = browser()
    assert sign_in(session, cluster.proxy_url).status_code == 302
    title = f"Transitions policy {uuid.uuid4().hex[:6]}"

    form = session.get(f"{b}/submit?kind=document", timeout=10)  # the CSRF token comes from B…
    assert form.status_code == 200
    posted = session.post(  # …and the form is sent to A
        f"{a}/submit?kind=document",
        data={
            "csrf_token": csrf_token(form),
            "title": title,
            "summary": "How transitions are planned.",
            "source": "Adult social care",
            "period_start": "2026-04-01",
            "period_end": "2026-06-30",
            "evidences": "How transitions are planned",
        },
        files={"file": ("Transitions policy.pdf", PDF, "application/pdf")},
        allow_redirects=False,
        timeout=30,
    )
    assert posted.status_code == 302, posted.text[:2000]

    listed = session.get(f"{b}/my-submissions", timeout=10)
    assert title in listed.text
    item_id = re.search(rf'href="/evidence/(\d+)">E-\d+</a>.*?{re.escape(title)}', listed.text, re.S).group(1)
    page = session.get(f"{b}/evidence/{item_id}", timeout=10)
    download = re.search(rf'href="(/evidence/{item_id}/files/\d+)"', page.text).group(1)
    # The file A stored is downloaded from B, and through the proxy from whichever server answers.
    for base in (b, cluster.proxy_url, cluster.proxy_url):
        got = session.get(f"{base}{download}", timeout=10)
        assert got.status_code == 200 and got.content == PDF


def test_signing_out_on_one_server_ends_the_session_on_both(cluster):
    a, b = cluster.server("a").url, cluster.server("b").url
    session = browser()
    assert sign_in(session, a).status_code == 302
    assert signed_in(session, a) and signed_in(session, b)
    copied = dict(session.cookies)  # a copy of the cookies, as if taken from the browser

    page = session.get(f"{a}/dashboard", timeout=10)
    assert session.post(f"{b}/sign-out", data={"csrf_token": csrf_token(page)}, timeout=10).status_code == 200

    replay = browser()
    replay.cookies.update(copied)
    assert not signed_in(replay, a) and not signed_in(replay, b)


def test_failed_sign_ins_on_either_server_count_together(cluster):
    a, b = cluster.server("a").url, cluster.server("b").url
    email = f"locked-{uuid.uuid4().hex[:6]}@scale.example.gov.uk"
    made = flask(cluster.env, "users", "create", "--email", email, "--role", "staff", "--password", PASSWORD)
    assert made.returncode == 0, made.stderr
    # Five failures are allowed per account (evidence.access.accounts), three on A and two on B.
    for base in (a, b, a, b, a):
        assert sign_in(browser(), base, email, "not the password").status_code == 401
    # The sixth attempt, with the right password, is refused on both.
    for base in (a, b):
        refused = sign_in(browser(), base, email)
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text


def test_the_audit_trail_names_the_client_behind_the_proxy_not_a_forged_header(cluster):
    import psycopg

    session = browser("127.0.0.2")  # the client; haproxy reaches the servers from 127.0.0.1
    assert sign_in(session, cluster.proxy_url, **{"X-Forwarded-For": "203.0.113.9"}).status_code == 302
    url = cluster.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        (address,) = connection.execute(
            "SELECT remote_addr FROM audit_event WHERE action = 'sign_in' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert address == "127.0.0.2"


def test_an_export_started_on_one_server_is_made_by_a_worker_and_downloaded_from_the_other(cluster):
    """Jobs are shared too: queued by A on Redis, made by an RQ worker process of its own, whose progress
    and file B shows (the file lands in the shared upload folder)."""
    cluster.start_process("worker", [sys.executable, "-m", "flask", "--app", "portal", "jobs", "worker"])
    a, b = cluster.server("a").url, cluster.server("b").url
    session = browser()
    assert sign_in(session, a).status_code == 302
    name = f"Scale round {uuid.uuid4().hex[:6]}"
    rounds = session.get(f"{a}/rounds", timeout=10)
    made = session.post(f"{a}/rounds", data={"csrf_token": csrf_token(rounds), "name": name}, timeout=30)
    assert made.status_code == 200 and name in made.text, made.text[:2000]
    round_id = re.search(r"/rounds/(\d+)$", made.url).group(1)  # the new round's page

    exports = session.get(f"{a}/exports", timeout=10)
    started = session.post(
        f"{a}/exports/download",
        data={"csrf_token": csrf_token(exports), "round": round_id, "format": "markdown"},
        allow_redirects=False,
        timeout=30,
    )
    assert started.status_code in (302, 303), started.text[:2000]
    job = started.headers["Location"]
    assert re.search(r"/jobs/[\w-]+$", job), job

    deadline = time.monotonic() + 60
    while (state := session.get(f"{b}{job}.json", timeout=10).json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert state["state"] == "done", state
    got = session.get(f"{b}{job}/download", timeout=30)
    assert got.status_code == 200 and got.content[:2] == b"PK"  # the markdown pack is a zip
    assert name in session.get(f"{b}{job}", timeout=10).text
