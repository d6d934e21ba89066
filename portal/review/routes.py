"""The review queue: the quality lead accepts submissions (editing them first if needed) or returns them."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from evidence import history
from evidence.db import db
from evidence.framework_sync import statements_in_order
from evidence.library import items, mappings
from evidence.models import EvidenceItem
from evidence.vocab import Status
from portal.forms import sentence
from portal.ids import page_arg
from portal.permissions import CURATORS, allow
from portal.review.conflicts import item_page, refused
from portal.review.forms import ReturnForm, review_form_class

bp = Blueprint("review", __name__)

QUEUES = {
    Status.SUBMITTED: "Waiting for review",
    Status.RETURNED: "Returned, waiting for the submitter",
}


def _item_or_404(item_id: int) -> EvidenceItem:
    return db.session.get(EvidenceItem, item_id) or abort(404)


@bp.route("/review")
@allow(*CURATORS)
def queue():
    show = request.args.get("show", Status.SUBMITTED)
    if show not in QUEUES:
        show = Status.SUBMITTED
    page = db.paginate(
        items.review_queue(show),
        page=page_arg(request.args.get("page")),
        per_page=current_app.config.get("PAGE_SIZE", 50),
        error_out=False,
    )
    counts = items.status_counts(QUEUES)
    flags = {item.id: items.personal_data_findings(item) for item in page.items}
    return render_template(
        "review/queue.html", page=page, show=show, queues=QUEUES, counts=counts, flags=flags, Status=Status
    )


def _render(item: EvidenceItem, form, return_form, findings, status: int = 200, conflict=None):
    return (
        render_template(
            "review/item.html",
            **item_page(item, form, findings=findings, conflict=conflict),
            return_form=return_form,
            mappings=mappings.item_mappings(item),
            history=history.history("evidence_item", item.id),
            Status=Status,
        ),
        status,
    )


def _review_form(item: EvidenceItem, **kwargs):
    form = review_form_class(item.kind)(obj=item, statements=statements_in_order(), **kwargs)
    form.existing_files = len(item.attachments)
    return form


@bp.route("/review/<int:item_id>", methods=["GET", "POST"])
@allow(*CURATORS)
def item(item_id: int):
    item = _item_or_404(item_id)
    if item.status == Status.ACCEPTED and request.method == "GET":  # the review is for submissions
        return redirect(url_for("library.edit", item_id=item.id))
    form = _review_form(item)
    findings = items.personal_data_findings(item)
    conflict = None
    status = 422 if form.is_submitted() else 200  # a save that gets this far was refused
    if form.validate_on_submit():
        changes = form.item_fields()
        version = form.version.data or None
        if request.form.get("action") == "accept":
            try:
                items.accept_item(
                    item,
                    user=current_user,
                    changes=changes,
                    confirm_personal_data=form.confirm_personal_data.data,
                    expected_version=version,
                )
            except items.PersonalDataFound:
                form.add_error(
                    form.confirm_personal_data,
                    "Personal data check: tick the box to confirm you have checked what is flagged, "
                    "or remove it from the text, before accepting.",
                )
                flash(f"{item.reference} was not accepted: its text looks like it holds personal data.", "error")
            except items.VersionConflict as exc:
                conflict = refused(form, changes, exc)
            except items.ItemError as exc:
                flash(f"Nothing was saved. {sentence(exc)}", "error")
            else:
                flash(
                    f"{item.reference} accepted"
                    + (" with the personal data confirmation recorded" if item.personal_data else "")
                    + ". Map it to the quality statements it evidences.",
                    "success",
                )
                return redirect(url_for("library.item", item_id=item.id))
        else:
            try:
                items.update_item(item, changes, user=current_user, expected_version=version)
            except items.VersionConflict as exc:
                conflict = refused(form, changes, exc)
            except items.ItemError as exc:
                flash(f"Nothing was saved. {sentence(exc)}", "error")
            else:
                flash(f"Changes to {item.reference} saved.", "success")
                return redirect(url_for("review.item", item_id=item.id))
        findings = items.personal_data_findings(item, changes)  # as the reviewer's edits would read
    if conflict is not None:
        return _render(item, form, ReturnForm(formdata=None), findings, 409, conflict)
    return _render(item, form, ReturnForm(formdata=None), findings, status)


@bp.route("/review/<int:item_id>/return", methods=["POST"])
@allow(*CURATORS)
def send_back(item_id: int):
    item = _item_or_404(item_id)
    return_form = ReturnForm()
    if return_form.validate_on_submit():
        try:
            items.return_item(item, user=current_user, reason=return_form.reason.data)
        except items.ItemError as exc:
            flash(f"Nothing was changed. {sentence(exc)}", "error")
            return redirect(url_for("review.item", item_id=item.id))
        who = item.submitted_by.name if item.submitted_by else "the submitter"
        flash(f"{item.reference} returned to {who}, who will see your reason in their submissions.", "success")
        return redirect(url_for("review.queue"))
    flash(f"{item.reference} was not returned: give a reason.", "error")
    return _render(item, _review_form(item, formdata=None), return_form, items.personal_data_findings(item), 422)
