from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from evidence.access import accounts, passwords, sso, user_sessions
from evidence.access.throttle import Admission
from portal.account.forms import NewPasswordForm
from portal.auth import oidc, sign_in_throttle
from portal.auth.forms import SignInForm
from portal.permissions import ANONYMOUS, SIGNED_IN, allow

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only follow a ?next= that stays on this site."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.home")


def render_sign_in(form: SignInForm | None = None, status: int = 200, rules: sso.SignInRules | None = None):
    """The sign-in page: the directory's button when single sign-on is set up, and the password form
    (for everyone, or tucked away for the break-glass administrator when password sign-in is off)."""
    rules = rules or sso.load_rules()
    directory = oidc.configured()
    signed_out_of_portal = directory and session.get(oidc.SIGNED_OUT_OF_PORTAL) and oidc.end_session_available()
    return render_template(
        "auth/sign_in.html",
        form=form or SignInForm(),
        directory=directory,
        directory_label=current_app.config["OIDC_BUTTON_LABEL"],
        passwords_for_everyone=rules.password_sign_in or not directory,
        offer_directory_sign_out=signed_out_of_portal,
        next=request.args.get("next"),
    ), status


@bp.route("/sign-in", methods=["GET", "POST"])
@allow(ANONYMOUS)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = SignInForm()
    if form.validate_on_submit():
        rules = sso.load_rules()
        # Without a directory to sign in with, password sign-in cannot be switched off for anybody.
        if oidc.configured() and not rules.password_allowed(form.email.data):
            sso.refuse_password(form.email.data, request.remote_addr)
            flash("Password sign-in is switched off. Sign in with your council account instead.", "error")
            return render_sign_in(form, 403, rules)
        result = accounts.authenticate(
            form.email.data, form.password.data, request.remote_addr, throttle=sign_in_throttle()
        )
        if result.unavailable:
            flash("Signing in is not possible for a moment. Please try again in a minute.", "error")
            return render_sign_in(form, 503, rules)
        if result.throttled:
            flash(
                "Too many failed sign-ins. Sign-in is paused for this account for 15 minutes; "
                "ask an administrator if you are locked out.",
                "error",
            )
            return render_sign_in(form, 429, rules)
        if result.ok:
            # Nothing from before sign-in carries over, and the session is a new one with a token of its own.
            session.clear()
            user_sessions.start(result.user, current_app.config["SESSION_LIFETIME"])
            login_user(result.user, remember=form.remember.data)
            if result.user.must_change_password:
                return redirect(url_for("account.change_password"))
            return redirect(safe_next(request.args.get("next")))
        flash("That email address and password do not match an account.", "error")
        return render_sign_in(form, 401, rules)
    return render_sign_in(form, 422 if form.is_submitted() else 200)


@bp.route("/sign-out", methods=["POST"])
@allow(*SIGNED_IN)
def sign_out():
    with_directory = session.get(oidc.SIGNED_IN_WITH) == oidc.CLIENT
    user_sessions.end(current_user.get_id())
    logout_user()
    session.pop(oidc.SIGNED_IN_WITH, None)
    if with_directory:
        # The directory keeps its own session; the sign-in page offers to end that one too.
        session[oidc.SIGNED_OUT_OF_PORTAL] = True
    flash("You have signed out.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@allow(ANONYMOUS)
def reset_password(token: str):
    """The one-time link an administrator issued: choose a new password, then sign in with it."""
    if passwords.link_for(token) is None:
        # Links are long random tokens; still, each address may only try a few that lead nowhere.
        if sign_in_throttle().admit_address(request.remote_addr) is not Admission.ADMITTED:
            return render_template("auth/reset_password.html", form=None, expired=False, throttled=True), 429
        return render_template("auth/reset_password.html", form=None, expired=True, throttled=False), 410
    form = NewPasswordForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                user = passwords.use_link(token, form.new_password.data, request.remote_addr)
            except passwords.PasswordError as exc:
                if exc.field == "token":
                    return render_template("auth/reset_password.html", form=None, expired=True, throttled=False), 410
                form.add_error(exc.field, str(exc))
            else:
                if current_user.is_authenticated:  # someone else's session in this browser ends too
                    logout_user()
                session.clear()
                flash(f"Your new password is set, {user.name}. Sign in with it now.", "success")
                return redirect(url_for("auth.sign_in"))
    return render_template(
        "auth/reset_password.html", form=form, expired=False, throttled=False, rule=passwords.RULE
    ), status
