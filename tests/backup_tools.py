"""Helpers for the backup and restore tests: what the portal holds, and hand-made backup zips."""

from __future__ import annotations

import hashlib
import json
import struct
import zipfile
import zlib
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from evidence.db import db

MiB = 1024 * 1024


def _digest(values) -> str:
    return hashlib.sha256("\n".join(sorted(repr(v) for v in values)).encode()).hexdigest()


def _schema(connection) -> str:
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace "
                "UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "UNION ALL SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            )
        )
    else:
        rows = connection.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    return _digest(tuple(row) for row in rows)


def database_state(engine: Engine) -> dict[str, str]:
    """A checksum of every table's rows (their contents, not their count), of alembic_version and of the schema.

    Not of the portfolio's version: a restore starts a new epoch of it on purpose (``evidence.portfolio_version``).
    """
    state = {}
    with engine.connect() as connection:
        tables = [table.name for table in db.metadata.sorted_tables if table.name != "portfolio_version"]
        for name in [*tables, "alembic_version"]:
            state[name] = _digest(tuple(row) for row in connection.execute(text(f'SELECT * FROM "{name}"')))
        state["(schema)"] = _schema(connection)
    return state


def upload_state(upload_dir: Path) -> dict[str, str]:
    """Every uploaded file by its path, with a checksum of its bytes."""
    if not upload_dir.exists():
        return {}
    return {
        path.relative_to(upload_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in upload_dir.rglob("*")
        if path.is_file()
    }


def rezip(source: Path, target: Path, *, drop=(), replace: dict | None = None, add=()) -> Path:
    """A copy of a backup zip with members dropped, replaced (name → bytes) or added ((ZipInfo or name, bytes))."""
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in drop:
                continue
            new.writestr(info.filename, replace.get(info.filename, old.read(info.filename)))
        for name, data in add:
            new.writestr(name, data)
    return target


def member(source: Path, name: str) -> bytes:
    with zipfile.ZipFile(source) as archive:
        return archive.read(name)


def _zeros_deflated(mib: int, start: bytes) -> tuple[bytes, int]:
    """Raw deflate data for ``start`` and then zeros, ``mib`` MiB in all (about 1 KB per MiB), with its CRC-32.

    Made quickly: one MiB of zeros compressed and flushed so that its bytes can simply be repeated.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = start + b"\0" * (MiB - len(start))
    head = compressor.compress(first) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(b"\0" * MiB) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc, zeros = zlib.crc32(first), b"\0" * MiB
    for _ in range(mib - 1):
        crc = zlib.crc32(zeros, crc)
    return head + block * (mib - 1) + compressor.flush(zlib.Z_FINISH), crc


def zip_with_bomb(
    source: Path, target: Path, name: str, mib: int, *, declared: int | None = None, start: bytes = b""
) -> Path:
    """A copy of a backup with one more member ``name`` that inflates to ``mib`` MiB: ``start``, then zeros.

    The zip is written by hand so that the member's header can claim another size (``declared``) than
    its data really has, as a hostile zip would.
    """
    members = []
    with zipfile.ZipFile(source) as old:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "backup.json" and name.startswith("uploads/"):  # the manifest counts the files
                manifest = json.loads(data)
                data = json.dumps({**manifest, "uploads": manifest["uploads"] + 1}).encode()
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            members.append((info.filename, compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)))
    raw, crc = _zeros_deflated(mib, start)
    members.append((name, raw, crc, mib * MiB if declared is None else declared))
    with open(target, "wb") as out:
        directory = b""
        for filename, raw, crc, size in members:
            encoded = filename.encode()
            offset = out.tell()
            out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(raw), size, len(encoded), 0))
            out.write(encoded + raw)
            sizes = (crc, len(raw), size, len(encoded))
            directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, *sizes, 0, 0, 0, 0, 0, offset)
            directory += encoded
        start = out.tell()
        out.write(directory)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), start, 0))
    return target
