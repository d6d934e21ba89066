"""The Excel workbook and the markdown pack of a round, each against a floor: the time to write
the same cell values (openpyxl write-only mode, no styling) or the same strings (a plain zip)."""

from __future__ import annotations

import importlib
import io
import statistics
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from bench.pages import profiled
from evidence.assessment import round_view as round_view_module
from evidence.db import db
from evidence.models import Round, utcnow

TIME_BUDGET_SECONDS = 20.0
EXPORTS = [
    ("Excel workbook", "exports.workbook", "build_workbook"),
    ("Markdown pack", "exports.markdown_pack", "build_markdown_pack"),
]


@dataclass
class ExportResult:
    name: str
    round_label: str  # "open" or "signed off"
    state: str = "ok"
    view_seconds: float | None = None  # reading the round into a RoundView (not part of the export's time)
    seconds: float | None = None
    peak_mib: float | None = None
    size_kib: float | None = None
    floor_seconds: float | None = None
    profile: str = ""

    @property
    def ratio(self) -> float | None:
        if self.seconds is None or not self.floor_seconds:
            return None
        return self.seconds / self.floor_seconds

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def _builder(module: str, function: str) -> Callable | str:
    try:
        return getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return "missing"
        return f"error: {exc}"
    except AttributeError:
        return "missing"
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"


def _bytes(produced) -> bytes:
    if isinstance(produced, bytes | bytearray):
        return bytes(produced)
    if hasattr(produced, "getvalue"):
        return produced.getvalue()
    if hasattr(produced, "save"):  # an openpyxl Workbook
        out = io.BytesIO()
        produced.save(out)
        return out.getvalue()
    raise TypeError(f"the export returned {type(produced).__name__}, not bytes")


def _timed(fn: Callable[[], object], repeats: int, budget: float = TIME_BUDGET_SECONDS) -> tuple[float, object]:
    """Median time of up to ``repeats`` runs; no further run starts once ``budget`` seconds are spent."""
    times, produced = [], None
    deadline = time.perf_counter() + budget
    for n in range(repeats):
        if n and time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        produced = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), produced


def _peak(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    finally:
        tracemalloc.stop()


# --- floors ------------------------------------------------------------------------


def workbook_values(data: bytes) -> list[tuple[str, list[tuple]]]:
    """Every sheet's cell values, read back from a workbook (untimed)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [(ws.title, [tuple(row) for row in ws.iter_rows(values_only=True)]) for ws in book.worksheets]
    finally:
        book.close()


def write_values(sheets: list[tuple[str, list[tuple]]]) -> bytes:
    """The floor: the same values through openpyxl's write-only mode, no styling, no logic."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, rows in sheets:
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_members(data: bytes) -> list[tuple[zipfile.ZipInfo, str | bytes]]:
    """Every member of a zip, as text where it is text (untimed)."""
    members = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            raw = archive.read(info)
            try:
                members.append((info, raw.decode("utf-8")))
            except UnicodeDecodeError:
                members.append((info, raw))
    return members


def write_zip(members: list[tuple[zipfile.ZipInfo, str | bytes]]) -> bytes:
    """The floor: the same strings written to a new zip with the same compression."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info, content in members:
            archive.writestr(info.filename, content, compress_type=info.compress_type)
    return out.getvalue()


FLOORS = {
    "exports.workbook": (workbook_values, write_values),
    "exports.markdown_pack": (zip_members, write_zip),
}


# --- measuring -----------------------------------------------------------------------


def measure_exports(app, portfolio, repeats: int, profile_over: float | None = None) -> list[ExportResult]:
    """Both exports for the open round and for the newest signed-off round.

    Time is the median of ``repeats`` runs without tracing; peak memory comes from one
    further run under tracemalloc (which slows code down, so it is never timed).
    When ``profile_over`` is given, an export slower than that multiple of its floor is profiled.
    """
    results = []
    with app.app_context():
        generated_at = utcnow()
        for round_id, label in ((portfolio.open_round_id, "open"), (portfolio.signed_off_round_id, "signed off")):
            round_ = db.session.get(Round, round_id)
            clear = getattr(round_view_module, "clear_cache", None)
            if clear is not None:  # time reading the round afresh, not a view kept from the pages measured before
                clear()
            started = time.perf_counter()
            view = round_view_module.round_view(round_)
            view_seconds = time.perf_counter() - started
            for name, module, function in EXPORTS:
                result = ExportResult(name, label, view_seconds=view_seconds)
                build = _builder(module, function)
                _measure(result, build, FLOORS[module], view, generated_at, repeats, profile_over)
                results.append(result)
            db.session.expunge_all()
        db.session.remove()
    return results


def _measure(result: ExportResult, build, floor, view, generated_at, repeats: int, profile_over: float | None) -> None:
    if isinstance(build, str):
        result.state = build
        return

    def export():
        return build(view, generated_at)

    try:
        result.seconds, produced = _timed(export, repeats)
        data = _bytes(produced)
        result.size_kib = len(data) / 1024
        result.peak_mib = _peak(export)
    except Exception as exc:
        result.state = f"error: {type(exc).__name__}: {str(exc)[:120]}"
        return
    read_back, write = floor
    content = read_back(data)
    result.floor_seconds, _ = _timed(lambda: write(content), repeats)
    if profile_over is not None and result.ratio is not None and result.ratio > profile_over:
        result.profile = profiled(export)
