"""Running one job: the function every runner calls, in a web process's thread pool or in an RQ worker.

``run`` claims the job (so it runs once however many times it was handed out), holds its heartbeat, gives its
work a progress reporter, and records the outcome. The work itself is one of ``KINDS``: a function of the job
and the upload folder that returns an ``Outcome`` or raises ``JobFailed`` with what to tell the person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from evidence.db import db
from evidence.jobs import store
from evidence.jobs.progress import Reporter
from evidence.models import Job

log = logging.getLogger(__name__)

FAILED_UNEXPECTEDLY = (
    "Something went wrong on the server, so nothing was kept. Retry; if it fails again, tell your administrator."
)


class JobFailed(RuntimeError):
    """The work cannot be done as asked; the message says why to the person who asked (nothing was kept)."""


Work = Callable[[Job, str], store.Outcome]


def kinds() -> dict[str, Work]:
    from evidence.jobs import export_job, import_job  # they import JobFailed from here

    return {export_job.KIND: export_job.run, import_job.KIND: import_job.run, import_job.CHECK: import_job.check}


def run(
    job_id: str, upload_dir: str, alive: Callable[[str], AbstractContextManager] = lambda _job_id: nullcontext()
) -> str | None:
    """Run a queued job to its end; its final state, or None when it was not waiting to run. While it runs,
    ``alive(job_id)`` is held: the runner's heartbeat, which shows that its process has not died."""
    attempt = store.claim(job_id)
    if attempt is None:
        return None
    job = db.session.get(Job, job_id, populate_existing=True)
    reporter = Reporter(lambda done, total, stage: store.progress(job_id, attempt, done, total, stage))
    with alive(job_id), reporter.active():
        try:
            work = kinds().get(job.kind)
            if work is None:
                raise JobFailed("This kind of work is no longer done by the portal.")
            outcome = work(job, upload_dir)
        except JobFailed as error:
            db.session.rollback()
            store.fail(job_id, attempt, str(error))
            return store.FAILED
        except store.Superseded:
            db.session.rollback()
            log.info("job %s attempt %s was given up for another; stopped", job_id, attempt)
            return None
        except Exception:
            db.session.rollback()
            log.exception("job %s (%s) failed", job_id, job.kind)
            store.fail(job_id, attempt, FAILED_UNEXPECTEDLY)
            return store.FAILED
    return store.DONE if store.finish(job_id, attempt, outcome) else None
