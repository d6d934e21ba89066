"""``flask --app portal check``: is this server set up to serve the portal beside the others?

Every app server of one portal keeps nothing of its own between requests: sessions are rows of the
database, forms' CSRF tokens ride in the session cookie signed with SECRET_KEY, the sign-in and API counters
are in Redis, uploaded files are in UPLOAD_DIR. So each server needs the same SECRET_KEY, DATABASE_URL,
REDIS_URL with REDIS_KEY_PREFIX, PORTAL_URL and an UPLOAD_DIR on storage they all share. The command checks
what one server can check alone and prints a fingerprint of the settings that must be identical, to compare
between servers without showing any secret.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from evidence.db import db
from evidence.wording import count

# The settings every server of one portal must hold identically (UPLOAD_DIR must be the same storage,
# which a path cannot prove, so it is checked for writing instead).
SHARED = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "REDIS_KEY_PREFIX", "PORTAL_URL", "PROXY_COUNT")
SHORTEST_SECRET = 32


@dataclass(frozen=True)
class Finding:
    ok: bool  # False: this server must not serve as it is
    what: str
    said: str


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host + (f":{parts.port}" if parts.port else "")))


def fingerprint(config) -> str:
    """A digest of the shared settings: equal on two servers exactly when those settings are."""
    digest = hashlib.sha256()
    for name in SHARED:
        digest.update(f"{name}={config.get(name)!s}\0".encode())
    return digest.hexdigest()[:16]


def _secret_key(config) -> Finding:
    if len(config["SECRET_KEY"] or "") < SHORTEST_SECRET:
        return Finding(False, "SECRET_KEY", f"shorter than {SHORTEST_SECRET} characters; use a long random value")
    return Finding(True, "SECRET_KEY", "set (the same on every server, or sessions and forms fail on the others)")


def _database(migrations_dir: Path) -> Finding:
    where = without_password(db.engine.url.render_as_string(hide_password=False))
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return Finding(False, "DATABASE_URL", f"{where} does not answer: {type(exc).__name__}")
    heads = set(ScriptDirectory(str(migrations_dir)).get_heads())
    if current != heads:
        have = ", ".join(sorted(current)) or "no schema"
        return Finding(
            False, "DATABASE_URL", f"{where} is at {have}, not {', '.join(sorted(heads))}: run `flask db upgrade` once"
        )
    if db.engine.dialect.name == "sqlite":
        return Finding(True, "DATABASE_URL", f"{where} (SQLite: one server only; several need PostgreSQL)")
    return Finding(True, "DATABASE_URL", f"{where}, at the newest migration")


def _redis(config, counters) -> Finding:
    url = config.get("REDIS_URL")
    if not url:
        return Finding(
            True,
            "REDIS_URL",
            "not set: sign-in attempts and API requests are counted in each process's memory, so set it "
            "whenever more than one process or server serves the portal",
        )
    if not counters.check():
        return Finding(
            False,
            "REDIS_URL",
            f"{without_password(url)} does not answer: start Redis or correct REDIS_URL "
            "(until it answers, this server refuses every sign-in)",
        )
    return Finding(True, "REDIS_URL", f"{without_password(url)} answers (keys prefixed {config['REDIS_KEY_PREFIX']!r})")


def _uploads(config) -> Finding:
    folder = Path(config["UPLOAD_DIR"])
    if not folder.is_absolute():
        return Finding(False, "UPLOAD_DIR", f"{folder} is a relative path; give the shared folder's absolute path")
    probe = folder / f".check-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return Finding(False, "UPLOAD_DIR", f"{folder} cannot be written: {exc.strerror or exc}")
    return Finding(True, "UPLOAD_DIR", f"{folder} can be written (it must be one folder shared by every server)")


def findings(app: Flask, migrations_dir: Path) -> list[Finding]:
    from portal.auth import COUNTERS

    config = app.config
    return [
        _secret_key(config),
        _database(migrations_dir),
        _redis(config, app.extensions[COUNTERS]),
        _uploads(config),
    ]


@click.command("check")
def check_command() -> None:
    """Check this server's settings, database, Redis and upload folder before it serves the portal."""
    from portal import MIGRATIONS_DIR

    found = findings(current_app, MIGRATIONS_DIR)
    for finding in found:
        click.echo(f"{'ok     ' if finding.ok else 'PROBLEM'}  {finding.what}: {finding.said}")
    click.echo(f"Shared settings fingerprint: {fingerprint(current_app.config)} (the same on every server)")
    problems = [f for f in found if not f.ok]
    if problems:
        raise click.ClickException(
            f"{count(len(problems), 'problem')}: this server should not serve the portal as it is."
        )
