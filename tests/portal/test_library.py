"""The evidence library: search and filters in the query string, the item page, mappings, values, downloads."""

import io
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from markupsafe import Markup
from sqlalchemy import event, func, select

from evidence.db import db
from evidence.models import Assessment, EvidenceItem, Mapping, MetricPoint, today
from evidence.vocab import Kind, Role, Status
from portal.charts import line_chart
from tests.conftest import sign_in
from tests.factories import make_item, make_round, statement

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def rows(page: str) -> list[str]:
    """The titles listed in the library table, in order."""
    return re.findall(r'<th scope="row"><a href="/evidence/\d+">([^<]+)</a>', page)


@pytest.fixture
def client_as(app, make_user):
    """A fresh client signed in with a new user of the role (one client stays one user)."""

    def make(role):
        new_client = app.test_client()
        sign_in(new_client, make_user(role))
        return new_client

    return make


@pytest.fixture
def portfolio(app):
    make_item(
        "Carers feel listened to",
        summary="Most carers said they were listened to.",
        mappings=[("assessing-needs", "peoples-experience", "strength")],
        period_start=date(2025, 10, 1),
        period_end=date(2025, 11, 30),
    )
    make_item(
        "Discharge delays",
        kind=Kind.METRIC,
        source="Hospital discharge team",
        mappings=[("safe-pathways", "processes", "shortfall")],
        review_by=today() - timedelta(days=1),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
    )
    make_item(
        "Transitions worker wait",
        kind=Kind.QUOTE,
        quote_text="We wait months for a transitions worker",
        speaker_role="Social worker 4",
        mappings=[("safe-pathways", "staff-leaders", "shortfall")],
        period_start=date(2026, 5, 1),
        period_end=None,
    )
    make_item("Not yet reviewed", status=Status.SUBMITTED)


def test_the_default_view_lists_accepted_evidence_with_references_and_mappings(client, login, portfolio):
    login(Role.MANAGER)
    page = client.get("/evidence").get_data(as_text=True)
    assert sorted(rows(page)) == ["Carers feel listened to", "Discharge delays", "Transitions worker wait"]
    assert ">E-1</a>" in page and "Safe pathways, systems and transitions · Processes" in page
    assert '<span class="tag tag--shortfall">Shortfall</span>' in page
    assert page.count('class="tag tag--stale"') == 1
    assert "3 items of accepted evidence" in page


def test_managers_cannot_list_unaccepted_items_but_curators_can(client_as, portfolio):
    manager = client_as(Role.MANAGER)
    page = manager.get("/evidence?status=submitted").get_data(as_text=True)
    assert "Not yet reviewed" not in rows(page) and len(rows(page)) == 3
    assert 'name="status"' not in page
    lead = client_as(Role.QUALITY_LEAD)
    assert rows(lead.get("/evidence?status=submitted").get_data(as_text=True)) == ["Not yet reviewed"]
    assert len(rows(lead.get("/evidence?status=any").get_data(as_text=True))) == 4


# Query strings (as links and the filter form make them) and the titles they must list.
FILTERS = [
    ("q=carers+listened", ["Carers feel listened to"]),
    ("q=hospital", ["Discharge delays"]),  # source
    ("q=months+transitions", ["Transitions worker wait"]),  # quote text
    ("q=carers+hospital", []),
    ("kind=metric", ["Discharge delays"]),
    ("statement=safe-pathways&category=staff-leaders", ["Transitions worker wait"]),  # a heat-map link
    ("statement=safe-pathways&sort=title", ["Discharge delays", "Transitions worker wait"]),
    ("category=peoples-experience", ["Carers feel listened to"]),
    ("stance=shortfall&sort=-period", ["Transitions worker wait", "Discharge delays"]),
    ("stale=yes", ["Discharge delays"]),
    ("stale=no&sort=title", ["Carers feel listened to", "Transitions worker wait"]),
    ("date_from=2026-02-01&date_to=2026-04-30", ["Discharge delays"]),
    ("date_to=2025-12-31", ["Carers feel listened to"]),
]


