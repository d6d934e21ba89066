"""The gaps page: counts, grouping, filtering and a link to where each gap is fixed."""

import re
from datetime import timedelta
from html import unescape

from evidence.models import today
from evidence.vocab import Role, Stance
from tests.factories import make_item, make_round


def rows(response, kind=None):
    html = response.get_data(as_text=True)
    found = re.findall(
        r'<tr data-gap="([a-z_]+)" data-statement="([a-z-]+)"(?: data-category="([a-z-]+)")?>(.*?)</tr>', html, re.S
    )
    return [(k, s, c or None, body) for k, s, c, body in found if kind in (None, k)]


def test_gaps_page_counts_and_lists_each_kind(client, login):
    login(Role.QUALITY_LEAD)
    make_item(
        "Old survey",
        review_by=today() - timedelta(days=1),
        mappings=[("equity", "peoples-experience", Stance.STRENGTH)],
    )
    make_item("Context", mappings=[("learning", "processes", Stance.CONTEXT)])
    make_round(scores={"learning": 1, "governance": 3})
    response = client.get("/gaps")
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))
    assert "Not scored 7" in text
    assert "Scored without citing evidence 2" in text
    assert "Score at odds with its evidence 1" in text
    assert "Only stale evidence 1" in text
    assert "No accepted evidence 34" in text  # 9 × 4 cells, less the two with evidence
    total = len(rows(response))
    assert f"{total} gaps" in text

    [(_, statement, category, body)] = rows(response, "only_stale")
    assert (statement, category) == ("equity", "peoples-experience")
    assert 'href="/statements/equity#evidence"' in body
    [(_, statement, _, body)] = rows(response, "at_odds")
    assert statement == "learning" and "Scored 1 but no evidence is mapped as a shortfall." in body
    assert 'href="/statements/learning#edit"' in body


def test_filter_by_kind(client, login):
    login(Role.MANAGER)
    make_round(scores={"learning": 3})
    response = client.get("/gaps?kind=uncited")
    assert {k for k, *_ in rows(response)} == {"uncited"}
    assert 'id="unscored"' not in response.get_data(as_text=True)
    # A manager is sent to read the assessment rather than edit it.
    [(_, _, _, body)] = rows(response)
    assert 'href="/statements/learning#assessment"' in body
    assert client.get("/gaps?kind=nonsense").status_code == 404


def test_a_fixed_gap_leaves_the_page(client, login):
    login(Role.QUALITY_LEAD)
    round_ = make_round()
    assert ("unscored", "equity") in {(k, s) for k, s, *_ in rows(client.get("/gaps"))}
    response = client.post(
        f"/statements/equity/assessment/{round_.id}", data={"version": "0", "score": "2", "save": "Save assessment"}
    )
    assert response.status_code == 302
    assert ("unscored", "equity") not in {(k, s) for k, s, *_ in rows(client.get("/gaps"))}


def test_evidence_gaps_link_to_candidates_for_the_statement_and_category(app, client, login):
    from flask import url_for

    login(Role.QUALITY_LEAD)
    make_round()
    response = client.get("/gaps?kind=no_evidence")
    with app.test_request_context():
        expected = url_for("gaps.find", statement="equity", category="partners")
    [body] = [b for _, s, c, b in rows(response) if (s, c) == ("equity", "partners")]
    assert f'href="{expected}"'.replace("&", "&amp;") in body


def test_find_evidence_offers_candidates_that_the_lead_maps_in_place(client, login):
    login(Role.QUALITY_LEAD)
    make_round()
    candidate = make_item("Providers say fees are fair", mappings=[("care-provision", "partners", Stance.STRENGTH)])
    page = client.get("/gaps/find?statement=equity&category=partners")
    text = unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "Providers say fees are fair" in text and "Evidences Care provision, integration and continuity" in text
    mapped = client.post(
        f"/evidence/{candidate.id}/mappings",
        data={"statement": "equity", "category": "partners", "stance": "strength"},
    )
    assert mapped.status_code == 302
    assert ("no_evidence", "equity", "partners") not in {(k, s, c) for k, s, c, _ in rows(client.get("/gaps"))}
    assert "Providers say fees are fair" not in client.get("/gaps/find?statement=equity&category=partners").get_data(
        as_text=True
    )


def test_a_manager_sees_candidates_but_no_mapping_buttons(client, login):
    login(Role.MANAGER)
    make_item("Providers say fees are fair", mappings=[("care-provision", "partners", Stance.STRENGTH)])
    text = client.get("/gaps/find?statement=equity&category=partners").get_data(as_text=True)
    assert "Providers say fees are fair" in text and "Map to" not in text
    assert client.get("/gaps/find?statement=nope&category=partners").status_code == 404
