"""The evidence library: search and filter the portfolio; an item's page, its files, mappings and values."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from evidence import history
from evidence.assessment.assessments import citing_assessments, statement_by_key
from evidence.db import db
from evidence.fields import FIELD_LABELS, fields_for
from evidence.framework_sync import categories, category_by_key, statements_in_order
from evidence.library import items, mappings, metrics, search, storage
from evidence.library.metrics import format_value
from evidence.models import Attachment, Comment, EvidenceItem, Mapping
from evidence.portfolio_cache import figure, kept
from evidence.together import comments
from evidence.vocab import Kind, Status
from portal import downloads
from portal.charts import comparator_style, line_chart
from portal.comments import CommentForm, ResolveForm, said
from portal.forms import BaseForm, sentence
from portal.ids import page_arg, part_or_404
from portal.library.forms import ComparatorPointForm, FilterForm, MappingForm, PointForm
from portal.permissions import COUNCIL, CURATORS, READERS, allow, has_role
from portal.review.conflicts import item_page, refused
from portal.review.forms import review_form_class
from portal.templating import format_date

bp = Blueprint("library", __name__)

LONG_TEXT = {"question", "evidences", "audit_outcome"}


def _viewable_item_or_404(item_id: int) -> EvidenceItem:
    item = db.session.get(EvidenceItem, item_id)
    if item is None or not items.can_view(item, current_user):
        abort(404)  # not "forbidden": whether an item exists is itself not for everybody
    return item


# --- The library -----------------------------------------------------------------------------------


@bp.route("/evidence")
@allow(*READERS)
def index():
    curator = has_role(current_user, *CURATORS)
    form = FilterForm(request.args, statements=statements_in_order(), categories=categories(), owners=_owners())
    form.validate()
    stale = form.value("stale")
    owner = form.value("owner")
    values = {name: form.value(name) for name in ("q", "kind", "statement", "category", "stance", "status", "sort")}
    filters = search.Filters.asked(
        {
            **values,
            "owner_id": int(owner) if owner else None,
            "stale": None if stale is None else stale == "yes",
            "date_from": form.value("date_from"),
            "date_to": form.value("date_to"),
        },
        curator=curator,
    )
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        form.add_error(form.date_to, "Period to: must be on or after “Period from”.")
        filters.date_to = None
    filtered_by = _filtered_by(form, filters)

    def results(*_key) -> Markup:
        page = search.search(
            filters, page=page_arg(request.args.get("page")), per_page=current_app.config.get("PAGE_SIZE", 50)
        )
        return Markup(
            render_template(
                "library/_results.html", page=page, filters=filters, curator=curator, filtered_by=filtered_by
            )
        )

    # The query string decides the filters, the page and its links; the role decides what is listed.
    asked = tuple(sorted(request.args.items(multi=True)))
    return render_template(
        "library/index.html",
        form=form,
        filters=filters,
        curator=curator,
        results_html=kept("library.results.html", results, asked, curator),
    )


@dataclass(frozen=True)
class Owner:
    id: int
    name: str


@figure("library.owners")
def _owners() -> list[Owner]:
    """The owner filter's choices, kept as plain values per portfolio version."""
    return [Owner(u.id, u.name) for u in search.owners()]


# The filters named in the count above the results, in the order the form shows them.
NAMED_FILTERS = ("kind", "statement", "category", "stance", "owner", "stale")


def _filtered_by(form: FilterForm, filters: search.Filters) -> list[str]:
    """What narrowed the list besides the search words, as people read it: "kind Metric", "stale only"."""
    phrases = []
    for name in NAMED_FILTERS:
        value = form.value(name)
        if value is not None:
            label = dict(form[name].choices).get(value, value)
            phrases.append(label.lower() if name == "stale" else f"{form[name].label.text.lower()} {label}")
    if filters.date_from:
        phrases.append(f"period from {format_date(filters.date_from)}")
    if filters.date_to:
        phrases.append(f"period to {format_date(filters.date_to)}")
    return phrases


# --- One item ----------------------------------------------------------------------------------------


def _details(item: EvidenceItem) -> list[tuple[str, str, str]]:
    """(label, text, how to show it) for the item's kind-specific fields that have a value."""
    rows = []
    for name in fields_for(item.kind):
        value = getattr(item, name)
        if value is None or value == "" or name == "quote_text":
            continue
        if name in items.CHOICE_FIELDS:
            text, how = items.CHOICE_FIELDS[name](value).label, "text"
        elif name == "result_percent":
            text, how = format_value(value, "%"), "text"
        elif name == "target":
            text, how = format_value(value, item.unit or ""), "text"
        elif name in ("respondents", "cases_reviewed"):
            text, how = f"{value:,}", "text"
        elif name == "link_url":
            text, how = value, "link"
        else:
            text, how = str(value), "long" if name in LONG_TEXT else "text"
        rows.append((FIELD_LABELS[name], text, how))
    return rows


