"""The peer challenge. Reviewers: the rounds they are invited to, each round's dashboard, its statements (with
their rating and challenge) and the evidence those cite, all read-only but the rating. The council: a manager
opens and closes the challenge and invites reviewers; a quality lead writes the council's response."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from evidence.assessment import peer
from evidence.assessment.assessments import statement_by_key
from evidence.assessment.round_view import round_view
from evidence.assessment.rounds import round_overview
from evidence.db import db
from evidence.fields import FIELD_LABELS
from evidence.library import citations
from evidence.models import Round, User, utcnow
from exports.report import build_report
from portal.forms import sentence
from portal.peer.forms import ConfirmForm, InviteForm, RatingForm, ResponseForm, version_of
from portal.permissions import CURATORS, PEER_REVIEWERS, SIGNERS, allow

bp = Blueprint("peer", __name__, url_prefix="/peer")


def _invited_round_or_404(round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None or not peer.is_invited(current_user, round_):
        abort(404)  # a round the reviewer is not invited to is not there for them
    return round_


def _statement_or_404(key: str):
    statement = statement_by_key(key)
    if statement is None:
        abort(404)
    return statement


def _cited_ids(view) -> set[int]:
    return {citations.reference_id(ref) for a in view.assessments.values() for ref in a.citations}


# --- The reviewer's pages ------------------------------------------------------------------------


@bp.route("")
@allow(*PEER_REVIEWERS)
def index():
    return render_template("peer/index.html", rounds=peer.invited_rounds(current_user), is_open=peer.is_open)


@bp.route("/rounds/<int:round_id>")
@allow(*PEER_REVIEWERS)
def round_page(round_id: int):
    round_ = _invited_round_or_404(round_id)
    overview = round_overview(round_)
    reviews = peer.reviews_of(round_)
    return render_template(
        "peer/round.html",
        round=round_,
        overview=overview,
        reviews=reviews,
        difference=peer.difference_text,
        open=peer.is_open(round_),
    )


def _statement_page(round_, statement, form=None, conflict=None, status=200):
    view = round_view(round_)
    section = next((s for s in build_report(view, utcnow()).sections if s.key == statement.key), None)
    if section is None:
        abort(404)
    review = view.peer_reviews.get(statement.key)
    open_ = peer.is_open(round_)
    if open_ and form is None:
        form = RatingForm(
            formdata=None,
            data={
                "rating": str(review.rating) if review and review.rating else "",
                "challenge": review.challenge if review else "",
                "version": str(_version(round_, statement)),
            },
        )
    return (
        render_template(
            "peer/statement.html",
            round=round_,
            statement=statement,
            section=section,
            review=review,
            form=form if open_ else None,
            conflict=conflict,
            cited=_cited_ids(view),
            ref_id=citations.reference_id,
            difference=peer.difference_text,
        ),
        status,
    )


def _version(round_, statement) -> int:
    row = peer.review_for(round_, statement)
    return row.version if row else 0


@bp.route("/rounds/<int:round_id>/statements/<key>", methods=["GET", "POST"])
@allow(*PEER_REVIEWERS)
def statement(round_id: int, key: str):
    round_ = _invited_round_or_404(round_id)
    statement = _statement_or_404(key)
    if request.method == "GET":
        return _statement_page(round_, statement)
    form = RatingForm()
    if form.validate():
        here = url_for("peer.statement", round_id=round_.id, key=statement.key)
        try:
            peer.save_rating(
                round_, statement, current_user, form.rating_value(), form.challenge.data, version_of(form)
            )
        except peer.PeerConflict as error:
            flash(str(error), "error")
            form.version.data = str(error.theirs.version if error.theirs else 0)
            return _statement_page(round_, statement, form, conflict=error.theirs, status=409)
        except peer.RoundFrozenError as error:
            flash(str(error), "error")
            return redirect(here)
        except peer.PeerError as error:
            if "" in error.errors:
                flash(sentence(error), "error")
                return redirect(here)
            form.add_errors(error.errors)
        else:
            flash(f"Your rating of {statement.name} is saved.", "success")
            return redirect(url_for("peer.round_page", round_id=round_.id))
    else:
        flash("Not saved: check the fields marked below.", "error")
    return _statement_page(round_, statement, form, status=422)


@bp.route("/rounds/<int:round_id>/evidence/<int:item_id>")
@allow(*PEER_REVIEWERS)
def evidence(round_id: int, item_id: int):
    round_ = _invited_round_or_404(round_id)
    view = round_view(round_)
    item = view.items.get(item_id)
    if item is None or item_id not in _cited_ids(view):
        abort(404)  # only what the round's assessments cite
    details = [(FIELD_LABELS.get(name, name), value) for name, value in item.details.items() if value not in (None, "")]
    return render_template("peer/item.html", round=round_, item=item, details=details)


# --- The council runs the challenge ----------------------------------------------------------------


def _round_or_404(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _back(round_: Round) -> str:
    return url_for("rounds.show", round_id=round_.id, _anchor="peer")


def _change(round_: Round, done: str, change, *args, back: str | None = None):
    """Make one change to the round's challenge, say it is done or why it could not be, and go back."""
    try:
        change(round_, *args)
    except (peer.PeerError, peer.RoundFrozenError) as error:
        flash(sentence(error), "error")
    else:
        flash(done, "success")
    return redirect(back or _back(round_))


