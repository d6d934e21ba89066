"""Running several writers at the same moment, each as a request would: in its own application
context, so with its own session and database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from evidence.db import db

# A job loads what it needs (before the start line) and returns the action to race (after it).
Job = Callable[[], Callable[[], object]]


def run_together(app, jobs: Sequence[Job], timeout: float = 60) -> list[object]:
    """Run every job's action at the same moment; return, in order, what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(n: int) -> None:
        with app.app_context():
            started = False
            try:
                act = jobs[n]()
                barrier.wait(timeout)
                started = True
                outcomes[n] = act()
            except BaseException as exc:  # handed back for the test to judge
                outcomes[n] = exc
                if not started:
                    # Nobody waits for a job that failed before the start. Only then: breaking the barrier
                    # after it let everyone go can still reach a thread not yet awake from its wait.
                    barrier.abort()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a job did not finish"
    return outcomes