def test_search_and_each_filter_from_the_query_string(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    for query, expected in FILTERS:
        page = client.get(f"/evidence?{query}").get_data(as_text=True)
        if len(expected) > 1 and "sort=" not in query:
            assert sorted(rows(page)) == sorted(expected), query
        else:
            assert rows(page) == expected, query
        if not expected:
            assert "No evidence matches" in page, query


def test_owner_filter(client, login, make_user, portfolio):
    owner = make_user(Role.STAFF, name="Olu Owner")
    make_item("Olu's audit", kind=Kind.CASE_AUDIT, owner_id=owner.id)
    login(Role.QUALITY_LEAD)
    page = client.get(f"/evidence?owner={owner.id}").get_data(as_text=True)
    assert rows(page) == ["Olu&#39;s audit"]
    assert "Olu Owner</option>" in page


def test_bad_filter_values_are_named_and_ignored(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    page = client.get("/evidence?statement=nonsense&date_from=soon").get_data(as_text=True)
    assert "Quality statement: “nonsense” is not one of the choices, so it was not used." in page
    assert "Period from: “soon” is not a date" in page
    assert len(rows(page)) == 3


def test_pagination_keeps_the_filters(app, client, login):
    app.config["PAGE_SIZE"] = 2
    for i in range(5):
        make_item(f"Metric {i}", kind=Kind.METRIC, commit=False)
    make_item("A survey")
    login(Role.QUALITY_LEAD)
    page = client.get("/evidence?kind=metric&sort=reference").get_data(as_text=True)
    assert rows(page) == ["Metric 0", "Metric 1"]
    assert "Page 1 of 3 · 5 items" in page
    assert 'href="/evidence?kind=metric&amp;sort=reference&amp;page=2"' in page
    page = client.get("/evidence?kind=metric&sort=reference&page=3").get_data(as_text=True)
    assert rows(page) == ["Metric 4"]


def test_the_library_page_costs_the_same_queries_for_more_items(app, client, login):
    login(Role.QUALITY_LEAD)

    def queries_for_page() -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        assert client.get("/evidence").status_code == 200
        event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    for i in range(3):
        make_item(f"Few {i}", mappings=[("equity", "partners", "context")])
    few = queries_for_page()
    for i in range(60):
        make_item(
            f"Many {i}",
            commit=False,
            mappings=[("equity", "partners", "context"), ("learning", "processes", "strength")],
        )
    db.session.commit()
    assert queries_for_page() == few


# --- The item page -----------------------------------------------------------------------------------


def test_the_item_page_shows_every_field_mappings_citations_and_history(client, login):
    item = make_item(
        "Carers feel listened to",
        summary="Most carers **said** so. <script>alert(1)</script>",
        survey_name="SACE",
        question="Did you feel listened to?",
        respondents=1204,
        result_percent=61.0,
        population="Carers",
        mappings=[("assessing-needs", "peoples-experience", "strength")],
    )
    round_ = make_round(scores={"assessing-needs": 3})
    assessment = db.session.scalar(select(Assessment))
    assessment.rationale = f"Carers say they are heard [{item.reference}]."
    assessment.key_findings = f"See [{item.reference.lower()}]"
    make_round("Another round", scores={"equity": 2})
    db.session.commit()
    login(Role.MANAGER)
    page = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    for text in ["E-1 · Survey finding", "SACE", "Did you feel listened to?", "1,204", "61%", "Carers"]:
        assert text in page, text
    assert "<strong>said</strong>" in page and "<script>alert(1)</script>" not in page
    assert "Assessing needs</strong> · People&#39;s experience" in page
    assert f"{round_.name}: " in page and "(rationale, key findings)" in page
    assert "Another round" not in page
    assert "Change history" in page
    assert 'action="/evidence/1/mappings"' not in page  # managers read, curators map


def test_who_may_open_an_item(app, client_as, make_user):
    owner = make_user(Role.STAFF)
    waiting = make_item("Waiting", status=Status.SUBMITTED, owner_id=owner.id)
    accepted = make_item("Accepted", owner_id=owner.id)
    other_staff = client_as(Role.STAFF)
    assert other_staff.get(f"/evidence/{waiting.id}").status_code == 404
    assert other_staff.get(f"/evidence/{accepted.id}").status_code == 404
    manager = client_as(Role.MANAGER)
    assert manager.get(f"/evidence/{waiting.id}").status_code == 404
    assert manager.get(f"/evidence/{accepted.id}").status_code == 200
    assert manager.get("/evidence/999").status_code == 404
    assert client_as(Role.QUALITY_LEAD).get(f"/evidence/{waiting.id}").status_code == 200
    own = app.test_client()
    sign_in(own, owner)
    assert own.get(f"/evidence/{accepted.id}").status_code == 200
    assert "waiting for review" in own.get(f"/evidence/{waiting.id}").get_data(as_text=True)


def test_mappings_are_added_and_removed_from_the_item_page(client, login):
    item = make_item("Discharge delays")
    lead = login(Role.QUALITY_LEAD)
    data = {"statement": "safe-pathways", "category": "processes", "stance": "shortfall", "note": "Winter peak"}
    response = client.post(f"/evidence/{item.id}/mappings", data=data)
    assert response.status_code == 302
    (mapping,) = db.session.scalars(select(Mapping)).all()
    assert (mapping.statement.key, mapping.category.key, mapping.stance, mapping.note, mapping.created_by_id) == (
        "safe-pathways",
        "processes",
        "shortfall",
        "Winter peak",
        lead.id,
    )
    page = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert "Winter peak" in page and "Mapped to Safe pathways, systems and transitions" in page

    again = client.post(f"/evidence/{item.id}/mappings", data=data).get_data(as_text=True)
    assert "already mapped to Safe pathways, systems and transitions under Processes" in again
    bad = client.post(f"/evidence/{item.id}/mappings", data={"statement": "", "category": "x", "stance": "maybe"})
    text = bad.get_data(as_text=True)
    assert "Quality statement: choose one." in text and "Evidence category: choose one from the list." in text
    assert "Stance: choose strength, shortfall or context." in text
    assert db.session.scalar(select(func.count(Mapping.id))) == 1

    response = client.post(f"/evidence/{item.id}/mappings/{mapping.id}/remove")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Mapping.id))) == 0
    assert "Unmapped from Safe pathways" in client.get(f"/evidence/{item.id}").get_data(as_text=True)


