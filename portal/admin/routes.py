"""Administration: user accounts and roles, password resets, the framework in use, and the council the portal is
for."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired

from evidence import audit, settings
from evidence.access import accounts, passwords
from evidence.db import db
from evidence.framework_sync import replace_framework
from evidence.models import User
from evidence.settings import FRAMEWORK_VERSION, get_setting
from evidence.together import outbox
from portal.admin.forms import LINK, PASSWORD_HINT, CouncilForm, NewUserForm, ResetPasswordForm, UserRoleForm
from portal.forms import BaseForm
from portal.permissions import ADMINS, allow
from quality_statements import FrameworkError, parse_framework_file

bp = Blueprint("admin", __name__, url_prefix="/admin")

# A framework file is a few dozen kilobytes; anything far larger is not one.
MAX_FRAMEWORK_BYTES = 2 * 1024 * 1024


class FrameworkForm(BaseForm):
    file = FileField("Framework file (YAML)", validators=[FileRequired("Choose the framework file to load.")])


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _users_page(form: NewUserForm | None = None, framework_form: FrameworkForm | None = None, status: int = 200):
    return render_template(
        "admin/users.html",
        form=form or NewUserForm(formdata=None),
        framework_form=framework_form or FrameworkForm(formdata=None),
        people=accounts.people(),
        role_form=UserRoleForm(),
        framework_version=get_setting(FRAMEWORK_VERSION, "not loaded"),
        password_hint=PASSWORD_HINT,
        mail_server=current_app.config.get("MAIL_SERVER"),
        mail_port=current_app.config.get("MAIL_PORT"),
        portal_url=current_app.config.get("PORTAL_URL"),
        outbox=outbox.status(),
    ), status


@bp.route("/users", methods=["GET", "POST"])
@allow(*ADMINS)
def users():
    form = NewUserForm()
    if not form.is_submitted():
        return _users_page(form)
    if form.validate():
        try:
            user = accounts.create_user(
                form.email.data, form.name.data, form.role.data, form.password.data, temporary=True
            )
        except accounts.AccountError as exc:
            form.add_error(form.email, str(exc))
        else:
            flash(
                f"Account created for {user.email}. Give them the temporary password in person; "
                "they choose their own at their first sign-in.",
                "success",
            )
            return redirect(url_for("admin.users"))
    return _users_page(form, status=422)


@bp.route("/council", methods=["GET", "POST"])
@allow(*ADMINS)
def council():
    """The council's name (shown on every page and in the documents) and ONS code (national files are filtered
    to the council by it)."""
    name, code = settings.council()
    form = CouncilForm(data={"name": name, "code": code})
    status = 200
    if form.validate_on_submit():
        try:
            settings.set_council(form.name.data, form.code.data)
        except settings.SettingError as exc:
            db.session.rollback()
            form.add_error(exc.field, f"{exc}.")
            status = 400
        else:
            new_name, new_code = settings.council()
            audit.record(
                "update",
                entity_type="setting",
                user=current_user,
                summary="Council name and ONS code changed",
                before={"name": name, "code": code},
                after={"name": new_name, "code": new_code},
            )
            db.session.commit()
            flash("Council details saved.", "success")
            return redirect(url_for("admin.council"))
    elif form.errors:
        status = 400
    return render_template("admin/council.html", form=form), status


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


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@allow(*ADMINS)
def reset_password(user_id: int):
    """A forgotten password: a one-time link for the person, or a temporary password they must change."""
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    link = None
    status = 200
    if form.is_submitted():
        if form.validate():
            if form.how.data == LINK:
                issued = passwords.issue_link(user, by=current_user)
                link = url_for("auth.reset_password", token=issued.token, _external=True)
                flash(f"A one-time link for {user.name} is below. Copy it now: it cannot be shown again.", "success")
                status = 201
            else:
                passwords.set_temporary(user, form.password.data, by=current_user)
                flash(
                    f"Temporary password set for {user.name}, who is signed out everywhere and must choose "
                    "a new password at the next sign-in. Give it to them in person.",
                    "success",
                )
                return redirect(url_for("admin.users"))
        else:
            status = 422
    return render_template(
        "admin/reset_password.html",
        person=user,
        form=form,
        link=link,
        lifetime_hours=int(passwords.RESET_LINK_LIFETIME.total_seconds() // 3600),
        rule=passwords.RULE,
    ), status


@bp.route("/framework", methods=["POST"])
@allow(*ADMINS)
def load_framework():
    """A replacement framework file, checked as ``flask framework load`` checks it; refused, it changes nothing."""
    form = FrameworkForm()
    if form.validate_on_submit():
        upload = form.file.data
        name = upload.filename or "The file"
        data = upload.read(MAX_FRAMEWORK_BYTES + 1)
        try:
            if len(data) > MAX_FRAMEWORK_BYTES:
                raise FrameworkError([f"{name} is larger than a framework file can be (2 MB)"])
            changed = replace_framework(parse_framework_file(data, name), by=current_user)
        except FrameworkError as exc:
            form.add_error(form.file, f"{name} was not loaded; nothing was changed. " + _problems(exc.problems))
        else:
            version = get_setting(FRAMEWORK_VERSION)
            flash(
                f"Framework version {version} loaded."
                if changed
                else f"Framework version {version} is already loaded.",
                "success",
            )
            return redirect(url_for("admin.users", _anchor="framework"))
    return _users_page(framework_form=form, status=422)


def _problems(problems: list[str]) -> str:
    shown = problems[:10]
    more = f" (and {len(problems) - 10} more problems)" if len(problems) > 10 else ""
    return "Problems: " + "; ".join(shown) + more + "."
