"""Quality statements: the list, and each statement's page where evidence becomes a scored judgement."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from evidence.assessment import kept, peer
from evidence.assessment.actions import ActionConflict, ActionError, create_action, update_action
from evidence.assessment.assessments import (
    ConflictError,
    ValidationError,
    citation_problems,
    map_reference,
    save_assessment,
    statement_by_key,
    statement_page,
)
from evidence.assessment.rounds import RoundFrozenError, current_round
from evidence.db import db
from evidence.fields import ASSESSMENT_TEXTS
from evidence.history import history
from evidence.library.mappings import MappingError, remove_mapping
from evidence.library.trends import metrics_for_statement
from evidence.models import Action, Comment, Mapping, Round
from evidence.together import comments
from evidence.wording import count
from portal.caching import kept_html
from portal.comments import CommentForm, ResolveForm, said
from portal.forms import sentence
from portal.ids import id_arg, part_or_404
from portal.peer.forms import ResponseForm
from portal.permissions import CURATORS, READERS, allow, has_role
from portal.statements.forms import ActionForm, ConfirmForm, MappingForm, assessment_form
from quality_statements import scoring

bp = Blueprint("statements", __name__)


def _statement_or_404(key: str):
    statement = statement_by_key(key)
    if statement is None:
        abort(404)
    return statement


def _round_arg() -> int | None:
    """The round id of ?round=<id>, None without one; an address naming no round is not found."""
    raw = request.args.get("round")
    if not raw:
        return None
    round_id = id_arg(raw)
    if round_id is None:
        abort(404)
    return round_id


def _chosen_round(round_id: int | None = None) -> Round | None:
    """The round named by ?round=<id> (or ``round_id``), or the current round."""
    round_id = round_id if round_id is not None else _round_arg()
    if round_id is None:
        return kept.current()
    return db.get_or_404(Round, round_id)


def _chosen_page(key: str, round_id: int | None = None):
    """The statement the address names, the round it asks for, and the statement's page in that round."""
    statement = _statement_or_404(key)
    round_ = _chosen_round(round_id)
    return statement, round_, statement_page(statement, round_)


def _page_url(statement, round_, anchor=None) -> str:
    args = {"key": statement.key, "_anchor": anchor}
    if round_ is not None and round_ != kept.current():
        args["round"] = round_.id
    return url_for("statements.show", **args)


def _assessment_form(page, formdata=None):
    cats = page.categories
    if formdata is not None:
        return assessment_form(cats)
    a = page.assessment
    data = {"version": str(page.version)}
    if a is not None:
        data.update(score=a.score, override_reason=a.override_reason or "")
        data.update({name: a.text(name) for name in ASSESSMENT_TEXTS})
        for key, value in a.category_scores.items():
            data["category_" + key.replace("-", "_")] = value
    return assessment_form(cats, formdata=None, data=data)


def _mapping_form(page, formdata=True):
    form = MappingForm(prefix="map") if formdata else MappingForm(prefix="map", formdata=None)
    form.category.choices = page.categories
    return form


def _response_form(page):
    review = peer.review_for(page.round, page.statement)
    return ResponseForm(
        formdata=None,
        data={"response": review.response if review else "", "version": str(review.version if review else 0)},
    )


def _content(page, *, can_edit, form=None, map_form=None, action_form=None, comment_form=None, **shown) -> Markup:
    """The page below the site's header: everything but who is reading and their messages. ``shown`` is
    what else a request shows: a ``preview`` of a text, a ``conflict`` with someone's saved version."""
    if can_edit and page.editable and form is None:
        form = _assessment_form(page)
    if can_edit and not page.frozen and map_form is None:
        map_form = _mapping_form(page, formdata=False)
    if can_edit and (page.round is None or page.editable) and action_form is None:
        action_form = ActionForm(prefix="action", formdata=None)
    suggestion = None
    if form is not None:
        suggestion = scoring.suggested_score(form.category_scores())
    elif page.assessment is not None:
        suggestion = page.assessment.suggested
    round_id = _round_arg()
    return Markup(
        render_template(
            "statements/_page.html",
            page=page,
            statement=page.statement,
            round_arg=round_id,
            form=form if page.editable else None,
            map_form=map_form,
            action_form=action_form,
            remove_form=ConfirmForm(formdata=None),
            suggestion=suggestion,
            texts=ASSESSMENT_TEXTS,
            removable=map_form is not None,
            metrics=None if page.frozen else metrics_for_statement(page.statement),
            is_current=page.round is not None and page.round == kept.current(),
            threads=kept.threads(page.round, page.statement),
            peer_review=kept.peer_reviews(page.round).get(page.statement.key),
            peer_challenge=peer.challenge_of(page.round) if page.round else None,
            peer_difference=peer.difference_text,
            response_form=_response_form(page) if can_edit and page.editable else None,
            comment_form=(comment_form or CommentForm(formdata=None)) if page.editable else None,
            **shown,
        )
    )


