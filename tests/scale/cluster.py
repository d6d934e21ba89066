"""One portal served by several gunicorn app servers behind haproxy, all on 127.0.0.1, for the scale tests.

``Cluster(folder, env)`` starts one gunicorn per name in ``names`` with the same environment (so the same
SECRET_KEY, DATABASE_URL, REDIS_URL, UPLOAD_DIR…), each on a free loopback port, and haproxy on a third
port in front of them (round-robin, health checks on /healthz, the answering server's name in the
``X-Served-By`` response header). Everything it started is stopped on leaving the ``with`` block, also when
starting fails half-way. More processes that share the same environment (a jobs worker, say) can be
started with ``Cluster.start_process`` and are stopped with the rest.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # a loaded 2-core machine takes a while to import the app twice
SERVED_BY = "X-Served-By"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class AppServer:
    name: str
    port: int
    process: Process

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


HAPROXY_CONFIG = """\
global
    maxconn 512

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    option forwardfor

frontend portal
    bind {host}:{port}
    default_backend app_servers

backend app_servers
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    http-response set-header {served_by} %s
{servers}
"""


def haproxy_config(port: int, servers: list[AppServer]) -> str:
    lines = "\n".join(f"    server {s.name} {HOST}:{s.port} check inter 1s fall 2 rise 1" for s in servers)
    return HAPROXY_CONFIG.format(host=HOST, port=port, served_by=SERVED_BY, servers=lines)


class Cluster:
    def __init__(self, folder: Path, env: dict[str, str], names: tuple[str, ...] = ("a", "b"), threads: int = 4):
        self.folder = folder
        self.env = env
        self.names = names
        self.threads = threads
        self.servers: dict[str, AppServer] = {}
        self.proxy_port = 0
        self._stack = ExitStack()

    @property
    def proxy_url(self) -> str:
        return f"http://{HOST}:{self.proxy_port}"

    def server(self, name: str) -> AppServer:
        return self.servers[name]

    def start_process(self, name: str, command: list[str]) -> Process:
        """Start ``command`` with the cluster's environment, its output in ``<name>.log``; stopped at the end."""
        log = self.folder / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(command, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        process = Process(name, popen, log)
        self._stack.callback(process.stop)
        return process

    def __enter__(self) -> Cluster:
        try:
            for name in self.names:
                port = free_port()
                command = [
                    sys.executable, "-m", "gunicorn",
                    "--workers", "1", "--threads", str(self.threads),
                    "--bind", f"{HOST}:{port}",
                    "--timeout", "60",
                    "portal:create_app()",
                ]  # fmt: skip
                self.servers[name] = AppServer(name, port, self.start_process(f"server-{name}", command))
            for server in self.servers.values():
                self._wait(f"{server.url}/healthz", server.process)
            self._start_haproxy()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _start_haproxy(self) -> None:
        binary = haproxy_binary()
        if binary is None:
            raise RuntimeError("haproxy is not installed (make haproxy installs Debian's package)")
        self.proxy_port = free_port()
        config = self.folder / "haproxy.cfg"
        config.write_text(haproxy_config(self.proxy_port, list(self.servers.values())))
        proxy = self.start_process("haproxy", [binary, "-db", "-f", str(config)])
        self._wait(f"{self.proxy_url}/healthz", proxy)
        # Both servers are in the rotation once the proxy has answered from each.
        seen: set[str] = set()
        deadline = time.monotonic() + START_TIMEOUT
        while seen != set(self.servers) and time.monotonic() < deadline:
            with urllib.request.urlopen(f"{self.proxy_url}/healthz", timeout=5) as response:
                seen.add(response.headers.get(SERVED_BY, ""))
        if seen != set(self.servers):
            raise RuntimeError(f"haproxy answered only from {sorted(seen)}: {proxy.log_tail()}")

    @staticmethod
    def _wait(url: str, process: Process) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited with code {process.popen.returncode}: {process.log_tail()}")
            if answers(url):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{process.name} did not answer at {url} within {START_TIMEOUT:.0f} s: {process.log_tail()}")
