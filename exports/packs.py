"""Exporting a round: choose a format, build the file, record that it left.

``build_export`` is pure (a ``RoundView`` in, an ``ExportFile`` out).
``export_round`` and ``record_export`` read the round and write the audit
trail, so they need an application context (the database), but nothing of the
web layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from evidence import audit
from evidence.assessment.round_view import RoundView, round_view
from evidence.db import db
from evidence.models import Round, User, utcnow
from exports.checks import ExportChecks, run_checks
from exports.markdown_pack import build_markdown_pack, statement_markdown
from exports.pdf import build_pdf
from exports.text import slugify
from exports.word import build_docx
from exports.workbook import build_workbook

XLSX = "xlsx"
DOCX = "docx"
PDF = "pdf"
MARKDOWN = "markdown"


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    extension: str
    mimetype: str
    build: Callable[[RoundView, datetime], bytes]


FORMATS: dict[str, Format] = {
    XLSX: Format(
        XLSX,
        "Excel workbook (.xlsx)",
        ".xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        build_workbook,
    ),
    DOCX: Format(
        DOCX,
        "Word document (.docx)",
        ".docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        build_docx,
    ),
    PDF: Format(PDF, "PDF document (.pdf)", ".pdf", "application/pdf", build_pdf),
    MARKDOWN: Format(MARKDOWN, "Markdown pack (.zip)", ".zip", "application/zip", build_markdown_pack),
}


@dataclass(frozen=True)
class ExportFile:
    name: str
    mimetype: str
    data: bytes
    format: Format

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def file_name(round_name: str, fmt: str) -> str:
    """assure-winter-2026-self-assessment.xlsx"""
    return f"assure-{slugify(round_name, 'round')}{FORMATS[fmt].extension}"


def build_export(view: RoundView, fmt: str, generated_at: datetime | None = None) -> ExportFile:
    """The file of a round in one format. Raises KeyError for an unknown format, and
    ``exports.ExportUnavailable`` when the machine lacks what the format needs."""
    spec = FORMATS[fmt]
    data = spec.build(view, generated_at or utcnow())
    return ExportFile(file_name(view.name, fmt), spec.mimetype, data, spec)


def record_export(round_: Round, export: ExportFile, *, user: User | None = None, via: str = "browser") -> None:
    """Note in the audit trail that the file left, with its hash, and commit."""
    audit.record(
        "export",
        round_,
        user=user,
        summary=f"Exported {export.format.label} {export.name} ({_size(len(export.data))}) from the {via}.",
        after={"format": export.format.key, "file": export.name, "bytes": len(export.data), "sha256": export.sha256},
    )
    db.session.commit()


def export_round(round_: Round, fmt: str, *, user: User | None = None, via: str = "browser") -> ExportFile:
    """Build the round's file in the format and record the export."""
    export = build_export(round_view(round_), fmt)
    record_export(round_, export, user=user, via=via)
    return export


@dataclass(frozen=True)
class Prepared:
    """A round ready to export: its view and what the checks found."""

    round: Round
    view: RoundView
    checks: ExportChecks


def prepare_export(round_: Round) -> Prepared:
    """Read the round (its snapshot once signed off) and run the checks over what the pack would hold."""
    view = round_view(round_)
    return Prepared(round_, view, run_checks(view))


def preview_markdown(round_: Round, statement_key: str) -> tuple[RoundView, str]:
    """One statement's document as the markdown pack holds it. Raises KeyError for an unknown statement."""
    view = round_view(round_)
    return view, statement_markdown(view, statement_key)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"
