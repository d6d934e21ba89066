"""``flask --app portal export --format xlsx|docx|pdf|markdown --out PATH [--round NAME]``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from evidence.assessment.rounds import all_rounds, find_round, latest_round
from exports import ExportUnavailable
from exports.packs import (
    FORMATS,
    build_export,
    prepare_export,
    record_export,
)
from portal.exports import bp


@bp.cli.command("export")
@click.option(
    "--format", "fmt", required=True, type=click.Choice(list(FORMATS)), help="xlsx, docx, pdf or markdown (a zip)."
)
@click.option("--out", "out", required=True, type=click.Path(), help="Where to write the file.")
@click.option("--round", "round_name", default=None, help="The round's name (default: the latest round).")
@click.option("--strict", is_flag=True, help="Write nothing when the personal-data guard finds anything.")
def export(fmt: str, out: str, round_name: str | None, strict: bool) -> None:
    """Export a round as an Excel workbook, a Word document, a PDF or a markdown pack."""
    round_ = find_round(round_name) if round_name else latest_round()
    if round_ is None:
        names = ", ".join(f"“{r.name}”" for r in all_rounds())
        if round_name:
            raise click.ClickException(f"there is no round named “{round_name}”. Rounds: {names or 'none yet'}.")
        raise click.ClickException("there are no rounds yet: create one before exporting.")
    path = Path(out).expanduser()
    _check_writable(path)

    prepared = prepare_export(round_)
    checks = prepared.checks
    for hit in checks.personal_data[:20]:
        click.echo(f"Personal data? {hit.describe()}", err=True)
    if len(checks.personal_data) > 20:
        click.echo(f"… and {len(checks.personal_data) - 20} more possible personal data findings.", err=True)
    if checks.gaps:
        click.echo(f"Gaps: {len(checks.gaps)} (listed on the Gaps sheet and the Exports page).", err=True)
    if strict and checks.personal_data:
        raise click.ClickException("nothing written: the personal-data guard found text to check (see above).")

    try:
        export_file = build_export(prepared.view, fmt)
    except ExportUnavailable as error:
        raise click.ClickException(f"nothing written: {error}") from error
    _write(path, export_file.data)
    record_export(round_, export_file, via="command line")
    click.echo(
        f"Wrote {path} ({len(export_file.data):,} bytes): “{round_.name}”, {export_file.format.label}, "
        f"SHA-256 {export_file.sha256}."
    )


def _check_writable(path: Path) -> None:
    """Fail before any work when the file cannot be written."""
    if path.is_dir():
        raise click.ClickException(f"cannot write {path}: it is a folder; give a file name.")
    folder = path.parent
    if not folder.exists():
        raise click.ClickException(f"cannot write {path}: the folder {folder} does not exist.")
    if not folder.is_dir():
        raise click.ClickException(f"cannot write {path}: {folder} is not a folder.")
    if not os.access(folder, os.W_OK):
        raise click.ClickException(f"cannot write {path}: no permission to write in {folder}.")


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, so a failure never leaves half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}.") from error
