"""Throughput: requests per second that gunicorn (4 workers on 127.0.0.1) serves for each page, signed in.

Each page gets its own run of wrk (``--connections`` open connections for ``--load-seconds``, latency
percentiles from ``--latency``), carrying the signed-in session as a Cookie header. ``/healthz`` is the
floor: the most a request through the whole stack can do with one small query. Every page is measured with
the sign-in counters in memory and again with ``REDIS_URL`` set (a key prefix of the run's own), as several
servers would run. Without wrk a Python client stands in (threads, one connection each); the table says so.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import HOST, REQUEST_TIMEOUT, Client, Server
from bench.pages import STATEMENT_KEY, percentile

FLOOR = "Floor: health check"
PAGES: list[tuple[str, str]] = [
    (FLOOR, "/healthz"),
    ("Static CSS", "/static/css/assure.css"),
    ("Dashboard", "/dashboard"),
    ("Quality statement", f"/statements/{STATEMENT_KEY}"),
    ("Evidence library", "/evidence"),
    ("Search", "/evidence?q=discharge"),
]
# (page, req/s at least, share of the floor at least)
TARGETS: dict[str, tuple[float, float]] = {
    "Dashboard": (300.0, 0.15),
    "Quality statement": (300.0, 0.15),
    "Evidence library": (0.0, 0.10),
    "Search": (0.0, 0.10),
}
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PYTHON_CLIENT_MAX_THREADS = 64  # the stand-in client is bounded whatever --connections says


@dataclass
class PageRate:
    name: str
    path: str
    redis: bool
    state: str = "ok"
    requests: int = 0
    seconds: float = 0.0
    median_ms: float | None = None
    p99_ms: float | None = None
    non_2xx_3xx: int = 0
    socket_errors: int = 0  # connect, read, write
    timeouts: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + self.socket_errors + self.timeouts


@dataclass
class Throughput:
    tool: str = ""  # "wrk 4.1.0", or why the Python client stood in
    workers: int = 0
    connections: int = 0
    seconds: float = 0.0
    pages: list[PageRate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def floor(self, redis: bool) -> PageRate | None:
        return next((p for p in self.pages if p.name == FLOOR and p.redis == redis and p.state == "ok"), None)

    def share(self, page: PageRate) -> float | None:
        floor = self.floor(page.redis)
        return page.rate / floor.rate if floor and floor.rate and page.state == "ok" else None

    def verdict(self, page: PageRate) -> str:
        """ "met", or "MISSED (why)", or "–" for a page without a target but the errors'."""
        if page.state != "ok":
            return f"MISSED ({page.state})"
        misses = []
        if page.errors:
            misses.append(f"{page.errors:,} errors")
        at_least, share_at_least = TARGETS.get(page.name, (0.0, 0.0))
        if at_least and page.rate < at_least:
            misses.append(f"< {at_least:.0f} req/s")
        share = self.share(page)
        if share_at_least and (share is None or share < share_at_least):
            misses.append(f"< {share_at_least:.0%} of floor")
        return f"MISSED ({', '.join(misses)})" if misses else "met"


# --- wrk -----------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str, page: PageRate) -> None:
    """Fill ``page`` from wrk's report (with --latency)."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if not done:
        page.state = "error: wrk printed no result"
        return
    page.requests = int(done.group(1))
    page.seconds = _ms(done.group(2) + done.group(3)) / 1000
    if median := re.search(r"^\s*50%\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.M):
        page.median_ms = _ms(median.group(1))
    if p99 := re.search(r"^\s*99%\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.M):
        page.p99_ms = _ms(p99.group(1))
    if non := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        page.non_2xx_3xx = int(non.group(1))
    if sockets := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        connect, read, write, timeout = (int(n) for n in sockets.groups())
        page.socket_errors, page.timeouts = connect + read + write, timeout


def wrk_version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    match = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return f"wrk {match.group(1)}" if match else "wrk"


def run_wrk(binary: str, url: str, cookie: str, connections: int, seconds: float, page: PageRate) -> None:
    command = [
        binary, f"--threads={min(2, connections)}", f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s", f"--timeout={REQUEST_TIMEOUT:.0f}s", "--latency",
        "--header", f"Cookie: {cookie}", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + REQUEST_TIMEOUT + 30)
    if done.returncode != 0:
        page.state = f"error: wrk exited with {done.returncode}: {done.stderr.strip()[:200]}"
        return
    parse_wrk(done.stdout, page)


# --- the Python client, when wrk is missing -------------------------------------------------


def run_python(port: int, path: str, cookie: str, connections: int, seconds: float, page: PageRate) -> None:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
            try:
                connection.request("GET", path, headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                failed = not 200 <= response.status < 400
                timed_out = False
            except TimeoutError:
                failed, timed_out = False, True
            except OSError:
                failed, timed_out = True, False
            finally:
                connection.close()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if timed_out:
                    page.timeouts += 1
                elif failed:
                    page.non_2xx_3xx += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=work, daemon=True) for _ in range(min(connections, PYTHON_CLIENT_MAX_THREADS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 10)
    page.seconds = time.perf_counter() - started
    page.requests = len(latencies)
    if latencies:
        page.median_ms = statistics.median(latencies)
        page.p99_ms = percentile(latencies, 0.99)


# --- one run -------------------------------------------------------------------------------


def redis_answers(url: str) -> str:
    """ "" when Redis answers at ``url``, else why not."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure: measured without Redis only
        return f"Redis does not answer at {url} ({type(exc).__name__})"
    return ""


def _forget_keys(url: str, prefix: str) -> None:
    import redis

    connection = redis.Redis.from_url(url)
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)


def _measure_server(result: Throughput, server: Server, email: str, password: str, redis: bool, seconds: float):
    client = Client(server.base)
    client.sign_in(email, password)
    cookie = client.cookie_header()
    wrk = shutil.which("wrk")
    for name, path in PAGES:
        page = PageRate(name, path, redis)
        result.pages.append(page)
        # Untimed: warm every worker, and make sure the cookie signs in (a redirect to sign-in counts as 3xx).
        for _ in range(2 * result.workers):
            status, _body = client.get(path)
        if status != 200:
            page.state = f"error: HTTP {status} before the run"
            continue
        if wrk:
            run_wrk(wrk, server.base + path, cookie, result.connections, seconds, page)
        else:
            run_python(server.port, path, cookie, result.connections, seconds, page)


def run_throughput(
    database_url: str,
    folder: Path,
    email: str,
    password: str,
    *,
    workers: int,
    connections: int,
    seconds: float,
    redis_url: str | None = None,
) -> Throughput:
    wrk = shutil.which("wrk")
    result = Throughput(
        tool=wrk_version(wrk) if wrk else "Python client (wrk is not installed: `make bench-tools`)",
        workers=workers,
        connections=connections,
        seconds=seconds,
    )
    redis_url = redis_url or os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS
    variants: list[dict[str, str]] = [{}]
    if why := redis_answers(redis_url):
        result.notes.append(f"Not measured with Redis: {why}.")
    else:
        variants.append({"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": f"assure-bench-{uuid.uuid4().hex[:10]}"})
    for settings in variants:
        try:
            with Server(database_url, folder, workers, settings) as server:
                _measure_server(result, server, email, password, bool(settings), seconds)
        except Exception as exc:
            result.notes.append(f"{'With' if settings else 'Without'} Redis: {type(exc).__name__}: {str(exc)[:300]}")
        finally:
            if settings:
                _forget_keys(settings["REDIS_URL"], settings["REDIS_KEY_PREFIX"])
    return result