def _render(page, *, status=200, **forms):
    """The page as it stands with the forms given (ones that failed, say), rendered for this request."""
    content = _content(page, can_edit=has_role(current_user, *CURATORS), **forms)
    return render_template("statements/show.html", title=page.statement.name, content=content), status


def _kept_content(key: str, round_id: int | None, can_edit: bool) -> tuple[str, Markup]:
    statement, _round, page = _chosen_page(key, round_id)
    return escape(statement.name), _content(page, can_edit=can_edit)


@bp.route("/statements")
@allow(*READERS)
def index():
    round_ = current_round()
    return render_template("statements/index.html", themes=kept.overview(round_), round=round_)


@bp.route("/statements/<key>")
@allow(*READERS)
def show(key):
    # A plain visit shows the same page to every reader, or every curator, until someone writes: it is
    # kept rendered per portfolio version.
    can_edit = has_role(current_user, *CURATORS)
    title, content = kept_html("statement.page", _kept_content, key, _round_arg(), can_edit)
    return render_template("statements/show.html", title=title, content=content)


@bp.route("/statements/<key>/assessment/<int:round_id>", methods=["POST"])
@allow(*CURATORS)
def save(key, round_id):
    statement = _statement_or_404(key)
    round_ = db.get_or_404(Round, round_id)
    page = statement_page(statement, round_)
    if page.frozen or round_.signed_off:
        flash(str(RoundFrozenError(round_)), "error")
        return redirect(_page_url(statement, round_))
    form = _assessment_form(page, formdata=True)
    if not form.validate():
        flash("Not saved: check the fields marked below.", "error")
        return _render(page, form=form, status=422)
    if form.preview.data:
        texts = {name: form[name].data or "" for name in ASSESSMENT_TEXTS}
        problems = citation_problems(*texts.values())
        behind = form.expected_version() != page.version  # someone has saved since the form was opened
        return _render(page, form=form, preview={"texts": texts, "problems": problems, "behind": behind})
    try:
        saved = save_assessment(round_, statement, form.assessment_data(), form.expected_version(), current_user)
    except RoundFrozenError as error:
        flash(str(error), "error")
        return redirect(_page_url(statement, round_))
    except ConflictError as error:
        flash(str(error), "error")
        # The form now carries their version: saving again is a deliberate choice to replace it.
        form.version.data = str(error.theirs.version if error.theirs else 0)
        return _render(statement_page(statement, round_), form=form, conflict=error.theirs, status=409)
    except ValidationError as error:  # every problem at once, each beside its field
        form.add_errors(error.errors)
        flash(f"Not saved: check the {count(len(error.errors), 'field')} marked below.", "error")
        return _render(page, form=form, status=422)
    if saved.version == form.expected_version():
        flash("No changes to save.", "info")
    else:
        flash(f"Assessment of {statement.name} saved.", "success")
    return redirect(_page_url(statement, round_, "assessment"))


@bp.route("/statements/<key>/mappings", methods=["POST"])
@allow(*CURATORS)
def add_mapping(key):
    statement, round_, page = _chosen_page(key)
    form = _mapping_form(page)
    if not form.validate():
        flash("Evidence not mapped: check the fields marked below.", "error")
        return _render(page, map_form=form, status=422)
    try:
        mapping = map_reference(
            statement, form.reference.data, form.category.data, form.stance.data, form.note.data, current_user
        )
    except MappingError as error:
        form.add_error(form.reference, str(error))
        flash(f"Evidence not mapped: {error}", "error")
        return _render(page, map_form=form, status=422)
    flash(
        f"Mapped {mapping.item.reference} to {statement.name} under {mapping.category.name} "
        f"as {mapping.stance_label.lower()}.",
        "success",
    )
    return redirect(_page_url(statement, round_, "evidence"))


