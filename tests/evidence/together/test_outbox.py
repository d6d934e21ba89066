"""The outbox on its own: a digest per person, kind and day made once; claims that keep two runs (or a run
and a dead one) from sending one email twice; failures kept and retried; old news left to the portal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from evidence.db import db
from evidence.models import MailOutbox, Notification, today, utcnow
from evidence.together import outbox
from evidence.together.notifications import notify
from evidence.vocab import Channel, NotificationKind, Role


def render(digest):
    return "\n".join(e.body or e.title for e in digest.entries), "<p>html</p>"


@pytest.fixture
def pat(make_user):
    return make_user(Role.STAFF, email="pat@example-council.gov.uk", name="Pat")


def tell(user, title="E-1 returned to you", body="Needs a date", kind=NotificationKind.SUBMISSION_REVIEWED):
    notify([user], kind, title, body, target="submission:1")
    db.session.commit()


def rows():
    return db.session.scalars(select(MailOutbox).order_by(MailOutbox.id)).all()


def test_a_digest_is_made_once_per_person_kind_and_day(pat):
    tell(pat)
    tell(pat, "E-2 returned to you")
    tell(pat, "E-3 is stale", kind=NotificationKind.EVIDENCE_REVIEW)
    assert outbox.queue_digests(today(), render) == 2
    assert outbox.queue_digests(today(), render) == 0
    by_kind = {r.kind: r for r in rows()}
    assert by_kind["submission_reviewed"].subject == "Assure: 2 of your submissions were reviewed"
    assert by_kind["submission_reviewed"].text_body == "Needs a date\nNeeds a date"
    # News after the day's digest waits for the next day's, rather than going out twice in a day.
    tell(pat, "E-4 returned to you")
    assert outbox.queue_digests(today(), render) == 0
    assert outbox.queue_digests(today() + timedelta(days=1), render) == 1
    carried = [
        len(db.session.scalars(select(Notification).where(Notification.outbox_id == r.id)).all()) for r in rows()
    ]
    assert [(r.kind, r.day) for r in rows()][-1] == ("submission_reviewed", today() + timedelta(days=1))
    assert carried == [1, 2, 1]


def test_sending_claims_each_row_and_a_live_claim_is_left_alone(pat):
    tell(pat)
    outbox.queue_digests(today(), render)
    [row] = rows()
    row.claimed_at = utcnow() - timedelta(minutes=1)  # another run is sending it now
    db.session.commit()
    sent = []
    assert outbox.send_pending(sent.append).sent == 0 and sent == []
    row.claimed_at = utcnow() - outbox.CLAIM_TIMEOUT - timedelta(seconds=1)  # that run died
    db.session.commit()
    assert outbox.send_pending(lambda r: sent.append(r.message_id)).sent == 1
    assert sent == [row.message_id]
    assert outbox.send_pending(sent.append).sent == 0  # sent: never again


def test_a_failure_is_kept_and_tried_again_until_it_goes_or_too_many_tries(pat):
    tell(pat)
    outbox.queue_digests(today(), render)

    def refuse(row):
        raise ConnectionRefusedError("no server on port 25")

    result = outbox.send_pending(refuse)
    assert (result.sent, result.failed) == (0, 1) and "ConnectionRefusedError" in result.errors[0]
    [row] = rows()
    assert row.claimed_at is None and row.attempts == 1 and "no server" in row.last_error
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        outbox.send_pending(refuse)
    db.session.refresh(row)
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert outbox.send_pending(lambda r: None).sent == 0  # no longer tried…
    assert outbox.status().given_up == [row]  # …and the admin page lists it


def test_news_older_than_a_week_is_left_to_the_portal(pat):
    tell(pat)
    note = db.session.scalar(select(Notification))
    note.created_at = utcnow() - timedelta(days=outbox.PENDING_DAYS + 1)
    db.session.commit()
    assert outbox.queue_digests(today(), render) == 0
    db.session.refresh(note)
    assert note.channel == Channel.APP and note.outbox_id is None


def test_what_the_guard_flags_never_reaches_a_digest(pat):
    tell(pat, body="Call her on 07700 900123 about it")
    tell(pat, title="Mrs Jane Smith's feedback", body="Fine")
    outbox.queue_digests(today(), render)
    digest_text = rows()[0].text_body
    assert "07700 900123" not in digest_text and "Jane Smith" not in digest_text
    notes = list(db.session.scalars(select(Notification).order_by(Notification.id)))
    [first, second] = outbox.digest_for(pat, "submission_reviewed", today(), notes).entries
    assert first.withheld and first.body == ""
    assert second.withheld and second.title == "Your submissions accepted or returned: details in the portal"