def _metric_views(item_id: int):
    """A metric's chart (rendered) and its table of values: the same for everyone until the portfolio changes."""
    item = db.session.get(EvidenceItem, item_id)
    chart = line_chart(
        item.points,
        target=item.target,
        comparators=item.comparators,
        unit=item.unit or "",
        title=f"{item.title}: values over time",
    )
    return chart, metrics.side_by_side(item.points, item.comparators, drawable=False)


def _render_item(
    item: EvidenceItem,
    *,
    mapping_form=None,
    point_form=None,
    comparator_form=None,
    comment_form=None,
    status: int = 200,
):
    curator = has_role(current_user, *CURATORS)
    statements = statements_in_order()
    if curator and mapping_form is None:
        mapping_form = MappingForm(formdata=None, statements=statements, categories=categories())
    adds_points = items.can_add_points(item, current_user)
    if adds_points and point_form is None:
        point_form = PointForm(formdata=None)
    if adds_points and comparator_form is None:
        comparator_form = ComparatorPointForm(formdata=None, prefix="comparator")
    chart, table = kept("item.metric.html", _metric_views, item.id) if item.kind == Kind.METRIC else (None, None)
    return (
        render_template(
            "library/item.html",
            item=item,
            details=_details(item),
            mappings=mappings.item_mappings(item),
            statement_names={s.key: s.name for s in statements},
            mapping_form=mapping_form if curator else None,
            point_form=point_form if adds_points else None,
            comparator_form=comparator_form if adds_points else None,
            comparator_style=comparator_style,
            table=table,
            remove_form=BaseForm(formdata=None),
            citations=citing_assessments(item),
            chart=chart,
            history=history.history("evidence_item", item.id),
            curator=curator,
            owner=items.is_owner(item, current_user),
            Status=Status,
            threads=comments.item_threads(item),
            comment_form=comment_form or CommentForm(formdata=None),
        ),
        status,
    )


@bp.route("/evidence/<int:item_id>")
@allow(*COUNCIL)
def item(item_id: int):
    return _render_item(_viewable_item_or_404(item_id))


# --- Editing an accepted item (a submission is edited on the review page) ----------------------------


def _render_edit(item: EvidenceItem, form, *, findings, conflict=None, status: int = 200):
    return render_template("library/edit.html", **item_page(item, form, findings=findings, conflict=conflict)), status


@bp.route("/evidence/<int:item_id>/edit", methods=["GET", "POST"])
@allow(*CURATORS)
def edit(item_id: int):
    item = _viewable_item_or_404(item_id)
    if item.status != Status.ACCEPTED:  # submissions are checked, edited and accepted on the review page
        return redirect(url_for("review.item", item_id=item.id))
    form = review_form_class(item.kind)(obj=item, statements=statements_in_order())
    form.existing_files = len(item.attachments)
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return _render_edit(item, form, findings=items.personal_data_findings(item), status=status)
    changes = form.item_fields()
    try:
        items.update_item(item, changes, user=current_user, expected_version=form.version.data or None)
    except items.VersionConflict as exc:
        conflict = refused(form, changes, exc)
        return _render_edit(
            item, form, findings=items.personal_data_findings(item, changes), conflict=conflict, status=409
        )
    except items.ItemError as exc:
        flash(f"Nothing was saved. {sentence(exc)}", "error")
        return _render_edit(item, form, findings=items.personal_data_findings(item, changes), status=422)
    flash(f"Changes to {item.reference} saved.", "success")
    return redirect(url_for("library.item", item_id=item.id))


@bp.route("/evidence/<int:item_id>/files/<int:attachment_id>")
@allow(*COUNCIL)
def download(item_id: int, attachment_id: int):
    item = _viewable_item_or_404(item_id)
    attachment = part_or_404(Attachment, attachment_id, item_id=item.id)
    return downloads.stored_file(
        storage.path_for(current_app.config["UPLOAD_DIR"], attachment.sha256),
        mimetype=attachment.content_type,
        name=attachment.original_name,
        missing=f"file {attachment.sha256} of {item.reference} is missing from the upload folder",
    )


@bp.route("/evidence/<int:item_id>/mappings", methods=["POST"])
@allow(*CURATORS)
def add_mapping(item_id: int):
    item = _viewable_item_or_404(item_id)
    form = MappingForm(statements=statements_in_order(), categories=categories())
    if form.validate_on_submit():
        statement, category = statement_by_key(form.statement.data), category_by_key(form.category.data)
        try:
            mappings.add_mapping(item, statement, category, form.stance.data, form.note.data, user=current_user)
        except mappings.MappingError as exc:
            db.session.rollback()
            form.add_error(form.statement, sentence(exc))
        else:
            flash(f"{item.reference} mapped to {statement.name} under {category.name}.", "success")
            return redirect(url_for("library.item", item_id=item.id, _anchor="mappings"))
    flash("The mapping was not added. See the problem below.", "error")
    return _render_item(item, mapping_form=form, status=422)


