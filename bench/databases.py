"""Fresh databases for a benchmark run: a SQLite file in a temporary folder, or a PostgreSQL
database of the run's own, created on 127.0.0.1 and dropped afterwards."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Fresh:
    url: str  # SQLAlchemy URL
    env_url: str  # DATABASE_URL for a served portal
    folder: Path  # scratch folder for uploads and logs


def postgres_base() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").replace("postgres://", "postgresql://")


def postgres_available() -> tuple[bool, str]:
    """Whether PostgreSQL answers on this machine's loopback (the only place the benchmark goes)."""
    base = _plain(postgres_base())
    host = urlsplit(base).hostname or "127.0.0.1"
    if host not in LOCAL_HOSTS:
        return False, f"PostgreSQL at {host} is not on 127.0.0.1; the benchmark only targets this machine"
    try:
        import psycopg

        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        return True, f"PostgreSQL {version}"
    except Exception as exc:  # any failure means: not available here
        return False, f"PostgreSQL did not answer ({type(exc).__name__})"


def describe(kind: str) -> str:
    if kind == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    return postgres_available()[1]


@contextmanager
def fresh_database(kind: str, label: str) -> Iterator[Fresh]:
    folder = Path(tempfile.mkdtemp(prefix=f"assure-bench-{label}-"))
    try:
        if kind == "sqlite":
            url = f"sqlite:///{folder / 'bench.sqlite'}"
            yield Fresh(url, url, folder)
            return
        import psycopg

        base = _plain(postgres_base())
        name = f"assure_bench_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            plain = urlunsplit(urlsplit(base)._replace(path="/" + name))
            yield Fresh(plain.replace("postgresql://", "postgresql+psycopg://", 1), plain, folder)
        finally:
            with psycopg.connect(base, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def portal_app(url: str, folder: Path, secret: str):
    """The portal on a benchmark's database, its uploads in ``folder``; a page that raises is reported with the
    line that raised it rather than rendered as a 500 page."""
    from portal import create_app

    return create_app(
        {
            "SECRET_KEY": secret,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "UPLOAD_DIR": str(folder / "uploads"),
            "PROPAGATE_EXCEPTIONS": True,
        }
    )
