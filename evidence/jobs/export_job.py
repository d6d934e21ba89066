"""A round's export (workbook, Word, PDF or markdown pack) as a job: the same build as ``flask export``."""

from __future__ import annotations

from evidence.assessment.round_view import round_view
from evidence.db import db
from evidence.jobs import files
from evidence.jobs.progress import report
from evidence.jobs.store import Outcome
from evidence.jobs.work import JobFailed
from evidence.models import Job, Round, User
from exports import ExportUnavailable
from exports.packs import FORMATS, build_export, record_export

KIND = "export"


def params(round_: Round, fmt: str) -> dict:
    return {"round": round_.id, "format": fmt}


def title(round_: Round, fmt: str) -> str:
    return f"{FORMATS[fmt].label} of “{round_.name}”"


def run(job: Job, upload_dir: str) -> Outcome:
    fmt = job.params.get("format")
    round_ = db.session.get(Round, job.params.get("round") or 0)
    if round_ is None or fmt not in FORMATS:
        raise JobFailed("Nothing was exported: the round no longer exists.")
    spec = FORMATS[fmt]
    report(0, 3, f"Reading “{round_.name}”")
    view = round_view(round_)
    report(1, 3, f"Making the {spec.label}")
    try:
        export = build_export(view, fmt)
    except ExportUnavailable as error:
        raise JobFailed(f"Nothing was exported: {error}") from error
    report(2, 3, "Saving the file")
    path = files.save(upload_dir, job.id, spec.extension, export.data)
    record_export(round_, export, user=db.session.get(User, job.user_id))
    return Outcome(f"Exported “{round_.name}” as {export.name}.", path, export.name, export.mimetype)
