"""What an Assure backup zip holds, and checking one before anything is restored from it.

A backup holds three kinds of member: the manifest (``backup.json``), one database (``database.sqlite``
or ``database.pgdump``) and the uploaded files under ``uploads/``. Nothing else is accepted: no other
name, no absolute or climbing path, no link, no encrypted member. Sizes are added up from the headers
and held to a limit before a byte is unpacked, and while unpacking no member may give more bytes than
its header promised, so a small zip cannot fill the disk or the memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from evidence.backups.errors import RestoreRefused, SizeLimitExceeded, shown, size
from evidence.wording import count

MANIFEST = "backup.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
# How each database file begins, so that a member that is not one is refused at its first chunk.
DATABASE_SIGNATURES = {
    "sqlite": (b"SQLite format 3\x00", "an SQLite database"),
    "postgresql": (b"PGDMP", "a pg_dump file"),
}
UPLOADS = "uploads/"
# Every revision of the schema since the first migration has had these tables.
ASSURE_TABLES = frozenset(
    {
        "action",
        "app_user",
        "assessment",
        "attachment",
        "audit_event",
        "evidence_category",
        "evidence_item",
        "mapping",
        "metric_point",
        "quality_statement",
        "round",
        "setting",
        "theme",
    }
)
DEFAULT_MAX_BYTES = 4 * 1024**3
MANIFEST_MAX_BYTES = 64 * 1024
# Each member is counted as at least one disk block, so the size limit also bounds how many files a zip makes.
BLOCK = 4096
CHUNK = 1024 * 1024

_DRIVE = re.compile(r"^[A-Za-z]:")
_UNIX = 3  # ZipInfo.create_system of a zip written on Unix: external_attr then carries the file mode
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class Contents:
    """A backup whose members and manifest passed the checks."""

    manifest: dict
    database: zipfile.ZipInfo
    uploads: tuple[tuple[zipfile.ZipInfo, PurePosixPath], ...]
    unpacked_bytes: int


def open_backup(source: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise RestoreRefused(f"{source.name} is not an Assure backup (not a readable zip: {exc})") from exc


def _path_problem(name: str) -> str | None:
    if not name:
        return "has no name"
    if "\\" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "has a backslash or a control character in its path"
    if name.startswith("/") or _DRIVE.match(name):
        return "has an absolute path"
    parts = name.removesuffix("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "has an unsafe path (an empty, . or .. part)"
    if name in (MANIFEST, *DATABASE_MEMBERS.values()):
        return None
    if parts[0] == UPLOADS.rstrip("/") and (len(parts) > 1 or name == UPLOADS):
        return None
    return f"is not part of an Assure backup (only {MANIFEST}, the database and {UPLOADS}… are)"


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    problem = _path_problem(info.filename)
    if problem:
        return problem
    mode = info.external_attr >> 16
    if info.create_system == _UNIX and stat.S_ISLNK(mode):
        return "is a symbolic link"
    if info.create_system == _UNIX and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is not a regular file"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return "is compressed in a way Assure never writes"
    if info.is_dir() and not info.filename.startswith(UPLOADS):
        return "is a folder outside uploads/"
    return None


def copy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: BinaryIO, *, digest=None, signature: tuple | None = None
) -> None:
    """Stream one member into ``out`` in chunks, never past its declared size, feeding ``digest`` if given.

    With a ``signature`` (first bytes, what they mean), a member that does not begin with them is refused
    at its first chunk.
    """
    written = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                if signature and not written and not chunk.startswith(signature[0]):
                    raise RestoreRefused(f"the member {shown(info.filename)} is not {signature[1]}")
                written += len(chunk)
                if written > info.file_size:
                    raise RestoreRefused(f"the member {shown(info.filename)} holds more than its header says")
                if digest is not None:
                    digest.update(chunk)
                out.write(chunk)
    except _READ_ERRORS as exc:
        raise RestoreRefused(f"the member {shown(info.filename)} is damaged ({exc})") from exc
    if written != info.file_size:
        raise RestoreRefused(f"the member {shown(info.filename)} holds less than its header says")


def _read_manifest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict:
    if info.file_size > MANIFEST_MAX_BYTES:
        raise RestoreRefused(f"its manifest ({MANIFEST}) is larger than {size(MANIFEST_MAX_BYTES)}")
    data = io.BytesIO()
    copy_member(archive, info, data)
    try:
        manifest = json.loads(data.getvalue().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RestoreRefused(f"its manifest ({MANIFEST}) is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise RestoreRefused(f"its manifest ({MANIFEST}) is not a JSON object")
    for key, kind, wanted in (
        ("created_at", str, "a date and time"),
        ("database", str, "a database kind"),
        ("uploads", int, "a count of files"),
    ):
        if key not in manifest:
            raise RestoreRefused(f"its manifest ({MANIFEST}) has no {shown(key)}")
        value = manifest[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise RestoreRefused(f"its manifest's {shown(key)} is {shown(value)}, not {wanted}")
    try:
        datetime.fromisoformat(manifest["created_at"])
    except ValueError:
        raise RestoreRefused(
            f"its manifest's {shown('created_at')} is {shown(manifest['created_at'])}, not a date and time"
        ) from None
    if manifest["database"] not in DATABASE_MEMBERS:
        raise RestoreRefused(
            f"its manifest's {shown('database')} is {shown(manifest['database'])}, not sqlite or postgresql"
        )
    if manifest["uploads"] < 0:
        raise RestoreRefused(f"its manifest's {shown('uploads')} is {manifest['uploads']}, not a count of files")
    return manifest


def check(archive: zipfile.ZipFile, backend: str, max_bytes: int) -> Contents:
    """Check every member's path and kind, the manifest, and the unpacked size, reading only the manifest."""
    infos = archive.infolist()
    seen: set[str] = set()
    for info in infos:
        problem = _member_problem(info)
        if problem:
            raise RestoreRefused(f"the member {shown(info.filename)} {problem}")
        if info.filename in seen:
            raise RestoreRefused(f"the member {shown(info.filename)} appears twice")
        seen.add(info.filename)
    if MANIFEST not in seen:
        raise RestoreRefused(f"it is not an Assure backup (no {MANIFEST})")
    manifest = _read_manifest(archive, archive.getinfo(MANIFEST))
    if manifest["database"] != backend:
        raise RestoreRefused(f"the backup holds a {manifest['database']} database; the portal uses {backend}")
    member = DATABASE_MEMBERS[backend]
    if member not in seen:
        raise RestoreRefused(f"it holds no database ({member})")
    for other in DATABASE_MEMBERS.values():
        if other != member and other in seen:
            raise RestoreRefused(f"it holds {other} as well as {member}")
    uploads = tuple(
        (info, PurePosixPath(info.filename.removeprefix(UPLOADS)))
        for info in infos
        if info.filename.startswith(UPLOADS) and not info.is_dir()
    )
    if len(uploads) != manifest["uploads"]:
        raise RestoreRefused(
            f"its manifest lists {count(manifest['uploads'], 'uploaded file')} but it holds {len(uploads)}"
        )
    unpacked = sum(max(info.file_size, BLOCK) for info in infos if not info.is_dir())
    if unpacked > max_bytes:
        raise SizeLimitExceeded(
            f"it would unpack to {size(unpacked)}, more than the restore limit of {size(max_bytes)}"
        )
    return Contents(manifest, archive.getinfo(member), uploads, unpacked)


