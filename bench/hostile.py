"""Hostile input, as a benchmark: ``python -m bench.hostile [--count 10000] [--seed 1] [--quick]``.

Sends hostile values into every form of every evidence kind and every import (upload, preview and
confirm), one request at a time through Flask's test client, in fresh databases (SQLite, then
PostgreSQL when it answers on 127.0.0.1), and prints a markdown table: per form and per import step,
how many values were tried, how many answered a server error and how many left a partial write,
then the first failing inputs of each form and every distinct cause. Exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench import databases
from bench import hostile_inputs as hi
from bench.hostile_site import (
    PATH_FIELD,
    STEPS,
    Case,
    ImportSpec,
    Outcome,
    Site,
    Target,
    closing_checks,
    hostile_import,
    import_specs,
    odd_imports,
    send_import,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_COUNT = 10_000
QUICK_COUNT = 300
SHOWN = 3  # failing inputs listed per form
RESET_EVERY = 40  # accepted posts between two rebuilds of the sample, so pages stay small
ADDRESS_IDS = (hi.TWENTY_DIGITS, "2147483648")


# --- What to send ----------------------------------------------------------------------------------------------


def form_cases(target: Target) -> list[Case]:
    """Every value of each field's class in that field, the first values of every field first, and early on
    ids too large in the form's address."""
    per_field = [[(f.name, v) for v in hi.values_for(f.value_class)] for f in target.inputs]
    ordered = [
        cases[rank] for rank in range(max((len(c) for c in per_field), default=0)) for cases in per_field
        if rank < len(cases)
    ]  # fmt: skip
    cases = [Case.of(n, **{name: value}) for n, (name, value) in enumerate(ordered)]
    if any(part.isdigit() for part in target.form.action.split("?")[0].split("/")):
        cases[1:1] = [Case.of(0, **{PATH_FIELD: value}) for value in ADDRESS_IDS]
    return cases or [Case.of()]


def random_case(target: Target, rng: random.Random) -> Case:
    """Several hostile fields at once, from the catalogue or random text."""
    inputs = target.inputs
    if not inputs:
        return Case.of(rng.randrange(8))
    chosen = rng.sample(inputs, rng.randint(1, len(inputs)))
    values = {}
    for f in chosen:
        pool = hi.values_for(f.value_class)
        values[f.name] = hi.random_text(rng) if rng.random() < 0.3 else rng.choice(pool)
    return Case(tuple(values.items()), rng.randrange(8))


@dataclass(frozen=True)
class ImportCase:
    column: str | None  # None: an odd file
    value: str = ""
    fmt: str = hi.CSV
    odd: int = -1


def import_cases(spec: ImportSpec) -> list[ImportCase]:
    """Odd files first (there are few), then every value of each column's class in that column, as CSV and XLSX."""
    odd = [ImportCase(None, odd=n) for n in range(len(hi.odd_files(spec.header, list(spec.header), spec.sheet)))]
    per_column = [
        [ImportCase(column, value, fmt) for value in hi.values_for(spec.classes[column]) for fmt in (hi.CSV, hi.XLSX)]
        for column in spec.header
    ]
    ordered = [
        cases[rank] for rank in range(max(len(c) for c in per_column)) for cases in per_column if rank < len(cases)
    ]
    return odd[:3] + ordered[: len(spec.header) * 4] + odd[3:] + ordered[len(spec.header) * 4 :]


def share(sizes: dict[str, int], count: int) -> dict[str, int]:
    """Split ``count`` tries between forms and imports in proportion to what each has to try (at least 3)."""
    total = sum(sizes.values()) or 1
    return {name: max(3, round(count * size / total)) for name, size in sizes.items()}


# --- Results ---------------------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    role: str = ""
    tried: int = 0
    errors: int = 0
    partial: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, what: str, outcome: Outcome, causes: Counter, first: dict) -> None:
        self.tried += 1
        if outcome.error:
            self.errors += 1
        if outcome.partial:
            self.partial += 1
        for problem in filter(None, (outcome.error, outcome.partial)):
            self.note(what, problem, outcome.status, causes, first)

    def note(self, what: str, problem: str, status, causes: Counter, first: dict) -> None:
        line = f"{what} → {status}: {problem}" if status else f"{what} → {problem}"
        if len(self.examples) < SHOWN:
            self.examples.append(line)
        cause = cause_of(problem)
        causes[cause] += 1
        first.setdefault(cause, (self.name, what, problem))


