"""``flask --app portal tokens …``: personal API tokens for scripts."""

from __future__ import annotations

import click
from sqlalchemy import select

from evidence.access import api_tokens
from evidence.access.accounts import normalise_email
from evidence.db import db
from evidence.models import User

tokens = click.Group("tokens", help="Personal API tokens.")


@tokens.command("create")
@click.option("--email", required=True, help="The account the token acts as (with its role and rights).")
@click.option("--scope", required=True, type=click.Choice([s.value for s in api_tokens.Scope]))
@click.option("--name", default="Command line", show_default=True, help="What the token is for.")
def create_token(email: str, scope: str, name: str) -> None:
    """Create a token and print it (it is shown this once; only its digest is kept)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no account has the email address {normalise_email(email)}")
    try:
        new = api_tokens.create(user, name, scope)
    except api_tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(new.secret)