def _switch(round_id: int, done: str, change):
    """Open or close a round's challenge: a manager's confirmed post."""
    round_ = _round_or_404(round_id)
    if not ConfirmForm().validate():
        abort(400)
    return _change(round_, done, change, current_user)


@bp.route("/rounds/<int:round_id>/open", methods=["POST"])
@allow(*SIGNERS)
def open_challenge(round_id: int):
    return _switch(
        round_id, "The peer challenge is open: invited reviewers can rate each statement.", peer.open_challenge
    )


@bp.route("/rounds/<int:round_id>/close", methods=["POST"])
@allow(*SIGNERS)
def close_challenge(round_id: int):
    return _switch(round_id, "The peer challenge is closed: the ratings stay as they are.", peer.close_challenge)


@bp.route("/rounds/<int:round_id>/reviewers", methods=["POST"])
@allow(*SIGNERS)
def invite(round_id: int):
    round_ = _round_or_404(round_id)
    form = InviteForm()
    if not form.validate() or form.reviewer.data is None:
        flash("Nobody was invited: choose a peer reviewer from the list.", "error")
        return redirect(_back(round_))
    reviewer = db.session.get(User, form.reviewer.data)
    return _change(round_, f"{reviewer.name} is invited and has been told.", peer.invite, reviewer, current_user)


@bp.route("/rounds/<int:round_id>/reviewers/<int:user_id>/remove", methods=["POST"])
@allow(*SIGNERS)
def uninvite(round_id: int, user_id: int):
    round_ = _round_or_404(round_id)
    reviewer = db.session.get(User, user_id) or abort(404)
    if not ConfirmForm().validate():
        abort(400)
    return _change(round_, f"{reviewer.name} is no longer invited.", peer.uninvite, reviewer, current_user)


@bp.route("/rounds/<int:round_id>/statements/<key>/response", methods=["POST"])
@allow(*CURATORS)
def respond(round_id: int, key: str):
    round_ = _round_or_404(round_id)
    statement = _statement_or_404(key)
    form = ResponseForm()
    back = url_for("statements.show", key=statement.key, round=round_.id, _anchor="peer")
    if not form.validate():
        flash("Not saved: " + " ".join(form.response.errors), "error")
        return redirect(back)
    done = "The council's response is saved."
    return _change(
        round_, done, peer.save_response, statement, current_user, form.response.data, version_of(form), back=back
    )
