"""Where the self-assessment is thin or inconsistent, each gap linked to where it is fixed."""

from collections import Counter

from flask import Blueprint, abort, render_template, request

from evidence.assessment.gaps import GAP_LABELS, live_gaps
from evidence.assessment.rounds import current_round
from portal.permissions import READERS, allow

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
    gaps = live_gaps(round_)
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
