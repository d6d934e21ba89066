"""Administration: how people sign in (the directory's rules and password sign-in)."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import BooleanField, EmailField, TextAreaField
from wtforms.validators import Email, Length, Optional

from evidence.access import sso
from portal.forms import BaseForm
from portal.permissions import ADMINS, allow

bp = Blueprint("sso_settings", __name__, url_prefix="/admin")


class SignInSettingsForm(BaseForm):
    create_users = BooleanField("Create an account at the first directory sign-in of someone the portal does not know")
    role_mapping = TextAreaField(
        "Roles for directory groups and app roles",
        validators=[Length(max=50_000, message="The mapping has at most 50,000 characters.")],
    )
    password_sign_in = BooleanField("Everyone may sign in with a password")
    break_glass_email = EmailField(
        "Administrator who may always sign in with a password",
        validators=[
            Optional(),
            Email("Enter an email address like name@council.gov.uk."),
            Length(max=254, message="An email address has at most 254 characters."),
        ],
    )


@bp.route("/sign-in", methods=["GET", "POST"])
@allow(*ADMINS)
def edit():
    rules = sso.load_rules()
    form = SignInSettingsForm(
        data={
            "create_users": rules.create_users,
            "role_mapping": rules.mapping_text,
            "password_sign_in": rules.password_sign_in,
            "break_glass_email": rules.break_glass_email,
        }
    )
    status = 200
    if form.validate_on_submit():
        try:
            sso.save_rules(
                sso.SignInRules(
                    create_users=form.create_users.data,
                    role_mapping=sso.parse_mapping(form.role_mapping.data),
                    password_sign_in=form.password_sign_in.data,
                    break_glass_email=form.break_glass_email.data or "",
                ),
                by=current_user,
            )
        except sso.RulesError as exc:
            getattr(form, exc.field).errors.append(f"{exc}.")
            status = 422
        else:
            flash("Sign-in settings saved.", "success")
            return redirect(url_for("sso_settings.edit"))
    elif form.errors:
        status = 422
    return render_template(
        "admin/sign_in.html",
        form=form,
        directory=bool(current_app.config.get("OIDC_ISSUER")),
        issuer=current_app.config.get("OIDC_ISSUER"),
        redirect_uri=url_for("sso.callback", _external=True),
    ), status
