"""Where the self-assessment is thin or inconsistent, each gap linked to where it is fixed."""

from collections import Counter

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from evidence.assessment import kept
from evidence.assessment.assessments import statement_by_key
from evidence.assessment.gaps import GAP_LABELS, candidates
from evidence.assessment.rounds import current_round
from evidence.framework_sync import category_by_key
from evidence.vocab import Stance
from portal.forms import BaseForm
from portal.permissions import CURATORS, READERS, allow, has_role

bp = Blueprint("gaps", __name__)

# The order gaps are listed in: missing judgement first, then missing or weak evidence.
KIND_ORDER = ("unscored", "uncited", "at_odds", "no_evidence", "only_stale")


@bp.route("/gaps")
@allow(*READERS)
def index():
    kind = request.args.get("kind") or None
    if kind is not None and kind not in GAP_LABELS:
        abort(404)
    round_ = current_round()
    gaps = kept.gaps(round_)
    counts = Counter(g.kind for g in gaps)
    kinds = [k for k in KIND_ORDER if k in GAP_LABELS] + [k for k in GAP_LABELS if k not in KIND_ORDER]
    shown = [k for k in kinds if kind in (None, k)]
    groups = [(k, GAP_LABELS[k], [g for g in gaps if g.kind == k]) for k in shown]
    if kind is None:  # unfiltered, list only the kinds that have gaps; the counts above show the rest
        groups = [group for group in groups if group[2]]
    return render_template(
        "gaps/index.html",
        round=round_,
        groups=groups,
        counts=counts,
        kinds=kinds,
        labels=GAP_LABELS,
        kind=kind,
        total=len(gaps),
    )


@bp.route("/gaps/find")
@allow(*READERS)
def find():
    """Accepted evidence that may fill a statement's gap under a category, each with why it is offered."""
    statement = statement_by_key(request.args.get("statement") or "")
    category = category_by_key(request.args.get("category") or "")
    if statement is None or category is None:
        abort(404)
    mapped, mentioning = candidates(statement, category)
    return render_template(
        "gaps/find.html",
        statement=statement,
        category=category,
        mapped=mapped,
        mentioning=mentioning,
        curator=has_role(current_user, *CURATORS),
        stances=Stance.choices(),
        form=BaseForm(formdata=None),
    )
