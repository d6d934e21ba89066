"""Reproducible zip files: sorted entries, fixed dates and attributes, fixed compression."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from datetime import datetime
from io import BytesIO

# The zip format counts years from 1980 and stops at 2107.
_EARLIEST = (1980, 1, 1, 0, 0, 0)
_LATEST = (2107, 12, 31, 23, 59, 58)
COMPRESS_LEVEL = 6


def zip_date_time(stamp: datetime) -> tuple[int, int, int, int, int, int]:
    value = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    return min(max(value, _EARLIEST), _LATEST)


def deterministic_zip(entries: Iterable[tuple[str, bytes | Iterable[bytes]]], stamp: datetime) -> bytes:
    """A zip of the entries, sorted by name, each dated ``stamp``: the same entries give the same bytes.

    An entry's payload is bytes, or an iterable of byte chunks that is streamed into the
    archive, so a large part never has to sit in memory whole.
    """
    date_time = zip_date_time(stamp)
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for name, payload in sorted(entries, key=lambda entry: entry[0]):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # the same on every platform
            info.external_attr = 0o644 << 16
            if isinstance(payload, bytes | bytearray):
                archive.writestr(info, payload, compresslevel=COMPRESS_LEVEL)
                continue
            with archive.open(info, "w") as member:  # zlib's default level, which is COMPRESS_LEVEL
                for chunk in payload:
                    member.write(chunk)
    return out.getvalue()


def fixed_time(signed_off_at: datetime | None, generated_at: datetime) -> datetime:
    """The one time a pack carries: when its round was signed off, else when the pack was made."""
    stamp = signed_off_at or generated_at
    return stamp.replace(tzinfo=None, microsecond=0)
