"""Each process beats the heart of the jobs it holds (waiting in its thread pool, or running), so that a job
whose process died is seen to have stopped: its heartbeat grows old (``store.is_stale``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from evidence.jobs import store

log = logging.getLogger(__name__)

BEAT_SECONDS = 5.0


class Heart:
    """One daemon thread per process, started with the first job it holds."""

    def __init__(self, every: float = BEAT_SECONDS):
        self.every = every
        self._held: dict[str, Flask] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, app: Flask, job_id: str) -> None:
        with self._lock:
            self._held[job_id] = app
            # Several beats within the time after which a job counts as stopped (JOBS_STALE_SECONDS).
            self.every = min(self.every, app.config["JOBS_STALE_SECONDS"] / 4)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._beat_forever, name="job-heartbeat", daemon=True)
                self._thread.start()

    def release(self, job_id: str) -> None:
        with self._lock:
            self._held.pop(job_id, None)

    @contextmanager
    def holding(self, app: Flask, job_id: str) -> Iterator[None]:
        self.hold(app, job_id)
        try:
            yield
        finally:
            self.release(job_id)

    def _beat_forever(self) -> None:
        while not self._wake.wait(self.every):
            with self._lock:
                by_app: dict[Flask, list[str]] = {}
                for job_id, app in self._held.items():
                    by_app.setdefault(app, []).append(job_id)
            for app, job_ids in by_app.items():
                try:
                    with app.app_context():
                        store.beat(job_ids)
                except Exception:  # a locked SQLite file or a lost connection: the next beat tries again
                    log.warning("could not write the heartbeat of jobs %s", job_ids, exc_info=True)


heart = Heart()