@bp.route("/statements/<key>/mappings/<int:mapping_id>/remove", methods=["POST"])
@allow(*CURATORS)
def remove(key, mapping_id):
    statement = _statement_or_404(key)
    mapping = part_or_404(Mapping, mapping_id, statement_id=statement.id)
    if not ConfirmForm().validate():
        abort(400)
    reference, category_name = mapping.item.reference, mapping.category.name
    try:
        remove_mapping(mapping, user=current_user)
    except MappingError as error:
        flash(f"Nothing was removed: {error}.", "error")
    else:
        flash(f"Removed {reference} from {statement.name} ({category_name}).", "success")
    return redirect(_page_url(statement, _chosen_round(), "evidence"))


@bp.route("/statements/<key>/actions", methods=["POST"])
@allow(*CURATORS)
def add_action(key):
    statement, round_, page = _chosen_page(key)
    form = ActionForm(prefix="action")
    if not form.validate():
        flash("Action not saved: check the fields marked below.", "error")
        return _render(page, action_form=form, status=422)
    try:
        create_action(statement, form.action_data(), current_user, round_)
    except RoundFrozenError as error:
        flash(str(error), "error")
        return redirect(_page_url(statement, round_, "actions"))
    except ActionError as error:
        form.add_errors(error.errors)
        return _render(page, action_form=form, status=422)
    flash("Improvement action added.", "success")
    return redirect(_page_url(statement, round_, "actions"))


@bp.route("/statements/<key>/actions/<int:action_id>/edit", methods=["GET", "POST"])
@allow(*CURATORS)
def edit_action(key, action_id):
    statement = _statement_or_404(key)
    action = part_or_404(Action, action_id, statement_id=statement.id)
    round_ = db.session.get(Round, action.round_id) if action.round_id else None
    back = _page_url(statement, round_, "actions")
    if round_ is not None and round_.signed_off:
        flash(str(RoundFrozenError(round_)), "error")
        return redirect(back)
    form = ActionForm(obj=action)
    status = 200
    if form.validate_on_submit():
        try:
            changed = update_action(action, form.action_data(), current_user, form.version.data or None)
        except RoundFrozenError as error:
            flash(str(error), "error")
            return redirect(back)
        except ActionConflict as error:
            form.add_errors(error.errors)
            form.version.data = str(action.version)  # saving again is a deliberate choice to replace theirs
            status = 409
        except ActionError as error:
            form.add_errors(error.errors)
            status = 422
        else:
            flash("Action updated." if changed else "No changes to save.", "success" if changed else "info")
            return redirect(back)
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "statements/action_edit.html",
            statement=statement,
            action=action,
            round=round_,
            form=form,
            back=back,
            history=history("action", action.id),
        ),
        status,
    )


# --- The statement's conversation in a round ------------------------------------------------------


@bp.route("/statements/<key>/comments/<int:round_id>", methods=["POST"])
@allow(*READERS)
def add_comment(key, round_id):
    statement = _statement_or_404(key)
    round_ = db.get_or_404(Round, round_id)
    form = CommentForm()
    if not form.validate():
        flash("Comment not added: check the comment box.", "error")
        return _render(statement_page(statement, round_), comment_form=form, status=422)
    try:
        posted = comments.comment_on_statement(
            round_, statement, current_user, form.body.data, reply_to=form.reply_to.data
        )
    except RoundFrozenError as error:
        flash(str(error), "error")
        return redirect(_page_url(statement, round_, "comments"))
    except comments.CommentError as error:
        form.add_error(form.body, sentence(error))
        return _render(statement_page(statement, round_), comment_form=form, status=422)
    said(posted)
    return redirect(_page_url(statement, round_, f"comment-{posted.comment.id}"))


@bp.route("/statements/<key>/comments/<int:round_id>/<int:comment_id>/resolve", methods=["POST"])
@allow(*READERS)
def resolve_comment(key, round_id, comment_id):
    statement = _statement_or_404(key)
    round_ = db.get_or_404(Round, round_id)
    comment = part_or_404(Comment, comment_id, round_id=round_.id, statement_id=statement.id)
    if not ResolveForm().validate():
        abort(400)
    try:
        resolved = comments.toggle_resolved(comment, current_user)
    except RoundFrozenError as error:
        flash(str(error), "error")
    else:
        flash("Conversation resolved." if resolved else "Conversation reopened.", "success")
    return redirect(_page_url(statement, round_, "comments"))
