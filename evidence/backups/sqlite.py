"""SQLite: copying the database out for a backup, checking a backup's copy, and writing it back in."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL

from evidence import portfolio_version
from evidence.backups.archive import check_database
from evidence.backups.errors import BackupError, RestoreRefused

# How long a restore waits for the portal's own writes to finish before it gives up.
BUSY_SECONDS = 30


def database_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _connect(path: Path, **options) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(path, **options))


def dump(url: URL, target: Path) -> None:
    """Copy the live database with SQLite's online backup API: consistent while the portal serves."""
    with _connect(database_path(url)) as source, _connect(target) as copy:
        source.backup(copy)


def check(path: Path, known_revisions: frozenset[str]) -> str:
    """The unpacked copy is a sound SQLite file holding an Assure database; returns its revision."""
    try:
        with _connect(path) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check(3)")]
            if problems != ["ok"]:
                raise RestoreRefused(f"its database is damaged (SQLite integrity check: {problems[0]})")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revisions = []
            if "alembic_version" in tables:
                revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version LIMIT 2")]
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"its database is not a readable SQLite database ({exc})") from exc
    return check_database(tables, revisions, known_revisions)


def _give_up_when_busy(status: int, remaining: int, total: int) -> None:
    if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        raise RestoreRefused(f"the database stayed in use for {BUSY_SECONDS} seconds; stop the portal and try again")


class Loader:
    """Writes the checked copy into the live database as one SQLite transaction.

    The copy goes in through SQLite's backup API rather than by renaming a file over the live one:
    SQLite journals the whole copy as a single write transaction, so a restore killed at any moment is
    rolled back by the next connection that opens the file, and processes that still hold the database
    open (portal workers) see the new data instead of writing on into a renamed-away file whose -wal,
    -shm or -journal files would then no longer match it.
    """

    def __init__(self, url: URL, path: Path, work: Path, revision: str) -> None:
        self.live = database_path(url)
        self.path = path

    def prepare(self) -> None:
        """The copy is already checked; it starts a new portfolio epoch, so figures kept for the live
        database before the restore never match it (``evidence.portfolio_version``)."""
        try:
            with _connect(self.path) as copy, copy:
                if copy.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (portfolio_version.TABLE,)).fetchone():
                    copy.execute(portfolio_version.RESET_SQL)
        except sqlite3.Error as exc:
            raise RestoreRefused(f"the backup's database could not be prepared ({exc})") from exc

    def commit(self) -> None:
        try:
            with _connect(self.path) as source, _connect(self.live, timeout=BUSY_SECONDS) as live:
                source.backup(live, progress=_give_up_when_busy)
        except sqlite3.Error as exc:  # an unfinished copy is rolled back by SQLite
            raise RestoreRefused(f"the database could not be written ({exc})") from exc

    def abort(self) -> None:
        """Nothing to undo: a copy that did not finish was rolled back by SQLite."""
