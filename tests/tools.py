"""System tools some tests drive (LibreOffice), found on the PATH: missing, a local run skips those
tests saying how to install them, and CI (which `make test` equips with them) fails instead."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

OFFICE_HINT = "Debian: apt-get install libreoffice-calc-nogui libreoffice-writer-nogui, or run make test"


def missing(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run this test ({OFFICE_HINT})", pytrace=False)
    pytest.skip(f"{reason} ({OFFICE_HINT})")


def soffice() -> str:
    """LibreOffice's command, or a skip (a failure under CI) when it is not installed."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        missing("LibreOffice is not installed")
    return found
