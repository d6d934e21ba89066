"""The JSON API: tokens, what each role may read and write through it, and every refusal as JSON per field."""

from __future__ import annotations

import os
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from evidence import audit
from evidence.access import api_tokens
from evidence.db import db
from evidence.models import ApiToken, AuditEvent, EvidenceItem, Mapping, MetricPoint, User
from evidence.vocab import Kind, Role, Status
from portal import create_app
from tests.factories import make_item, make_round, score_all


@pytest.fixture
def token(make_user):
    """token(role, scope="write") → (user, the Authorization headers of a new token of theirs)."""

    def make(role: str = Role.QUALITY_LEAD, scope: str = api_tokens.Scope.WRITE, user: User | None = None):
        user = user or make_user(role)
        secret = api_tokens.create(user, "Test script", scope).secret
        return user, {"Authorization": f"Bearer {secret}"}

    return make


def metric(title="Older people still at home 91 days after reablement", owner=None, **fields):
    fields.setdefault("unit", "%")
    fields.setdefault("direction", "higher")
    return make_item(title, kind=Kind.METRIC, owner_id=owner.id if owner else None, **fields)


def point_rows(item) -> list[tuple[str, float]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(MetricPoint.label, MetricPoint.value).where(MetricPoint.item_id == item.id).order_by(MetricPoint.period)
    )
    return [tuple(row) for row in rows]


