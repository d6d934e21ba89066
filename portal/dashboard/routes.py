from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup

from evidence.assessment import dashboard
from evidence.portfolio_cache import kept
from evidence.vocab import Role
from portal.dashboard.charts import score_sparkline
from portal.permissions import READERS, SIGNED_IN, allow, has_role

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


def _figures_html() -> Markup:
    figures = dashboard.figures()
    return Markup(render_template("dashboard/_figures.html", **vars(figures), score_sparkline=score_sparkline))


@bp.route("/dashboard")
@allow(*READERS)
def index():
    # Rendering the heat map and history costs more than computing them: the page keeps the HTML too.
    return render_template("dashboard/index.html", figures_html=kept("dashboard.html", _figures_html))
