"""Administration: user accounts and roles."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from evidence.access import accounts
from evidence.db import db
from evidence.models import User
from evidence.settings import FRAMEWORK_VERSION, get_setting
from evidence.together import outbox
from portal.admin.forms import NewUserForm, UserRoleForm
from portal.permissions import ADMINS, allow

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users", methods=["GET", "POST"])
@allow(*ADMINS)
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.name.data, form.role.data, form.password.data)
        except accounts.AccountError as exc:
            form.add_error(form.email, str(exc))
        else:
            flash(f"Account created for {user.email}. Give them the temporary password in person.", "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/users.html",
        form=form,
        people=accounts.people(),
        role_form=UserRoleForm(),
        framework_version=get_setting(FRAMEWORK_VERSION, "not loaded"),
        mail_server=current_app.config.get("MAIL_SERVER"),
        mail_port=current_app.config.get("MAIL_PORT"),
        portal_url=current_app.config.get("PORTAL_URL"),
        outbox=outbox.status(),
    )


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@allow(*ADMINS)
def change_role(user_id: int):
    user = _user_or_404(user_id)
    form = UserRoleForm()
    if form.validate_on_submit():
        try:
            accounts.change_role(user, form.role.data, current_user)
            flash(f"{user.name} is now {user.role_label}.", "success")
        except accounts.AccountError as exc:
            flash(str(exc).capitalize() + ".", "error")
    else:
        flash("Choose a role from the list.", "error")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@allow(*ADMINS)
def toggle_active(user_id: int):
    user = _user_or_404(user_id)
    try:
        accounts.set_active(user, not user.active, current_user)
        flash(f"{user.name} {'can sign in again' if user.active else 'can no longer sign in'}.", "success")
    except accounts.AccountError as exc:
        flash(str(exc).capitalize() + ".", "error")
    return redirect(url_for("admin.users"))
