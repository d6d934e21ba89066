"""Small facts about the installation, kept as key/value rows: the council's name and ONS code, the framework
version."""

from __future__ import annotations

import re

from evidence.db import db
from evidence.models import Setting

FRAMEWORK_VERSION = "framework_version"
AUTHORITY_NAME = "authority_name"
# The council's ONS (GSS) code, E10000007 or E08000025: national files name councils by it.
AUTHORITY_CODE = "authority_code"
ONS_CODE = re.compile(r"^[EWSN]\d{8}$")


class SettingError(ValueError):
    """A setting that cannot be kept; ``field`` names it."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def get_setting(key: str, default: str = "") -> str:
    row = db.session.get(Setting, key)
    return row.value if row else default


def set_setting(key: str, value: str) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def council() -> tuple[str, str]:
    """The council's name and ONS code, as the admin page set them ("" when not set)."""
    return get_setting(AUTHORITY_NAME, ""), get_setting(AUTHORITY_CODE, "")


def set_council(name: str, code: str) -> None:
    """Keep the council's name and ONS code (not committed): a name of at most 200 characters, a code like
    E10000007 or none."""
    name = " ".join((name or "").split())
    code = (code or "").strip().upper()
    if not name:
        raise SettingError("Council name: enter the council's name, e.g. Derbyshire County Council", "name")
    if len(name) > 200 or not name.isprintable():
        raise SettingError("Council name: at most 200 characters, on one line", "name")
    if code and not ONS_CODE.match(code):
        raise SettingError(
            "ONS code: a letter and eight digits, as the Office for National Statistics writes it (E10000007)", "code"
        )
    set_setting(AUTHORITY_NAME, name)
    set_setting(AUTHORITY_CODE, code)
