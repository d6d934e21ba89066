"""Email: a digest as plain text and HTML, and handing outbox rows to the SMTP server (Flask-Mailman)."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for
from flask_mailman import EmailMultiAlternatives

from evidence.models import MailOutbox
from evidence.together.outbox import WITHHELD, Digest
from portal.extensions import mail
from portal.notifications.links import path_for


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def portal_link(path: str) -> str:
    return current_app.config["PORTAL_URL"] + path


def message_host() -> str:
    """The domain Message-IDs are made in: the portal's own."""
    return urlsplit(current_app.config["PORTAL_URL"]).hostname or "localhost"


def render_digest(digest: Digest) -> tuple[str, str]:
    """The digest's plain text and HTML (autoescaped). Needs a request context, for the links' paths."""
    context = {
        "digest": digest,
        "link": lambda entry: portal_link(path_for(entry.target)),
        "notifications_url": portal_link(url_for("notifications.index")),
        "settings_url": portal_link(url_for("notifications.settings")),
        "withheld": WITHHELD,
        "authority": current_app.config.get("AUTHORITY_NAME") or "",
    }
    return render_template("mail/digest.txt", **context), render_template("mail/digest.html", **context)


class Mailer:
    """Sends outbox rows over one SMTP connection, opened when first needed and opened again after a failure."""

    def __init__(self):
        self.connection = None

    def send(self, row: MailOutbox) -> None:
        if self.connection is None:
            self.connection = mail.get_connection()
        message = EmailMultiAlternatives(
            subject=row.subject,
            body=row.text_body,
            to=[row.to_address],
            headers={"Message-ID": row.message_id, "Auto-Submitted": "auto-generated"},
            connection=self.connection,
        )
        message.attach_alternative(row.html_body, "text/html")
        try:
            if message.send() != 1:
                raise RuntimeError("the mail server did not take the message")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            # Dropped after a failure, whose own error is already kept.
            with suppress(Exception):
                self.connection.close()
            self.connection = None
