"""Importing spreadsheets: explain the columns, offer templates, upload, preview, confirm."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from openpyxl.utils import get_column_letter

from evidence import imports
from evidence.imports import ImportConflict, ImportNotReady, ImportRefused, UploadMissing, layouts
from evidence.imports.preview import Preview
from evidence.imports.reading import LayoutKeepsNothing, NeedsLayout, rows_in
from evidence.jobs import import_job, store
from portal.imports.forms import ConfirmForm, LayoutForm, UploadForm
from portal.jobs.routes import job_or_404
from portal.jobs.runners import start
from portal.permissions import CURATORS, allow

bp = Blueprint("imports", __name__, url_prefix="/import")

# How each planned action is tagged in the preview.
ACTION_CLASSES = {imports.CREATE: "tag--accepted", imports.UPDATE: "tag--returned", imports.UNCHANGED: ""}


def _importer_or_404(kind: str) -> imports.Importer:
    return imports.get_importer(kind) or abort(404)


def _upload_dir() -> str:
    return current_app.config["UPLOAD_DIR"]


def _large(stored: imports.StoredUpload) -> bool:
    """Is the file read, checked and written by jobs? Reading takes a second or more per thousand rows."""
    return rows_in(stored.data, stored.format) > current_app.config["JOBS_IMPORT_ROWS"]


def _onward(importer: imports.Importer, stored: imports.StoredUpload):
    """After the upload (or its layout): the columns page, the preview, or the job that checks a large file."""
    if stored.needs_layout:
        return redirect(url_for("imports.columns", kind=importer.key, digest=stored.digest))
    if _large(stored):
        params = import_job.params(importer, stored)
        return start(import_job.CHECK, current_user, params, import_job.check_title(importer, stored))
    return redirect(url_for("imports.preview", kind=importer.key, digest=stored.digest))


@bp.route("")
@allow(*CURATORS)
def index():
    return render_template("imports/index.html", importers=list(imports.IMPORTERS.values()))


@bp.route("/<kind>", methods=["GET", "POST"])
@allow(*CURATORS)
def upload(kind: str):
    importer = _importer_or_404(kind)
    form = UploadForm()
    status = 200
    if form.validate_on_submit():
        upload_file = form.file.data
        name, data = upload_file.filename or "", upload_file.read()
        try:
            largest = current_app.config["JOBS_IMPORT_ROWS"]
            stored = imports.accept_upload(_upload_dir(), importer, name, data, check_rows_up_to=largest)
        except ImportRefused as exc:
            form.add_error(form.file, f"{upload_file.filename or 'The file'} was not imported. {exc}")
            status = 422
        else:
            return _onward(importer, stored)
    elif request.method == "POST":
        status = 422
    saved = layouts.saved(kind) if importer.accepts_layouts else []
    return (
        render_template("imports/upload.html", importer=importer, form=form, imports=imports, layouts=saved),
        status,
    )


@bp.route("/<kind>/template.<fmt>")
@allow(*CURATORS)
def template(kind: str, fmt: str):
    importer = _importer_or_404(kind)
    if fmt not in ("xlsx", "csv"):
        abort(404)
    data, filename, content_type = imports.template(importer, fmt)
    return current_app.response_class(
        data,
        mimetype=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/<kind>/preview/<digest>")
@allow(*CURATORS)
def preview(kind: str, digest: str):
    """What the import would do; a large file's as its check (``?check=<job>``) kept it, else checked now."""
    importer = _importer_or_404(kind)
    try:
        stored = imports.load_upload(_upload_dir(), digest)
    except UploadMissing:
        abort(404)
    if request.args.get("check"):
        shown = _checked(importer, stored, request.args["check"])
        if not isinstance(shown, Preview):
            return shown
    elif _large(stored):
        return _onward(importer, stored)
    else:
        try:
            shown = Preview.of(imports.plan_file(importer, stored.filename, stored.data, stored.format))
        except NeedsLayout as exc:  # the columns page says why a file without a layout needs one
            if isinstance(exc, LayoutKeepsNothing):
                flash(str(exc), "error")
            return redirect(url_for("imports.columns", kind=kind, digest=digest))
        except ImportRefused as exc:
            flash(f"The file was not imported: {exc}", "error")
            return redirect(url_for("imports.upload", kind=kind))
    return render_template(
        "imports/preview.html",
        importer=importer,
        plan=shown,
        form=ConfirmForm(digest=digest),
        upload_form=UploadForm(),
        action_classes=ACTION_CLASSES,
    )


