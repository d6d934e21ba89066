"""The Exports page: choose a round and a format, see the checks, then make the file as a job (or stop)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from evidence.assessment.rounds import all_rounds, current_round
from evidence.db import db
from evidence.jobs import export_job
from evidence.models import Round
from exports.packs import FORMATS, prepare_export, preview_markdown
from portal.exports import bp
from portal.exports import cli as _cli  # noqa: F401  (attaches `flask export` to the blueprint)
from portal.exports.forms import ChooseForm, DownloadForm
from portal.jobs.runners import start
from portal.permissions import READERS, allow

# How many findings of each check the page lists before summing up the rest.
SHOWN = 100


@bp.route("/exports")
@allow(*READERS)
def index():
    rounds = all_rounds()
    chosen = bool(request.args)
    form = ChooseForm(formdata=request.args if chosen else None)
    form.round.choices = [(r.id, f"{r.name} ({r.status_label.lower()})") for r in rounds]
    if not chosen:
        current = current_round()
        form.round.data = current.id if current else None
    prepared = download = None
    status = 200
    if chosen and rounds:
        if form.validate():
            prepared = prepare_export(db.session.get(Round, form.round.data))
            download = DownloadForm(formdata=None, round=form.round.data, format=form.format.data)
        else:
            status = 422
    return (
        render_template(
            "exports/index.html",
            rounds=rounds,
            form=form,
            prepared=prepared,
            download=download,
            format=FORMATS.get(form.format.data),
            shown=SHOWN,
        ),
        status,
    )


@bp.route("/exports/download", methods=["POST"])
@allow(*READERS)
def download():
    """Start making the file, as a job: the answer is the job's page, which offers the file when it is ready."""
    form = DownloadForm()
    round_ = db.session.get(Round, form.round.data) if form.validate() else None
    if round_ is None:
        flash(
            "Nothing was exported: choose a round and a format, then look at the checks before you download.", "error"
        )
        return redirect(url_for("exports.index"))
    fmt = form.format.data
    return start(export_job.KIND, current_user, export_job.params(round_, fmt), export_job.title(round_, fmt))


@bp.route("/exports/preview/<int:round_id>/<key>")
@allow(*READERS)
def preview(round_id: int, key: str):
    round_ = db.session.get(Round, round_id) or abort(404)
    try:
        view, text = preview_markdown(round_, key)
    except KeyError:
        abort(404)
    return render_template("exports/preview.html", round=round_, view=view, key=key, text=text)
