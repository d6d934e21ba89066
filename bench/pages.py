"""Server time and SQL statements per page, measured in-process with Flask's test client."""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import ceil

from sqlalchemy import event

from evidence.db import db

STATEMENT_KEY = "safe-pathways"
PAGES: list[tuple[str, str]] = [
    ("Dashboard", "/dashboard"),
    ("Quality statement", f"/statements/{STATEMENT_KEY}"),
    ("Evidence library", "/evidence"),
    ("Search", "/evidence?q=discharge"),
    ("Filter", f"/evidence?kind=metric&statement={STATEMENT_KEY}"),
    ("Item page (metric)", "/evidence/{metric_id}"),
    ("Gaps", "/gaps"),
    # Further pages a quality lead or manager opens every day, held to the same target.
    ("Statements overview", "/statements"),
    ("Quality statement, signed-off round", f"/statements/{STATEMENT_KEY}?round={{signed_off_round_id}}"),
    ("Rounds", "/rounds"),
    ("Signed-off round", "/rounds/{signed_off_round_id}"),
    ("Review queue", "/review"),
]
PAGE_BUDGET_SECONDS = 60.0  # a very slow page stops being timed after this long (at least 5 requests)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, ceil(share * len(ordered)) - 1)]


@dataclass
class PageResult:
    name: str
    path: str
    state: str = "ok"  # ok, missing, or what went wrong ("HTTP 500", "error: KeyError ...")
    median_ms: float | None = None
    p95_ms: float | None = None
    timed: int = 0  # requests timed
    queries: int | None = None
    bytes: int = 0
    statements: list[tuple[float, str]] = field(default_factory=list)  # (ms, SQL) of one request

    @property
    def ok(self) -> bool:
        return self.state == "ok"


class SqlCounter:
    """Counts (and optionally times) the statements an engine issues while switched on."""

    def __init__(self, engine):
        self.engine = engine
        self.active = False
        self.count = 0
        self.log: list[tuple[float, str]] = []
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.count += 1
            self._started.append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active and self._started:
            elapsed = (time.perf_counter() - self._started.pop()) * 1000
            self.log.append((elapsed, " ".join(statement.split())))

    @contextmanager
    def counting(self) -> Iterator[SqlCounter]:
        self.count, self.log, self._started = 0, [], []
        self.active = True
        try:
            yield self
        finally:
            self.active = False

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def signed_in_client(app, email: str, password: str):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": password})
    if response.status_code != 302:
        raise RuntimeError(f"the benchmark could not sign in (HTTP {response.status_code})")
    return client


def _get(client, path: str) -> tuple[str, int]:
    try:
        response = client.get(path)
    except Exception as exc:  # a page that crashes is reported, not fatal to the benchmark
        return f"error: {type(exc).__name__}: {str(exc)[:120]}", 0
    if response.status_code == 404:
        return "missing", 0
    if response.status_code != 200:
        return f"HTTP {response.status_code}", 0
    return "ok", len(response.data)


def page_paths(portfolio) -> list[tuple[str, str]]:
    ids = {"metric_id": portfolio.metric_id, "signed_off_round_id": portfolio.signed_off_round_id}
    return [(name, path.format(**ids)) for name, path in PAGES]


def measure_pages(app, portfolio, repeats: int, warmup: int = 2, timed: bool = True) -> list[PageResult]:
    """Each page: a warm-up, one counted request (SQL statements), then ``repeats`` timed requests."""
    with app.app_context():
        counter = SqlCounter(db.engine)
    client = signed_in_client(app, portfolio.lead_email, portfolio.password)
    results = []
    try:
        for name, path in page_paths(portfolio):
            result = PageResult(name, path)
            results.append(result)
            for _ in range(warmup):
                result.state, result.bytes = _get(client, path)
                if not result.ok:
                    break
            if not result.ok:
                continue
            with counter.counting():
                _get(client, path)
            result.queries, result.statements = counter.count, counter.log
            if not timed:
                continue
            times = []
            deadline = time.perf_counter() + PAGE_BUDGET_SECONDS
            for n in range(repeats):
                if n >= 5 and time.perf_counter() > deadline:
                    break
                started = time.perf_counter()
                state, _size = _get(client, path)
                times.append((time.perf_counter() - started) * 1000)
                if state != "ok":
                    result.state = state
                    break
            if result.ok:
                result.timed = len(times)
                result.median_ms = statistics.median(times)
                result.p95_ms = percentile(times, 0.95)
    finally:
        counter.close()
    return results


def profile_page(app, portfolio, path: str, requests: int = 5, top: int = 40) -> str:
    """cProfile over a few requests of one page: the functions with the most cumulative time."""
    client = signed_in_client(app, portfolio.lead_email, portfolio.password)
    client.get(path)
    return profiled(lambda: [client.get(path) for _ in range(requests)], top)


def profiled(fn, top: int = 40) -> str:
    """cProfile over one call of ``fn``: the ``top`` functions by cumulative time, then by their own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()