# --- Tokens --------------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_kept_only_as_a_digest(client, login):
    user = login(Role.STAFF)
    created = client.post("/account/tokens", data={"name": "Warehouse feed", "scope": "write"})
    assert created.status_code == 201
    page = created.get_data(as_text=True)
    secret = page.split('id="new-token" class="input" readonly value="')[1].split('"')[0]
    assert secret.startswith("assure_") and len(secret) > 40
    stored = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert stored.token_hash != secret and secret not in stored.token_hash and stored.scope == "write"
    assert secret not in client.get("/account").get_data(as_text=True)  # never shown again
    assert client.get("/api/v1/framework", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_the_account_page_refuses_a_bad_token_request_by_field(client, login):
    login(Role.STAFF)
    refused = client.post("/account/tokens", data={"name": "", "scope": "admin"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Say what the token is for" in text and "Not a valid choice" in text
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_a_revoked_token_and_a_disabled_account_reach_nothing(client, login, token, make_user):
    user = login(Role.QUALITY_LEAD)
    _, headers = token(user=user)
    mine = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    someone, _ = token(Role.STAFF)
    theirs = db.session.scalar(select(ApiToken).where(ApiToken.user_id == someone.id))
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404  # not yours to revoke
    assert client.post(f"/account/tokens/{mine.id}/revoke").status_code == 302
    refused = client.get("/api/v1/framework", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.get_json()["message"]

    _, other_headers = token(Role.MANAGER)
    manager = db.session.scalar(select(User).where(User.role == Role.MANAGER))
    manager.active = False
    db.session.commit()
    assert client.get("/api/v1/framework", headers=other_headers).status_code == 401


def test_flask_tokens_create_prints_a_working_token(app, runner, make_user):
    user = make_user(Role.MANAGER)
    result = runner.invoke(args=["tokens", "create", "--email", user.email.upper(), "--scope", "read"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/rounds", headers=headers).status_code == 200
    assert client.post("/api/v1/items", json={}, headers=headers).status_code == 403  # read only
    missing = runner.invoke(args=["tokens", "create", "--email", "nobody@example.gov.uk", "--scope", "read"])
    assert missing.exit_code != 0 and "no account has the email address" in missing.output


def test_the_session_cookie_does_not_authenticate_the_api(client, login):
    login(Role.ADMIN)
    assert client.get("/dashboard").status_code == 200
    refused = client.get("/api/v1/framework")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in refused.get_json()["message"]
    # A cross-site form post would reach no further: no token, no write, CSRF token or not.
    assert client.post("/api/v1/items", json={"kind": "survey"}).status_code == 401


def test_a_read_only_token_cannot_write(client, token):
    _, headers = token(Role.QUALITY_LEAD, api_tokens.Scope.READ)
    item = metric()
    refused = client.post(
        f"/api/v1/items/{item.id}/points", json={"points": [{"period": "2026-09", "value": 80}]}, headers=headers
    )
    assert refused.status_code == 403 and "read-only" in refused.get_json()["message"]
    assert point_rows(item) == []


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_each_token_is_rate_limited(app, make_user, storage):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "API_RATE_LIMIT": "3/minute",
    }
    if storage == "redis":
        config |= {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_KEY_PREFIX": f"assure-test-{uuid.uuid4().hex}"}
        import redis

        try:
            redis.Redis.from_url(config["REDIS_URL"], socket_connect_timeout=1).ping()
        except redis.RedisError:
            if os.environ.get("CI"):
                raise
            pytest.skip("Redis is not running on 127.0.0.1:6379")
    limited = create_app(config)
    first = api_tokens.create(make_user(Role.MANAGER), "One", "read").secret
    second = api_tokens.create(make_user(Role.MANAGER), "Two", "read").secret
    client = limited.test_client()
    answers = [client.get("/api/v1/framework", headers={"Authorization": f"Bearer {first}"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert "its limit" in answers[-1].get_json()["message"]
    # Another token has its own allowance.
    assert client.get("/api/v1/framework", headers={"Authorization": f"Bearer {second}"}).status_code == 200


# --- Reading -------------------------------------------------------------------------------------------------


def test_the_framework(client, token):
    _, headers = token(Role.STAFF, "read")
    body = client.get("/api/v1/framework", headers=headers).get_json()
    assert len(body["themes"]) == 4 and sum(len(t["statements"]) for t in body["themes"]) == 9
    assert body["categories"][0]["key"] == "peoples-experience"
    assert body["stances"] == ["strength", "shortfall", "context"]


def test_items_are_listed_with_the_librarys_filters_a_page_at_a_time(client, token):
    for n in range(5):
        make_item(f"Survey {n}", mappings=[("safe-pathways", "peoples-experience", "strength")] if n % 2 else [])
    metric()
    make_item("Waiting for review", status=Status.SUBMITTED)
    _, lead = token(Role.QUALITY_LEAD, "read")
    _, manager = token(Role.MANAGER, "read")

    page = client.get("/api/v1/items?kind=survey&per_page=2&page=2&sort=title", headers=lead).get_json()
    assert (page["total"], page["pages"], page["page"]) == (5, 3, 2)
    assert [i["title"] for i in page["items"]] == ["Survey 2", "Survey 3"]
    mapped = client.get("/api/v1/items?statement=safe-pathways&stance=strength", headers=lead).get_json()
    assert sorted(i["title"] for i in mapped["items"]) == ["Survey 1", "Survey 3"]
    assert mapped["items"][0]["mappings"][0]["statement"] == "safe-pathways"
    found = client.get("/api/v1/items?q=reablement", headers=lead).get_json()
    assert [i["kind"] for i in found["items"]] == ["metric"]
    # Curators may ask for other statuses; a manager sees accepted evidence whatever they ask.
    assert client.get("/api/v1/items?status=submitted", headers=lead).get_json()["total"] == 1
    assert client.get("/api/v1/items?status=submitted", headers=manager).get_json()["total"] == 6
    _, staff = token(Role.STAFF, "read")
    assert client.get("/api/v1/items", headers=staff).status_code == 403


def test_an_item_with_its_mappings_and_series_as_its_user_may_see_it(client, token, make_user):
    owner, staff = token(Role.STAFF, "read")
    item = metric(
        owner=owner,
        status=Status.SUBMITTED,
        target=85,
        mappings=[("safe-pathways", "processes", "context")],
        points=[(date(2026, 5, 1), "May 2026", 81.5), (date(2026, 4, 1), "Apr 2026", 80)],
        comparators={
            "England average": [(date(2026, 5, 1), "May 2026", 78), (date(2026, 4, 1), "Apr 2026", 77.5)],
            "Regional average": [(date(2026, 5, 1), "May 2026", 79)],
        },
    )
    body = client.get(f"/api/v1/items/{item.id}", headers=staff).get_json()
    assert body["reference"] == item.reference and body["details"]["target"] == 85
    assert [(p["label"], p["value"]) for p in body["points"]] == [("Apr 2026", 80), ("May 2026", 81.5)]
    # each comparator as a series of its own, in order of period
    assert [(c["name"], [(p["period"], p["value"]) for p in c["points"]]) for c in body["comparators"]] == [
        ("England average", [("2026-04-01", 77.5), ("2026-05-01", 78)]),
        ("Regional average", [("2026-05-01", 79)]),
    ]
    assert body["mappings"][0]["category_name"] == "Processes"
    # Not accepted yet: a manager may not see it, nor another member of staff; it is "not found", not forbidden.
    _, manager = token(Role.MANAGER, "read")
    _, other = token(Role.STAFF, "read")
    assert client.get(f"/api/v1/items/{item.id}", headers=manager).status_code == 404
    assert client.get(f"/api/v1/items/{item.id}", headers=other).get_json()["code"] == 404
    assert client.get("/api/v1/items/99999999999", headers=staff).status_code == 404  # beyond any id


def test_rounds_with_their_scores_and_roll_up(client, token):
    _, headers = token(Role.MANAGER, "read")
    partial = make_round("Autumn", {"safe-pathways": 3})
    full = make_round("Winter")
    score_all(full, 3)
    rounds = client.get("/api/v1/rounds", headers=headers).get_json()["rounds"]
    assert [r["name"] for r in rounds] == ["Winter", "Autumn"]
    assert rounds[0]["result"] | {"missing": None} == {
        "total": 27,
        "maximum": 36,
        "scored": 9,
        "complete": True,
        "percent": 75,
        "band": "Good",
        "missing": None,
    }
    assert rounds[1]["result"]["percent"] is None and len(rounds[1]["result"]["missing"]) == 8
    detail = client.get(f"/api/v1/rounds/{partial.id}", headers=headers).get_json()
    scores = {s["key"]: s["score"] for t in detail["themes"] for s in t["statements"]}
    assert scores["safe-pathways"] == 3 and list(scores.values()).count(None) == 8
    assert client.get("/api/v1/rounds/999999", headers=headers).status_code == 404


def test_gaps_as_the_gaps_page_lists_them(client, token):
    _, headers = token(Role.MANAGER, "read")
    round_ = make_round("Winter", {"safe-pathways": 2})
    body = client.get("/api/v1/gaps", headers=headers).get_json()
    assert body["round"] == {"id": round_.id, "name": "Winter"}
    kinds = {(g["kind"], g["statement"]) for g in body["gaps"]}
    assert ("uncited", "safe-pathways") in kinds and ("unscored", "safeguarding") in kinds


# --- Writing -------------------------------------------------------------------------------------------------


def test_a_finding_is_submitted_as_the_tokens_user(client, token):
    user, headers = token(Role.STAFF)
    sent = client.post(
        "/api/v1/items",
        headers=headers,
        json={
            "kind": "survey",
            "title": "Carers' survey: feeling listened to",
            "source": "Carers' survey 2026",
            "survey_name": "Carers' survey",
            "result_percent": 64.5,
            "respondents": 412,
            "period_start": "2026-04-01",
            "period_end": "2026-06-30",
            "suggested_statements": ["healthier-lives"],
        },
    )
    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    item = db.session.get(EvidenceItem, body["id"])
    assert (item.status, item.owner_id, item.submitted_by_id) == (Status.SUBMITTED, user.id, user.id)
    assert body["details"]["result_percent"] == 64.5 and body["status"] == "submitted"
    assert db.session.scalar(select(AuditEvent.user_id).where(AuditEvent.entity_id == item.id)) == user.id
    # It is the staff member's own: the portal's page shows it to them.
    assert client.get("/api/v1/items/" + str(item.id), headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("sent", "field", "words"),
    [
        ({"kind": "survey", "source": "x", "survey_name": "y", "result_percent": 5}, "title", "Missing data"),
        (
            {"kind": "survey", "title": "t", "source": "x", "survey_name": "y", "result_percent": 101},
            "result_percent",
            "101 is not between 0 and 100",
        ),
        (
            {"kind": "case_audit", "title": "t", "source": "x", "cases_reviewed": 3_000_000_000, "audit_outcome": "o"},
            "cases_reviewed",
            "3,000,000,000 is not between 0 and 10,000,000",
        ),
        (
            {"kind": "metric", "title": "t", "source": "x", "direction": "higher", "target": 1e309},
            "target",
            "inf is not a number",
        ),
        (
            {"kind": "metric", "title": "t", "source": "x", "direction": "higher", "target": 10**400},
            "target",
            "more than 16 digits",
        ),
        (
            {
                "kind": "survey",
                "title": "t",
                "source": "x",
                "survey_name": "y",
                "result_percent": 5,
                "period_start": "2101-01-01",
            },
            "period_start",
            "Must be in the years 1990–2100",
        ),
        (
            {
                "kind": "survey",
                "title": "t",
                "source": "x",
                "survey_name": "y",
                "result_percent": 5,
                "period_start": "2026-05-01",
                "period_end": "2026-04-01",
            },
            "period_end",
            "on or after the period start",
        ),
        (
            {"kind": "survey", "title": "t", "source": "x", "survey_name": "y", "result_percent": 5, "unit": "%"},
            "_schema",
            "unit do not belong to a survey finding",
        ),
        (
            {"kind": "survey", "title": "t\ud800", "source": "x", "survey_name": "y", "result_percent": 5},
            "title",
            "unpaired surrogate",
        ),
        (
            {
                "kind": "quote",
                "title": "t",
                "source": "x",
                "quote_text": "q",
                "speaker_role": "carer",
                "voice": "martian",
            },
            "voice",
            "Choose one of",
        ),
        (
            {
                "kind": "metric",
                "title": "t",
                "source": "x",
                "direction": "higher",
                "points": [{"period": "2026-09", "value": 1}, {"period": "Sept 2026", "value": 2}],
            },
            "points",
            "Sep 2026 is already given",
        ),
        (
            {"kind": "survey", "title": "t", "source": "x", "survey_name": "y", "result_percent": 5, "owner": 1},
            "owner",
            "Unknown field",
        ),
    ],
)
def test_a_finding_out_of_range_is_refused_by_field_and_changes_nothing(client, token, sent, field, words):
    _, headers = token(Role.STAFF)
    before = db.session.scalar(select(func.count(EvidenceItem.id)))
    refused = client.post("/api/v1/items", headers=headers, json=sent)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    body = refused.get_json()
    messages = body["errors"]["json"][field]
    assert words in str(messages), body
    assert db.session.scalar(select(func.count(EvidenceItem.id))) == before


def test_text_with_nul_is_stored_without_it(client, token):
    _, headers = token(Role.STAFF)
    sent = client.post(
        "/api/v1/items",
        headers=headers,
        json={"kind": "observation", "title": "Front\x00 door", "source": "Visit", "setting": "Day centre"},
    )
    assert sent.status_code == 201 and sent.get_json()["title"] == "Front door"


def test_one_metrics_points_are_all_or_nothing_and_the_same_twice_changes_nothing(client, token):
    owner, headers = token(Role.STAFF)
    item = metric(owner=owner)
    points = [{"period": "2026-07", "value": 81}, {"period": "2026-08", "value": 82.5}]
    first = client.post(f"/api/v1/items/{item.id}/points", headers=headers, json={"points": points})
    assert first.status_code == 200, first.get_json()
    assert first.get_json() | {"message": ""} == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "message": "",
        "references": [item.reference],
    }
    again = client.post(f"/api/v1/items/{item.id}/points", headers=headers, json={"points": points}).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert again["message"].startswith("Nothing changed")
    assert point_rows(item) == [("Jul 2026", 81.0), ("Aug 2026", 82.5)]

    bad = [{"period": "2026-09", "value": 83}, {"period": "2026-13", "value": 84}, {"period": "2026-10", "value": 140}]
    refused = client.post(f"/api/v1/items/{item.id}/points", headers=headers, json={"points": bad})
    assert refused.status_code == 422
    problems = refused.get_json()["errors"]["json"]["points"]
    assert set(problems) == {"1", "2"}
    assert "Period does not parse" in problems["1"]["period"][0]
    assert "140 is not a percentage between 0 and 100" in problems["2"]["value"][0]
    assert point_rows(item) == [("Jul 2026", 81.0), ("Aug 2026", 82.5)]  # the good point was not written either

    _, stranger = token(Role.STAFF)
    assert client.post(f"/api/v1/items/{item.id}/points", headers=stranger, json={"points": points}).status_code == 404
    _, manager = token(Role.MANAGER)
    forbidden = client.post(f"/api/v1/items/{item.id}/points", headers=manager, json={"points": points})
    assert forbidden.status_code == 403 and "owner" in forbidden.get_json()["message"]


def test_points_for_many_metrics_follow_the_imports_rules(client, token):
    _, headers = token(Role.QUALITY_LEAD)
    a, b = metric("Reablement"), metric("Delayed transfers", unit="days", direction="lower")
    survey = make_item("A survey")
    batch = {
        "points": [
            {"metric": a.reference, "period": "2026 Q1", "value": 79},
            {"metric": b.reference, "period": "Jan 2026", "value": 12},
            {"metric": b.reference, "period": "2026-02", "value": 14},
        ]
    }
    first = client.post("/api/v1/metric-points", headers=headers, json=batch).get_json()
    assert (first["created"], sorted(first["references"])) == (3, sorted([a.reference, b.reference]))
    assert client.post("/api/v1/metric-points", headers=headers, json=batch).get_json()["unchanged"] == 3
    batch["points"][1]["value"] = 11
    assert client.post("/api/v1/metric-points", headers=headers, json=batch).get_json()["updated"] == 1
    assert point_rows(b) == [("Jan 2026", 11.0), ("Feb 2026", 14.0)]

    wrong = {
        "points": [
            {"metric": a.reference, "period": "2026 Q2", "value": 80},
            {"metric": survey.reference, "period": "2026-03", "value": 1},
            {"metric": "E-99999999", "period": "2026-03", "value": 1},
        ]
    }
    refused = client.post("/api/v1/metric-points", headers=headers, json=wrong)
    assert refused.status_code == 422
    problems = refused.get_json()["errors"]["json"]["points"]
    assert "not a metric" in problems["1"]["metric"][0]
    assert "Unknown metric reference" in problems["2"]["metric"][0]
    by_name = {"points": [{"metric": "Reablement", "period": "2026-03", "value": 1}]}
    named = client.post("/api/v1/metric-points", headers=headers, json=by_name).get_json()
    assert "like E-12" in named["errors"]["json"]["points"]["0"]["metric"][0]
    assert point_rows(a) == [("2026 Q1", 79.0)]
    _, manager = token(Role.MANAGER)
    assert client.post("/api/v1/metric-points", headers=manager, json=batch).status_code == 403


def test_a_mapping_is_added_once(client, token):
    user, headers = token(Role.QUALITY_LEAD)
    item = make_item()
    wanted = {"statement": "safeguarding", "category": "partners", "stance": "strength", "note": "Board minutes"}
    added = client.post(f"/api/v1/items/{item.id}/mappings", headers=headers, json=wanted)
    assert added.status_code == 201 and added.get_json()["statement_name"] == "Safeguarding"
    mapping = db.session.scalar(select(Mapping).where(Mapping.item_id == item.id))
    assert (mapping.stance, mapping.note, mapping.created_by_id) == ("strength", "Board minutes", user.id)
    again = client.post(f"/api/v1/items/{item.id}/mappings", headers=headers, json=wanted)
    assert again.status_code == 409 and "already mapped" in again.get_json()["message"]
    unknown = client.post(
        f"/api/v1/items/{item.id}/mappings", headers=headers, json=wanted | {"statement": "x", "category": "y"}
    )
    assert unknown.status_code == 422 and set(unknown.get_json()["errors"]["json"]) == {"statement", "category"}
    assert len(audit.history("evidence_item", item.id)) == 1


def test_malformed_requests_are_json_errors(client, token):
    _, headers = token(Role.QUALITY_LEAD)
    not_json = client.post("/api/v1/items", headers=headers, data="kind=survey")
    assert not_json.status_code in (415, 422) and not_json.is_json
    wrong_method = client.delete("/api/v1/items", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.get_json()["code"] == 405
    nowhere = client.get("/api/v1/nowhere", headers=headers)
    assert nowhere.status_code == 404 and nowhere.is_json
    bad_query = client.get("/api/v1/items?per_page=0&date_from=2026-02-30&owner=99999999999", headers=headers)
    assert bad_query.status_code == 422
    assert set(bad_query.get_json()["errors"]["query"]) == {"per_page", "date_from", "owner"}


def test_the_api_needs_no_csrf_token_where_the_pages_do(app, make_user):
    protected = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "WTF_CSRF_ENABLED": True}
    )
    user = make_user(Role.QUALITY_LEAD)
    headers = {"Authorization": f"Bearer {api_tokens.create(user, 'Feed', 'write').secret}"}
    item = metric()
    client = protected.test_client()
    sent = client.post(
        f"/api/v1/items/{item.id}/points", headers=headers, json={"points": [{"period": "2026-09", "value": 80}]}
    )
    assert sent.status_code == 200, sent.get_data(as_text=True)
    # The portal's own forms still need theirs.
    assert client.post("/sign-in", data={"email": user.email, "password": "x"}).status_code == 400
