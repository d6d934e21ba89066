from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from evidence.assessment import dashboard
from evidence.assessment.actions import overdue_by_statement
from evidence.assessment.rollup import round_result, scores_for
from evidence.assessment.rounds import current_round, previous_round
from evidence.assessment.summary import live_summary
from evidence.framework_sync import categories
from evidence.models import today
from evidence.vocab import Role
from portal.dashboard.charts import score_sparkline
from portal.permissions import READERS, SIGNED_IN, allow, has_role
from quality_statements import scoring

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@allow(*SIGNED_IN)
def home():
    """Each role starts where its work is: staff at their submissions, peer reviewers at their rounds,
    everyone else at the dashboard."""
    if has_role(current_user, Role.STAFF):
        return redirect(url_for("submissions.mine"))
    if has_role(current_user, Role.PEER_REVIEWER):
        return redirect(url_for("peer.index"))
    return redirect(url_for("dashboard.index"))


@bp.route("/dashboard")
@allow(*READERS)
def index():
    round_ = current_round()
    result = round_result(round_)
    previous = previous_round(round_)
    previous_scores = scores_for(previous) if previous else {}
    overdue = overdue_by_statement(round_, on=today())
    return render_template(
        "dashboard/index.html",
        result=result,
        previous=previous,
        movement={key: scoring.movement(previous_scores.get(key), score) for key, score in result.scores.items()},
        summary=live_summary(),
        categories=categories(),
        waiting=dashboard.waiting(unscored=len(result.overall.missing), overdue_actions=overdue.total(), on=today()),
        overdue=overdue,
        history=dashboard.score_history(),
        score_sparkline=score_sparkline,
    )
