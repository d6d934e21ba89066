"""What can go wrong with a backup or a restore, each said in one line."""

from __future__ import annotations

import json


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why in one line."""


class RestoreRefused(BackupError):
    """The restore stopped before anything was changed (a check failed, or the swap was undone)."""


class SizeLimitExceeded(RestoreRefused):
    """The backup unpacks to more than the restore limit allows."""


def shown(value: object, limit: int = 80) -> str:
    """A value quoted for a one-line message: control characters escaped, long values cut."""
    text = json.dumps(value, ensure_ascii=True, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int = 300) -> str:
    """Tool output (pg_restore, psql) folded into one line of reasonable length."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