def check_database(tables: set[str], revisions: list, known_revisions: frozenset[str]) -> str:
    """The database is an Assure database at a migration revision this code knows; returns the revision."""
    missing = sorted(ASSURE_TABLES - tables)
    if missing:
        listed = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
        raise RestoreRefused(f"its database is not an Assure database (it has no {listed} table)")
    if len(revisions) != 1 or not isinstance(revisions[0], str):
        raise RestoreRefused("its database does not record exactly one migration revision (alembic_version)")
    if revisions[0] not in known_revisions:
        raise RestoreRefused(
            f"its database is at migration revision {shown(revisions[0])}, which this version of Assure does not "
            "know (was the backup made by a newer version?)"
        )
    return revisions[0]


def unpack_uploads(archive: zipfile.ZipFile, contents: Contents, target: Path) -> dict[PurePosixPath, str]:
    """Unpack the uploaded files under ``target``; returns each file's SHA-256 by its path."""
    target.mkdir()
    files = {}
    for info, relative in contents.uploads:
        path = target.joinpath(*relative.parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb") as out:
                digest = hashlib.sha256()
                copy_member(archive, info, out, digest=digest)
                files[relative] = digest.hexdigest()
        except OSError as exc:
            raise RestoreRefused(f"the member {shown(info.filename)} could not be unpacked ({exc.strerror})") from exc
    return files


def unpack_database(archive: zipfile.ZipFile, contents: Contents, target: Path) -> None:
    signature = DATABASE_SIGNATURES[contents.manifest["database"]]
    try:
        with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            copy_member(archive, contents.database, out, signature=signature)
    except OSError as exc:
        raise RestoreRefused(f"the database could not be unpacked ({exc.strerror})") from exc
