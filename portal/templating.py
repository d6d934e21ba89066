"""Template filters and globals shared by every page."""

from flask import Flask
from flask_login import current_user

from evidence.access.roles import has_role
from evidence.history import uk_date
from evidence.library.metrics import format_value
from evidence.portfolio_cache import kept
from evidence.settings import AUTHORITY_NAME, get_setting
from evidence.together.notifications import unread_count
from evidence.vocab import Role
from evidence.wording import count, plural
from portal.charts import line_chart
from portal.permissions import rule_for
from portal.rendering import render_markdown
from quality_statements import scoring

BAND_CLASSES = {
    scoring.INADEQUATE: "band-inadequate",
    scoring.REQUIRES_IMPROVEMENT: "band-ri",
    scoring.GOOD: "band-good",
    scoring.OUTSTANDING: "band-outstanding",
}


format_date = uk_date  # the history's way of writing a date is the pages' too


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["metric_value"] = format_value
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["count"] = count  # {{ n|count('overdue action') }}: "1 overdue action", "2 overdue actions"
    app.jinja_env.filters["plural"] = plural  # {{ n|plural('item') }}: the word alone
    app.jinja_env.filters["score_label"] = scoring.label_for
    app.jinja_env.filters["band_class"] = lambda band: BAND_CLASSES.get(band, "band-none")
    app.jinja_env.filters["score_class"] = lambda score: f"score-{score}" if score else "score-none"

    def authority_name() -> str:
        # On every page, and changed only by a write: kept, so a warm page asks one query fewer.
        return app.config.get("AUTHORITY_NAME") or kept("setting", get_setting, AUTHORITY_NAME, "Your council")

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        known = getattr(current_user, "unread_on_arrival", None)  # loaded with the user by their session
        return known if known is not None else unread_count(current_user)

    @app.context_processor
    def _globals():
        return {
            "can": lambda *roles: has_role(current_user, *roles),
            "Role": Role,
            "navigation": navigation(app, current_user),
            "line_chart": line_chart,
            "unread_notifications": unread_notifications,
            "authority_name": authority_name(),
        }


# The navigation, by role. An entry shows only when the user's role may open it.
NAV = (
    ("dashboard.index", "Dashboard"),
    ("submissions.new", "Submit a finding"),
    ("submissions.mine", "My submissions"),
    ("review.queue", "Review queue"),
    ("library.index", "Evidence library"),
    ("statements.index", "Quality statements"),
    ("gaps.index", "Gaps"),
    ("actions.index", "Actions"),
    ("rounds.index", "Rounds"),
    ("peer.index", "Peer challenge"),
    ("imports.index", "Import"),
    ("exports.index", "Exports"),
    ("admin.users", "Users"),
    ("admin.council", "Council"),
    ("sso_settings.edit", "Sign-in settings"),
)


def navigation(app: Flask, user) -> list[tuple[str, str]]:
    if not user.is_authenticated:
        return []
    return [(endpoint, label) for endpoint, label in NAV if has_role(user, *rule_for(app.view_functions[endpoint]))]
