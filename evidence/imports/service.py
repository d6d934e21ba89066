"""The import as a person goes through it: upload, preview, confirm.

Between the preview and the confirmation the uploaded file waits on disk under
its SHA-256 (``<upload dir>/imports/<sha256>``). Confirming reads that file and
validates it again from scratch, then writes every row in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from evidence import audit, wording
from evidence.assessment.round_lock import lock_open_rounds
from evidence.db import db
from evidence.imports import layouts
from evidence.imports.base import CREATE, UNCHANGED, UPDATE, Importer, ImportResult, Plan
from evidence.imports.metric_points import MetricImporter
from evidence.imports.quotes import QuoteImporter
from evidence.imports.reading import NeedsLayout, Table, check_file, read_table, rows_in
from evidence.imports.register import RegisterImporter
from evidence.imports.survey import SurveyImporter
from evidence.models import User

# The kinds of import, in the order the import page lists them. Another kind is one more Importer here.
IMPORTERS: dict[str, Importer] = {
    i.key: i for i in (SurveyImporter(), MetricImporter(), QuoteImporter(), RegisterImporter())
}

DIGEST = re.compile(r"^[0-9a-f]{64}$")
KEEP_UPLOADS_SECONDS = 2 * 24 * 3600
SAMPLE_ROWS = 200  # rows read to show a file's columns and sample values


class UploadMissing(LookupError):
    """No waiting upload with that digest (never uploaded, already imported, or cleared away)."""


class ImportNotReady(ValueError):
    """The plan cannot be written as it stands; ``plan`` says why, row by row."""

    def __init__(self, message: str, plan: Plan):
        self.plan = plan
        super().__init__(message)


class ImportConflict(RuntimeError):
    """Someone else changed the same evidence while the import was being written; nothing was written."""


def get_importer(kind: str) -> Importer | None:
    return IMPORTERS.get(kind)


@dataclass(frozen=True)
class StoredUpload:
    digest: str
    filename: str
    format: str
    data: bytes
    needs_layout: bool = False  # its header is not the template's, and no saved layout is for it


def _folder(upload_dir: str | os.PathLike) -> Path:
    return Path(upload_dir) / "imports"


def _clean_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:200] or "upload"


def accept_upload(
    upload_dir: str | os.PathLike,
    importer: Importer,
    filename: str,
    data: bytes,
    *,
    check_rows_up_to: int | None = None,
) -> StoredUpload:
    """Check the file is what it claims and has a header the import can read (the template's, one a saved layout
    is for, or one the quality lead is to map: ``needs_layout``), then keep it for the preview.

    A file of more rows than ``check_rows_up_to`` (a large one, whose rows a job reads) has only its header and
    first rows read now: that it has rows, and rows a saved layout keeps, is found when all of them are read."""
    fmt = check_file(filename, data, importer.limits)
    needs_layout = False
    try:
        if check_rows_up_to is not None and rows_in(data, fmt) > check_rows_up_to:
            importer.positions(_read(importer, data, fmt, sample=SAMPLE_ROWS))
        else:
            importer.check_header(_read(importer, data, fmt))
    except NeedsLayout:
        needs_layout = True
    digest = hashlib.sha256(data).hexdigest()
    folder = _folder(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder)
    target = folder / digest
    if not target.exists():
        # A name of its own: process ids repeat between servers that share the folder.
        partial = folder / f".{digest}.{uuid.uuid4().hex}.part"
        partial.write_bytes(data)
        os.replace(partial, target)
    stored = StoredUpload(digest, _clean_name(filename), fmt, data, needs_layout)
    (folder / f"{digest}.json").write_text(
        json.dumps({"filename": stored.filename, "format": fmt, "kind": importer.key}), encoding="utf-8"
    )
    return stored


def load_upload(upload_dir: str | os.PathLike, digest: str) -> StoredUpload:
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise UploadMissing(digest)
    folder = _folder(upload_dir)
    try:
        data = (folder / digest).read_bytes()
        meta = json.loads((folder / f"{digest}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UploadMissing(digest) from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise UploadMissing(digest)
    return StoredUpload(digest, meta.get("filename") or "upload", meta.get("format") or "xlsx", data)


def discard_upload(upload_dir: str | os.PathLike, digest: str) -> None:
    if DIGEST.match(digest or ""):
        for path in (_folder(upload_dir) / digest, _folder(upload_dir) / f"{digest}.json"):
            path.unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    """Remove uploads nobody confirmed within a couple of days."""
    cutoff = time.time() - KEEP_UPLOADS_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def plan_file(importer: Importer, filename: str, data: bytes, fmt: str | None = None) -> Plan:
    """Validate a file and plan its import, writing nothing."""
    fmt = fmt or check_file(filename, data, importer.limits)
    table = _read(importer, data, fmt)
    importer.check_header(table)
    return importer.plan(table, filename)


def _read(importer: Importer, data: bytes, fmt: str, sample: int | None = None) -> Table:
    """The importer's sheet of a workbook (its ``sheet`` by name, else the first) or the CSV file, read through
    the saved layout for its header when there is one.

    A header that is neither the template's nor a saved layout's is refused (``NeedsLayout``) as soon as it is
    found, before any row is read: a national file of tens of thousands of rows is not read to no purpose. With
    ``sample`` (showing the file's columns) it is not refused, and only that many rows are read.
    """
    known = layouts.for_kind(importer.key) if importer.accepts_layouts else {}
    chosen: dict[str, object] = {}

    def header_test(values: list) -> bool:
        return importer.looks_like_header(values) or (bool(known) and layouts.header_key(values) in known)

    def keep(header: list[str], header_row: int):
        layout = known.get(layouts.header_key(header))
        chosen["layout"] = layout
        if layout is None:
            if sample is None:
                importer.match_header(header, header_row)  # NeedsLayout when the template's columns are missing
            return None
        return layouts.row_filter(layout)

    table = read_table(
        data,
        fmt,
        importer.limits,
        header_test=header_test,
        sheet=importer.sheet,
        keep=keep if importer.accepts_layouts else None,
        sample=sample,
    )
    table.layout = chosen.get("layout")
    if table.layout is not None and sample is None:
        table.notices.extend(layouts.describe(table.layout, importer, table))
    return table


def inspect_upload(upload_dir: str | os.PathLike, importer: Importer, digest: str) -> tuple[StoredUpload, Table]:
    """A waiting upload and the first rows of its table, to show its columns with sample values."""
    stored = load_upload(upload_dir, digest)
    return stored, _read(importer, stored.data, stored.format, sample=SAMPLE_ROWS)


def save_layout(
    upload_dir: str | os.PathLike, importer: Importer, digest: str, choice: layouts.Choice, user: User | None
):
    """Save the quality lead's layout for a waiting upload's header (committed), for this file and the next ones."""
    _, table = inspect_upload(upload_dir, importer, digest)
    try:
        layout = layouts.save(importer, table, choice, user)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return layout


def preview_upload(upload_dir: str | os.PathLike, importer: Importer, digest: str) -> Plan:
    stored = load_upload(upload_dir, digest)
    return plan_file(importer, stored.filename, stored.data, stored.format)


def confirm_upload(
    upload_dir: str | os.PathLike,
    importer: Importer,
    digest: str,
    user: User | None,
    confirm_personal_data: bool = False,
) -> ImportResult:
    """Validate the kept file again and, when it is free of errors, import all of it (or nothing)."""
    plan = preview_upload(upload_dir, importer, digest)
    result = write_plan(plan, user, confirm_personal_data)
    discard_upload(upload_dir, digest)
    return result


def import_file(
    importer: Importer, filename: str, data: bytes, user: User | None, confirm_personal_data: bool = False
) -> ImportResult:
    """Validate and import a file in one step (for scripts and tests): all rows or none."""
    return write_plan(plan_file(importer, filename, data), user, confirm_personal_data)


def write_plan(plan: Plan, user: User | None, confirm_personal_data: bool = False) -> ImportResult:
    if plan.errors:
        problems = len(plan.errors)
        raise ImportNotReady(
            f"The file has {wording.count(problems, 'problem')} in {wording.count(plan.error_rows, 'row')}. "
            "Nothing was imported.",
            plan,
        )
    if not plan.rows:
        raise ImportNotReady("The file has no rows to import. Nothing was imported.", plan)
    if plan.personal_data_rows and not confirm_personal_data:
        raise ImportNotReady(
            "Some rows contain what looks like personal data. Check them and confirm before importing. "
            "Nothing was imported.",
            plan,
        )
    importer = plan.importer
    try:
        lock_open_rounds()  # imported evidence, mappings and points are what open rounds' snapshots read
        result = importer.write(plan, user, confirm_personal_data)
        if result.created or result.updated:
            result.message = importer.message(plan, result)
        else:
            result.message = f"Nothing changed: every row of {plan.filename} is already in the portfolio."
        audit.record(
            "import",
            entity_type="import",
            user=user,
            summary=result.message,
            after={
                "kind": importer.key,
                "file": plan.filename,
                CREATE: result.created,
                UPDATE: result.updated,
                UNCHANGED: result.unchanged,
                "references": result.references[:200],
            },
        )
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        raise ImportConflict(
            "Someone changed the same evidence while this import was being written, so nothing was imported. "
            "Upload the file again to see the latest preview."
        ) from None
    except BaseException:
        db.session.rollback()
        raise
    return result
