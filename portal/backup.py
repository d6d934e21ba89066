"""Backups: the database and the uploaded files in one zip, and restoring from it.

SQLite is copied with its online backup API, so a backup taken while the
portal serves requests is consistent. PostgreSQL is dumped with pg_dump
(custom format) and restored with pg_restore, which must be on the PATH.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from sqlalchemy.engine import make_url

from evidence.db import db
from evidence.round_view import clear_cache

MANIFEST = "backup.json"
SQLITE_MEMBER = "database.sqlite"
POSTGRES_MEMBER = "database.pgdump"


class BackupError(RuntimeError):
    pass


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _pg_args(url) -> list[str]:
    args = ["--dbname", url.set(drivername="postgresql").render_as_string(hide_password=False)]
    return args


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed; install the PostgreSQL client tools")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def backup(database_url: str, upload_dir: str, out: Path) -> dict:
    """Write a backup zip to ``out``; returns its manifest."""
    url = make_url(database_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if url.get_backend_name() == "sqlite":
            member = SQLITE_MEMBER
            source = sqlite3.connect(_sqlite_path(url))
            target = sqlite3.connect(work / member)
            with target:
                source.backup(target)
            source.close()
            target.close()
        elif url.get_backend_name() == "postgresql":
            member = POSTGRES_MEMBER
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(work / member), *_pg_args(url)])
        else:
            raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
        uploads = sorted(p for p in Path(upload_dir).rglob("*") if p.is_file()) if Path(upload_dir).exists() else []
        manifest = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": url.get_backend_name(),
            "uploads": len(uploads),
        }
        partial = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
            archive.write(work / member, member)
            for path in uploads:
                archive.write(path, "uploads/" + path.relative_to(upload_dir).as_posix())
        partial.replace(out)  # never leave a half-written backup under the real name
    return manifest


def restore(database_url: str, upload_dir: str, source: Path) -> dict:
    """Replace the database with the backup's and put back any uploaded files it holds."""
    url = make_url(database_url)
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{source} is not an Assure backup: {exc}") from exc
    with archive, tempfile.TemporaryDirectory() as work:
        names = set(archive.namelist())
        if MANIFEST not in names:
            raise BackupError(f"{source} is not an Assure backup (no {MANIFEST})")
        manifest = json.loads(archive.read(MANIFEST))
        if manifest["database"] != url.get_backend_name():
            raise BackupError(
                f"the backup holds a {manifest['database']} database; the portal uses {url.get_backend_name()}"
            )
        work = Path(work)
        if url.get_backend_name() == "sqlite":
            archive.extract(SQLITE_MEMBER, work)
            source_db = sqlite3.connect(work / SQLITE_MEMBER)
            target = sqlite3.connect(_sqlite_path(url))
            with target:
                source_db.backup(target)
            source_db.close()
            target.close()
        else:
            archive.extract(POSTGRES_MEMBER, work)
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", *_pg_args(url), str(work / POSTGRES_MEMBER)])
        upload_root = Path(upload_dir)
        for name in names:
            if name.startswith("uploads/") and not name.endswith("/"):
                relative = Path(name).relative_to("uploads")
                if ".." in relative.parts or relative.is_absolute():
                    raise BackupError(f"the backup holds an unsafe path: {name}")
                target_path = upload_root / relative
                target_path.parent.mkdir(parents=True, exist_ok=True)
                target_path.write_bytes(archive.read(name))
    return manifest


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the zip.")
def backup_command(out: str) -> None:
    """Back up the database and uploaded files to one zip (consistent while the portal runs)."""
    db.session.remove()
    try:
        manifest = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["UPLOAD_DIR"], Path(out))
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up the {manifest['database']} database and {manifest['uploads']} file(s) to {out}.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: str, yes: bool) -> None:
    """Restore the database and uploaded files from a backup zip (replaces the current data)."""
    if not yes:
        click.confirm("This replaces every record in the portal with the backup's. Go on?", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        manifest = restore(
            current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["UPLOAD_DIR"], Path(source)
        )
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    clear_cache()
    click.echo(f"Restored the backup taken {manifest['created_at']}. Restart the portal so every worker starts afresh.")
