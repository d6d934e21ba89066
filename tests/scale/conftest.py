"""Fixtures for one portal on several app servers: a PostgreSQL database of the module's own, migrated with
``flask db upgrade``, a Redis key prefix of its own (its keys removed afterwards), a shared upload folder,
and ``start_cluster`` to serve it from app servers behind haproxy with that environment (plus any more
settings a test gives)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import _postgres_database
from tests.scale.cluster import REPO, Cluster, haproxy_binary

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PASSWORD = "several servers, one portal"


def _unavailable(why: str) -> None:
    if os.environ.get("CI") and "haproxy" in why:
        pytest.fail(why, pytrace=False)  # make test installs it, so under CI its absence is a failure
    pytest.skip(why)


def _postgres_base() -> str:
    # make test's SQLite pass hides TEST_DATABASE_URL from the suite and hands it on under this name.
    base = os.environ.get("TEST_SCALE_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_DATABASE
    try:
        import psycopg

        with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            pass
    except Exception as exc:
        _unavailable(f"several app servers need PostgreSQL, which does not answer at {urlsplit(base).netloc}: {exc}")
    return base


def _redis_url() -> str:
    import redis

    url = os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"several app servers share their counters in Redis, which does not answer at {url}: {exc}")
    return url


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def portal_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The environment every app server of the portal is given, on a migrated database with a quality lead
    (``quality@scale.example.gov.uk``, password ``PASSWORD``)."""
    if haproxy_binary() is None:
        _unavailable("haproxy is not installed: `make haproxy` installs Debian's package")
    base, redis_url = _postgres_base(), _redis_url()
    folder = tmp_path_factory.mktemp("scale")
    prefix = f"assure-scale-{uuid.uuid4().hex[:10]}"
    for database_url in _postgres_database(base):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "TEST_", "PYTEST_"))}
        env |= {
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": prefix,
            "JOBS_QUEUE": prefix,  # jobs go to RQ (REDIS_URL is set), on a queue of the module's own
            "UPLOAD_DIR": str(folder / "uploads"),
            "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback
            "PROXY_COUNT": "1",  # haproxy
        }
        for command in (("db", "upgrade"), ("users", "create", "--email", "quality@scale.example.gov.uk",
                                           "--role", "quality_lead", "--password", PASSWORD)):  # fmt: skip
            done = flask(env, *command)
            assert done.returncode == 0, done.stderr[-2000:]
        try:
            yield env
        finally:
            import redis

            connection = redis.Redis.from_url(redis_url)
            for key in connection.scan_iter(f"{prefix}*"):
                connection.delete(key)


@pytest.fixture(scope="module")
def start_cluster(portal_env, tmp_path_factory):
    """``start_cluster(**settings)``: the portal on two app servers behind haproxy, with ``portal_env`` and
    ``settings``; everything it started is stopped after the module."""
    clusters: list[Cluster] = []

    def start(names: tuple[str, ...] = ("a", "b"), **settings: str) -> Cluster:
        cluster = Cluster(tmp_path_factory.mktemp("cluster"), {**portal_env, **settings}, names)
        clusters.append(cluster.__enter__())
        return cluster

    yield start
    for cluster in reversed(clusters):
        cluster.__exit__(None, None, None)
