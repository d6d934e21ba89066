"""How far a job has got. Code that runs as a job reports with ``report``; outside a job it does nothing,
so the import reader can report the rows it has read without knowing whether anybody is watching."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# At most two writes a second: the bar moves smoothly and the jobs row is not written for every row.
INTERVAL_SECONDS = 0.5

Write = Callable[[int, "int | None", str], None]

_current: ContextVar[Reporter | None] = ContextVar("job_reporter", default=None)


def report(done: int, total: int | None = None, stage: str | None = None) -> None:
    """``done`` of ``total`` (kept from the last report when not given), in ``stage`` (likewise)."""
    reporter = _current.get()
    if reporter is not None:
        reporter.advance(done, total, stage)


class Reporter:
    """Collects a job's progress and writes it through ``write``: at once for a new stage or the end, otherwise
    at most every ``interval`` seconds."""

    def __init__(self, write: Write, interval: float | None = None, clock: Callable[[], float] = time.monotonic):
        self._write = write
        self._interval = INTERVAL_SECONDS if interval is None else interval
        self._clock = clock
        self._written_at = -float("inf")
        self.done, self.total, self.stage = 0, None, ""
        self._written: tuple[int, int | None, str] | None = None

    def advance(self, done: int, total: int | None = None, stage: str | None = None) -> None:
        new_stage = stage is not None and stage != self.stage
        if total is not None:
            self.total = total
        if stage is not None:
            self.stage = stage
        self.done = min(done, self.total) if self.total is not None else done
        now = self._clock()
        finished = self.total is not None and self.done >= self.total
        if new_stage or finished or now - self._written_at >= self._interval:
            state = (self.done, self.total, self.stage)
            if state != self._written:
                self._write(*state)
                self._written, self._written_at = state, now

    @contextmanager
    def active(self) -> Iterator[Reporter]:
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)