@dataclass
class DatabaseResult:
    label: str
    rows: list[Row] = field(default_factory=list)
    causes: Counter = field(default_factory=Counter)
    first: dict = field(default_factory=dict)
    seconds: float = 0.0
    skipped: str = ""

    def row(self, name: str, role: str = "") -> Row:
        row = Row(name, str(role))
        self.rows.append(row)
        return row

    @property
    def tried(self) -> int:
        return sum(r.tried for r in self.rows if not r.name.endswith((": preview", ": confirm")))

    @property
    def failures(self) -> int:
        return sum(r.errors + r.partial for r in self.rows)


# --- Running ----------------------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[hostile {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_forms(
    site: Site, targets: list[Target], quotas: dict[str, int], rng, result: DatabaseResult, quick: bool = False
) -> None:
    """Each form on a fresh sample, its values one post at a time, then the closing checks; a quick run
    keeps one sample for every form and runs the closing checks once, at the end."""
    accepted: list[str] = []
    since_reset = 0
    for target in targets:
        if not quick:
            site.reset()
            accepted, since_reset = [], 0
        target = site.refresh(target)
        row = result.row(target.name, target.role)
        cases = form_cases(target)
        quota = quotas[target.name]
        cases = cases[:quota] + [random_case(target, rng) for _ in range(quota - len(cases))]
        for case in cases:
            outcome = site.post(target, case)
            row.add(case.describe(), outcome, result.causes, result.first)
            if not (outcome.accepted or outcome.error):
                continue
            if outcome.accepted:
                accepted.append(f"{target.name}: {case.describe()}" if quick else case.describe())
            since_reset += 1
            if since_reset >= RESET_EVERY:
                _closing(site, row, accepted, result)
                site.reset()
                accepted, since_reset = [], 0
            target = site.refresh(target)
        if not quick:
            _closing(site, row, accepted, result)
    if quick:
        _closing(site, result.row("Closing checks: pages, exports, sign-off"), accepted, result)


def _closing(site: Site, row: Row, accepted: list[str], result: DatabaseResult) -> None:
    """After stored values: every list page, both exports and the sign-off of the open round."""
    if not accepted:
        return
    problems = closing_checks(site)
    if row.name.startswith("Closing"):
        row.tried += 1
    for problem in problems:
        row.errors += 1
        first = "; ".join(accepted[:SHOWN]) + ("; …" if len(accepted) > SHOWN else "")
        what = f"after {len(accepted)} accepted value{'s' if len(accepted) != 1 else ''} ({first})"
        row.note(what, problem, None, result.causes, result.first)