def test_staff_and_managers_cannot_change_mappings(client_as):
    item = make_item("Discharge delays", mappings=[("safe-pathways", "processes", "shortfall")])
    mapping = db.session.scalar(select(Mapping))
    for role in (Role.STAFF, Role.MANAGER):
        client = client_as(role)
        data = {"statement": "equity", "category": "processes", "stance": "strength"}
        assert client.post(f"/evidence/{item.id}/mappings", data=data).status_code == 403
        assert client.post(f"/evidence/{item.id}/mappings/{mapping.id}/remove").status_code == 403
    assert db.session.scalar(select(func.count(Mapping.id))) == 1
    other = make_item("Other")
    lead = client_as(Role.QUALITY_LEAD)
    assert lead.post(f"/evidence/{other.id}/mappings/{mapping.id}/remove").status_code == 404
    assert db.session.scalar(select(func.count(Mapping.id))) == 1


def test_metric_values_are_added_over_time_and_drawn(client, login, make_user):
    owner = make_user(Role.STAFF)
    item = make_item(
        "Reviews on time",
        kind=Kind.METRIC,
        unit="%",
        direction="higher",
        target=80,
        comparators={"England average": [(date(2026, 4, 1), "2026 Q2", 72.5)]},
        owner_id=owner.id,
        points=[(date(2026, 1, 1), "2026 Q1", 70), (date(2026, 4, 1), "2026 Q2", 74)],
    )
    login(Role.QUALITY_LEAD)
    page = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert "<svg" in page and 'class="chart__target"' in page and "chart__comparator--1-point" in page
    # the table beside the chart: each period's value, the target and the comparator's value for it
    row = '<th scope="row">2026 Q2</th><td class="num">74%</td><td class="num">80%</td><td class="num">72.5%</td>'
    assert row in page
    assert '<span class="legend legend--comparator-1">England average</span>' in page

    assert client.post(f"/evidence/{item.id}/points", data={"period": "2026-07", "value": "77"}).status_code == 302
    refused = client.post(f"/evidence/{item.id}/points", data={"period": "2026 Q3", "value": "78"})
    assert "2026 Q3" not in [p.label for p in db.session.scalars(select(MetricPoint))]
    assert "Jul 2026 already has a value (77)" in refused.get_data(as_text=True)
    response = client.post(f"/evidence/{item.id}/points", data={"period": "2026 Q3", "value": "78", "replace": "y"})
    assert response.status_code == 302
    assert [(p.label, p.value) for p in db.session.scalars(select(MetricPoint).order_by(MetricPoint.period))] == [
        ("2026 Q1", 70.0),
        ("2026 Q2", 74.0),
        ("2026 Q3", 78.0),
    ]
    bad = client.post(f"/evidence/{item.id}/points", data={"period": "soon", "value": "lots"}).get_data(True)
    assert "Value: “lots” is not a number like 12.5." in bad
    bad = client.post(f"/evidence/{item.id}/points", data={"period": "2026-10", "value": "140"}).get_data(True)
    assert "Value: 140 is not a percentage between 0 and 100." in bad
    history = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert "Added Jul 2026: 77" in history and "Changed the value for 2026 Q3" in history

    manager = client.application.test_client()
    sign_in(manager, make_user(Role.MANAGER))
    assert manager.post(f"/evidence/{item.id}/points", data={"period": "2026-11", "value": "1"}).status_code == 404
    owners_client = client.application.test_client()
    sign_in(owners_client, owner)
    assert (
        owners_client.post(f"/evidence/{item.id}/points", data={"period": "2026-11", "value": "79"}).status_code == 302
    )


