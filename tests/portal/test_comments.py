"""Comments on evidence and on a statement's assessment: markdown made safe, @mentions that tell the person
(if they can see the conversation), threads resolved and reopened, the audit trail, and the freeze at sign-off."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from evidence.assessment.rounds import sign_off
from evidence.audit import history
from evidence.db import db
from evidence.models import Comment, Notification
from evidence.vocab import NotificationKind, Role, Status
from tests.conftest import PORTAL_URL, sign_in
from tests.factories import make_item, make_round


@pytest.fixture
def jane(make_user):
    return make_user(Role.QUALITY_LEAD, email="jane.smith@example-council.gov.uk", name="Jane Smith")


@pytest.fixture
def pat(make_user):
    return make_user(Role.STAFF, email="pat@example-council.gov.uk", name="Pat Staff")


def told(user):
    return db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == NotificationKind.MENTION)
    ).all()


def test_a_comment_on_an_item_is_safe_markdown_and_tells_whom_it_mentions(app, client, login, jane, pat):
    item = make_item("Carers survey")
    me = login(Role.QUALITY_LEAD)
    body = "**Check** the year with @Jane.Smith and @pat <script>alert(1)</script> [x](javascript:alert(1)) @nobody"
    response = client.post(f"/evidence/{item.id}/comments", data={"body": body}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>Check</strong>" in page and "<script>alert(1)</script>" not in page
    assert 'href="javascript:' not in page
    assert "Comment added. Told Jane Smith." in page
    assert "Pat Staff cannot see this conversation, so was not told." in page  # staff see only their own items
    [comment] = db.session.scalars(select(Comment)).all()
    assert comment.author_id == me.id and comment.item_id == item.id
    [note] = told(jane)
    assert note.title == f"{me.name} mentioned you on {item.reference}"
    assert note.target == f"item:{item.id}#comment-{comment.id}"
    assert "Nobody here is @nobody" in page
    assert history("comment", comment.id)[0].action == "comment"


def test_someone_who_cannot_see_the_item_is_not_told(client, login, pat):
    item = make_item("Waiting", status=Status.SUBMITTED)
    login(Role.QUALITY_LEAD)
    page = client.post(f"/evidence/{item.id}/comments", data={"body": "@pat look"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Pat Staff cannot see this conversation, so was not told." in page
    assert told(pat) == []


def test_only_those_who_can_see_the_item_see_or_join_its_conversation(app, client, login, pat, jane):
    own = make_item("Pat's submission", status=Status.SUBMITTED, owner_id=pat.id, submitted_by_id=pat.id)
    other = make_item("Someone else's", status=Status.SUBMITTED)
    sign_in(client, pat)
    assert client.post(f"/evidence/{other.id}/comments", data={"body": "hello"}).status_code == 404
    response = client.post(f"/evidence/{own.id}/comments", data={"body": "Which year, @jane.smith?"})
    assert response.status_code == 302 and response.location.endswith("#comment-1")
    assert len(told(jane)) == 1
    assert "Which year" in client.get(f"/evidence/{own.id}").get_data(as_text=True)


def test_replies_join_the_thread_which_can_be_resolved_and_reopened(client, login):
    item = make_item("Carers survey")
    login(Role.QUALITY_LEAD)
    client.post(f"/evidence/{item.id}/comments", data={"body": "First"})
    first = db.session.scalar(select(Comment))
    client.post(f"/evidence/{item.id}/comments", data={"body": "A reply", "reply_to": first.id})
    reply = db.session.scalars(select(Comment).order_by(Comment.id)).all()[1]
    # A reply to a reply joins the same thread.
    client.post(f"/evidence/{item.id}/comments", data={"body": "And another", "reply_to": reply.id})
    assert {c.thread_id for c in db.session.scalars(select(Comment).where(Comment.id != first.id))} == {first.id}

    assert client.post(f"/evidence/{item.id}/comments/{reply.id}/resolve").status_code == 302
    db.session.refresh(first)
    assert first.resolved_at is not None
    assert "Resolved by" in client.get(f"/evidence/{item.id}").get_data(as_text=True)
    client.post(f"/evidence/{item.id}/comments/{first.id}/resolve")
    db.session.refresh(first)
    assert first.resolved_at is None
    assert [e.action for e in history("comment", first.id)][:2] == ["reopen", "resolve"]


@pytest.mark.parametrize(
    "data",
    [
        {"body": ""},
        {"body": "   "},
        {"body": "x" * 10_001},
        {"body": "ok", "reply_to": "99999"},
        {"body": "ok", "reply_to": "9" * 40},
        {"body": "ok", "reply_to": "abc"},
    ],
)
def test_a_bad_comment_is_refused_and_changes_nothing(client, login, data):
    item = make_item("Carers survey")
    other = make_item("Another")
    login(Role.QUALITY_LEAD)
    client.post(f"/evidence/{other.id}/comments", data={"body": "elsewhere"})
    count = len(db.session.scalars(select(Comment)).all())
    response = client.post(f"/evidence/{item.id}/comments", data=data)
    assert response.status_code == 422
    assert "Comment" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Comment)).all()) == count
    # A reply may not join another item's conversation.
    elsewhere = db.session.scalar(select(Comment).where(Comment.item_id == other.id))
    assert client.post(f"/evidence/{item.id}/comments", data={"body": "x", "reply_to": elsewhere.id}).status_code == 422


def test_a_statements_conversation_is_for_the_councils_readers_and_freezes_at_sign_off(
    app, client, login, jane, make_user
):
    round_ = make_round("Winter 2026 self-assessment")
    url = f"/statements/safeguarding/comments/{round_.id}"
    staff = make_user(Role.STAFF)
    sign_in(staff_client := app.test_client(), staff)
    assert staff_client.post(url, data={"body": "hi"}).status_code == 403

    login(Role.MANAGER)
    response = client.post(url, data={"body": "Is 3 right, @jane.smith? See [E-1]."})
    assert response.status_code == 302 and "#comment-" in response.location
    [note] = told(jane)
    assert note.target.startswith(f"statement:{round_.id}:safeguarding#comment-")
    page = client.get("/statements/safeguarding").get_data(as_text=True)
    assert "Is 3 right" in page and 'href="/evidence/1"' in page

    sign_off(round_, make_user(Role.MANAGER), confirmed=True)
    assert [c["body"] for c in round_.snapshot["comments"]] == ["Is 3 right, @jane.smith? See [E-1]."]
    refused = client.post(url, data={"body": "Too late"}, follow_redirects=True)
    assert "was signed off" in refused.get_data(as_text=True)
    assert len(db.session.scalars(select(Comment)).all()) == 1
    # The signed-off page shows the conversation from the snapshot, even if the row were later changed.
    row = db.session.scalar(select(Comment))
    row.body = "Rewritten afterwards"
    db.session.commit()
    page = client.get(f"/statements/safeguarding?round={round_.id}").get_data(as_text=True)
    assert "Is 3 right" in page and "Rewritten afterwards" not in page
    assert "as it stood when the round was signed off" in page
    resolve = client.post(f"/statements/safeguarding/comments/{round_.id}/{row.id}/resolve", follow_redirects=True)
    assert "was signed off" in resolve.get_data(as_text=True)


def test_a_mention_reaches_the_person_by_email(runner, smtp, client, login, jane):
    item = make_item("Carers survey")
    login(Role.QUALITY_LEAD)
    client.post(f"/evidence/{item.id}/comments", data={"body": "Over to you, @jane.smith"})
    runner.invoke(args=["notify"])
    [mail_] = smtp.to(jane.email)
    assert mail_.subject == "Assure: you were mentioned in a comment"
    assert f"{PORTAL_URL}/evidence/{item.id}#comment-" in mail_.part("plain")
    assert "Over to you" in mail_.part("plain")
