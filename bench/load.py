"""The portal under gunicorn on 127.0.0.1 for the throughput table (bench.throughput), and a signed-in
client of it: its own cookie jar, no proxies."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
CSRF_INPUT = re.compile(
    r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"'
)
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving the portal on 127.0.0.1; always stopped on leaving the ``with`` block."""

    def __init__(self, database_url: str, folder: Path, workers: int, settings: dict[str, str] | None = None):
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
        env.update(settings or {})  # REDIS_URL and the like, for one run
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
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar)
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

    def cookie_header(self) -> str:
        """The signed-in session as a Cookie header, for a load generator that keeps no cookies."""
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)
