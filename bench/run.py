"""Run the benchmark: ``python -m bench.run [--n 20000] [--quick] [--database sqlite|postgres|all]``.

Builds a synthetic portfolio of N accepted evidence items (and one of the comparison
size, to compare SQL statement counts) in fresh databases, measures pages, exports and
throughput under gunicorn (wrk, with and without Redis), and prints a markdown table with each target and whether it
is met. The table is also written to bench/results/latest.md (quick runs: quick.md).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from pathlib import Path

from bench import databases, machine, report
from bench.exports_bench import measure_exports
from bench.pages import measure_pages, profile_page
from bench.portfolio import build_portfolio
from bench.throughput import run_throughput
from evidence.assessment import round_view as round_view_module
from evidence.db import db

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, help="accepted evidence items (default 20,000; quick: 500)")
    parser.add_argument("--compare-n", type=int, help="smaller portfolio for SQL counts (default 1,000; quick: 100)")
    parser.add_argument("--quick", action="store_true", help="small and fast: keeps the command working in CI")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres", "all"],
        help="all (the default) = SQLite, then PostgreSQL when it answers on 127.0.0.1; quick: sqlite",
    )
    parser.add_argument("--repeats", type=int, help="timed requests per page (default 30; quick: 5)")
    parser.add_argument("--export-repeats", type=int, help="timed runs per export (default 3; quick: 1)")
    parser.add_argument("--load-seconds", type=float, help="throughput run per page, seconds (default 15; quick: 1)")
    parser.add_argument("--connections", type=int, help="open connections per throughput run (default 100; quick: 10)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default 4; quick: 2)")
    parser.add_argument("--no-load", action="store_true", help="skip the throughput table")
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="build the portfolio and measure throughput alone (no pages, exports)",
    )
    parser.add_argument("--no-profile", action="store_true", help="do not profile what misses its target")
    parser.add_argument("--output", type=Path, help="where to write the table (default bench/results/latest.md)")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "n": 500 if quick else 20_000,
        "compare_n": 100 if quick else 1_000,
        "database": "sqlite" if quick else "all",
        "repeats": 5 if quick else 30,
        "export_repeats": 1 if quick else 3,
        "load_seconds": 1.0 if quick else 15.0,
        "connections": 10 if quick else 100,
        "workers": 2 if quick else 4,
        "output": RESULTS / ("quick.md" if quick else "latest.md"),
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if quick:
        args.no_profile = True
    if args.n < 10 or args.compare_n < 10:
        parser.error("--n and --compare-n must be at least 10")
    if args.repeats < 1 or args.export_repeats < 1:
        parser.error("repeats must be at least 1")
    # Bounded: at most 10 minutes per page, 1,000 connections, 32 workers.
    args.load_seconds = min(max(args.load_seconds, 1.0), 600.0)
    args.connections = min(max(args.connections, 1), 1000)
    args.workers = min(max(args.workers, 1), 32)
    return args


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_app(url: str, folder: Path):
    return databases.portal_app(url, folder, "assure-benchmark-secret-key")


def forget_parsed_rounds() -> None:
    """Drop any signed-off round views the process keeps, so one database's rounds never serve another's."""
    clear = getattr(round_view_module, "clear_cache", None)
    if clear is not None:
        clear()


def close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    forget_parsed_rounds()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def write_sql_log(path: Path, run: report.DatabaseRun) -> None:
    lines = [f"SQL issued by one request of each page, {run.label}, N = {run.large.n:,} (ms, statement)", ""]
    for page in run.pages:
        lines.append(f"== {page.name} {page.path}: {page.state}, {page.queries} statements")
        lines += [f"{ms:9.2f}  {sql}" for ms, sql in page.statements]
        lines.append("")
    path.write_text("\n".join(lines))


@contextmanager
def _portfolio(fresh: databases.Fresh, n: int, label: str) -> Iterator[tuple]:
    """An app on the fresh database, with a portfolio of ``n`` items built in it; the app is closed after."""
    say(f"{label}: building a portfolio of {n:,} items")
    app = make_app(fresh.url, fresh.folder)
    try:
        yield app, build_portfolio(app, n)
    finally:
        close(app)


def measure_in_process(app, kind: str, args: argparse.Namespace, results_dir: Path, run: report.DatabaseRun) -> None:
    """Pages (time and SQL statements) and exports, through Flask's test client and in-process calls."""
    say(f"{run.label}: timing pages ({args.repeats} requests each)")
    run.pages = measure_pages(app, run.large, repeats=args.repeats)
    write_sql_log(results_dir / f"sql-{kind}.txt", run)
    if not args.no_profile:
        for page in run.pages:
            if page.ok and page.p95_ms > report.PAGE_P95_MS:
                say(f"{run.label}: profiling {page.name} ({page.p95_ms:.0f} ms at p95)")
                (results_dir / f"profile-{kind}-{slug(page.name)}.txt").write_text(
                    profile_page(app, run.large, page.path)
                )
    say(f"{run.label}: exports")
    run.exports = measure_exports(
        app, run.large, args.export_repeats, profile_over=None if args.no_profile else report.EXPORT_RATIO
    )
    for export in run.exports:
        if export.profile:
            name = f"profile-{kind}-{slug(export.name)}-{slug(export.round_label)}.txt"
            (results_dir / name).write_text(export.profile)


