"""Importing spreadsheets: explain the columns, offer templates, upload, preview, confirm."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from evidence import imports
from evidence.imports import ImportConflict, ImportNotReady, ImportRefused, UploadMissing
from portal.imports.forms import ConfirmForm, UploadForm
from portal.permissions import CURATORS, allow

bp = Blueprint("imports", __name__, url_prefix="/import")

# How each planned action is tagged in the preview.
ACTION_CLASSES = {imports.CREATE: "tag--accepted", imports.UPDATE: "tag--returned", imports.UNCHANGED: ""}


def _importer_or_404(kind: str) -> imports.Importer:
    return imports.get_importer(kind) or abort(404)


def _upload_dir() -> str:
    return current_app.config["UPLOAD_DIR"]


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
        try:
            stored = imports.accept_upload(_upload_dir(), importer, upload_file.filename or "", upload_file.read())
        except ImportRefused as exc:
            form.add_error(form.file, f"{upload_file.filename or 'The file'} was not imported. {exc}")
            status = 422
        else:
            return redirect(url_for("imports.preview", kind=kind, digest=stored.digest))
    elif request.method == "POST":
        status = 422
    return render_template("imports/upload.html", importer=importer, form=form, imports=imports), status


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
    importer = _importer_or_404(kind)
    try:
        plan = imports.preview_upload(_upload_dir(), importer, digest)
    except UploadMissing:
        abort(404)
    except ImportRefused as exc:
        flash(f"The file was not imported: {exc}", "error")
        return redirect(url_for("imports.upload", kind=kind))
    form = ConfirmForm(digest=digest)
    return render_template(
        "imports/preview.html",
        importer=importer,
        plan=plan,
        form=form,
        upload_form=UploadForm(),
        action_classes=ACTION_CLASSES,
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
