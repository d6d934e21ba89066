"""The peer challenge: a manager opens it and invites reviewers; an invited reviewer reads that round only and
rates each statement; the council sees both ratings side by side, responds, and the sign-off keeps them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from evidence.assessment import peer
from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.models import Notification, PeerReview
from evidence.vocab import NotificationKind, Role
from tests.conftest import sign_in
from tests.factories import make_item, make_round, statement

SCORES = {"safeguarding": 3, "assessing-needs": 2}


@pytest.fixture
def reviewer(make_user):
    return make_user(Role.PEER_REVIEWER, email="rae.review@other-council.gov.uk", name="Rae Reviewer")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Mo Manager")


@pytest.fixture
def challenged(reviewer, manager):
    """A round with two scores, its challenge open and the reviewer invited."""
    item = make_item("Safeguarding audit")
    round_ = make_round("Winter 2026 self-assessment", SCORES)
    assessment = next(a for a in round_.assessments if a.statement.key == "safeguarding")
    assessment.rationale = f"Audits show timely enquiries [{item.reference}]."
    db.session.commit()
    peer.open_challenge(round_, manager)
    peer.invite(round_, reviewer, manager)
    return round_, item


def rate(client, round_, key, rating, challenge="", version="0"):
    return client.post(
        f"/peer/rounds/{round_.id}/statements/{key}",
        data={"rating": str(rating), "challenge": challenge, "version": version},
    )


def test_a_manager_opens_the_challenge_and_invites_a_reviewer_who_is_told(app, client, reviewer, manager, make_user):
    round_ = make_round("Winter 2026 self-assessment")
    sign_in(client, manager)
    assert client.post(f"/peer/rounds/{round_.id}/open").status_code == 302
    response = client.post(f"/peer/rounds/{round_.id}/reviewers", data={"reviewer": reviewer.id}, follow_redirects=True)
    assert "Rae Reviewer is invited and has been told." in response.get_data(as_text=True)
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == reviewer.id)).all()
    assert note.kind == NotificationKind.PEER_CHALLENGE and note.target == f"peer:{round_.id}"
    # Only a peer reviewer's account can be invited, once.
    staff = make_user(Role.STAFF)
    for who, said in [
        (staff.id, "Choose a peer reviewer"),
        (reviewer.id, "Rae Reviewer is already invited"),
        ("abc", "Nobody was invited"),
        ("9" * 30, "Nobody was invited"),
    ]:
        page = client.post(f"/peer/rounds/{round_.id}/reviewers", data={"reviewer": who}, follow_redirects=True)
        assert said in page.get_data(as_text=True)
    assert [u.id for u in peer.reviewers(round_)] == [reviewer.id]
    # A quality lead cannot run it.
    sign_in(lead := app.test_client(), make_user(Role.QUALITY_LEAD))
    assert lead.post(f"/peer/rounds/{round_.id}/close").status_code == 403


def test_a_reviewer_reads_only_the_rounds_they_are_invited_to(app, client, reviewer, challenged):
    round_, item = challenged
    other = make_round("Summer 2026 self-assessment", SCORES)
    uncited = make_item("Not cited anywhere")
    sign_in(client, reviewer)
    assert client.get("/").location.endswith("/peer")
    page = client.get("/peer").get_data(as_text=True)
    assert "Winter 2026 self-assessment" in page and "Summer 2026" not in page
    assert client.get(f"/peer/rounds/{round_.id}").status_code == 200
    statement_page = client.get(f"/peer/rounds/{round_.id}/statements/safeguarding").get_data(as_text=True)
    assert "Audits show timely enquiries" in statement_page and item.reference in statement_page
    assert client.get(f"/peer/rounds/{round_.id}/evidence/{item.id}").status_code == 200
    assert client.get(f"/peer/rounds/{round_.id}/evidence/{uncited.id}").status_code == 404
    for url in (
        f"/peer/rounds/{other.id}",
        f"/peer/rounds/{other.id}/statements/safeguarding",
        f"/peer/rounds/{other.id}/evidence/{item.id}",
        f"/peer/rounds/{round_.id}/statements/no-such-statement",
    ):
        assert client.get(url).status_code == 404, url
    assert rate(client, other, "safeguarding", 2).status_code == 404
    # None of the council's own pages.
    for url in ("/dashboard", "/rounds", f"/rounds/{round_.id}", "/statements/safeguarding", f"/evidence/{item.id}",
                "/evidence", "/submit", "/exports", "/gaps"):  # fmt: skip
        assert client.get(url).status_code == 403, url
    assert client.post(f"/peer/rounds/{round_.id}/open").status_code == 403


def test_the_council_sees_the_peer_rating_beside_its_score_and_responds(app, client, reviewer, challenged, make_user):
    round_, _ = challenged
    lead = make_user(Role.QUALITY_LEAD)
    sign_in(client, reviewer)
    response = rate(client, round_, "safeguarding", 2, "The audit sample is **small**.")
    assert response.status_code == 302
    rate(client, round_, "assessing-needs", 2, "Agreed.")
    review = peer.review_for(round_, statement("safeguarding"))
    assert review.rating == 2 and review.reviewed_by_id == reviewer.id
    peer_page = client.get(f"/peer/rounds/{round_.id}").get_data(as_text=True)
    assert "Peers 1 lower" in peer_page and "peer-differs" in peer_page

    told = db.session.scalars(
        select(Notification).where(
            Notification.user_id == lead.id, Notification.kind == NotificationKind.PEER_CHALLENGE
        )
    ).all()
    assert [n.title for n in told] == [
        "Peer rating of Safeguarding in “Winter 2026 self-assessment”: 2",
        "Peer rating of Assessing needs in “Winter 2026 self-assessment”: 2",
    ]
    sign_in(council := app.test_client(), lead)
    round_page = council.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert "Peer rating" in round_page and "Peers 1 lower" in round_page and "Same" in round_page
    statement_page = council.get("/statements/safeguarding").get_data(as_text=True)
    assert "The audit sample is <strong>small</strong>." in statement_page and "Peers 1 lower" in statement_page
    response = council.post(
        f"/peer/rounds/{round_.id}/statements/safeguarding/response",
        data={"response": "We will widen the sample.", "version": str(review.version)},
    )
    assert response.status_code == 302
    assert "We will widen the sample." in client.get(f"/peer/rounds/{round_.id}/statements/safeguarding").get_data(
        as_text=True
    )
    # The compare page shows each round's peer rating.
    later = make_round("Spring 2027 self-assessment", SCORES)
    compare = council.get(f"/rounds/compare?a={round_.id}&b={later.id}").get_data(as_text=True)
    assert "Peer rating" in compare


@pytest.mark.parametrize(
    "data",
    [
        {"rating": "5", "challenge": "", "version": "0"},
        {"rating": "abc", "challenge": "", "version": "0"},
        {"rating": "2", "challenge": "x" * 10_001, "version": "0"},
        {"rating": "1e309", "challenge": "", "version": "0"},
    ],
)
def test_a_bad_rating_is_refused_and_changes_nothing(client, reviewer, challenged, data):
    round_, _ = challenged
    sign_in(client, reviewer)
    response = client.post(f"/peer/rounds/{round_.id}/statements/safeguarding", data=data)
    assert response.status_code == 422
    assert db.session.scalars(select(PeerReview)).all() == []


def test_a_rating_or_response_refused_by_the_domain_names_each_field_and_saves_nothing(reviewer, challenged, make_user):
    round_, _ = challenged
    too_long = "x" * (peer.TEXT_MAX + 1)
    with pytest.raises(peer.PeerError) as refused:
        peer.save_rating(round_, statement("safeguarding"), reviewer, 7, too_long)
    assert refused.value.errors == {
        "rating": "Rating: choose 1, 2, 3 or 4.",
        "challenge": f"Challenge: at most {peer.TEXT_MAX:,} characters.",
    }
    with pytest.raises(peer.PeerError) as refused:
        peer.save_response(round_, statement("safeguarding"), make_user(Role.QUALITY_LEAD), too_long)
    assert refused.value.errors == {"response": f"Response: at most {peer.TEXT_MAX:,} characters."}
    assert db.session.scalars(select(PeerReview)).all() == []


def test_two_reviewers_saving_at_once_never_overwrite_each_other(app, client, reviewer, challenged, make_user, manager):
    round_, _ = challenged
    second = make_user(Role.PEER_REVIEWER, name="Sol Second")
    peer.invite(round_, second, manager)
    sign_in(client, reviewer)
    sign_in(other := app.test_client(), second)
    assert rate(client, round_, "safeguarding", 2, "Mine", version="0").status_code == 302
    response = rate(other, round_, "safeguarding", 4, "Theirs", version="0")  # opened before the first save
    assert response.status_code == 409 and "Someone else saved" in response.get_data(as_text=True)
    assert peer.review_for(round_, statement("safeguarding")).rating == 2
    assert rate(other, round_, "safeguarding", 4, "Theirs", version="1").status_code == 302
    assert peer.review_for(round_, statement("safeguarding")).rating == 4


def test_a_closed_challenge_takes_no_ratings_and_sign_off_freezes_them(app, client, reviewer, manager, challenged):
    round_, _ = challenged
    sign_in(client, reviewer)
    rate(client, round_, "safeguarding", 2, "Small sample.")
    peer.close_challenge(round_, manager)
    refused = rate(client, round_, "safeguarding", 4, version="1")
    assert refused.status_code == 302
    assert peer.review_for(round_, statement("safeguarding")).rating == 2
    assert "closed" in client.get(f"/peer/rounds/{round_.id}/statements/safeguarding").get_data(as_text=True)

    peer.open_challenge(round_, manager)
    sign_off(round_, manager, confirmed=True)
    assert not peer.is_open(round_)
    assert [r["rating"] for r in round_.snapshot["peer_reviews"]] == [2]
    assert round_.snapshot["peer"]["reviewers"] == ["Rae Reviewer"]
    # The record kept at sign-off is what shows, whatever happens to the row afterwards.
    row = peer.review_for(round_, statement("safeguarding"))
    row.rating = 4
    db.session.commit()
    assert "Peers 1 lower" in client.get(f"/peer/rounds/{round_.id}").get_data(as_text=True)
    assert rate(client, round_, "safeguarding", 1, version=str(row.version)).status_code == 302
    db.session.refresh(row)
    assert row.rating == 4  # nothing more is saved
