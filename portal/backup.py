"""``flask backup`` and ``flask restore``: the commands over ``evidence.backups``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from evidence.assessment.round_view import clear_cache
from evidence.backups import BackupError, RestoreRefused, SizeLimitExceeded, make_backup, restore_backup
from evidence.db import db
from evidence.wording import count, plural
from portal import MIGRATIONS_DIR


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the zip.")
def backup_command(out: str) -> None:
    """Back up the database and uploaded files to one zip (consistent while the portal runs)."""
    db.session.remove()
    try:
        manifest = make_backup(
            current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["UPLOAD_DIR"], Path(out)
        )
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up the {manifest['database']} database and {count(manifest['uploads'], 'file')} to {out}.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: str, yes: bool) -> None:
    """Restore the database and uploaded files from a backup zip (replaces the current data).

    Everything in the backup is checked before anything is replaced; a backup that fails a check
    changes nothing.
    """
    if not yes:
        click.confirm("This replaces every record in the portal with the backup's. Go on?", abort=True)
    db.session.remove()
    db.engine.dispose()  # this process holds no connection while the database is replaced
    try:
        result = restore_backup(
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            current_app.config["UPLOAD_DIR"],
            Path(source),
            migrations_dir=MIGRATIONS_DIR,
            max_bytes=current_app.config["RESTORE_MAX_BYTES"],
        )
    except SizeLimitExceeded as exc:
        raise click.ClickException(
            f"Restore refused: {exc}. Nothing was changed. RESTORE_MAX_GB raises the limit."
        ) from exc
    except RestoreRefused as exc:
        raise click.ClickException(f"Restore refused: {exc}. Nothing was changed.") from exc
    except OSError as exc:
        raise click.ClickException(f"Restore refused: {exc}. Nothing was changed.") from exc
    except BackupError as exc:
        raise click.ClickException(f"Restore failed: {exc}.") from exc
    finally:
        db.engine.dispose()
    clear_cache()
    click.echo(
        f"Restored the backup taken {result.created_at}: the database and {count(result.uploads, 'uploaded file')}."
    )
    if result.moved_aside:
        click.echo(
            f"{count(result.moved_aside, 'uploaded file')} that the backup does not hold "
            f"{plural(result.moved_aside, 'was', 'were')} moved to {result.aside_folder}."
        )
    if not result.up_to_date:
        click.echo("The backup is from an older version: run `flask --app portal db upgrade` to bring it up to date.")
    click.echo("Restart the portal so every worker starts afresh.")
