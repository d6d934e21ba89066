"""``flask --app portal jobs worker``: run an RQ worker for the portal's jobs."""

from __future__ import annotations

import click
from flask import current_app

from evidence.jobs import files
from portal.jobs import bp


@bp.cli.command("worker")
@click.option("--queue", "queue_name", default=None, help="The queue to take jobs from (default: JOBS_QUEUE).")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker(queue_name: str | None, burst: bool) -> None:
    """Run exports and large imports queued on Redis (REDIS_URL), one at a time, until stopped."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in the portal's own processes.")
    from redis import Redis
    from rq import Queue, SimpleWorker

    connection = Redis.from_url(url)
    queue = Queue(queue_name or current_app.config["JOBS_QUEUE"], connection=connection)
    files.sweep(current_app.config["UPLOAD_DIR"])
    # SimpleWorker runs each job in this process rather than a forked child: the app, its database pool and
    # the heartbeat thread are never copied across a fork, and a worker that dies takes its job with it,
    # which the job's stopped heartbeat then shows.
    SimpleWorker([queue], connection=connection).work(burst=burst, with_scheduler=False)
