"""Notifications in the portal and by email: every event reaches the person's list and, with SMTP set up,
a real SMTP server on 127.0.0.1 (subject, recipient, link); each person's choices hold; `flask notify`
twice sends once; a refused send is sent on the next run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.library import items
from evidence.models import MailOutbox, Notification, today, utcnow
from evidence.together import notifications
from evidence.together.outbox import WITHHELD
from evidence.vocab import Channel, Kind, NotificationKind, Role, Status
from portal.extensions import mail
from tests.conftest import PORTAL_URL, sign_in
from tests.factories import make_action, make_item, make_round


@pytest.fixture
def staff(make_user):
    return make_user(Role.STAFF, email="pat.submitter@example-council.gov.uk", name="Pat Submitter")


@pytest.fixture
def lead(make_user):
    return make_user(Role.QUALITY_LEAD, email="lee.lead@example-council.gov.uk", name="Lee Lead")


def submitted(staff, title="Carers feel listened to", **fields):
    return make_item(
        title,
        status=Status.SUBMITTED,
        owner_id=staff.id,
        submitted_by_id=staff.id,
        survey_name="SACE",
        result_percent=61.0,
        **fields,
    )


def notify(runner, *args):
    result = runner.invoke(args=["notify", *args])
    db.session.expire_all()
    return result


def mine(user, kind=None):
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query.order_by(Notification.id)).all()


def test_a_returned_submission_reaches_the_submitter_in_the_portal_and_in_one_email(
    app, client, runner, smtp, staff, lead
):
    item = submitted(staff)
    sign_in(client, lead)
    assert (
        client.post(f"/review/{item.id}/return", data={"reason": "Say which survey year this is."}).status_code == 302
    )

    [note] = mine(staff, NotificationKind.SUBMISSION_REVIEWED)
    assert note.title == f"{item.reference} returned to you"
    assert "Say which survey year this is." in note.body and "Lee Lead" in note.body

    result = notify(runner)
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed" in result.output
    [mail_] = smtp.to(staff.email)
    assert mail_.to == staff.email
    assert mail_.subject == "Assure: your submission was reviewed"
    link = f"{PORTAL_URL}/my-submissions/{item.id}/edit"
    assert link in mail_.part("plain") and "Say which survey year this is." in mail_.part("plain")
    assert f'href="{link}"' in mail_.part("html")
    assert str(mail_.message["Message-ID"]).strip().startswith("<assure.")
    assert mail_.message["From"] == "Assure <assure@example-council.gov.uk>"

    # Again the same day: the digest is made once and sent once.
    assert "0 sent" in notify(runner).output
    assert len(smtp.received) == 1
    assert db.session.scalar(select(func.count(MailOutbox.id))) == 1

    # The submitter sees it in the portal, with the bell's count, until they open it.
    sign_in(submitter := app.test_client(), staff)
    page = submitter.get("/notifications").get_data(as_text=True)
    assert f"{item.reference} returned to you" in page and "1 unread" in page
    assert 'class="bell__count" aria-label="1 unread"' in submitter.get("/my-submissions").get_data(as_text=True)
    opened = submitter.get(f"/notifications/{note.id}")
    assert opened.status_code == 302 and opened.location.endswith(f"/my-submissions/{item.id}/edit")
    db.session.refresh(note)
    assert note.read_at is not None
    assert "bell__count" not in submitter.get("/my-submissions").get_data(as_text=True)


def test_an_accepted_submission_is_told_and_the_reviewer_is_not_told_of_their_own(client, runner, smtp, staff, lead):
    item = submitted(staff)
    items.accept_item(item, user=lead)
    [note] = mine(staff, NotificationKind.SUBMISSION_REVIEWED)
    assert note.title == f"{item.reference} accepted" and note.target == f"item:{item.id}"
    own = items.create_item(
        Kind.SURVEY, {"title": "Lead's own", "source": "S", "survey_name": "S", "result_percent": 5}, user=lead
    )
    items.accept_item(own, user=lead)
    assert mine(lead, NotificationKind.SUBMISSION_REVIEWED) == []
    notify(runner)
    [mail_] = smtp.to(staff.email)
    assert f"{PORTAL_URL}/evidence/{item.id}" in mail_.part("plain")


def test_new_submissions_reach_the_quality_leads_as_one_daily_digest(runner, smtp, staff, lead, make_user):
    other_lead = make_user(Role.QUALITY_LEAD)
    manager = make_user(Role.MANAGER)
    admin = make_user(Role.ADMIN)
    fields = {"source": "SACE", "survey_name": "SACE", "result_percent": 61}
    first = items.create_item(Kind.SURVEY, {"title": "Carers survey", **fields}, user=staff)
    second = items.create_item(Kind.SURVEY, {"title": "Staff survey", **fields}, user=staff)
    for person in (lead, other_lead):
        titles = [n.title for n in mine(person, NotificationKind.SUBMISSIONS_WAITING)]
        assert titles == [
            f"{first.reference} submitted: waiting for review",
            f"{second.reference} submitted: waiting for review",
        ]
    assert mine(manager) == [] and mine(admin) == [] and mine(staff) == []

    notify(runner)
    [digest] = smtp.to(lead.email)
    assert digest.subject == "Assure: 2 new submissions are waiting for review"
    text = digest.part("plain")
    assert f"{PORTAL_URL}/review/{first.id}" in text and f"{PORTAL_URL}/review/{second.id}" in text
    assert len(smtp.to(other_lead.email)) == 1 and len(smtp.received) == 2

    # A returned item corrected and sent back is waiting again.
    items.return_item(first, user=lead, reason="Add the year")
    items.resubmit(first, {"title": "Carers survey 2026"}, user=staff)
    assert mine(lead, NotificationKind.SUBMISSIONS_WAITING)[-1].title == (
        f"{first.reference} corrected and resubmitted: waiting for review"
    )


def test_evidence_coming_due_and_gone_stale_reaches_its_owner_once(runner, smtp, staff, make_user):
    due = make_item("Due soon", owner_id=staff.id, review_by=today() + timedelta(days=20))
    stale = make_item("Gone stale", owner_id=staff.id, review_by=today() - timedelta(days=3))
    make_item("Not yet", owner_id=staff.id, review_by=today() + timedelta(days=60))
    make_item("Waiting, not accepted", status=Status.SUBMITTED, owner_id=staff.id, review_by=today())

    result = notify(runner)
    assert "2 about evidence" in result.output
    titles = [n.title for n in mine(staff, NotificationKind.EVIDENCE_REVIEW)]
    assert titles == [
        f"{due.reference} is due for review by {due.review_by:%-d %b %Y}",
        f"{stale.reference} is stale: it was due for review on {stale.review_by:%-d %b %Y}",
    ]
    [digest] = smtp.to(staff.email)
    assert digest.subject == "Assure: 2 items of evidence you own are due for review or stale"
    assert f"{PORTAL_URL}/evidence/{due.id}" in digest.part("plain")

    # The next day: nothing new to tell. Once the due item passes its date it is told again, as stale.
    assert "0 about evidence" in notify(runner, "--date", (today() + timedelta(days=1)).isoformat()).output
    later = today() + timedelta(days=21)
    assert "1 about evidence" in notify(runner, "--date", later.isoformat()).output
    assert mine(staff, NotificationKind.EVIDENCE_REVIEW)[-1].title.startswith(f"{due.reference} is stale")
    assert len(smtp.to(staff.email)) == 2


def test_an_action_falling_due_reaches_its_owner_when_the_owner_is_a_user(runner, smtp, staff, make_user):
    named = make_user(Role.QUALITY_LEAD, name="Sam Owner")
    make_action("safeguarding", "Audit safeguarding referrals", owner=staff.email, due_date=today() + timedelta(days=5))
    make_action("safeguarding", "Refresh the training", owner="sam owner", due_date=today() - timedelta(days=1))
    make_action("safeguarding", "Team action", owner="Head of Transitions", due_date=today())
    make_action("safeguarding", "Later", owner=staff.email, due_date=today() + timedelta(days=30))
    make_action("safeguarding", "Finished", owner=staff.email, due_date=today(), status="done")

    result = notify(runner)
    assert "2 about actions" in result.output
    [due] = mine(staff, NotificationKind.ACTION_DUE)
    assert due.title.startswith("Action due on") and due.body == "Audit safeguarding referrals"
    [overdue] = mine(named, NotificationKind.ACTION_DUE)
    assert overdue.title.startswith("Action overdue since")
    [digest] = smtp.to(staff.email)
    assert digest.subject == "Assure: an improvement action you own is due"
    assert f"{PORTAL_URL}/statements/safeguarding#actions" in digest.part("plain")
    assert len(smtp.received) == 2
    assert "0 about actions" in notify(runner).output


def test_a_round_signed_off_reaches_the_managers_and_leads(runner, smtp, staff, lead, make_user):
    manager = make_user(Role.MANAGER)
    other_manager = make_user(Role.MANAGER)
    round_ = make_round("Winter 2026 self-assessment")
    sign_off(round_, manager, confirmed=True)
    assert [n.title for n in mine(lead)] == ["“Winter 2026 self-assessment” signed off"]
    assert len(mine(other_manager)) == 1
    assert mine(manager) == [] and mine(staff) == []
    notify(runner)
    [digest] = smtp.to(lead.email)
    assert digest.subject == "Assure: a round was signed off"
    assert f"{PORTAL_URL}/rounds/{round_.id}" in digest.part("plain")


def test_each_persons_choices_are_respected(client, runner, smtp, staff, lead):
    sign_in(client, staff)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Your submissions accepted or returned" in page
    assert "New submissions waiting for review" not in page  # not sent to staff
    data = {kind: Channel.EMAIL.value for kind in notifications.preferences(staff)}
    bad = client.post("/notifications/settings", data={**data, "submission_reviewed": "pigeon"})
    assert bad.status_code == 422
    assert notifications.preferences(staff)["submission_reviewed"] == Channel.EMAIL

    data["submission_reviewed"] = Channel.OFF.value
    data["evidence_review"] = Channel.APP.value
    assert client.post("/notifications/settings", data=data).status_code == 302
    items.return_item(submitted(staff), user=lead, reason="Needs a date")
    assert mine(staff, NotificationKind.SUBMISSION_REVIEWED) == []  # off: not even in the portal

    make_item("Gone stale", owner_id=staff.id, review_by=today() - timedelta(days=1))
    notify(runner)
    assert len(mine(staff, NotificationKind.EVIDENCE_REVIEW)) == 1  # in the portal only
    assert smtp.to(staff.email) == []

    # Chosen by email when it happened, then changed to the portal only before the digest went: no email.
    data["submission_reviewed"] = Channel.EMAIL.value
    client.post("/notifications/settings", data=data)
    items.return_item(submitted(staff, title="Second"), user=lead, reason="Needs a source")
    data["submission_reviewed"] = Channel.APP.value
    client.post("/notifications/settings", data=data)
    notify(runner)
    assert smtp.to(staff.email) == []
    assert len(mine(staff, NotificationKind.SUBMISSION_REVIEWED)) == 1


def test_a_refused_send_is_sent_on_the_next_run_and_only_once(runner, smtp, staff, lead):
    items.return_item(submitted(staff), user=lead, reason="Needs a date")
    smtp.refuse = True
    result = notify(runner)
    assert result.exit_code == 1
    assert "0 sent, 1 failed" in result.output and "tried again next run" in result.output
    [row] = db.session.scalars(select(MailOutbox)).all()
    assert row.sent_at is None and row.attempts == 1 and "451" in row.last_error
    assert smtp.received == []

    smtp.refuse = False
    result = notify(runner)
    assert result.exit_code == 0 and "1 sent, 0 failed" in result.output
    assert len(smtp.to(staff.email)) == 1
    db.session.refresh(row)
    assert row.sent_at is not None and row.attempts == 2 and row.last_error is None
    notify(runner)
    assert len(smtp.received) == 1


def test_a_run_killed_mid_send_leaves_its_claim_which_another_run_honours_until_it_is_old(runner, smtp, staff, lead):
    items.return_item(submitted(staff), user=lead, reason="Needs a date")
    smtp.refuse = True
    notify(runner)  # makes the row; the refusal leaves it unsent
    smtp.refuse = False
    [row] = db.session.scalars(select(MailOutbox)).all()
    # As a run killed between the server's acceptance and its commit leaves it: claimed, not sent.
    row.claimed_at = utcnow()
    db.session.commit()
    notify(runner)
    assert smtp.received == []  # another run may be sending it right now
    row.claimed_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    notify(runner)
    [mail_] = smtp.received
    assert str(mail_.message["Message-ID"]).strip() == row.message_id  # the same message, recognisable as such


def test_text_the_personal_data_guard_flags_stays_out_of_email(runner, smtp, staff, lead):
    item = submitted(staff, title="Feedback from Mrs Jane Smith")
    items.return_item(item, user=lead, reason="Remove her NHS number 943 476 5919 and jane@example.com")
    [note] = mine(staff)
    assert "943 476 5919" in note.body  # the portal, behind sign-in, shows it
    notify(runner)
    [mail_] = smtp.to(staff.email)
    for part in (mail_.part("plain"), mail_.part("html")):
        assert "943 476 5919" not in part and "jane@example.com" not in part and "Jane Smith" not in part
        assert WITHHELD in part
    assert f"{PORTAL_URL}/my-submissions/{item.id}/edit" in mail_.part("plain")


def test_user_text_in_email_is_escaped_in_the_html_part(runner, smtp, staff, lead):
    items.return_item(submitted(staff, title='<script>alert("x")</script>'), user=lead, reason="<b>bold</b> & more")
    notify(runner)
    [mail_] = smtp.to(staff.email)
    html = mail_.part("html")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert "<b>bold</b> & more" in mail_.part("plain")


def test_without_a_mail_server_nothing_is_sent_and_the_admin_page_says_so(app, client, runner, staff, lead, login):
    app.config["MAIL_SERVER"] = None
    mail.init_app(app)
    items.return_item(submitted(staff), user=lead, reason="Needs a date")
    result = notify(runner)
    assert result.exit_code == 0 and "Email is off (MAIL_SERVER is not set)" in result.output
    assert db.session.scalar(select(func.count(MailOutbox.id))) == 0
    assert len(mine(staff)) == 1  # in the portal all the same
    login(Role.ADMIN)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Email is off: MAIL_SERVER is not set" in page


def test_the_admin_page_shows_the_mail_server_and_what_failed(client, runner, smtp, staff, lead, login):
    items.return_item(submitted(staff), user=lead, reason="Needs a date")
    smtp.refuse = True
    notify(runner)
    login(Role.ADMIN)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "127.0.0.1:" in page and "1 waiting to be sent, of which 1 failed last time" in page


def test_the_list_is_each_persons_own_and_can_be_marked_read(app, client, staff, lead, make_user):
    items.return_item(submitted(staff), user=lead, reason="Needs a date")
    items.return_item(submitted(staff, title="Another"), user=lead, reason="Needs a source")
    other = make_user(Role.STAFF)
    sign_in(client, other)
    [note, _] = mine(staff)
    assert client.get(f"/notifications/{note.id}").status_code == 404
    assert "Nothing yet" in client.get("/notifications").get_data(as_text=True)

    sign_in(owner := app.test_client(), staff)
    assert "2 unread" in owner.get("/notifications").get_data(as_text=True)
    assert owner.post("/notifications/read").status_code == 302
    assert notifications.unread_count(staff) == 0
    assert owner.get("/notifications?page=99999999999").status_code == 200


def test_notify_refuses_a_date_it_cannot_use(runner):
    for bad in ("yesterday", "9999-01-01", "2026-02-30"):
        result = runner.invoke(args=["notify", "--date", bad])
        assert result.exit_code == 2 and "--date" in result.output
