"""The benchmark's quick mode still runs end to end and prints every section of its table."""

from __future__ import annotations

import re

import pytest

from bench import run
from bench.pages import PAGES


@pytest.mark.slow
def test_quick_benchmark_prints_every_section(tmp_path, capsys):
    output = tmp_path / "quick.md"

    assert run.main(["--quick", "--output", str(output)]) == 0

    table = capsys.readouterr().out
    assert output.read_text().strip() == table.strip()
    for heading in ("## Machine", "### Portfolio", "### Pages", "### Exports", "### Under load", "## Targets"):
        assert heading in table, heading
    assert "| CPU |" in table and "| Cores |" in table and "SQLite" in table
    assert "| accepted items | 100 | 500 |" in table

    # Every page has a row: measured, or reported as not built yet; none crashed.
    for name, _path in PAGES:
        row = next((line for line in table.splitlines() if line.startswith(f"| {name} |")), None)
        assert row is not None, name
        state = row.split("|")[3].strip()
        assert state in {"ok", "missing"}, row
        if state == "ok":
            assert re.search(r"\| \d+ \| \d+ \| (equal|DIFFERS) \|$", row), row

    for export in ("Excel workbook", "Markdown pack"):
        assert re.search(rf"^\| {export} \| open \|", table, re.M), export
        assert re.search(rf"^\| {export} \| signed off \|", table, re.M), export
    # The load ran against a served portal: one row per page and a total.
    assert re.search(r"^\| All \|  \| \d+ \|", table, re.M)
    assert "No errors under load" in table
    assert (tmp_path / "sql-sqlite.txt").exists()