def _checked(importer: imports.Importer, stored: imports.StoredUpload, job_id: str):
    """The preview the named check kept for this upload, or where to go instead: the job while it runs, a new
    check once its preview is gone."""
    job = job_or_404(job_id)
    params = job.params or {}
    if job.kind != import_job.CHECK or params.get("kind") != importer.key or params.get("digest") != stored.digest:
        abort(404)
    if job.state != store.DONE:
        return redirect(url_for("jobs.show", job_id=job.id))
    return import_job.preview_of(job, _upload_dir()) or _onward(importer, stored)


@bp.route("/<kind>/columns/<digest>", methods=["GET", "POST"])
@allow(*CURATORS)
def columns(kind: str, digest: str):
    """Say which column of the file is which, and which rows to take; saved as a layout for files like it."""
    importer = _importer_or_404(kind)
    if not importer.accepts_layouts:
        abort(404)
    try:
        stored, table = imports.inspect_upload(_upload_dir(), importer, digest)
    except UploadMissing:
        abort(404)
    except ImportRefused as exc:
        flash(f"The file was not imported: {exc}", "error")
        return redirect(url_for("imports.upload", kind=kind))
    existing = layouts.find(kind, table.header)
    choice = layouts.suggest(importer, table, existing)
    form = LayoutForm.for_file(importer, table, choice, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                layout = imports.save_layout(_upload_dir(), importer, digest, form.choice(), current_user)
            except layouts.LayoutError as exc:
                form.add_error(exc.field if exc.field in form else "name", f"{exc}.")
            else:
                flash(f"Layout “{layout.name}” saved: files with this header will be read with it.", "success")
                return _onward(importer, stored)
        status = 400
    try:
        importer.match_header(table.header, table.header_row)
        reason = ""
    except ImportRefused as exc:
        reason = str(exc)
    file_columns = [
        {"letter": get_column_letter(p + 1), "heading": h, "samples": layouts.samples(table, p)}
        for p, h in enumerate(table.header)
        if h
    ]
    return (
        render_template(
            "imports/columns.html",
            importer=importer,
            stored=stored,
            table=table,
            form=form,
            existing=existing,
            reason=reason,
            file_columns=file_columns,
        ),
        status,
    )


@bp.route("/<kind>/confirm", methods=["POST"])
@allow(*CURATORS)
def confirm(kind: str):
    importer = _importer_or_404(kind)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("That import could not be found. Upload the file again.", "error")
        return redirect(url_for("imports.upload", kind=kind))
    digest = form.digest.data
    try:
        stored = imports.load_upload(_upload_dir(), digest)
    except UploadMissing:
        flash("That upload is no longer waiting to be imported. Upload the file again.", "error")
        return redirect(url_for("imports.upload", kind=kind))
    if _large(stored):
        # A large file is read, checked and written by a job (still in one transaction); the answer is its page.
        confirmed = bool(form.confirm_personal_data.data)
        params = import_job.params(importer, stored, confirmed)
        return start(import_job.KIND, current_user, params, import_job.title(importer, stored))
    try:
        result = imports.confirm_upload(
            _upload_dir(), importer, digest, current_user, confirm_personal_data=form.confirm_personal_data.data
        )
    except UploadMissing:
        flash("That upload is no longer waiting to be imported. Upload the file again.", "error")
        return redirect(url_for("imports.upload", kind=kind))
    except (ImportRefused, ImportNotReady, ImportConflict) as exc:
        flash(str(exc), "error")
        return redirect(url_for("imports.preview", kind=kind, digest=digest))
    flash(result.message, "success")
    return redirect(url_for("imports.upload", kind=kind))
