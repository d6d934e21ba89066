"""Submit a finding, and see what happened to what you sent."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from evidence.db import db
from evidence.framework_sync import statements_in_order
from evidence.library import items, personal_data, storage
from evidence.models import EvidenceItem
from evidence.vocab import Kind, Status
from portal.forms import sentence
from portal.ids import page_arg
from portal.permissions import COUNCIL, allow
from portal.submissions.forms import FIELD_HINTS, KIND_DESCRIPTIONS, POINT_ROWS, form_class

bp = Blueprint("submissions", __name__)


def _kind_or_none(value: str | None) -> Kind | None:
    try:
        return Kind(value) if value else None
    except ValueError:
        return None


@bp.route("/submit", methods=["GET", "POST"])
@allow(*COUNCIL)
def new():
    kind = _kind_or_none(request.args.get("kind"))
    if kind is None:
        if request.args.get("kind"):
            flash("That is not a kind of finding the portal knows. Choose one of these.", "error")
        return render_template("submissions/choose.html", kinds=list(Kind), descriptions=KIND_DESCRIPTIONS)
    form = form_class(kind)(statements=statements_in_order())

    def create() -> EvidenceItem:
        return items.create_item(
            kind,
            form.item_fields(),
            user=current_user,
            points=form.point_values(),
            files=form.stored_files(current_app.config["UPLOAD_DIR"]),
        )

    return _form_page(
        form,
        kind,
        None,
        create,
        lambda item: f"Thank you. {item.reference} “{item.title}” is with the quality lead for review.",
    )


@bp.route("/my-submissions")
@allow(*COUNCIL)
def mine():
    page = db.paginate(
        items.items_for_owner(current_user).options(selectinload(EvidenceItem.reviewed_by)),
        page=page_arg(request.args.get("page")),
        per_page=current_app.config.get("PAGE_SIZE", 50),
        error_out=False,
    )
    return render_template("submissions/mine.html", page=page, Status=Status)


@bp.route("/my-submissions/<int:item_id>/edit", methods=["GET", "POST"])
@allow(*COUNCIL)
def edit(item_id: int):
    """A returned item, corrected by its submitter and sent back for review."""
    item = db.session.get(EvidenceItem, item_id)
    if item is None or not items.is_owner(item, current_user):
        abort(404)
    if item.status != Status.RETURNED:
        flash(f"{item.reference} is {item.status_label.lower()}; only a returned item can be changed here.", "info")
        return redirect(url_for("library.item", item_id=item.id))
    rows = max(POINT_ROWS, len(item.points) + 3) if item.kind == Kind.METRIC else 0
    form = form_class(item.kind, point_rows=rows)(obj=item, statements=statements_in_order())
    form.existing_files = len(item.attachments)
    if request.method == "GET" and rows:
        form.fill_points(item.points)

    def resubmit() -> EvidenceItem:
        return items.resubmit(
            item,
            form.item_fields(),
            user=current_user,
            points=form.point_values() if rows else None,
            files=form.stored_files(current_app.config["UPLOAD_DIR"]),
            expected_version=form.version.data or None,
        )

    return _form_page(
        form, Kind(item.kind), item, resubmit, lambda _: f"{item.reference} is back with the quality lead for review."
    )


def _form_page(form, kind: Kind, item: EvidenceItem | None, save: Callable[[], EvidenceItem], thanks):
    """Save a form that validates (``save``) and say ``thanks`` for it; else show the form, and why not.

    Text that looks like personal data is shown to the submitter before it is sent: they remove it, or tick
    that they have checked it (the quality lead still checks before accepting)."""
    findings = []
    if form.validate_on_submit():
        findings = personal_data.scan_values(form.item_fields())
        if findings and not form.personal_data_checked.data:
            form.add_error(
                form.personal_data_checked,
                "Personal data check: remove what is flagged, or tick the box to say you have checked it.",
            )
            flash("Nothing was sent yet: some of the text looks like personal data. See below.", "error")
        else:
            try:
                saved = save()
            except items.ItemError as exc:
                flash(f"Nothing was saved. {sentence(exc)}", "error")
            else:
                flash(thanks(saved), "success")
                return redirect(url_for("submissions.mine"))
    return render_template(
        "submissions/form.html",
        form=form,
        kind=kind,
        hints=FIELD_HINTS,
        description=KIND_DESCRIPTIONS[kind],
        item=item,
        accept_files=storage.ACCEPT_ATTRIBUTE,
        findings=findings,
        file_dropped=bool(findings) and form.has_file(),
    ), 422 if form.is_submitted() else 200
