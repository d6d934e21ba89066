"""The notifications page, opening one (which marks it read), and each person's choices of how they hear."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import RadioField

from evidence.db import db
from evidence.together import notifications
from evidence.vocab import Channel, NotificationKind
from portal.forms import BaseForm
from portal.ids import page_arg
from portal.notifications.links import path_for
from portal.permissions import SIGNED_IN, allow

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


class ReadAllForm(BaseForm):
    pass


def settings_form(user, formdata=None):
    """One choice per kind of notification the person may be sent."""

    class SettingsForm(BaseForm):
        def choices(self) -> dict[str, str]:
            return {kind: self[kind].data for kind in offered}

    offered = notifications.preferences(user)
    for kind in offered:
        field = RadioField(NotificationKind(kind).label, choices=Channel.choices(), validate_choice=True)
        setattr(SettingsForm, kind, field)
    if formdata is None:
        return SettingsForm(formdata=None, data=offered)
    return SettingsForm()


@bp.route("")
@allow(*SIGNED_IN)
def index():
    page = db.paginate(
        notifications.listing(current_user),
        page=page_arg(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "notifications/index.html",
        page=page,
        path_for=path_for,
        unread=notifications.unread_count(current_user),
        read_all=ReadAllForm(formdata=None),
        mail_on=bool(current_app.config.get("MAIL_SERVER")),
    )


@bp.route("/<int:notification_id>")
@allow(*SIGNED_IN)
def open_one(notification_id: int):
    note = notifications.own(current_user, notification_id)
    if note is None:
        abort(404)
    notifications.mark_read(note)
    return redirect(path_for(note.target))


@bp.route("/read", methods=["POST"])
@allow(*SIGNED_IN)
def read_all():
    if not ReadAllForm().validate():
        abort(400)
    count = notifications.mark_all_read(current_user)
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read." if count else "Nothing unread.", "info")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@allow(*SIGNED_IN)
def settings():
    form = settings_form(current_user, formdata=True if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                changed = notifications.set_preferences(current_user, form.choices())
            except notifications.PreferenceError as error:
                form.add_errors(error.errors)
                status = 422
            else:
                flash(
                    "Notification settings saved." if changed else "No changes to save.",
                    "success" if changed else "info",
                )
                return redirect(url_for("notifications.settings"))
        else:
            status = 422
    return (
        render_template("notifications/settings.html", form=form, mail_on=bool(current_app.config.get("MAIL_SERVER"))),
        status,
    )