@bp.route("/evidence/<int:item_id>/mappings/<int:mapping_id>/remove", methods=["POST"])
@allow(*CURATORS)
def remove_mapping(item_id: int, mapping_id: int):
    item = _viewable_item_or_404(item_id)
    mapping = part_or_404(Mapping, mapping_id, item_id=item.id)
    if not BaseForm().validate_on_submit():
        abort(400)
    name = f"{mapping.statement.name} under {mapping.category.name}"
    try:
        mappings.remove_mapping(mapping, user=current_user)
    except mappings.MappingError as exc:
        flash(f"Nothing was removed. {sentence(exc)}", "error")
    else:
        flash(f"{item.reference} is no longer mapped to {name}.", "success")
    return redirect(url_for("library.item", item_id=item.id, _anchor="mappings"))


def _saved(item, point) -> str:
    """ "2026 Q1: 84.2% saved for E-12.", the comparator's name first when the point is one of its series."""
    series = getattr(point, "series", None)
    what = f"{series.name}, {point.label}" if series is not None else point.label
    return f"{what}: {format_value(point.value, item.unit or '')} saved for {item.reference}."


def _save_point(item_id: int, new_form, add, anchor: str, refused: str, form_name: str):
    """Save a metric's or a comparator's point from ``new_form()`` with ``add(item, form)``: back to the item,
    saying what was saved; else the item's page again, the domain's problem beside the field it names."""
    item = _viewable_item_or_404(item_id)
    if not items.can_add_points(item, current_user):
        abort(404)
    form = new_form()
    if form.validate_on_submit():
        try:
            point = add(item, form)
        except metrics.MetricError as exc:
            db.session.rollback()
            target = form[exc.field] if exc.field in ("value", "name") and exc.field in form else form.period
            form.add_error(target, f"{target.label.text}: {exc}.")
        else:
            flash(_saved(item, point), "success")
            return redirect(url_for("library.item", item_id=item.id, _anchor=anchor))
    flash(refused, "error")
    return _render_item(item, **{form_name: form}, status=422)


@bp.route("/evidence/<int:item_id>/points", methods=["POST"])
@allow(*COUNCIL)
def add_point(item_id: int):
    return _save_point(
        item_id,
        PointForm,
        lambda item, form: metrics.add_point(
            item, form.period.data, form.value.data, current_user, replace=form.replace.data
        ),
        "values",
        "The value was not saved. See the problem below.",
        "point_form",
    )


@bp.route("/evidence/<int:item_id>/comparators", methods=["POST"])
@allow(*COUNCIL)
def add_comparator_point(item_id: int):
    return _save_point(
        item_id,
        lambda: ComparatorPointForm(prefix="comparator"),
        lambda item, form: metrics.add_comparator_point(
            item, form.name.data, form.period.data, form.value.data, current_user, replace=form.replace.data
        ),
        "comparators",
        "The comparator's value was not saved. See the problem below.",
        "comparator_form",
    )


# --- The item's conversation ---------------------------------------------------------------------


@bp.route("/evidence/<int:item_id>/comments", methods=["POST"])
@allow(*COUNCIL)
def add_comment(item_id: int):
    item = _viewable_item_or_404(item_id)
    form = CommentForm()
    if not form.validate():
        flash("Comment not added: check the comment box.", "error")
        return _render_item(item, comment_form=form, status=422)
    try:
        posted = comments.comment_on_item(item, current_user, form.body.data, reply_to=form.reply_to.data)
    except comments.CommentError as error:
        form.add_error(form.body, sentence(error))
        return _render_item(item, comment_form=form, status=422)
    said(posted)
    return redirect(url_for("library.item", item_id=item.id, _anchor=f"comment-{posted.comment.id}"))


@bp.route("/evidence/<int:item_id>/comments/<int:comment_id>/resolve", methods=["POST"])
@allow(*COUNCIL)
def resolve_comment(item_id: int, comment_id: int):
    item = _viewable_item_or_404(item_id)
    comment = part_or_404(Comment, comment_id, item_id=item.id)
    if not ResolveForm().validate():
        abort(400)
    resolved = comments.toggle_resolved(comment, current_user)
    flash("Conversation resolved." if resolved else "Conversation reopened.", "success")
    return redirect(url_for("library.item", item_id=item.id, _anchor="comments"))