def run_database(kind: str, args: argparse.Namespace, results_dir: Path) -> report.DatabaseRun:
    run = report.DatabaseRun(kind=kind, label=databases.describe(kind))
    if kind == "postgres":
        available, why = databases.postgres_available()
        if not available:
            run.skipped = why
            return run

    if not args.throughput_only:
        with (
            databases.fresh_database(kind, "small") as fresh,
            _portfolio(fresh, args.compare_n, run.label) as (app, run.small),
        ):
            say(f"{run.label}: counting SQL statements per page at N = {args.compare_n:,}")
            run.small_pages = measure_pages(app, run.small, repeats=0, timed=False)

    with databases.fresh_database(kind, "large") as fresh:
        with _portfolio(fresh, args.n, run.label) as (app, run.large):
            say(f"{run.label}: built in {run.large.seconds:.1f} s")
            if not args.throughput_only:
                measure_in_process(app, kind, args, results_dir, run)
        if args.no_load:
            run.load_note = "skipped (--no-load)"
        else:
            say(f"{run.label}: throughput, {args.connections} connections for {args.load_seconds:.0f} s per page")
            run.load = run_throughput(
                fresh.env_url,
                fresh.folder,
                run.large.lead_email,
                run.large.password,
                workers=args.workers,
                connections=args.connections,
                seconds=args.load_seconds,
            )
    return run


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"commit {head}" + (" with uncommitted changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    # The settings the table states are the options of the same names, and when and what was measured.
    chosen = {f.name: getattr(args, f.name) for f in fields(report.Settings) if hasattr(args, f.name)}
    settings = report.Settings(**chosen, started=datetime.now().strftime("%Y-%m-%d %H:%M"), code=code_version())
    about = machine.describe()
    kinds = ["sqlite", "postgres"] if args.database == "all" else [args.database]
    if args.database == "postgres":
        available, why = databases.postgres_available()
        if not available:
            print(f"error: {why}", file=sys.stderr)
            return 2
    results_dir = args.output.parent
    results_dir.mkdir(parents=True, exist_ok=True)
    if not args.no_profile:
        for stale in results_dir.glob("profile-*.txt"):
            stale.unlink()  # what an earlier run profiled may no longer be true
    runs = [run_database(kind, args, results_dir) for kind in kinds]
    settings.seconds = time.perf_counter() - started
    settings.load_after = machine.load_average()
    table = report.render(about, runs, settings)
    print(table)
    args.output.write_text(table)
    say(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
