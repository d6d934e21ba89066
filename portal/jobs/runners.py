"""Where jobs run: RQ workers on Redis (``flask jobs worker``), or a small thread pool in each portal process.

Both call the same ``evidence.jobs.work.run``; the job's row in the database holds its state and progress,
so any server, and any worker process, shows the same bar.
"""

from __future__ import annotations

import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import Flask, current_app, redirect, url_for
from sqlalchemy.exc import SQLAlchemyError

from evidence.db import db
from evidence.jobs import files, store, work
from evidence.models import Job, User
from portal.jobs.heartbeat import heart

log = logging.getLogger(__name__)

RQ_TIMEOUT_SECONDS = 3600  # the longest a job may run in an RQ worker before RQ stops it
RQ_KEEP_SECONDS = 24 * 3600  # how long RQ keeps a finished job's record (ours is the jobs row)
UNQUEUED = "The job could not be queued: the job queue (Redis) did not answer. Nothing was done; retry in a moment."


class Runner:
    def __init__(self, app: Flask):
        self.app = app
        self.stale_after = timedelta(seconds=app.config["JOBS_STALE_SECONDS"])

    def submit(self, job: Job) -> None:
        raise NotImplementedError

    def lost(self, job: Job) -> bool:
        """Has whoever held this waiting or running job died?"""
        return store.is_stale(job, self.stale_after)


class InlineRunner(Runner):
    """Runs the job at once, inside the request that started it (tests that are not about jobs)."""

    def submit(self, job: Job) -> None:
        run(self.app, job.id)


class ThreadRunner(Runner):
    """A bounded pool of threads in this process, created on the first job.

    Safe under gunicorn's worker processes: the pool is created lazily, inside the worker that took the
    request and after gunicorn forked it, so no process inherits threads it cannot run; every job's state is
    in the database, so a page served by any other worker shows it; and the process beats the heart of the
    jobs it holds, so when gunicorn restarts or times out a worker its jobs are seen to have stopped and can
    be retried. Jobs wait in the pool in memory: with several servers, or to survive restarts, use RQ.
    """

    def __init__(self, app: Flask):
        super().__init__(app)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.app.config["JOBS_THREADS"], thread_name_prefix="job")
            return self._pool

    def submit(self, job: Job) -> None:
        heart.hold(self.app, job.id)  # waiting counts as alive while this process is
        self._executor().submit(self._run, job.id)

    def _run(self, job_id: str) -> None:
        try:
            with self.app.app_context():
                run(self.app, job_id)
        except Exception:
            log.exception("job %s could not be run", job_id)
        finally:
            heart.release(job_id)


class RqRunner(Runner):
    """RQ on ``REDIS_URL``, in the queue ``JOBS_QUEUE``; ``flask jobs worker`` runs the workers."""

    def __init__(self, app: Flask):
        super().__init__(app)
        self._queue = None

    def queue(self):
        if self._queue is None:
            from redis import Redis
            from rq import Queue

            self._queue = Queue(self.app.config["JOBS_QUEUE"], connection=Redis.from_url(self.app.config["REDIS_URL"]))
        return self._queue

    @staticmethod
    def rq_id(job: Job) -> str:
        return f"{job.id}-{job.attempts}"  # a new RQ job for each attempt

    def submit(self, job: Job) -> None:
        from redis.exceptions import RedisError

        try:
            self.queue().enqueue(
                run_queued,
                job.id,
                job_id=self.rq_id(job),
                job_timeout=RQ_TIMEOUT_SECONDS,
                result_ttl=RQ_KEEP_SECONDS,
                failure_ttl=RQ_KEEP_SECONDS,
            )
        except RedisError:
            log.exception("job %s could not be queued", job.id)
            store.give_up(job, UNQUEUED)

    def lost(self, job: Job) -> bool:
        if job.state != store.QUEUED:
            return super().lost(job)
        # A waiting job has no heartbeat (no process holds it); it is lost when RQ no longer has it waiting.
        from redis.exceptions import RedisError
        from rq.exceptions import NoSuchJobError
        from rq.job import Job as RqJob
        from rq.job import JobStatus

        try:
            status = RqJob.fetch(self.rq_id(job), connection=self.queue().connection).get_status()
        except NoSuchJobError:
            return True
        except RedisError:
            return False  # cannot tell; the page says it is waiting
        return status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def run(app: Flask, job_id: str) -> str | None:
    """The job's work, with this process's heartbeat for it while it runs."""
    return work.run(job_id, app.config["UPLOAD_DIR"], alive=functools.partial(heart.holding, app))


def run_queued(job_id: str) -> None:
    """What an RQ worker runs (inside the app context ``flask jobs worker`` holds)."""
    try:
        run(current_app._get_current_object(), job_id)
    finally:
        db.session.remove()


RUNNERS = {"rq": RqRunner, "threads": ThreadRunner, "inline": InlineRunner}


def init_app(app: Flask) -> None:
    app.extensions["jobs"] = RUNNERS[app.config["JOBS_RUNNER"]](app)


def runner() -> Runner:
    return current_app.extensions["jobs"]


def start(kind: str, user: User, params: dict, title: str):
    """Queue a job for the person, clear away old job files, and answer with the job's page."""
    files.sweep(current_app.config["UPLOAD_DIR"])
    job = store.create(kind, user, params, title)
    runner().submit(job)
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


def retry(job: Job) -> bool:
    if not store.requeue(job):
        return False
    runner().submit(job)
    return True


def check(job: Job) -> Job:
    """The job as it stands, shown as failed when whoever held it has died."""
    if job.state in store.ACTIVE and runner().lost(job):
        try:
            store.give_up(job)
        except SQLAlchemyError:  # SQLite busy with a long write: show the job as it stands, and decide next time
            log.warning("could not give up job %s yet", job.id, exc_info=True)
            db.session.rollback()
    return job
