"""The layers: only the web layer knows about Flask and requests; the domain, the framework and the documents
can be used without an app, and never reach up into the portal."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BELOW_THE_PORTAL = ("evidence", "exports", "quality_statements")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", BELOW_THE_PORTAL)
def test_nothing_below_the_portal_imports_flask_or_the_portal(package):
    reaching_up = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imported(path)
        if name.split(".")[0] in ("flask", "portal")
    }
    assert reaching_up == set()