def run_imports(site: Site, quotas: dict[str, int], result: DatabaseResult) -> None:
    """Each import on a fresh sample: every file uploaded, previewed and confirmed, then the closing checks."""
    for spec in import_specs():
        site.reset()
        rows = {step: result.row(f"Import {spec.label.lower()}: {step}", "quality_lead") for step in STEPS}
        cases = import_cases(spec)
        quota = quotas[f"import:{spec.kind}"]
        cases = (cases * (quota // len(cases) + 1))[:quota]
        accepted, since_reset, odd = [], 0, odd_imports(site, spec)
        for case in cases:
            upload = (
                odd[case.odd] if case.column is None else hostile_import(site, spec, case.column, case.value, case.fmt)
            )
            outcomes = send_import(site, spec.kind, upload)
            for step, outcome in outcomes.items():
                rows[step].add(upload.what, outcome, result.causes, result.first)
            confirm = outcomes.get("confirm")
            if confirm is None or not (confirm.accepted or confirm.error):
                continue
            if confirm.accepted:
                accepted.append(upload.what)
            since_reset += 1
            if since_reset >= RESET_EVERY:
                _closing(site, rows["confirm"], accepted, result)
                site.reset()
                accepted, since_reset, odd = [], 0, odd_imports(site, spec)
        _closing(site, rows["confirm"], accepted, result)


def run_database(kind: str, args: argparse.Namespace) -> DatabaseResult:
    result = DatabaseResult(databases.describe(kind))
    if kind == "postgres":
        available, why = databases.postgres_available()
        if not available:
            result.skipped = why
            return result
    started = time.perf_counter()
    with databases.fresh_database(kind, "hostile") as fresh:
        app = make_app(fresh.url, fresh.folder)
        with app.app_context():
            from evidence.db import db

            db.create_all()
            site = Site(app)
            site.reset()
            targets = site.discover()
            specs = import_specs()
            sizes = {t.name: len(form_cases(t)) for t in targets}
            sizes |= {f"import:{s.kind}": len(import_cases(s)) for s in specs}
            quotas = share(sizes, args.count)
            say(f"{result.label}: {len(targets)} forms and {len(specs)} imports, {sum(quotas.values()):,} values")
            rng = random.Random(args.seed)
            run_forms(site, targets, quotas, rng, result, quick=args.quick)
            say(f"{result.label}: forms done in {time.perf_counter() - started:.0f} s; imports")
            run_imports(site, quotas, result)
            db.session.remove()
            db.engine.dispose()
    result.seconds = time.perf_counter() - started
    return result


def make_app(url: str, folder: Path):
    import evidence.models
    from portal.jobs import runners as job_runners

    evidence.models.PASSWORD_METHOD = "pbkdf2:sha256:1000"  # throwaway accounts: sign in quickly
    app = databases.portal_app(url, folder, "assure-hostile-input-secret")
    # Exports run as jobs: here within the request, so that each request's changes are all seen before the next.
    app.config["JOBS_RUNNER"] = "inline"
    job_runners.init_app(app)
    return app


# --- The table --------------------------------------------------------------------------------------------------


def render(results: list[DatabaseResult], args: argparse.Namespace, started: str) -> str:
    lines = [
        "## Hostile input",
        "",
        f"{started}, {code_version()}; seed {args.seed}, {args.count:,} values asked for"
        + (" (quick)" if args.quick else "")
        + ". A partial write is a refused request that changed any table but the audit trail, or an accepted "
        "one that changed a table its form does not own.",
        "",
    ]
    for result in results:
        lines.append(f"### {result.label}")
        lines.append("")
        if result.skipped:
            lines += [f"Skipped: {result.skipped}.", ""]
            continue
        lines += ["| form | as | tried | server errors | partial writes |", "| --- | --- | ---: | ---: | ---: |"]
        for row in result.rows:
            lines.append(f"| {row.name} | {row.role} | {row.tried:,} | {row.errors:,} | {row.partial:,} |")
        errors = sum(r.errors for r in result.rows)
        partial = sum(r.partial for r in result.rows)
        lines.append(f"| **All** |  | **{result.tried:,}** | **{errors:,}** | **{partial:,}** |")
        lines += ["", f"{result.tried:,} hostile values in {result.seconds:.0f} s.", ""]
        failing = [r for r in result.rows if r.examples]
        if not failing:
            lines += ["No server errors and no partial writes.", ""]
            continue
        lines += ["#### First failing inputs", ""]
        for row in failing:
            lines.append(f"- **{row.name}**")
            lines += [f"  - `{_cell(example)}`" for example in row.examples]
        lines += ["", "#### Distinct causes", "", "| times | cause | first seen |", "| ---: | --- | --- |"]
        for cause, times in result.causes.most_common():
            name, what, problem = result.first[cause]
            lines.append(f"| {times:,} | `{_cell(cause)}` | {name}: `{_cell(what)}` → {_cell(problem)} |")
        lines.append("")
    return "\n".join(lines)


_EXCEPTION = re.compile(
    r"^(?P<lead>.*?)(?P<type>[A-Za-z_.]+(?:Error|Exception|Warning)): .*?(?P<where> at \S+ in \S+)?$"
)
_COUNTS = re.compile(r" \(\d+ rows?\)")


def cause_of(problem: str) -> str:
    """What a failure has in common with others of the same cause: the exception and where it was raised,
    without the value in its message; a partial write's tables without their row counts."""
    problem = re.sub(r"/\d+", "/<id>", problem)
    match = _EXCEPTION.match(problem)
    if match:
        return f"{match['lead']}{match['type']}{match['where'] or ''}"
    return _COUNTS.sub("", re.sub(r"\(\d{3}\)", "", problem)).replace("  ", " ")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")[:300]


def code_version() -> str:
    from bench.run import code_version as version

    return version() or "commit unknown"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, help=f"hostile values in all (default {DEFAULT_COUNT:,}; quick: 300)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random combinations (default 1)")
    parser.add_argument("--quick", action="store_true", help="a short run on SQLite")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres", "all"],
        help="all (the default) = SQLite, then PostgreSQL when it answers on 127.0.0.1 (TEST_DATABASE_URL, or "
        "postgres@127.0.0.1:5432); quick: sqlite",
    )
    parser.add_argument("--output", type=Path, help="where to write the table (default bench/results/hostile.md)")
    args = parser.parse_args(argv)
    if args.count is None:
        args.count = QUICK_COUNT if args.quick else DEFAULT_COUNT
    if args.database is None:
        args.database = "sqlite" if args.quick else "all"
    if args.output is None:
        args.output = RESULTS / ("hostile-quick.md" if args.quick else "hostile.md")
    if args.count < 1:
        parser.error("--count must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    if args.database == "postgres":
        available, why = databases.postgres_available()
        if not available:
            print(f"error: {why}", file=sys.stderr)
            return 2
    kinds = ["sqlite", "postgres"] if args.database == "all" else [args.database]
    results = [run_database(kind, args) for kind in kinds]
    table = render(results, args, started)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table + "\n")
    print(table)
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
