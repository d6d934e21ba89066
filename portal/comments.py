"""The comment form and what a page says after a comment is posted; the views are in the library and
statements blueprints, beside the pages the conversations are on."""

from __future__ import annotations

from flask import flash
from wtforms import TextAreaField

from evidence.together.comments import BODY_MAX, Posted
from portal.forms import BaseForm, required
from portal.ids import IdField


class CommentForm(BaseForm):
    body = required(
        TextAreaField,
        "Comment",
        "Comment: write something first.",
        BODY_MAX,
        f"Comment: at most {BODY_MAX:,} characters.",
    )
    reply_to = IdField("Reply to", message="Reply: that conversation is not here.")


class ResolveForm(BaseForm):
    pass


def said(posted: Posted) -> None:
    """Flash what became of the comment and its mentions."""
    message = "Comment added."
    if posted.told:
        message += " Told " + ", ".join(u.name for u in posted.told) + "."
    flash(message, "success")
    if posted.unseen:
        flash(
            ", ".join(posted.unseen)
            + " cannot see this conversation, so "
            + ("was" if len(posted.unseen) == 1 else "were")
            + " not told.",
            "info",
        )
    if posted.unknown:
        names = ", ".join("@" + n for n in posted.unknown)
        flash(f"Nobody here is {names} (write the part of their email before the @), so nobody was told of it.", "info")
