"""Self-assessment rounds: create, read, sign off (managers) and compare."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from evidence.assessment import kept, peer
from evidence.assessment.readiness import (
    AWAITING_REVIEW,
    GAPS,
    NO_OWNER,
    NOT_SCORED,
    PERSONAL_DATA,
    STALE_CITED,
)
from evidence.assessment.rounds import (
    RoundError,
    all_rounds,
    compare_rounds,
    create_round,
    current_round,
    latest_round,
    round_overview,
    rounds_with_results,
    sign_off,
)
from evidence.db import db
from evidence.history import history
from evidence.models import Round
from portal.peer.forms import ConfirmForm
from portal.permissions import READERS, SIGNERS, allow, has_role, rule_for
from portal.rounds.forms import CompareForm, RoundForm, SignOffForm

bp = Blueprint("rounds", __name__)

CREATORS = READERS  # quality leads, managers and administrators


def _index(form: RoundForm | None = None, status: int = 200):
    results = rounds_with_results()
    rounds = [r for r, _ in results]
    compare = CompareForm(formdata=None)
    compare.a.choices = compare.b.choices = [(r.id, r.name) for r in rounds]
    if len(rounds) >= 2:
        compare.a.data, compare.b.data = rounds[1].id, rounds[0].id
    return (
        render_template(
            "rounds/index.html",
            rounds=results,
            current=current_round(),
            latest=latest_round(),
            form=form or RoundForm(formdata=None),
            compare=compare,
        ),
        status,
    )


@bp.route("/rounds")
@allow(*READERS)
def index():
    return _index()


@bp.route("/rounds", methods=["POST"])
@allow(*CREATORS)
def create():
    form = RoundForm()
    if not form.validate():
        flash("Round not created: check the fields marked below.", "error")
        return _index(form, 422)
    try:
        round_ = create_round(
            form.name.data, current_user, carry_forward_from=latest_round() if form.carry_forward.data else None
        )
    except RoundError as error:
        form.add_error(form.name, str(error))
        flash(f"Round not created: {error}", "error")
        return _index(form, 422)
    flash(f"Created “{round_.name}”. It is now the current round.", "success")
    return redirect(url_for("rounds.show", round_id=round_.id))


def _show(round_: Round, form: SignOffForm | None = None, status: int = 200):
    latest = latest_round()
    next_form = None
    if round_.signed_off and round_ == latest:  # the next round carries this one forward
        next_form = RoundForm(formdata=None, carry_forward=True)
    return (
        render_template(
            "rounds/show.html",
            round=round_,
            overview=round_overview(round_),
            form=form or SignOffForm(formdata=None),
            can_sign=has_role(current_user, *SIGNERS),
            is_current=round_ == current_round(),
            readiness=None if round_.signed_off else kept.readiness_of(round_),
            see_all=_see_all(round_),
            next_form=next_form,
            history=history("round", round_.id),
            challenge=peer.challenge_of(round_),
            reviews=peer.reviews_of(round_),
            reviewers=peer.reviewers(round_),
            candidates=peer.candidates(round_) if not round_.signed_off else [],
            difference=peer.difference_text,
            confirm_form=ConfirmForm(formdata=None),
        ),
        status,
    )


def _see_all(round_: Round) -> dict[str, str]:
    """Where each kind of readiness concern is listed in full, for those who may open it."""
    pages = {
        NOT_SCORED: ("gaps.index", {"kind": "unscored"}),
        AWAITING_REVIEW: ("review.queue", {}),
        PERSONAL_DATA: ("exports.index", {"round": round_.id}),
        GAPS: ("gaps.index", {}),
        STALE_CITED: ("library.index", {"stale": "yes"}),
        NO_OWNER: ("actions.index", {"round": round_.id}),
    }
    return {
        kind: url_for(endpoint, **args)
        for kind, (endpoint, args) in pages.items()
        if has_role(current_user, *rule_for(current_app.view_functions[endpoint]))
    }


@bp.route("/rounds/<int:round_id>")
@allow(*READERS)
def show(round_id):
    return _show(db.get_or_404(Round, round_id))


@bp.route("/rounds/<int:round_id>/sign-off", methods=["POST"])
@allow(*SIGNERS)
def sign(round_id):
    round_ = db.get_or_404(Round, round_id)
    form = SignOffForm()
    if not form.validate():
        abort(400)
    try:
        sign_off(round_, current_user, confirmed=bool(form.confirm.data))
    except RoundError as error:
        if round_.signed_off:
            flash(str(error), "error")
            return redirect(url_for("rounds.show", round_id=round_.id))
        form.add_error(form.confirm, str(error))
        flash(f"Not signed off: {error}", "error")
        return _show(round_, form, 422)
    flash(f"“{round_.name}” is signed off and frozen.", "success")
    return redirect(url_for("rounds.show", round_id=round_.id))


@bp.route("/rounds/compare")
@allow(*READERS)
def compare():
    rounds = all_rounds()
    form = CompareForm(formdata=request.args if request.args else None)
    form.a.choices = form.b.choices = [(r.id, r.name) for r in rounds]
    result = None
    status = 200
    if request.args:
        if form.validate():
            if form.a.data == form.b.data:
                form.add_error(form.b, "Choose two different rounds.")
                status = 422
            else:
                a, b = db.session.get(Round, form.a.data), db.session.get(Round, form.b.data)
                result = compare_rounds(a, b)
        else:
            status = 422
    elif len(rounds) >= 2:
        form.a.data, form.b.data = rounds[1].id, rounds[0].id
    return (
        render_template(
            "rounds/compare.html", form=form, result=result, rounds=rounds, peer_difference=peer.difference_text
        ),
        status,
    )
