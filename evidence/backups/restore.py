"""Restoring a backup: check everything first, then replace the data in one step that completes or changes nothing.

1. Check, touching nothing live: the zip's structure; every member's path, kind and declared size; the
   total unpacked size against the limit and the free disk; the manifest. Then unpack into a private
   folder beside the uploads, no member past its declared size, and check the database there: an Assure
   database at a migration revision this code knows, whole (SQLite's integrity check; every block of a
   PostgreSQL dump read).
2. Replace: the database in one transaction (see ``sqlite.Loader`` and ``postgres.Loader``), with the
   uploaded files swapped around its commit (see ``uploads``).

Until the commit a failure, a refusal or a kill leaves the database and the uploaded files as they were;
the private folder of a killed run is removed by the next one.
"""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from evidence.backups import postgres, scratch, sqlite
from evidence.backups.archive import DATABASE_MEMBERS, check, open_backup, unpack_database, unpack_uploads
from evidence.backups.errors import BackupError, RestoreRefused, size
from evidence.backups.uploads import UploadSwap

ENGINES = {"sqlite": sqlite, "postgresql": postgres}
WORKSPACE = ".assure-restore-"  # the private folder beside the uploads, swept by the next backup or restore
# Unpacking must leave this much of the disk free for the portal itself.
SPARE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class RestoreResult:
    created_at: str
    revision: str
    up_to_date: bool
    uploads: int
    moved_aside: int
    aside_folder: Path | None


def _describe(exc: OSError) -> str:
    return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc.strerror or exc)


def _prepare(swap: UploadSwap, loader) -> None:
    """Everything up to the commit; on any failure, undo it (the database has not committed)."""
    try:
        swap.prepare()
        loader.prepare()
        swap.enter()
    except BaseException:
        loader.abort()
        swap.leave()
        raise


@functools.cache
def migration_revisions(migrations_dir: str) -> tuple[frozenset[str], str]:
    """Every revision the migrations know, and the newest."""
    script = ScriptDirectory(migrations_dir)
    return frozenset(s.revision for s in script.walk_revisions()), script.get_current_head()


def restore_backup(
    database_url: str, upload_dir: str, source: Path, *, migrations_dir: str | Path, max_bytes: int
) -> RestoreResult:
    """Replace the database and the uploaded files with the backup's, or refuse and change nothing."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    engine = ENGINES.get(backend)
    if engine is None:
        raise RestoreRefused(f"restoring {backend} databases is not supported")
    known, head = migration_revisions(str(migrations_dir))
    live = Path(upload_dir).resolve()
    if os.path.ismount(live):
        raise RestoreRefused(
            f"the upload folder {live} is a mount point, which cannot be swapped; set UPLOAD_DIR to a folder inside it"
        )
    live.parent.mkdir(parents=True, exist_ok=True)
    with scratch.locked(live.parent), open_backup(Path(source)) as archive:
        contents = check(archive, backend, max_bytes)
        free = shutil.disk_usage(live.parent).free
        if contents.unpacked_bytes + SPARE_BYTES > free:
            raise RestoreRefused(
                f"it would unpack to {size(contents.unpacked_bytes)}, but only {size(free)} is free in "
                f"{live.parent} (keeping {size(SPARE_BYTES)} spare)"
            )
        with scratch.workspace(live.parent, WORKSPACE) as work:
            database = work / DATABASE_MEMBERS[backend]
            try:
                unpack_database(archive, contents, database)
                backup_files = unpack_uploads(archive, contents, work / "uploads")
                revision = engine.check(database, known)
                swap = UploadSwap(live, work / "uploads", work, backup_files)
                loader = engine.Loader(url, database, work, revision)
                _prepare(swap, loader)
            except RestoreRefused:
                raise
            except BackupError as exc:  # e.g. a client tool missing: still before anything changed
                raise RestoreRefused(str(exc)) from exc
            except OSError as exc:
                raise RestoreRefused(f"the restore could not go on ({_describe(exc)})") from exc
            try:
                loader.commit()
            except RestoreRefused:  # the database refused the commit and rolled back
                loader.abort()
                swap.leave()
                raise
            # Any other failure leaves it unknown whether the commit happened; the upload folder then keeps
            # the union of old and new files, which serves either database.
            try:
                swap.finish()
            except OSError as exc:
                raise BackupError(
                    "the database was restored, but the upload folder could not be switched over "
                    f"({_describe(exc)}); it holds the backup's files alongside the old ones"
                ) from exc
    return RestoreResult(
        created_at=contents.manifest["created_at"],
        revision=revision,
        up_to_date=revision == head,
        uploads=len(backup_files),
        moved_aside=swap.moved,
        aside_folder=swap.moved_to,
    )
