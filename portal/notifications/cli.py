"""``flask --app portal notify``: the daily reminders, then the email digests (run it from cron or a timer)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app

from evidence import bounds
from evidence.models import today
from evidence.together import events, outbox
from portal.notifications.mail import Mailer, mail_configured, message_host, render_digest


def _day(value: str | None) -> date:
    if not value:
        return today()
    try:
        return bounds.check_date(date.fromisoformat(value))
    except (ValueError, bounds.OutOfRange) as exc:
        raise click.BadParameter(f"give a date such as 2026-11-30 ({exc})", param_hint="--date") from exc


@click.command("notify")
@click.option("--date", "day", help="The day to run for, as YYYY-MM-DD (today when not given).")
def notify_command(day: str | None) -> None:
    """Tell owners of evidence and actions coming due, then email the day's digests (safe to run again)."""
    on = _day(day)
    found = events.scan_reminders(on)
    click.echo(f"Reminders: {found.evidence} about evidence due for review or stale, {found.actions} about actions.")
    if not mail_configured():
        click.echo("Email is off (MAIL_SERVER is not set): notifications are in the portal only.")
        return
    with current_app.test_request_context("/"):
        made = outbox.queue_digests(on, render_digest, host=message_host())
    mailer = Mailer()
    try:
        result = outbox.send_pending(mailer.send)
    finally:
        mailer.close()
    click.echo(f"Digests: {made} made for {on.isoformat()}; {result.sent} sent, {result.failed} failed.")
    for error in result.errors:
        click.echo(f"  not sent (tried again next run): {error}", err=True)
    if result.failed:
        raise SystemExit(1)