def test_the_chart_escapes_text_and_uses_no_inline_styles():
    point = SimpleNamespace(period=None, label="Q2 & more", value=2.5)
    england = SimpleNamespace(name='"England" <average>', points=[point])
    svg = line_chart([("<b>Q1</b>", 1), ("Q2 & more", 3)], target=2, comparators=[england], unit="%")
    assert isinstance(svg, Markup)
    assert "<b>" not in svg and "&lt;b&gt;Q1&lt;/b&gt;" in svg and "Q2 &amp; more" in svg
    assert "&#34;England&#34; &lt;average&gt;, Q2 &amp; more: 2.5%" in svg
    assert "style=" not in svg and "<script" not in svg
    assert svg.count("<circle") == 2
    small = line_chart([("Q1", 1), ("Q2", 2)], small=True)
    assert 'width="240"' in small and "chart__tick" not in small
    assert "No values yet" in line_chart([])


# --- Downloads ----------------------------------------------------------------------------------------


@pytest.fixture
def document(app, client, make_user):
    owner = make_user(Role.STAFF)
    sign_in(client, owner)
    data = {
        "title": "Transitions policy",
        "source": "Policy team",
        "evidences": "How transitions are planned",
        "file": (io.BytesIO(PDF), "Transitions policy (v2).pdf"),
    }
    assert client.post("/submit?kind=document", data=data, content_type="multipart/form-data").status_code == 302
    client.post("/sign-out")
    item = db.session.scalar(select(EvidenceItem))
    return owner, item, item.attachments[0]


def test_download_rights(app, client, make_user, document):
    owner, item, attachment = document
    url = f"/evidence/{item.id}/files/{attachment.id}"

    response = client.get(url)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]

    sign_in(client, owner)
    response = client.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Transitions policy (v2).pdf" in response.headers["Content-Disposition"]

    for role, status in [(Role.QUALITY_LEAD, 200), (Role.STAFF, 404), (Role.MANAGER, 404)]:
        other = app.test_client()
        sign_in(other, make_user(role))
        assert other.get(url).status_code == status, role
    assert client.get(f"/evidence/{item.id}/files/{attachment.id + 1}").status_code == 404


def test_accepted_files_are_open_to_readers_but_not_other_staff(app, client, make_user, document):
    _, item, attachment = document
    item.status = Status.ACCEPTED
    db.session.commit()
    url = f"/evidence/{item.id}/files/{attachment.id}"
    for role, status in [(Role.MANAGER, 200), (Role.ADMIN, 200), (Role.STAFF, 404)]:
        other = app.test_client()
        sign_in(other, make_user(role))
        assert other.get(url).status_code == status, role
    page = app.test_client()
    sign_in(page, make_user(Role.MANAGER))
    assert f'href="{url}"' in page.get(f"/evidence/{item.id}").get_data(as_text=True)


def test_stale_items_are_marked_on_their_page(client, login):
    item = make_item("Old survey", review_by=today() - timedelta(days=10))
    fresh = make_item("New survey")
    login(Role.QUALITY_LEAD)
    assert 'class="tag tag--stale"' in client.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert 'class="tag tag--stale"' not in client.get(f"/evidence/{fresh.id}").get_data(as_text=True)
    assert 'class="tag tag--stale"' in client.get(f"/evidence/{item.id}/edit").get_data(as_text=True)


def test_statement_keys_in_links_match_the_framework(app):
    assert statement("safe-pathways").name == "Safe pathways, systems and transitions"


def _ticks(svg: str) -> list[str]:
    return re.findall(r'class="chart__tick"[^>]*>([^<]*)<', svg)


def test_a_percentage_is_drawn_from_0_with_its_latest_value_labelled():
    points = [("2026 Q1", 83.0), ("2026 Q2", 84.1), ("2026 Q3", 85.0)]
    svg = line_chart(points, target=95, unit="%")
    assert _ticks(svg)[0] == "0%" and _ticks(svg)[-1] == "100%"  # not from the lowest value or the target
    assert re.findall(r'class="chart__latest"[^>]*>([^<]*)<', svg) == ["85%"]
    # the target's label and the latest value's are not drawn on top of each other
    target_y = float(re.search(r'class="chart__target-label"[^>]*y="([\d.]+)"', svg).group(1))
    latest_y = float(re.search(r'class="chart__latest"[^>]*y="([\d.]+)"', svg).group(1))
    assert abs(target_y - latest_y) >= 14


