"""Rounds in the portal: create, sign off (managers only), frozen views, compare, history."""

import re
from html import unescape

from evidence.assessment.assessments import find_assessment
from evidence.assessment.rounds import current_round, sign_off
from evidence.db import db
from evidence.models import Round
from evidence.vocab import Role, RoundStatus, Stance
from tests.factories import make_item, make_round, score_all, statement


def text_of(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def test_create_a_round(client, login):
    login(Role.QUALITY_LEAD)
    response = client.post("/rounds", data={"name": "Winter 2026 self-assessment"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Created “Winter 2026 self-assessment”" in text_of(response)
    round_ = db.session.query(Round).one()
    assert current_round() == round_
    assert "Created round “Winter 2026 self-assessment”" in text_of(client.get(f"/rounds/{round_.id}"))


def test_managers_create_rounds_too_but_staff_cannot(client, login):
    login(Role.MANAGER)
    assert client.post("/rounds", data={"name": "By a manager"}).status_code == 302
    client.post("/sign-out")
    login(Role.STAFF)
    assert client.post("/rounds", data={"name": "By staff"}).status_code == 403
    assert client.get("/rounds").status_code == 403
    assert db.session.query(Round).count() == 1


def test_a_bad_round_name_is_refused(client, login):
    login(Role.QUALITY_LEAD)
    make_round("Winter")
    response = client.post("/rounds", data={"name": "Winter"})
    assert response.status_code == 422
    assert "There is already a round called “Winter”" in text_of(response)
    response = client.post("/rounds", data={"name": ""})
    assert response.status_code == 422
    assert db.session.query(Round).count() == 1


def test_create_carrying_forward(client, login):
    login(Role.QUALITY_LEAD)
    old = make_round("Winter", scores={"equity": 3})
    response = client.post("/rounds", data={"name": "Spring", "carry_forward": "y"})
    assert response.status_code == 302
    new = db.session.query(Round).filter_by(name="Spring").one()
    assert find_assessment(new, statement("equity")).score == 3
    assert find_assessment(old, statement("equity")).id != find_assessment(new, statement("equity")).id


def test_the_round_page_shows_statements_scores_and_status(client, login):
    login(Role.MANAGER)
    round_ = make_round("Winter", scores={"equity": 4})
    page = text_of(client.get(f"/rounds/{round_.id}"))
    assert "Winter" in page and "Open" in page
    assert "Equity in experience and outcomes 4 Evidence shows an exceptional standard" in page
    assert "Incomplete" in page and "Not scored: Assessing needs" in page


def test_only_managers_and_admins_sign_off(client, login):
    round_ = make_round()
    login(Role.QUALITY_LEAD)
    assert "Sign off this round" not in text_of(client.get(f"/rounds/{round_.id}"))
    assert client.post(f"/rounds/{round_.id}/sign-off", data={"confirm": "y"}).status_code == 403
    assert round_.status == RoundStatus.OPEN


def test_sign_off_needs_the_confirmation(client, login):
    login(Role.MANAGER)
    round_ = make_round()
    response = client.post(f"/rounds/{round_.id}/sign-off", data={})
    assert response.status_code == 422
    assert "Tick the box to confirm" in text_of(response)
    db.session.refresh(round_)
    assert round_.status == RoundStatus.OPEN and round_.snapshot is None


def test_signing_off_freezes_the_round_and_its_page(client, login):
    manager = login(Role.MANAGER)
    item = make_item("Carers survey", mappings=[("equity", "peoples-experience", Stance.STRENGTH)])
    round_ = make_round("Winter")
    score_all(round_, 3)
    response = client.post(f"/rounds/{round_.id}/sign-off", data={"confirm": "y"}, follow_redirects=True)
    assert "“Winter” is signed off and frozen." in text_of(response)
    db.session.refresh(round_)
    assert round_.status == RoundStatus.SIGNED_OFF and round_.signed_off_by_id == manager.id
    page = text_of(client.get(f"/rounds/{round_.id}"))
    assert "Signed off" in page and "75% Good" in page
    assert "Signed off “Winter”; it is now frozen" in page  # the round's history

    # Later edits to evidence do not change what the round shows.
    item.title = "Renamed later"
    db.session.commit()
    statement_page = client.get(f"/statements/equity?round={round_.id}")
    assert "Carers survey" in text_of(statement_page) and "Renamed later" not in text_of(statement_page)
    assert "Evidence as it stood at sign-off" in text_of(statement_page)

    again = client.post(f"/rounds/{round_.id}/sign-off", data={"confirm": "y"}, follow_redirects=True)
    assert "nothing in it can be edited" in text_of(again)


def test_compare_two_rounds(client, login):
    manager = login(Role.MANAGER)
    old_item = make_item("Old survey", mappings=[("equity", "peoples-experience", Stance.STRENGTH)])
    a = make_round("Winter", scores={"equity": 2, "safeguarding": 3})
    sign_off(a, manager, confirmed=True)
    b = make_round("Spring", scores={"equity": 3, "safeguarding": 3})
    db.session.delete(old_item.mappings[0])
    db.session.commit()
    new_item = make_item("New survey", mappings=[("equity", "peoples-experience", Stance.STRENGTH)])
    response = client.get(f"/rounds/compare?a={a.id}&b={b.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    row = re.search(r'<tr data-statement="equity">(.*?)</tr>', html, re.S).group(1)
    row_text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row)))
    assert "2 → 3" in row_text and "▲ Up" in row_text
    assert f"{new_item.reference} New survey" in row_text
    assert f"{old_item.reference} Old survey" in row_text  # removed since the signed-off round
    row = re.search(r'<tr data-statement="safeguarding">(.*?)</tr>', html, re.S).group(1)
    assert "Same" in row
    assert "1 up · 0 down · 1 the same" in text_of(response)


def test_compare_needs_two_different_rounds(client, login):
    login(Role.MANAGER)
    a = make_round("Winter")
    make_round("Spring")
    response = client.get(f"/rounds/compare?a={a.id}&b={a.id}")
    assert response.status_code == 422
    assert "Choose two different rounds." in text_of(response)
    assert client.get("/rounds/compare?a=999&b=998").status_code == 422


def test_the_audit_trail_has_no_way_to_change_it(app):
    """No route in the portal writes to, edits or deletes audit events."""
    for rule in app.url_map.iter_rules():
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            assert "audit" not in rule.rule and "history" not in rule.rule, rule.rule
