"""Throughput under load: the portal under gunicorn on 127.0.0.1, and a bounded number of
signed-in clients (threads, one cookie jar each) requesting the dashboard and a statement page."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.pages import STATEMENT_KEY, percentile

HOST = "127.0.0.1"
LOAD_PAGES = [("Dashboard", "/dashboard"), ("Quality statement", f"/statements/{STATEMENT_KEY}")]
MAX_REQUESTS_PER_CLIENT = 5_000  # a hard bound besides the time limit
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
CSRF_INPUT = re.compile(
    r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"'
)
REPO = Path(__file__).resolve().parent.parent


@dataclass
class PageLoad:
    name: str
    path: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors


@dataclass
class LoadResult:
    state: str = "ok"
    workers: int = 0
    clients: int = 0
    planned: float = 0.0  # how long clients keep sending requests
    seconds: float = 0.0  # until the last answer came
    pages: list[PageLoad] = field(default_factory=list)
    sign_in_errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    server_log: str = ""

    @property
    def total_requests(self) -> int:
        return sum(p.requests for p in self.pages)

    @property
    def total_errors(self) -> int:
        return sum(p.errors for p in self.pages) + self.sign_in_errors

    def rate(self, page: PageLoad | None = None) -> float:
        count = page.requests if page else self.total_requests
        return count / self.seconds if self.seconds else 0.0

    def latencies(self, page: PageLoad | None = None) -> list[float]:
        return page.latencies_ms if page else [ms for p in self.pages for ms in p.latencies_ms]

    def median(self, page: PageLoad | None = None) -> float | None:
        values = self.latencies(page)
        return statistics.median(values) if values else None

    def p95(self, page: PageLoad | None = None) -> float | None:
        values = self.latencies(page)
        return percentile(values, 0.95) if values else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving the portal on 127.0.0.1; always stopped on leaving the ``with`` block."""

    def __init__(self, database_url: str, folder: Path, workers: int):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = folder / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if k not in {"FLASK_DEBUG", "DATABASE_URL"}}
        env.update(
            SECRET_KEY="assure-benchmark-secret-key",
            DATABASE_URL=database_url,
            SESSION_COOKIE_SECURE="false",
            UPLOAD_DIR=str(folder / "uploads"),
        )
        self.command = [
            sys.executable, "-m", "gunicorn",
            "--workers", str(workers),
            "--bind", f"{HOST}:{self.port}",
            "--timeout", "60",
            "--error-logfile", str(self.log_path),
            "portal:create_app()",
        ]  # fmt: skip
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with code {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT:.0f} s: {self.log_tail()}")

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Client:
    """One signed-in browser: its own cookie jar, no proxies, only 127.0.0.1."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=REQUEST_TIMEOUT) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, b""

    def sign_in(self, email: str, password: str) -> None:
        status, body = self.get("/sign-in")
        match = CSRF_INPUT.search(body.decode("utf-8", "replace"))
        if status != 200 or not match:
            raise RuntimeError(f"sign-in form: HTTP {status}, csrf token {'found' if match else 'not found'}")
        token = match.group(1) or match.group(2)
        data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
        with self.opener.open(self.base + "/sign-in", data=data, timeout=REQUEST_TIMEOUT) as response:
            # Signing in redirects to the start page; the redirect was followed.
            if response.status != 200 or "/sign-in" in response.geturl():
                raise RuntimeError(f"sign-in refused (ended at {response.geturl()})")


def run_load(
    database_url: str, folder: Path, email: str, password: str, *, workers: int, clients: int, seconds: float
) -> LoadResult:
    result = LoadResult(workers=workers, clients=clients, planned=seconds)
    result.pages = [PageLoad(name, path) for name, path in LOAD_PAGES]
    lock = threading.Lock()
    try:
        with Server(database_url, folder, workers) as server:
            start_at: list[float] = []
            # The clock starts once every client has signed in; the barrier's action runs before any is released.
            ready = threading.Barrier(clients + 1, action=lambda: start_at.append(time.perf_counter()), timeout=120)

            def work(index: int) -> None:
                client = Client(server.base)
                signed_in = True
                try:
                    client.sign_in(email, password)
                except Exception as exc:
                    signed_in = False
                    with lock:
                        result.sign_in_errors += 1
                        if len(result.error_samples) < 5:
                            result.error_samples.append(f"sign-in: {type(exc).__name__}: {exc}")
                try:
                    ready.wait()
                except threading.BrokenBarrierError:
                    return
                if not signed_in:
                    return
                deadline = start_at[0] + seconds
                for n in range(MAX_REQUESTS_PER_CLIENT):
                    if time.perf_counter() >= deadline:
                        break
                    page = result.pages[(n + index) % len(result.pages)]
                    started = time.perf_counter()
                    try:
                        status, _body = client.get(page.path)
                        problem = None if status == 200 else f"HTTP {status}"
                    except Exception as exc:
                        problem = f"{type(exc).__name__}: {exc}"
                    elapsed = (time.perf_counter() - started) * 1000
                    with lock:
                        if problem is None:
                            page.latencies_ms.append(elapsed)
                        else:
                            page.errors += 1
                            if len(result.error_samples) < 5:
                                result.error_samples.append(f"{page.path}: {problem}")

            # Warm every worker (imports, templates, first queries) before the clock starts; untimed.
            warm = Client(server.base)
            warm.sign_in(email, password)
            for _ in range(2 * workers):
                for _, path in LOAD_PAGES:
                    warm.get(path)
            threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
            for thread in threads:
                thread.start()
            ready.wait()
            for thread in threads:
                thread.join(timeout=seconds + REQUEST_TIMEOUT + 10)
            result.seconds = time.perf_counter() - start_at[0]
            result.server_log = server.log_tail()
    except Exception as exc:
        result.state = f"error: {type(exc).__name__}: {str(exc)[:300]}"
    return result
