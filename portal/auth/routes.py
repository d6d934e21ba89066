from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from evidence import accounts, user_sessions
from portal.auth import sign_in_throttle
from portal.auth.forms import SignInForm
from portal.permissions import ANONYMOUS, SIGNED_IN, allow

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow a ?next= that stays on this site."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@allow(ANONYMOUS)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = SignInForm()
    if form.validate_on_submit():
        result = accounts.authenticate(
            form.email.data, form.password.data, request.remote_addr, throttle=sign_in_throttle()
        )
        if result.unavailable:
            flash("Signing in is not possible for a moment. Please try again in a minute.", "error")
            return render_template("auth/sign_in.html", form=form), 503
        if result.throttled:
            flash(
                "Too many failed sign-ins. Sign-in is paused for this account for 15 minutes; "
                "ask an administrator if you are locked out.",
                "error",
            )
            return render_template("auth/sign_in.html", form=form), 429
        if result.ok:
            # Nothing from before sign-in carries over, and the session is a new one with a token of its own.
            session.clear()
            user_sessions.start(result.user, current_app.config["SESSION_LIFETIME"])
            login_user(result.user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        flash("That email address and password do not match an account.", "error")
        return render_template("auth/sign_in.html", form=form), 401
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@allow(*SIGNED_IN)
def sign_out():
    user_sessions.end(current_user.get_id())
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.sign_in"))
