"""A job's row through its life: queued → running → done or failed, and back to queued on a retry.

Everything a running job writes (its claim, progress, heartbeat, result) goes through a connection of its own
in a short transaction, never through ``db.session``: the import a job runs keeps its rows in the session until
its one commit, and the progress must reach other servers before that.

Every write a run makes names the attempt it belongs to, so a run that was given up for dead (and retried)
can change nothing of the new attempt's row, and stops at its next report.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from evidence.db import db
from evidence.models import Job, User, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ACTIVE = (QUEUED, RUNNING)
FILE_KINDS = {"export"}  # the kinds whose result is a file

LOST = (
    "The server working on this stopped before it finished (it may have been restarted). "
    "Nothing of it was kept: retry to run it again from the start."
)

_jobs = Job.__table__


class Superseded(RuntimeError):
    """This run's attempt is no longer the job's current one (it was given up for dead, or retried)."""


@dataclass(frozen=True)
class Outcome:
    """What a job's work hands back: a file (relative to the upload folder) and what to call it, and a message."""

    message: str
    path: str | None = None
    name: str | None = None
    content_type: str | None = None


def create(kind: str, user: User, params: dict, title: str) -> Job:
    """A queued job owned by ``user`` (committed). Its id is 192 random bits."""
    job = Job(
        id=secrets.token_urlsafe(24),
        kind=kind,
        user_id=user.id,
        params=params,
        title=title[:300],
        state=QUEUED,
        stage="Waiting to start",
        heartbeat_at=utcnow(),
    )
    db.session.add(job)
    db.session.commit()
    return job


def find(job_id: str) -> Job | None:
    if not isinstance(job_id, str) or not 0 < len(job_id) <= 32:
        return None
    return db.session.get(Job, job_id, populate_existing=True)


def _write(condition, **values) -> int:
    with db.engine.begin() as connection:
        return connection.execute(update(_jobs).where(condition).values(**values)).rowcount


def _current(job_id: str, attempt: int):
    return (_jobs.c.id == job_id) & (_jobs.c.attempts == attempt) & (_jobs.c.state == RUNNING)


def _finishing(job_id: str, attempt: int):
    # Running, or given up for dead though it was not and not queued again since: on SQLite a long write
    # holds the lock its heartbeat needs. What it did is kept, so it is done.
    given_up = (_jobs.c.state == FAILED) & (_jobs.c.error == LOST)
    return (_jobs.c.id == job_id) & (_jobs.c.attempts == attempt) & ((_jobs.c.state == RUNNING) | given_up)


def claim(job_id: str) -> int | None:
    """Start a queued job; the attempt number, or None when it is not waiting (another run took it, or it was
    given up). One statement, so two workers handed the same job cannot both run it."""
    now = utcnow()
    with db.engine.begin() as connection:
        taken = connection.execute(
            update(_jobs)
            .where((_jobs.c.id == job_id) & (_jobs.c.state == QUEUED))
            .values(
                state=RUNNING,
                attempts=_jobs.c.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                progress_done=0,
                progress_total=None,
                stage="Starting",
            )
        ).rowcount
        if not taken:
            return None
        return connection.execute(select(_jobs.c.attempts).where(_jobs.c.id == job_id)).scalar_one()


def progress(job_id: str, attempt: int, done: int, total: int | None, stage: str) -> None:
    if not _write(
        _current(job_id, attempt), progress_done=done, progress_total=total, stage=stage[:200], heartbeat_at=utcnow()
    ):
        raise Superseded(job_id)


def finish(job_id: str, attempt: int, outcome: Outcome) -> bool:
    return bool(
        _write(
            _finishing(job_id, attempt),
            state=DONE,
            finished_at=utcnow(),
            stage="Done",
            progress_done=func.coalesce(_jobs.c.progress_total, _jobs.c.progress_done),
            message=outcome.message,
            result_path=outcome.path,
            result_name=outcome.name,
            result_type=outcome.content_type,
            error=None,
        )
    )


def fail(job_id: str, attempt: int, error: str) -> bool:
    return bool(_write(_current(job_id, attempt), state=FAILED, finished_at=utcnow(), stage="Failed", error=error))


def beat(job_ids: list[str]) -> None:
    """The heartbeat of the jobs this process holds, queued or running."""
    if job_ids:
        _write(_jobs.c.id.in_(job_ids) & _jobs.c.state.in_(ACTIVE), heartbeat_at=utcnow())


def is_stale(job: Job, stale_after: timedelta, now: datetime | None = None) -> bool:
    """Waiting or running, and nobody has beaten its heart for ``stale_after``: whoever held it has died."""
    last = job.heartbeat_at or job.started_at or job.created_at
    return job.state in ACTIVE and last < (now or utcnow()) - stale_after


def give_up(job: Job, error: str = LOST) -> bool:
    """Show a job whose worker died (or that could not be queued) as failed, unless it moved on meanwhile;
    it can then be retried."""
    changed = _write(
        (_jobs.c.id == job.id) & (_jobs.c.state == job.state) & (_jobs.c.attempts == job.attempts),
        state=FAILED,
        finished_at=utcnow(),
        stage="Failed",
        error=error,
    )
    db.session.refresh(job)
    return bool(changed)


def can_retry(job: Job) -> bool:
    """A failed job, or a finished one whose file has been cleared away, can be run again."""
    return job.state == FAILED or (job.state == DONE and job.kind in FILE_KINDS and not job.result_path)


def requeue(job: Job) -> bool:
    """Back to the queue, from scratch: no progress, no result, no error."""
    if not can_retry(job):
        return False
    changed = _write(
        (_jobs.c.id == job.id) & (_jobs.c.state == job.state) & (_jobs.c.attempts == job.attempts),
        state=QUEUED,
        stage="Waiting to start",
        progress_done=0,
        progress_total=None,
        started_at=None,
        finished_at=None,
        heartbeat_at=utcnow(),
        error=None,
        message=None,
        result_path=None,
        result_name=None,
        result_type=None,
    )
    db.session.refresh(job)
    return bool(changed)
