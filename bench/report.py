"""The benchmark's table, in markdown: printed, and written to bench/results/ for the README."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.exports_bench import ExportResult
from bench.pages import PageResult
from bench.portfolio import Portfolio
from bench.throughput import TARGETS, Throughput

TARGET_N = 20_000
PAGE_P95_MS = 150.0
EXPORT_RATIO = 1.5
PACK_SECONDS = 2.0


@dataclass
class DatabaseRun:
    kind: str  # sqlite or postgres
    label: str  # "SQLite 3.40.1", "PostgreSQL 15.4"
    skipped: str = ""  # why this database was not measured
    small: Portfolio | None = None
    small_pages: list[PageResult] = field(default_factory=list)
    large: Portfolio | None = None
    pages: list[PageResult] = field(default_factory=list)
    exports: list[ExportResult] = field(default_factory=list)
    load: Throughput | None = None
    load_note: str = ""


@dataclass
class Settings:
    n: int
    compare_n: int
    repeats: int
    export_repeats: int
    quick: bool
    load_seconds: float
    connections: int
    workers: int
    started: str
    seconds: float = 0.0
    code: str = ""  # the commit measured
    load_after: str = ""  # the machine's load average when the run ended
    throughput_only: bool = False  # --throughput-only: no pages, no exports


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _s(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if value < 0.1 else f"{value:,.2f}"


def _n(value: int) -> str:
    return f"{value:,}"


def _table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("| " + " | ".join("---:" if i in right else "---" for i in range(len(header))) + " |")
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return [*lines, ""]


def _state(result) -> str:
    return "missing" if result.state == "missing" else result.state


# --- sections ------------------------------------------------------------------------


def machine_section(machine: dict[str, str], runs: list[DatabaseRun]) -> list[str]:
    rows = [[k, v] for k, v in machine.items()]
    labels = [r.label + (f" (not measured: {r.skipped})" if r.skipped else "") for r in runs]
    rows.append(["Databases", "; ".join(labels)])
    return ["## Machine", "", *_table(["", ""], rows)]


def portfolio_section(run: DatabaseRun) -> list[str]:
    portfolios = [p for p in (run.small, run.large) if p is not None]
    rows = [[k, *(_n(p.counts[k]) for p in portfolios)] for k in run.large.counts]
    rows.append(["build time (s), of which sign-off snapshots",
                 *(f"{p.seconds:.1f} ({p.snapshot_seconds:.1f})" for p in portfolios)])  # fmt: skip
    return [
        f"### Portfolio ({run.label})",
        "",
        *_table(["", *(f"N = {_n(p.n)}" for p in portfolios)], rows, right=set(range(1, len(portfolios) + 1))),
    ]


def pages_section(run: DatabaseRun, settings: Settings) -> list[str]:
    small = {p.name: p for p in run.small_pages}
    rows = []
    for page in run.pages:
        other = small.get(page.name)
        counts = "–"
        if page.queries is not None and other is not None and other.queries is not None:
            counts = "equal" if page.queries == other.queries else "DIFFERS"
        rows.append(
            [
                page.name,
                f"`{page.path}`",
                _state(page),
                str(page.timed) if page.timed else "–",
                _ms(page.median_ms),
                _ms(page.p95_ms),
                "–" if other is None or other.queries is None else str(other.queries),
                "–" if page.queries is None else str(page.queries),
                counts,
            ]
        )
    header = ["Page", "Address", "State", "Requests", "Median ms", "p95 ms"]
    header += [f"SQL at {_n(settings.compare_n)}", f"SQL at {_n(settings.n)}", "Counts"]
    return [
        f"### Pages ({run.label}): server time per request (in-process), SQL statements per request",
        "",
        *_table(header, rows, right={3, 4, 5, 6, 7}),
    ]


EXPORT_HEADER = ["Export", "Round", "State", "Read round s", "Time s", "Peak MiB", "Size KiB", "Floor s", "Ratio"]


def exports_section(run: DatabaseRun, settings: Settings) -> list[str]:
    rows = []
    for e in run.exports:
        rows.append(
            [
                e.name,
                e.round_label,
                _state(e),
                _s(e.view_seconds),
                _s(e.seconds),
                _ms(e.peak_mib),
                "–" if e.size_kib is None else f"{e.size_kib:,.0f}",
                _s(e.floor_seconds),
                "–" if e.ratio is None else f"{e.ratio:.2f}×",
            ]
        )
    return [
        f"### Exports ({run.label}, N = {_n(settings.n)}): median of up to {settings.export_repeats} runs, "
        "peak memory from a separate run under tracemalloc",
        "",
        *_table(EXPORT_HEADER, rows, right={3, 4, 5, 6, 7, 8}),
        "Read round: building the `RoundView` (live from the database for the open round, from the sign-off "
        "snapshot for a signed-off one); not part of the export's time. Floor: the same cell values through "
        "openpyxl's write-only mode with no styling, or the same strings written to a plain zip.",
        "",
    ]


def load_section(run: DatabaseRun) -> list[str]:
    load = run.load
    title = f"### Throughput ({run.label})"
    if load is None:
        return [title, "", run.load_note or "not run", ""]
    rows = []
    for page in load.pages:
        share = load.share(page)
        ok = page.state == "ok"
        rows.append(
            [
                page.name,
                f"`{page.path}`",
                "yes" if page.redis else "no",
                f"{page.rate:,.1f}" if ok else page.state,
                "–" if share is None else f"{share:.1%}",
                _ms(page.median_ms),
                _ms(page.p99_ms),
                f"{page.errors:,}" if ok else "–",
                load.verdict(page) if page.name in TARGETS or page.errors or not ok else "–",
            ]
        )
    header = ["Page", "Address", "Redis", "Req/s", "Of floor", "Median ms", "p99 ms", "Errors", "Target"]
    lines = [
        f"{title}: gunicorn, {load.workers} workers on 127.0.0.1, {load.tool}, {load.connections} connections for "
        f"{load.seconds:.0f} s per page, signed in as a quality lead",
        "",
        *_table(header, rows, right={3, 4, 5, 6, 7}),
        "Floor: `/healthz` (one `SELECT 1`) on the same server. Redis: the sign-in and API counters in Redis "
        "(`REDIS_URL`), as several servers run, or in each process's memory. Errors: answers other than "
        "2xx/3xx, socket errors and timeouts. Targets: dashboard and statement page at least "
        f"{TARGETS['Dashboard'][0]:.0f} req/s and {TARGETS['Dashboard'][1]:.0%} of the floor; library and search "
        f"at least {TARGETS['Search'][1]:.0%} of the floor; no errors on any page.",
        "",
    ]
    return lines + [f"{note}" for note in load.notes] + ([""] if load.notes else [])


# --- targets -------------------------------------------------------------------------


def targets(run: DatabaseRun, settings: Settings) -> list[tuple[str, str]]:
    """(target, verdict) for one database."""
    out = []
    for page in run.pages:
        name = f"{page.name}: p95 ≤ {PAGE_P95_MS:.0f} ms"
        if not page.ok:
            out.append((name, _state(page)))
        elif page.p95_ms <= PAGE_P95_MS:
            out.append((name, f"met ({page.p95_ms:.0f} ms)"))
        else:
            out.append((name, f"MISSED ({page.p95_ms:.0f} ms, {page.p95_ms / PAGE_P95_MS:.1f}× the target)"))

    small = {p.name: p for p in run.small_pages}
    differing = [
        f"{p.name} {small[p.name].queries} vs {p.queries}"
        for p in run.pages
        if p.queries is not None and small.get(p.name) and small[p.name].queries not in (None, p.queries)
    ]
    counted = [p for p in run.pages if p.queries is not None]
    name = f"SQL statements per page equal at N = {_n(settings.compare_n)} and {_n(settings.n)}"
    if not run.small_pages:
        pass  # --throughput-only
    elif differing:
        out.append((name, "MISSED: " + "; ".join(differing)))
    else:
        out.append((name, f"met ({len(counted)} pages counted)" if counted else "no page to count"))

    for e in run.exports:
        name = f"{e.name} ({e.round_label} round) ≤ {EXPORT_RATIO}× its floor"
        if not e.ok or e.ratio is None:
            out.append((name, _state(e)))
        else:
            verdict = "met" if e.ratio <= EXPORT_RATIO else "MISSED"
            out.append((name, f"{verdict} ({e.ratio:.2f}×: {_s(e.seconds)} s vs {_s(e.floor_seconds)} s)"))
    for e in run.exports:
        if e.name != "Markdown pack":
            continue
        name = f"Markdown pack ({e.round_label} round) ≤ {PACK_SECONDS:.0f} s"
        if not e.ok or e.seconds is None:
            out.append((name, _state(e)))
        else:
            out.append((name, f"{'met' if e.seconds <= PACK_SECONDS else 'MISSED'} ({e.seconds:.2f} s)"))

    if run.load is None:
        out.append(("Throughput", run.load_note or "not run"))
    else:
        for page in run.load.pages:
            if page.name in TARGETS or page.errors or page.state != "ok":
                name = f"Throughput: {page.name} ({'with' if page.redis else 'without'} Redis)"
                share = run.load.share(page)
                figures = f"{page.rate:,.0f} req/s" + ("" if share is None else f", {share:.0%} of floor")
                verdict = run.load.verdict(page)
                out.append((name, f"{verdict} ({figures})" if verdict == "met" else f"{verdict}: {figures}"))
        out += [("Throughput", note) for note in run.load.notes]
    return out


def targets_section(runs: list[DatabaseRun], settings: Settings) -> list[str]:
    measured = [r for r in runs if not r.skipped]
    per_run = [dict(targets(r, settings)) for r in measured]
    names: list[str] = []
    for verdicts in per_run:
        names += [n for n in verdicts if n not in names]
    rows = [[n, *(v.get(n, "–") for v in per_run)] for n in names]
    lines = ["## Targets", ""]
    if settings.n != TARGET_N:
        lines += [f"The targets are set for N = {_n(TARGET_N)}; this run used N = {_n(settings.n)}, so they are "
                  "indicative only.", ""]  # fmt: skip
    return lines + _table(["Target", *(r.label for r in measured)], rows)


def missed(runs: list[DatabaseRun], settings: Settings) -> list[str]:
    return [
        f"{r.label}: {name}: {verdict}"
        for r in runs
        if not r.skipped
        for name, verdict in targets(r, settings)
        if not verdict.startswith("met")
    ]


def render(machine: dict[str, str], runs: list[DatabaseRun], settings: Settings) -> str:
    mode = "quick mode" if settings.quick else "full run"
    if settings.throughput_only:
        measured = f"N = {_n(settings.n)} accepted evidence items, throughput only"
    else:
        measured = (f"N = {_n(settings.n)} accepted evidence items (query counts compared at N = "
                    f"{_n(settings.compare_n)}), {settings.repeats} timed requests per page")  # fmt: skip
    lines = [
        "# Assure benchmark",
        "",
        f"{settings.started}, {mode}: {measured}, took {settings.seconds:.0f} s.",
        f"Code: {settings.code}." if settings.code else "",
        "",
        *machine_section({**machine, "Load average at end": settings.load_after}, runs),
    ]
    for run in runs:
        lines += [f"## {run.label}", ""]
        if run.skipped:
            lines += [f"Not measured: {run.skipped}", ""]
            continue
        lines += portfolio_section(run)
        if run.pages:  # --throughput-only measures none
            lines += pages_section(run, settings)
            lines += exports_section(run, settings)
        lines += load_section(run)
    lines += targets_section(runs, settings)
    return "\n".join(lines).rstrip() + "\n"
