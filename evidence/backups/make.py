"""Making a backup: the database and the uploaded files in one zip that appears only when complete.

The database copy is made in a private folder beside the zip and unlinked as soon as it is open for
zipping; the zip itself is written as a file with no name where the system allows (see
``scratch.output_file``) and renamed into place at the end. A backup killed at any moment therefore
leaves no half-written zip under any name, and any copy it was still making is swept by the next run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from evidence.backups import postgres, scratch, sqlite
from evidence.backups.archive import CHUNK, DATABASE_MEMBERS, MANIFEST, UPLOADS
from evidence.backups.errors import BackupError
from evidence.backups.restore import WORKSPACE as RESTORE_WORKSPACE

ENGINES = {"sqlite": sqlite, "postgresql": postgres}


def _add_and_forget(archive: zipfile.ZipFile, path: Path, name: str) -> None:
    """Zip a temporary copy, dropping its name first so that nothing is left of it if the run dies."""
    with open(path, "rb") as copy:
        path.unlink()
        info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        info.file_size = os.fstat(copy.fileno()).st_size
        with archive.open(info, "w") as member:
            shutil.copyfileobj(copy, member, CHUNK)


def make_backup(database_url: str, upload_dir: str, out: Path) -> dict:
    """Write a backup zip to ``out``; returns its manifest."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    engine = ENGINES.get(backend)
    if engine is None:
        raise BackupError(f"backups of {backend} databases are not supported")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    upload_root = Path(upload_dir).resolve()
    with contextlib.ExitStack() as stack:
        if upload_root.parent.exists():  # no restore may swap the files while they are read
            stack.enter_context(scratch.locked(upload_root.parent, shared=True))
            scratch.sweep(upload_root.parent, RESTORE_WORKSPACE)  # a killed restore's unpacked copy
        work = stack.enter_context(scratch.workspace(out.parent, ".assure-backup-"))
        out.with_name(out.name + ".partial").unlink(missing_ok=True)  # left by a killed run of an older version
        member = DATABASE_MEMBERS[backend]
        engine.dump(url, work / member)
        uploads = sorted(p for p in upload_root.rglob("*") if p.is_file()) if upload_root.exists() else []
        manifest = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": backend,
            "uploads": len(uploads),
        }
        with scratch.output_file(out, work) as file, zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
            _add_and_forget(archive, work / member, member)
            for path in uploads:
                archive.write(path, UPLOADS + path.relative_to(upload_root).as_posix())
    return manifest
