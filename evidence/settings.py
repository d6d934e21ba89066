"""Small facts about the installation, kept as key/value rows: the authority's name, the framework version."""

from __future__ import annotations

from evidence.db import db
from evidence.models import Setting

FRAMEWORK_VERSION = "framework_version"
AUTHORITY_NAME = "authority_name"


def get_setting(key: str, default: str = "") -> str:
    row = db.session.get(Setting, key)
    return row.value if row else default


def set_setting(key: str, value: str) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
