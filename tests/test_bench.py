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
    for heading in ("## Machine", "### Portfolio", "### Pages", "### Exports", "### Throughput", "## Targets"):
        assert heading in table, heading
    assert "| CPU |" in table and "| Cores |" in table and "SQLite" in table
    assert "| accepted items | 100 | 500 |" in table

    # Every page has a row and was measured: a page that answers 404 ("missing") fails as a crash does.
    for name, _path in PAGES:
        row = next((line for line in table.splitlines() if line.startswith(f"| {name} |")), None)
        assert row is not None, name
        assert row.split("|")[3].strip() == "ok", row
        assert re.search(r"\| \d+ \| \d+ \| (equal|DIFFERS) \|$", row), row

    for export in ("Excel workbook", "Markdown pack"):
        assert re.search(rf"^\| {export} \| open \|", table, re.M), export
        assert re.search(rf"^\| {export} \| signed off \|", table, re.M), export
    # Throughput was measured against a served portal: a row per page, with a rate and the floor's share.
    from bench.throughput import PAGES as THROUGHPUT_PAGES

    for name, path in THROUGHPUT_PAGES:
        row = re.search(
            rf"^\| {re.escape(name)} \| `{re.escape(path)}` \| no \| ([\d,.]+) \| ([\d.]+%) \|", table, re.M
        )
        assert row, name
        assert float(row.group(1).replace(",", "")) > 0
    assert "Throughput: Dashboard (without Redis)" in table
    assert (tmp_path / "sql-sqlite.txt").exists()


@pytest.mark.slow
def test_quick_hostile_run_prints_a_row_per_form_and_import_step(tmp_path, capsys):
    from bench import hostile

    output = tmp_path / "hostile.md"

    code = hostile.main(["--quick", "--output", str(output)])

    table = capsys.readouterr().out
    assert output.read_text().strip() == table.strip()
    assert "## Hostile input" in table and "### SQLite" in table
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if re.match(r"^\| [^-*]", line)}
    for kind in ("survey finding", "metric", "quote", "document / process", "partner feedback", "case audit"):
        for form in ("Submit", "Review", "Correct and resubmit"):
            assert f"{form}: {kind}" in rows, f"{form}: {kind}"
    for step in ("upload", "preview", "confirm"):
        assert f"Import evidence register: {step}" in rows
    total = re.search(
        r"^\| \*\*All\*\* \|  \| \*\*([\d,]+)\*\* \| \*\*([\d,]+)\*\* \| \*\*([\d,]+)\*\* \|$", table, re.M
    )
    assert total, table[-2000:]
    tried, errors, partial = (int(n.replace(",", "")) for n in total.groups())
    assert tried >= 250
    # The exit code says whether anything failed, and the failures are listed under the table.
    assert code == (1 if errors or partial else 0)
    assert ("#### Distinct causes" in table) == bool(errors or partial)


WRK_OUTPUT = """\
Running 15s test @ http://127.0.0.1:40000/dashboard
  2 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.20ms   80.11ms   1.20s    70.00%
    Req/Sec    61.10     20.33   120.00     66.67%
  Latency Distribution
     50%  401.50ms
     75%  450.00ms
     90%  520.00ms
     99%    1.05s
  1812 requests in 15.02s, 40.11MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:    120.64
Transfer/sec:      2.67MB
"""


def test_a_wrk_report_gives_the_rate_latencies_and_every_kind_of_error():
    from bench.throughput import PageRate, Throughput, parse_wrk

    page = PageRate("Dashboard", "/dashboard", redis=False)
    parse_wrk(WRK_OUTPUT, page)
    assert page.requests == 1812 and page.seconds == pytest.approx(15.02)
    assert page.rate == pytest.approx(120.64, abs=0.01)
    assert page.median_ms == pytest.approx(401.5) and page.p99_ms == pytest.approx(1050.0)
    assert (page.non_2xx_3xx, page.socket_errors, page.timeouts, page.errors) == (7, 4, 2, 13)

    floor = PageRate("Floor: health check", "/healthz", redis=False, requests=15_000, seconds=15.0)
    result = Throughput(pages=[floor, page])
    assert result.share(page) == pytest.approx(120.64 / 1000, abs=0.001)
    assert result.verdict(page) == "MISSED (13 errors, < 300 req/s, < 15% of floor)"
