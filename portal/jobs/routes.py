"""A job's page (a progress bar, then Download or Retry), its state as JSON for the page's poll, its file."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from evidence.jobs import files, import_job, store
from evidence.models import Job
from evidence.vocab import Role
from portal import downloads
from portal.forms import BaseForm
from portal.jobs import bp
from portal.jobs import cli as _cli  # noqa: F401  (attaches `flask jobs worker` to the blueprint)
from portal.jobs.runners import check, retry
from portal.permissions import READERS, allow, has_role

# How often the page without JavaScript reloads itself while the job runs.
REFRESH_SECONDS = 2


def job_or_404(job_id: str) -> Job:
    """The job, if this person may see it: its owner, or an administrator. Anybody else is told it is not there."""
    job = store.find(job_id)
    if job is None or not (job.user_id == current_user.id or has_role(current_user, Role.ADMIN)):
        abort(404)
    return check(job)


def _file(job: Job):
    return files.path_of(current_app.config["UPLOAD_DIR"], job.result_path)


def _downloadable(job: Job) -> bool:
    # A check's file is its preview, which the import's preview page shows.
    return job.state == store.DONE and job.kind != import_job.CHECK and _file(job) is not None


def _state(job: Job) -> dict:
    total = job.progress_total
    percent = None
    if job.state == store.DONE:
        percent = 100
    elif total:
        percent = min(100, int(100 * job.progress_done / total))
    return {
        "id": job.id,
        "state": job.state,
        "done": job.progress_done,
        "total": total,
        "percent": percent,
        "stage": job.stage,
        "message": job.message,
        "error": job.error,
        "download": url_for("jobs.download", job_id=job.id) if _downloadable(job) else None,
        "can_retry": store.can_retry(job),
    }


@bp.route("/jobs/<job_id>")
@allow(*READERS)
def show(job_id: str):
    job = job_or_404(job_id)
    if job.kind == import_job.CHECK and job.state == store.DONE:  # checked: on to its preview
        params = job.params or {}
        return redirect(
            url_for("imports.preview", kind=params.get("kind") or "-", digest=params.get("digest") or "-", check=job.id)
        )
    state = _state(job)
    return render_template(
        "jobs/show.html",
        job=job,
        state=state,
        active=job.state in store.ACTIVE,
        retry_form=BaseForm(),
        refresh=REFRESH_SECONDS,
        back=_back(job),
    )


@bp.route("/jobs/<job_id>.json")
@allow(*READERS)
def status(job_id: str):
    response = jsonify(_state(job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/jobs/<job_id>/download")
@allow(*READERS)
def download(job_id: str):
    job = job_or_404(job_id)
    path = _file(job) if job.state == store.DONE else None
    return downloads.stored_file(path, mimetype=job.result_type, name=job.result_name)


@bp.route("/jobs/<job_id>/retry", methods=["POST"])
@allow(*READERS)
def retry_job(job_id: str):
    job = job_or_404(job_id)
    form = BaseForm()
    if not form.validate_on_submit() or not retry(job):
        flash("That job is not waiting to be retried.", "error")
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


def _back(job: Job) -> tuple[str, str]:
    """Where the person came from, to go back to."""
    params = job.params or {}
    if job.kind == import_job.CHECK:
        return "Back to the import", url_for("imports.upload", kind=params.get("kind") or "")
    if job.kind == import_job.KIND:
        kind = params.get("kind") or ""
        if job.state == store.FAILED:
            return "Back to the preview", url_for("imports.preview", kind=kind, digest=params.get("digest") or "-")
        return "Back to the import", url_for("imports.upload", kind=kind)
    return "Back to Exports", url_for("exports.index", round=params.get("round"), format=params.get("format"))
