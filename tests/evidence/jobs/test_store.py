"""A job's states as its runs and its page move it on."""

from __future__ import annotations

from evidence.db import db
from evidence.jobs import store
from evidence.vocab import Role


def test_a_run_given_up_for_dead_that_finishes_after_all_is_done(app, make_user):
    # On SQLite a long import write holds the lock its heartbeat needs, so its page may give it up meanwhile.
    job = store.create("import", make_user(Role.QUALITY_LEAD), {}, "Import of register.xlsx")
    attempt = store.claim(job.id)
    db.session.refresh(job)
    assert store.give_up(job) and job.state == store.FAILED
    assert store.finish(job.id, attempt, store.Outcome("44,875 rows updated."))
    db.session.refresh(job)
    assert (job.state, job.message, job.error) == (store.DONE, "44,875 rows updated.", None)


def test_a_run_given_up_and_queued_again_leaves_its_successor_alone(app, make_user):
    job = store.create("import", make_user(Role.QUALITY_LEAD), {}, "Import of register.xlsx")
    first = store.claim(job.id)
    db.session.refresh(job)
    assert store.give_up(job) and store.requeue(job)
    assert not store.finish(job.id, first, store.Outcome("Imported by the run given up."))
    second = store.claim(job.id)
    assert second == first + 1 and not store.finish(job.id, first, store.Outcome("Still the first."))
    db.session.refresh(job)
    assert job.state == store.RUNNING
    assert store.finish(job.id, second, store.Outcome("Imported."))
    db.session.refresh(job)
    assert (job.state, job.message) == (store.DONE, "Imported.")


def test_a_run_that_failed_for_a_reason_of_its_own_stays_failed(app, make_user):
    job = store.create("import", make_user(Role.QUALITY_LEAD), {}, "Import of register.xlsx")
    attempt = store.claim(job.id)
    assert store.fail(job.id, attempt, "The file was not imported: row 3 has no reference.")
    assert not store.finish(job.id, attempt, store.Outcome("Imported."))
