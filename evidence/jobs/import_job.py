"""A large import as two jobs: its check, which reads every row and keeps the preview for the page
(``CHECK``), and its confirmation, which reads and checks the waiting upload again, then writes every row in
one transaction (or none), exactly as the synchronous confirmation does (``KIND``)."""

from __future__ import annotations

from evidence import imports
from evidence.db import db
from evidence.imports import ImportConflict, ImportNotReady, ImportRefused, StoredUpload, UploadMissing
from evidence.imports.preview import Preview
from evidence.imports.reading import LayoutKeepsNothing, rows_in
from evidence.jobs import files
from evidence.jobs.progress import report
from evidence.jobs.store import Outcome
from evidence.jobs.work import JobFailed
from evidence.models import Job, User

KIND = "import"
CHECK = "import-check"
PREVIEW_EXTENSION = ".preview.json"


def params(importer: imports.Importer, stored: StoredUpload, confirm_personal_data: bool = False) -> dict:
    return {"kind": importer.key, "digest": stored.digest, "confirm_personal_data": bool(confirm_personal_data)}


def title(importer: imports.Importer, stored: StoredUpload) -> str:
    return f"Import of {stored.filename} ({importer.label.lower()})"


def check_title(importer: imports.Importer, stored: StoredUpload) -> str:
    return f"Checking {stored.filename} ({importer.label.lower()})"


def _planned(job: Job, upload_dir: str, then: str) -> tuple[StoredUpload, imports.Plan]:
    """The job's waiting upload read and checked, every row of it, with the bar following the rows; ``then``
    is the last step's stage ("{rows}" is the number of rows)."""
    importer = imports.get_importer(job.params.get("kind") or "")
    if importer is None:
        raise JobFailed("Nothing was imported: this kind of import no longer exists.")
    try:
        stored = imports.load_upload(upload_dir, job.params.get("digest") or "")
    except UploadMissing:
        raise JobFailed("That upload is no longer waiting to be imported. Upload the file again.") from None
    total = rows_in(stored.data, stored.format) + 1  # the last step is the write, or keeping the preview
    report(0, total, f"Reading and checking the rows of {stored.filename}")
    try:
        plan = imports.plan_file(importer, stored.filename, stored.data, stored.format)
    except LayoutKeepsNothing as error:
        raise JobFailed(str(error)) from error
    except ImportRefused as error:
        raise JobFailed(f"The file was not imported: {error}") from error
    report(total - 1, total, then.format(rows=f"{len(plan.rows):,}"))
    return stored, plan


def check(job: Job, upload_dir: str) -> Outcome:
    """Read and check every row, and keep what the preview shows in the job's file."""
    stored, plan = _planned(job, upload_dir, "Keeping the preview of {rows} rows")
    preview = Preview.of(plan)
    path = files.save(upload_dir, job.id, PREVIEW_EXTENSION, preview.to_json())
    return Outcome(f"Checked {stored.filename}: {preview.summary}.", path, "preview.json", "application/json")


def preview_of(job: Job, upload_dir: str) -> Preview | None:
    """The preview a finished check kept, while its file is there."""
    path = files.path_of(upload_dir, job.result_path) if job.kind == CHECK else None
    if path is None:
        return None
    try:
        return Preview.from_json(path.read_bytes())
    except (OSError, ValueError, TypeError, KeyError):
        return None


def run(job: Job, upload_dir: str) -> Outcome:
    stored, plan = _planned(job, upload_dir, "Writing {rows} rows in one transaction")
    try:
        result = imports.write_plan(
            plan, db.session.get(User, job.user_id), bool(job.params.get("confirm_personal_data"))
        )
    except (ImportNotReady, ImportConflict) as error:
        raise JobFailed(str(error)) from error
    except ImportRefused as error:
        raise JobFailed(f"The file was not imported: {error}") from error
    imports.discard_upload(upload_dir, stored.digest)
    return Outcome(result.message)
