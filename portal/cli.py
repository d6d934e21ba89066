"""``flask --app portal …`` commands: users, framework, demo data, permissions."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from evidence.access import accounts
from evidence.db import db
from evidence.framework_sync import replace_framework, sync_framework
from evidence.models import EvidenceItem, User
from evidence.vocab import Role
from portal.permissions import is_allowed, permission_matrix
from quality_statements import FrameworkError, load_framework

users = click.Group("users", help="Manage user accounts.")
framework = click.Group("framework", help="The CQC framework in use.")


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="", help="Display name (defaults to the email address).")
@click.password_option(help="Asked for when not given.")
def create_user(email: str, role: str, name: str, password: str) -> None:
    """Create a user account."""
    try:
        user = accounts.create_user(email, name, role, password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.email} ({Role(user.role).label}).")


@users.command("list")
def list_users() -> None:
    """List user accounts."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "" if user.active else "  (disabled)"
        click.echo(f"{user.email:40} {Role(user.role).label:14} {user.name}{state}")


@framework.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
def load_framework_file(path: str) -> None:
    """Load a replacement framework file (validated first; nothing changes if it is malformed)."""
    try:
        changed = replace_framework(load_framework(path))
    except FrameworkError as exc:
        raise click.ClickException("the framework file was not loaded:\n  - " + "\n  - ".join(exc.problems)) from exc
    click.echo("Framework loaded." if changed else "Framework already up to date.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the database holds no evidence yet.")
@click.option(
    "--reset", is_flag=True, help="Delete everything in the database, then load the demo afresh (asks first)."
)
@click.option("--yes", is_flag=True, help="With --reset: do not ask first.")
def demo(if_empty: bool, reset: bool, yes: bool) -> None:
    """Load the framework and the demo portfolio of a fictional council (safe to run twice)."""
    from evidence.demo import DEMO_ACCOUNTS, clear_database, load_demo

    if reset:
        where = db.engine.url.render_as_string(hide_password=True)
        if not yes:
            click.confirm(
                f"This deletes every account, evidence item, round, setting and audit event in {where}, "
                "then loads the demo portfolio again. Continue?",
                abort=True,
            )
        clear_database()
        click.echo("Database emptied.")
    sync_framework()
    if if_empty and db.session.scalar(select(func.count(EvidenceItem.id))):
        click.echo("The database already holds evidence; demo data not loaded again.")
    else:
        counts = load_demo()
        click.echo("Demo portfolio ready: " + ", ".join(f"{what} {n}" for what, n in counts.items()) + ".")
    click.echo("Demo sign-ins:")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {Role(account.role).label:14} {account.email:32} password: {account.password}")


@click.command("permissions")
def permissions() -> None:
    """Print the permission matrix as a markdown table."""
    roles = ["anonymous", *[r.value for r in Role]]
    click.echo("| endpoint | " + " | ".join(roles) + " |")
    click.echo("| --- |" + " --- |" * len(roles))
    for endpoint, allowed in permission_matrix(current_app).items():
        marks = ["yes" if is_allowed(allowed, role) else "" for role in roles]
        click.echo(f"| `{endpoint}` | " + " | ".join(marks) + " |")


def init_app(app: Flask) -> None:
    from portal.backup import backup_command, restore_command
    from portal.deployment import check_command
    from portal.notifications.cli import notify_command

    for command in (
        users,
        framework,
        demo,
        permissions,
        backup_command,
        restore_command,
        notify_command,
        check_command,
    ):
        app.cli.add_command(command)