def test_a_figure_other_than_a_percentage_leaves_room_around_its_target():
    svg = line_chart([("2026 Q1", 24.0), ("2026 Q2", 22.5), ("2026 Q3", 21.0)], target=21, unit="days")
    ticks = [float(t) for t in _ticks(svg)]
    assert ticks[0] < 21 < 24 < ticks[-1]  # neither the target nor a value on the edge of the plot
    assert re.findall(r'class="chart__latest"[^>]*>([^<]*)<', svg) == ["21 days"]


def test_each_comparator_is_drawn_beside_the_metric_over_the_periods_of_both():
    P = SimpleNamespace
    metric = [
        P(period=date(2026, 4, 1), label="2026 Q2", value=84.1),
        P(period=date(2026, 7, 1), label="2026 Q3", value=85),
    ]
    england = P(name="England average", points=[P(period=date(2026, m, 1), label=f"2026 Q{q}", value=87 + q / 10)
                                                for m, q in ((1, 1), (4, 2), (7, 3))])  # fmt: skip
    region = P(name="Regional average", points=[P(period=date(2026, 7, 1), label="2026 Q3", value=86.0)])
    svg = line_chart(metric, comparators=[england, region], unit="%")
    labels = re.findall(r'class="chart__label"[^>]*>([^<]*)<', svg)
    assert labels == ["2026 Q1", "2026 Q2", "2026 Q3"]  # the comparator's earlier period is on the axis too
    assert svg.count('class="chart__comparator chart__comparator--1"') == 1  # a line through its three values
    assert svg.count("chart__comparator--1-point") == 3
    assert "chart__comparator--2-point" in svg and 'chart__comparator--2"' not in svg  # one value: its mark alone
    assert "England average: 87.3% in 2026 Q3. Regional average: 86% in 2026 Q3." in svg  # the description


def test_the_item_page_adds_a_comparators_value_and_shows_every_series(client, login, make_user):
    item = make_item(
        "Reviews on time",
        kind=Kind.METRIC,
        unit="%",
        direction="higher",
        points=[(date(2026, 1, 1), "2026 Q1", 70), (date(2026, 4, 1), "2026 Q2", 74)],
    )
    login(Role.QUALITY_LEAD)
    for name, period, value in (("England average", "2026 Q1", "71"), ("Region", "2026 Q2", "73.5")):
        data = {"comparator-name": name, "comparator-period": period, "comparator-value": value}
        assert client.post(f"/evidence/{item.id}/comparators", data=data).status_code == 302
    page = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert '<span class="legend legend--comparator-1">England average</span>' in page
    assert '<span class="legend legend--comparator-2">Region</span>' in page
    assert '<th scope="col" class="num">England average</th><th scope="col" class="num">Region</th>' in page
    assert '<th scope="row">2026 Q1</th><td class="num">70%</td><td class="num">71%</td><td class="num">–</td>' in page
    assert "Added England average for 2026 Q1: 71" in page  # the history
    refused = client.post(
        f"/evidence/{item.id}/comparators",
        data={"comparator-name": "region", "comparator-period": "2026 Q2", "comparator-value": "80"},
    ).get_data(as_text=True)
    assert "Region already has a value for 2026 Q2 (73.5); tick “Replace” to change it." in refused


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "3 items of accepted evidence."),
        ("kind=metric", "1 item of accepted evidence, filtered by kind Metric."),
        (
            "statement=safe-pathways&stale=no",
            "1 item of accepted evidence, filtered by quality statement Safe pathways, systems and transitions; "
            "fresh only.",
        ),
        ("q=carers", "1 item of accepted evidence matches “carers”."),
        ("q=transitions&kind=quote", "1 item of accepted evidence matches “transitions”, filtered by kind Quote."),
        ("date_from=2026-01-01", "2 items of accepted evidence, filtered by period from 1 Jan 2026."),
    ],
)
def test_the_count_says_what_the_list_was_narrowed_by(client, login, portfolio, query, says):
    login(Role.MANAGER)
    page = client.get(f"/evidence?{query}").get_data(as_text=True)
    count = re.search(r'<p class="results-count" role="status">\s*(.*?)\s*<', page, re.S)[1]
    assert re.sub(r"\s+", " ", count) == says
    assert "your search" not in page
