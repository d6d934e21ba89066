"""Jobs' result files, under ``<upload dir>/jobs/`` (the folder every server shares).

A file is written under a temporary name and renamed when complete, so a job killed half-way leaves no file
a download could find. Files are kept for a day after their job finished (then the job page offers to make
the file again); a temporary file an hour old belongs to a run that died, and is removed. A finished job's
row goes after 30 days (the audit trail keeps what was exported and imported).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select, update

from evidence.db import db
from evidence.models import Job, utcnow

FOLDER = "jobs"
KEEP_FILES = timedelta(hours=24)
KEEP_JOBS = timedelta(days=30)
KEEP_PARTIAL_SECONDS = 3600
PARTIAL = ".partial"


def save(upload_dir: str | os.PathLike, job_id: str, extension: str, data: bytes) -> str:
    """Write a job's file whole or not at all; its path relative to the upload folder."""
    folder = Path(upload_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job_id}{extension}"
    partial = folder / f".{name}.{os.getpid()}{PARTIAL}"
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, folder / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return f"{FOLDER}/{name}"


def path_of(upload_dir: str | os.PathLike, relative: str | None) -> Path | None:
    """The file on disk, if it is still there and inside the jobs folder."""
    if not relative:
        return None
    folder = (Path(upload_dir) / FOLDER).resolve()
    path = (Path(upload_dir) / relative).resolve()
    return path if path.parent == folder and path.is_file() else None


def sweep(upload_dir: str | os.PathLike, keep: timedelta = KEEP_FILES) -> int:
    """Remove the files of jobs finished longer than ``keep`` ago, and stale temporary files (how many went),
    and the rows of jobs finished longer than ``KEEP_JOBS`` ago."""
    removed = 0
    cutoff = utcnow() - keep
    expired = db.session.execute(
        select(Job.id, Job.result_path).where(Job.result_path.is_not(None), Job.finished_at < cutoff)
    ).all()
    for job_id, relative in expired:
        (Path(upload_dir) / relative).unlink(missing_ok=True)
        removed += 1
        with db.engine.begin() as connection:
            connection.execute(update(Job.__table__).where(Job.__table__.c.id == job_id).values(result_path=None))
    with db.engine.begin() as connection:
        old_jobs = Job.__table__.c.finished_at < utcnow() - KEEP_JOBS
        connection.execute(delete(Job.__table__).where(old_jobs, Job.__table__.c.result_path.is_(None)))
    folder = Path(upload_dir) / FOLDER
    if folder.is_dir():
        old = time.time() - KEEP_PARTIAL_SECONDS
        for path in folder.glob(f".*{PARTIAL}"):
            try:
                if path.stat().st_mtime < old:
                    path.unlink(missing_ok=True)
                    removed += 1
            except OSError:
                continue
    return removed
