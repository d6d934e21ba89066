"""Your account: who you are signed in as, and your personal API tokens."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length

from evidence.access import api_tokens
from portal.forms import BaseForm
from portal.permissions import SIGNED_IN, allow

bp = Blueprint("account", __name__, url_prefix="/account")


class TokenForm(BaseForm):
    name = StringField(
        "What the token is for",
        validators=[
            DataRequired("Say what the token is for, e.g. “Data warehouse feed”."),
            Length(max=api_tokens.NAME_LENGTH, message=f"At most {api_tokens.NAME_LENGTH} characters."),
        ],
    )
    scope = RadioField(
        "What it may do",
        choices=[(s.value, s.label) for s in api_tokens.Scope],
        default=api_tokens.Scope.READ.value,
        validate_choice=True,
    )


def _page(form: TokenForm | None = None, new: api_tokens.NewToken | None = None, status: int = 200):
    return render_template(
        "account/index.html",
        form=form or TokenForm(formdata=None),
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
        return _page(form, status=400)
    try:
        new = api_tokens.create(current_user, form.name.data, form.scope.data)
    except api_tokens.TokenError as exc:
        form.name.errors.append(f"{exc}.")
        return _page(form, status=400)
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
