"""Every route, for every role, answers as the permission matrix says.

The matrix is the set of ``@allow`` rules on the views. A route without a rule
fails here, so nobody can add a page and forget who may open it.
"""

import pytest
from flask import url_for

from evidence.access import api_tokens
from evidence.db import db
from evidence.jobs import store as jobs_store
from evidence.models import PeerInvite
from evidence.vocab import Role
from portal.permissions import ANONYMOUS, is_allowed, permission_matrix
from tests.conftest import sign_in
from tests.factories import make_item, make_round

ROLES = [ANONYMOUS, *[r.value for r in Role]]
# Values for URL parameters, by name; ids point at rows the fixture creates.
SAMPLE_ARGS = {"key": "safe-pathways", "kind": "survey", "fmt": "xlsx", "format": "xlsx", "filename": "x.txt"}


def test_every_endpoint_has_a_rule(app):
    missing = [endpoint for endpoint, rule in permission_matrix(app).items() if rule is None]
    assert missing == [], f"views without an @allow rule: {missing}"


def _urls(app, item_id: int, round_id: int, job_id: str = "no-such-job"):
    """One concrete URL per (rule, method), with sample arguments."""
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            args = {}
            for name in rule.arguments:
                if name in SAMPLE_ARGS:
                    args[name] = SAMPLE_ARGS[name]
                elif name == "job_id":
                    args[name] = job_id
                elif "round" in name:
                    args[name] = round_id
                else:
                    args[name] = item_id
            try:
                url = url_for(rule.endpoint, **args)
            except Exception as exc:  # a converter the sample args do not satisfy
                pytest.fail(f"cannot build {rule.endpoint} with {args}: {exc}")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, url


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and "/sign-in" in response.location


# What a peer reviewer from another council may open, written out: their own pages, their account and
# notifications, and nothing of the council's (no READERS page, no submitting, no API).
PEER_REVIEWER_ENDPOINTS = {
    "account.change_password",
    "account.create_token",
    "account.index",
    "account.revoke_token",
    "api-docs.openapi_json",
    "auth.reset_password",
    "auth.sign_in",
    "auth.sign_out",
    "dashboard.home",
    "health.healthz",
    "notifications.index",
    "notifications.open_one",
    "notifications.read_all",
    "notifications.settings",
    "peer.evidence",
    "peer.index",
    "peer.round_page",
    "peer.statement",
    "sso.callback",
    "sso.end_session",
    "sso.start",
}


def test_a_peer_reviewer_reaches_only_the_peer_challenge(app):
    reached = {e for e, rule in permission_matrix(app).items() if is_allowed(rule, Role.PEER_REVIEWER)}
    assert reached == PEER_REVIEWER_ENDPOINTS


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_matrix_allows(app, make_user, role):
    item = make_item("Permission probe")
    round_ = make_round()
    matrix = permission_matrix(app)
    client = app.test_client()
    # The API takes a token of the same user, never the session: its refusals are JSON, 401 when anonymous.
    api_headers = {}
    if role != ANONYMOUS:
        user = make_user(role)
        sign_in(client, user)
        if role == Role.PEER_REVIEWER:  # a reviewer reads the rounds they are invited to: this one
            db.session.add(PeerInvite(round_id=round_.id, user_id=user.id))
            db.session.commit()
        secret = api_tokens.create(user, "Permission probe", api_tokens.Scope.WRITE).secret
        api_headers = {"Authorization": f"Bearer {secret}"}
        # A finished job of this user's own, so that the job pages open for the roles allowed them.
        job = jobs_store.create("import", user, {"kind": "survey", "digest": "0" * 64}, "Probe import")
        job.state, job.message = jobs_store.DONE, "Imported nothing."
        db.session.commit()
        job_id = job.id
    else:
        job_id = "no-such-job"
    problems = []
    for endpoint, method, url in _urls(app, item.id, round_.id, job_id):
        if endpoint in ("auth.sign_out", "account.revoke_token"):
            continue  # would end this client's session (or token) part-way through the walk
        allowed = is_allowed(matrix[endpoint], role)
        in_api = url.startswith("/api/v1/") and not url.endswith("/openapi.json")
        response = client.open(url, method=method, headers=api_headers if in_api else {})
        status = response.status_code
        if status >= 500:
            problems.append(f"{method} {url}: {status}")
        elif not allowed and in_api and role == ANONYMOUS and status != 401:
            problems.append(f"{method} {url}: anonymous got {status}, expected 401 (no token)")
        elif not allowed and not in_api and role == ANONYMOUS and not _to_sign_in(response):
            problems.append(f"{method} {url}: anonymous got {status}, expected a redirect to sign in")
        elif not allowed and role != ANONYMOUS and status != 403:
            problems.append(f"{method} {url}: {role} got {status}, expected 403")
        elif allowed and status == 403:
            problems.append(f"{method} {url}: {role} got 403 though the matrix allows it")
    assert problems == []
