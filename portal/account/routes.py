"""Your account: who you are signed in as, your password, and your personal API tokens."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from evidence.access import api_tokens, passwords
from evidence.access.throttle import Admission
from portal.account.forms import ChangePasswordForm, TokenForm
from portal.auth import sign_in_throttle
from portal.permissions import SIGNED_IN, allow

bp = Blueprint("account", __name__, url_prefix="/account")


# While an administrator's temporary password is in use, these are the only pages open.
OPEN_BEFORE_CHANGE = {"account.change_password", "auth.sign_out", "static", "health.healthz"}


@bp.before_app_request
def _ask_for_a_new_password():
    """Someone signed in with a temporary password chooses their own before anything else."""
    blueprint = request.blueprint or ""
    if request.endpoint in OPEN_BEFORE_CHANGE or blueprint.startswith("api"):
        # Looked at first: the style sheet and the health check need not find who is signed in (a query),
        # and a script's token is not asked to type a password.
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("account.change_password"))
    return None


def _page(
    form: TokenForm | None = None,
    new: api_tokens.NewToken | None = None,
    status: int = 200,
):
    return render_template(
        "account/index.html",
        form=form or TokenForm(formdata=None),
        password_rule=passwords.RULE,
        tokens=api_tokens.tokens_of(current_user),
        new=new,
        Scope=api_tokens.Scope,
    ), status


@bp.route("")
@allow(*SIGNED_IN)
def index():
    return _page()


@bp.route("/tokens", methods=["POST"])
@allow(*SIGNED_IN)
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        new = api_tokens.create(current_user, form.name.data, form.scope.data)
    except api_tokens.TokenError as exc:
        form.name.errors.append(f"{exc}.")
        return _page(form, status=422)
    # Shown on this page once; only its digest is kept, so it can never be shown again.
    flash(f"Token “{new.token.name}” created. Copy it now: it cannot be shown again.", "success")
    return _page(new=new, status=201)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@allow(*SIGNED_IN)
def revoke_token(token_id: int):
    token = api_tokens.token_of(current_user, token_id)
    if token is None:
        abort(404)
    try:
        api_tokens.revoke(token, by=current_user)
    except api_tokens.TokenError as exc:
        flash(str(exc).capitalize() + ".", "error")
    else:
        flash(f"The token “{token.name}” is revoked: scripts using it can no longer reach the API.", "success")
    return redirect(url_for("account.index"))


@bp.route("/password", methods=["GET", "POST"])
@allow(*SIGNED_IN)
def change_password():
    """Change your own password, with the current one; your other signed-in browsers are signed out."""
    form = ChangePasswordForm()
    forced = current_user.must_change_password
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            # Typing the current password is a guess like a sign-in, and counts against the same allowance.
            throttle = sign_in_throttle()
            admission = throttle.admit(current_user.email, request.remote_addr)
            if admission is Admission.UNAVAILABLE:
                flash("Changing the password is not possible for a moment. Please try again in a minute.", "error")
                status = 503
            elif admission is Admission.THROTTLED:
                form.add_error(
                    form.current_password,
                    "Too many wrong passwords. Wait 15 minutes, or ask an administrator to reset it.",
                )
                status = 429
            else:
                try:
                    passwords.change_own(current_user, form.current_password.data, form.new_password.data)
                except passwords.PasswordError as exc:
                    form.add_error(exc.field, str(exc))
                else:
                    throttle.succeeded(current_user.email, request.remote_addr)
                    flash(
                        "Your password is changed. Any other browser signed in as you has been signed out.", "success"
                    )
                    return redirect(url_for("dashboard.home") if forced else url_for("account.index"))
    return render_template("account/password.html", form=form, forced=forced, password_rule=passwords.RULE), status
