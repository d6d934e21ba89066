"""Who may reach which view: one rule per endpoint, declared where the view is.

Every view carries an ``@allow(...)`` rule. A view without one is refused to
everybody (fail closed), and the test suite walks the URL map so that a new
route without a rule fails CI. ``permission_matrix(app)`` lists the rules; the
README's table is printed from it (``flask --app portal permissions``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, current_app, request
from flask_login import current_user

from evidence.access.roles import ADMINS, COUNCIL, CURATORS, PEER_REVIEWERS, READERS, SIGNED_IN, SIGNERS, has_role

# The groups views declare their rules with, from the domain: ``@allow(*CURATORS)``.
__all__ = [
    "ADMINS",
    "ANONYMOUS",
    "COUNCIL",
    "CURATORS",
    "PEER_REVIEWERS",
    "READERS",
    "SIGNED_IN",
    "SIGNERS",
    "allow",
    "has_role",
]

ANONYMOUS = "anonymous"

_RULE = "_allowed_roles"


def allow(*roles: str) -> Callable:
    """Restrict a view to the given roles (``ANONYMOUS`` lets anybody in)."""
    if not roles:
        raise ValueError("allow() needs at least one role")
    allowed = frozenset(str(r) for r in roles)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if ANONYMOUS not in allowed:
                if not current_user.is_authenticated:
                    return current_app.login_manager.unauthorized()
                if not has_role(current_user, *allowed):
                    abort(403)
            return view(*args, **kwargs)

        setattr(guarded, _RULE, allowed)
        return guarded

    return decorate


def rule_for(view: Callable) -> frozenset[str] | None:
    return getattr(view, _RULE, None)


def enforce_rules(app: Flask) -> None:
    """Refuse any endpoint that has no rule, so a forgotten decorator cannot open a door."""

    @app.before_request
    def _require_rule():
        endpoint = request.endpoint
        if endpoint is None or endpoint == "static":
            return None
        view = app.view_functions.get(endpoint)
        if view is not None and rule_for(view) is None:
            app.logger.error("endpoint %s has no permission rule; refused", endpoint)
            abort(403)
        return None


def permission_matrix(app: Flask) -> dict[str, frozenset[str] | None]:
    return {endpoint: rule_for(view) for endpoint, view in sorted(app.view_functions.items()) if endpoint != "static"}


def is_allowed(rule: frozenset[str] | None, role: str) -> bool:
    """Does this rule let the role in? A rule that names ANONYMOUS is open to everybody."""
    return bool(rule) and (ANONYMOUS in rule or role in rule)
