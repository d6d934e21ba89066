"""Pages keep their portfolio figures between writes, and every kind of write shows on the next request."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from html import unescape

import pytest
import yaml

from bench.load import CSRF_INPUT
from evidence import imports, portfolio_version
from evidence.assessment.actions import create_action
from evidence.assessment.assessments import save_assessment
from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.framework_sync import replace_framework
from evidence.library.items import accept_item, update_item
from evidence.library.metrics import add_point
from evidence.models import Action, Mapping, QualityStatement, User, today
from evidence.portfolio_cache import EXTENSION
from evidence.together.comments import comment_on_statement
from evidence.vocab import Kind, Role, Stance, Status
from portal import create_app
from quality_statements import DEFAULT_FRAMEWORK_PATH
from quality_statements.loader import parse_framework
from tests.conftest import PASSWORD, sign_in
from tests.evidence.imports.test_imports import QUOTE, QUOTE_HEADER, build, quote_row
from tests.factories import make_item, make_round, statement

KEY = "safe-pathways"


def text(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def lead(client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    assert sign_in(client, user).status_code == 302
    return user


@pytest.fixture
def round_(app):
    return make_round("Spring 2027 self-assessment")


def tile(client, testid: str) -> int:
    """A number on the dashboard: submissions waiting, stale items, overdue actions, unscored statements."""
    html = client.get("/dashboard").get_data(as_text=True)
    return int(re.search(rf'data-testid="{testid}">(\d+)<', html).group(1))


def test_figures_are_kept_until_a_write(app, client, lead, round_):
    make_item("Discharge audit", mappings=[(KEY, "partners", Stance.STRENGTH)])
    store = app.extensions[EXTENSION]
    first = text(client, "/dashboard")
    kept_keys = set(store._cache)  # the in-process store's own table of keys
    assert any(k.startswith("dashboard:") for k in kept_keys)
    assert text(client, "/dashboard") == first and set(store._cache) == kept_keys  # read, not recomputed
    make_item("Second audit", status=Status.SUBMITTED)
    assert tile(client, "waiting-submitted") == 1


def test_accepting_and_editing_an_item_show_at_once(client, lead, round_):
    item = make_item(
        "Carers survey 2026", status=Status.SUBMITTED, mappings=[(KEY, "peoples-experience", Stance.STRENGTH)]
    )
    assert tile(client, "waiting-submitted") == 1
    assert "Carers survey 2026" not in text(client, f"/statements/{KEY}")
    accept_item(item, user=lead)
    assert tile(client, "waiting-submitted") == 0
    assert "Carers survey 2026" in text(client, f"/statements/{KEY}")
    update_item(item, {"title": "Carers survey 2026 (revised)"}, user=lead, expected_version=item.version)
    assert "Carers survey 2026 (revised)" in text(client, f"/statements/{KEY}")


def test_mapping_and_unmapping_show_on_the_statement_page_and_the_gaps(client, lead, round_):
    item = make_item("Partner forum notes")
    assert "Partner forum notes" not in text(client, f"/statements/{KEY}")
    gaps_before = text(client, "/gaps")
    client.post(
        f"/statements/{KEY}/mappings",
        data={"map-reference": item.reference, "map-category": "partners", "map-stance": "strength", "map-note": ""},
    )
    assert "Partner forum notes" in text(client, f"/statements/{KEY}")
    assert text(client, "/gaps") != gaps_before
    mapping = db.session.query(Mapping).one()
    client.post(f"/statements/{KEY}/mappings/{mapping.id}/remove")
    assert "Partner forum notes" not in text(client, f"/statements/{KEY}")
    assert text(client, "/gaps") == gaps_before


def test_a_metric_point_shows_in_the_statement_trends(client, lead, round_):
    metric = make_item(
        "Delayed discharges", kind=Kind.METRIC, unit="people", mappings=[(KEY, "processes", Stance.CONTEXT)]
    )
    assert "Sep 2026" not in text(client, f"/statements/{KEY}")
    add_point(metric, "2026-09", 42, lead)
    db.session.commit()
    page = text(client, f"/statements/{KEY}")
    assert "Sep 2026" in page and "42 people" in page


def test_an_assessment_an_action_a_comment_and_a_sign_off_show_on_the_dashboard(client, lead, make_user, round_):
    assert tile(client, "waiting-unscored") == 9
    save_assessment(round_, statement(KEY), {"score": 3}, None, lead)
    assert tile(client, "waiting-unscored") == 8
    assert tile(client, "overdue-count") == 0
    create_action(
        statement(KEY),
        {"description": "Review discharge letters", "owner": "Head of Hospital Discharge", "due_date": today()},
        lead,
        round_,
    )
    assert "Review discharge letters" in text(client, f"/statements/{KEY}")
    action = db.session.query(Action).one()
    action.due_date = today() - timedelta(days=1)
    db.session.commit()
    assert tile(client, "overdue-count") == 1
    comment_on_statement(round_, statement(KEY), lead, "Who owns the letters?")
    assert "Who owns the letters?" in text(client, f"/statements/{KEY}")
    for s in db.session.query(QualityStatement).filter(QualityStatement.key != KEY):
        save_assessment(round_, s, {"score": 3}, None, lead)
    page = text(client, "/dashboard")
    assert "27 of 36 points" in page and "Signed off" not in page
    sign_off(round_, make_user(Role.MANAGER), confirmed=True)
    assert "Signed off" in text(client, "/dashboard")


def test_an_import_shows_on_the_statement_page(client, lead, round_):
    filename, data = build("csv", [QUOTE_HEADER, quote_row()])
    assert "Once I had one named worker" not in text(client, "/statements/care-provision")
    imports.import_file(QUOTE, filename, data, lead)
    assert "Once I had one named worker" in text(client, "/statements/care-provision")


def test_a_new_framework_shows_on_the_dashboard(client, lead, round_):
    assert "Safe pathways, systems and transitions" in text(client, "/dashboard")
    data = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text())
    for s in data["quality_statements"]:
        if s["key"] == KEY:
            s["name"] = "Safe pathways and transitions (2027)"
    data["version"] = "2027.1"
    assert replace_framework(parse_framework(yaml.safe_dump(data, allow_unicode=True)), by=lead)
    assert "Safe pathways and transitions (2027)" in text(client, "/dashboard")


def test_a_second_portal_on_the_same_database_sees_the_first_ones_writes(app, client, lead, round_):
    other = create_app(dict(app.config))
    assert other.extensions[EXTENSION] is not app.extensions[EXTENSION]  # a cache of its own
    other_client = other.test_client()
    with other.app_context():
        assert sign_in(other_client, db.session.get(User, lead.id)).status_code == 302
        assert tile(other_client, "waiting-submitted") == 0
        db.session.remove()
    assert tile(client, "waiting-submitted") == 0
    make_item("Written through the first", status=Status.SUBMITTED)
    with other.app_context():
        assert tile(other_client, "waiting-submitted") == 1
        make_item("Written through the second", status=Status.SUBMITTED)
        db.session.remove()
        db.engine.dispose()
    assert tile(client, "waiting-submitted") == 2


def test_a_rolled_back_write_leaves_no_figure_behind(client, lead, round_):
    before = text(client, "/dashboard")
    make_item("Never committed", status=Status.SUBMITTED, commit=False)
    db.session.flush()
    assert tile(client, "waiting-submitted") == 1  # this session sees its own write, and keeps nothing of it
    db.session.rollback()
    assert text(client, "/dashboard") == before


def redis_or_skip(url: str):
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis does not answer at {url}: {exc}")


@pytest.fixture
def redis_config(app):
    """The app's settings with figures kept in Redis under a prefix of this test's own."""
    import redis

    url = "redis://127.0.0.1:6379/11"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis does not answer at {url}: {exc}")
    prefix = f"assure-test-{uuid.uuid4().hex[:8]}"
    store = redis.Redis.from_url(url)
    yield {**app.config, "REDIS_URL": url, "REDIS_KEY_PREFIX": prefix}, store, prefix
    for key in store.scan_iter(f"{prefix}:*"):
        store.delete(key)


def test_figures_kept_in_redis_are_shared_and_never_stale(redis_config, make_user):
    config, store, prefix = redis_config
    first, second = create_app(config), create_app(config)
    lead = make_user(Role.QUALITY_LEAD)
    page_client = first.test_client()
    try:
        with first.app_context():
            assert sign_in(page_client, db.session.get(User, lead.id)).status_code == 302
            assert tile(page_client, "waiting-submitted") == 0
            assert store.keys(f"{prefix}:figures:dashboard:*")
            db.session.remove()
        with second.app_context():
            make_item("Shared carers audit", status=Status.SUBMITTED)
            db.session.remove()
        with first.app_context():
            assert tile(page_client, "waiting-submitted") == 1
            db.session.remove()
    finally:
        for portal in (first, second):
            with portal.app_context():
                db.engine.dispose()


def test_a_figure_read_from_redis_is_served_from_memory_after_that(redis_config, make_user, caplog, monkeypatch):
    import redis

    config, store, prefix = redis_config
    lead = make_user(Role.QUALITY_LEAD)
    make_item("Carers audit", status=Status.SUBMITTED)
    first, second = create_app(config), create_app(config)
    clients = {first: first.test_client(), second: second.test_client()}
    try:
        for portal, client in clients.items():
            with portal.app_context():
                assert sign_in(client, db.session.get(User, lead.id)).status_code == 302
                assert tile(client, "waiting-submitted") == 1  # the second reads what the first computed
                db.session.remove()
        assert len(store.keys(f"{prefix}:figures:dashboard:*")) == 1

        # Redis goes away: a page this process has served comes from its memory, without waiting on Redis.
        def gone(*args, **kwargs):
            raise redis.ConnectionError("Redis has gone away")

        monkeypatch.setattr(redis.Redis, "execute_command", gone)
        with second.app_context():
            assert tile(clients[second], "waiting-submitted") == 1
            db.session.remove()
        assert "figure cache unavailable" not in caplog.text
        monkeypatch.undo()
    finally:
        for portal in clients:
            with portal.app_context():
                db.engine.dispose()


def test_a_restored_backup_starts_a_new_epoch(app, runner, tmp_path):
    make_item("Before the backup")
    before = portfolio_version.current(db.session)
    out = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    db.session.remove()
    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    db.engine.dispose()
    after = portfolio_version.current(db.session)
    assert after.epoch != before.epoch


def test_the_library_lists_and_finds_a_new_item_and_a_new_owner_at_once(client, lead, make_user):
    make_item("Hospital discharge audit")
    assert "Hospital discharge audit" in text(client, "/evidence?q=discharge")
    assert "Discharge letters review" not in text(client, "/evidence?q=discharge")
    owner = make_user(Role.STAFF, name="Priya Owner")
    make_item("Discharge letters review", owner_id=owner.id)
    assert "Discharge letters review" in text(client, "/evidence?q=discharge")
    page = client.get("/evidence").get_data(as_text=True)
    assert "Discharge letters review" in page and f'<option value="{owner.id}">Priya Owner</option>' in page


REMOVE_FORM = re.compile(r'action="([^"]+/remove)">\s*<input type="hidden" name="csrf_token" value="([^"]+)"')


def signed_in_with_csrf(portal, user):
    browser = portal.test_client()
    page = browser.get("/sign-in").get_data(as_text=True)
    token = CSRF_INPUT.search(page)
    data = {"csrf_token": token.group(1) or token.group(2), "email": user.email, "password": PASSWORD}
    assert browser.post("/sign-in", data=data).status_code == 302
    return browser


def test_a_kept_statement_page_carries_each_readers_own_csrf_token(app, make_user, round_):
    portal = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    item = make_item("Partner forum notes", mappings=[(KEY, "partners", Stance.STRENGTH)])
    first, second = make_user(Role.QUALITY_LEAD), make_user(Role.QUALITY_LEAD)
    browsers = [signed_in_with_csrf(portal, u) for u in (first, second)]  # each request in its own app context
    pages = [b.get(f"/statements/{KEY}").get_data(as_text=True) for b in browsers]
    assert any(key.startswith("statement.page:") for key in portal.extensions[EXTENSION]._cache)
    forms = [REMOVE_FORM.search(page).groups() for page in pages]
    assert forms[0][1] != forms[1][1]  # the second page came from the kept page, with its own token
    # Every form on it (assessment, mapping, action, comment, sign-out) carries the second reader's token.
    fields = [re.findall(r'name="(?:\w+-)?csrf_token"[^>]*value="([^"]+)"', page) for page in pages]
    assert len(fields[1]) >= 6 and set(fields[1]) == {forms[1][1]} and not set(fields[0]) & set(fields[1])
    action, token = forms[1]
    assert browsers[1].post(action, data={"csrf_token": token}).status_code == 302
    with portal.app_context():
        db.engine.dispose()
    db.session.expire_all()
    assert db.session.query(Mapping).filter_by(item_id=item.id).count() == 0


def test_a_metric_point_shows_on_the_items_chart_and_table_at_once(client, lead):
    metric = make_item("Reablement at 91 days", kind=Kind.METRIC, unit="%", points=[(date(2026, 8, 1), "Aug 2026", 80)])

    def chart_and_table() -> str:
        html = client.get(f"/evidence/{metric.id}").get_data(as_text=True)
        return html[html.index('<figure class="chart-figure">') : html.index("</table>")]

    assert "Aug 2026" in chart_and_table() and "Sep 2026" not in chart_and_table()
    add_point(metric, "2026-09", 83.7, lead)
    db.session.commit()
    assert "Sep 2026" in chart_and_table() and "83.7" in chart_and_table()


def test_a_kept_statement_page_is_kept_apart_for_readers_and_curators(app, client, make_user, round_):
    lead, manager = make_user(Role.QUALITY_LEAD), make_user(Role.MANAGER)
    assert sign_in(client, lead).status_code == 302
    assert "Write the assessment" in text(client, f"/statements/{KEY}")
    client.post("/sign-out")
    assert sign_in(client, manager).status_code == 302
    page = text(client, f"/statements/{KEY}")
    assert "Self-assessment" in page and "Write the assessment" not in page and "Map evidence" not in page
    # An address naming no round is not found, though the page for the current round is kept.
    for bad in ("abc", "0", "99999", "1e3", "-1"):
        assert client.get(f"/statements/{KEY}?round={bad}").status_code == 404, bad
    assert client.get(f"/statements/{KEY}?round={round_.id:03d}").status_code == 200
    assert client.get("/statements/no-such-statement").status_code == 404


def test_a_new_council_name_shows_in_every_pages_header_at_once(client, make_user):
    assert sign_in(client, make_user(Role.ADMIN)).status_code == 302

    def header(path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        return re.search(r'class="brand__authority">([^<]*)<', html).group(1)

    before = header("/dashboard")
    assert header(f"/statements/{KEY}") == before != "Derbyshire County Council"
    done = client.post("/admin/council", data={"name": "Derbyshire County Council", "code": "E10000007"})
    assert done.status_code == 302
    assert header("/dashboard") == header(f"/statements/{KEY}") == "Derbyshire County Council"
