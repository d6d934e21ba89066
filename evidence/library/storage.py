"""Storing uploaded files: checked by their content, kept under their SHA-256.

A file is accepted only when its bytes are what its name says (a PDF that is
really a PDF, a DOCX that is really a Word document within the limits that
``evidence.library.office_files`` sets for every Office file), and it is written under a
name derived from its content hash, never under the name the user gave it. The
original name is kept in the database for the download. Nothing here knows
about requests: callers hand in bytes (or a stream) and the configured limits.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from evidence.library import office_files

# Extension → (what people call it, content type sent with downloads).
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    "pdf": ("PDF", "application/pdf"),
    "docx": ("Word document (DOCX)", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("Excel workbook (XLSX)", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("CSV file", "text/csv"),
    "png": ("PNG image", "image/png"),
    "jpg": ("JPEG image", "image/jpeg"),
    "jpeg": ("JPEG image", "image/jpeg"),
}
ALLOWED_DESCRIPTION = "PDF, DOCX, XLSX, CSV, PNG or JPEG"
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in ALLOWED_TYPES)

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# Characters other than tab, newline, carriage return and form feed have no place in a CSV.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
CHUNK = 64 * 1024
# An attachment is never unpacked here, only handed to whoever downloads it: the bounds protect them, and
# are wide enough for a large real workbook (the same as the evidence register's import allows).
ATTACHMENT_PACKAGE_LIMITS = office_files.PackageLimits(max_uncompressed_bytes=200 * office_files.MB)


class UploadError(ValueError):
    """The file cannot be stored; the message says why in plain words."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    original_name: str
    content_type: str
    size: int


def extension_of(filename: str) -> str:
    name = (filename or "").strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def clean_name(filename: str) -> str:
    """The original name, kept for the download: no folders, no control characters, a sane length."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = CONTROL_CHARACTERS.sub("", name).strip() or "file"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def _describe_content(data: bytes) -> str:
    kind = filetype.guess(data)
    if kind is None:
        return "an unrecognised kind of data"
    return f"a .{kind.extension} file ({kind.mime})"


def check_content(data: bytes, filename: str) -> str:
    """The content type for these bytes, if they really are what the file name says; else UploadError."""
    ext = extension_of(filename)
    shown = clean_name(filename)
    if ext not in ALLOWED_TYPES:
        raise UploadError(f"“{shown}” is not a file type the portal accepts. Upload a {ALLOWED_DESCRIPTION} file.")
    if not data:
        raise UploadError(f"“{shown}” is empty.")
    label, content_type = ALLOWED_TYPES[ext]
    article = "an" if label[0] in "AEIOU" else "a"
    problem = f"“{shown}” is named as {article} {label} but its content is {{found}}, so it was refused."
    if ext in office_files.KINDS:
        if data[:4] != b"PK\x03\x04":
            raise UploadError(problem.format(found=_describe_content(data)))
        try:
            office_files.check(data, ext, ATTACHMENT_PACKAGE_LIMITS)
        except office_files.WrongKind:
            found = "a zip archive that is not an Office document of that kind"
            raise UploadError(problem.format(found=found)) from None
        except office_files.NotAnOfficeFile as exc:
            raise UploadError(f"“{shown}” cannot be stored. {exc}") from None
        return content_type
    if ext == "csv":
        if filetype.guess(data) is not None:
            raise UploadError(problem.format(found=_describe_content(data)))
        text = _decode_text(data)
        if text is None or CONTROL_CHARACTERS.search(text):
            raise UploadError(problem.format(found="binary data rather than text"))
        return content_type
    kind = filetype.guess(data)
    if kind is None or kind.mime != content_type:
        raise UploadError(problem.format(found=_describe_content(data)))
    return content_type


def _decode_text(data: bytes) -> str | None:
    # UTF-8 (with or without the byte-order mark Excel writes) first, then Windows' own encoding.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_limited(stream: BinaryIO, max_bytes: int | None) -> bytes:
    """Read a stream, refusing it once it passes the size limit."""
    chunks, total = [], 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise UploadError(f"The file is larger than the limit of {max_bytes / (1024 * 1024):g} MB.")
        chunks.append(chunk)
    return b"".join(chunks)


def path_for(upload_dir: str | os.PathLike, sha256: str) -> Path:
    """Where the content with this hash lives: <upload_dir>/<first two hex digits>/<hash>."""
    if not SHA256_PATTERN.match(sha256 or ""):
        raise ValueError("not a SHA-256 hex digest")
    return Path(upload_dir) / sha256[:2] / sha256


def check_upload(data: bytes | BinaryIO, filename: str, *, max_bytes: int | None = None) -> tuple[bytes, str]:
    """Read and check an upload without storing it: (bytes, content type) or UploadError."""
    if not isinstance(data, bytes | bytearray):
        data = read_limited(data, max_bytes)
    data = bytes(data)
    if max_bytes is not None and len(data) > max_bytes:
        raise UploadError(f"The file is larger than the limit of {max_bytes / (1024 * 1024):g} MB.")
    return data, check_content(data, filename)


def store(
    data: bytes | BinaryIO, filename: str, upload_dir: str | os.PathLike, *, max_bytes: int | None = None
) -> StoredFile:
    """Check the file and write it under its content hash (once: the same content is stored once)."""
    data, content_type = check_upload(data, filename, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(upload_dir, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename, so a half-written file is never served.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    return StoredFile(sha256=digest, original_name=clean_name(filename), content_type=content_type, size=len(data))
