"""Server-rendered SVG charts: no script, no inline styles, every text escaped.

``line_chart`` draws a metric's trend with its target and comparator lines. It
is used on evidence item pages (full size) and statement pages (``small=True``).
Colours are presentation attributes, so the Content Security Policy (no inline
styles) is kept; a stylesheet may still override them through the classes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import count
from typing import Any

from markupsafe import Markup, escape

from evidence import bounds
from evidence.metrics import format_value

LINE_COLOUR = "#1d4f91"
TARGET_COLOUR = "#067647"
COMPARATOR_COLOUR = "#b54708"
GRID_COLOUR = "#e4e7ec"
TEXT_COLOUR = "#5b6474"

_ids = count(1)


def _pairs(points: Iterable[Any]) -> list[tuple[str, float]]:
    """(label, value) of each point a chart can draw: a value beyond ``bounds.MEASURE`` is left out."""
    out = []
    for point in points:
        if isinstance(point, tuple | list):
            label, value = point[0], point[1]
        else:
            label, value = point.label, point.value
        if bounds.usable(value) is not None:
            out.append((str(label), float(value)))
    return out


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _scale(values: Sequence[float], ticks: int) -> tuple[float, float, list[float]]:
    lo, hi = min(values), max(values)
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo, ticks)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if min(values) >= 0 > lo:
        lo = 0.0
    n = round((hi - lo) / step)
    return lo, hi, [lo + i * step for i in range(n + 1)]


def _attrs(**attrs: Any) -> str:
    return " ".join(f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"' for name, value in attrs.items())


def _num(x: float) -> str:
    return f"{x:.1f}"


def line_chart(
    points: Iterable[Any],
    target: float | None = None,
    comparator: float | None = None,
    comparator_label: str | None = None,
    unit: str = "",
    width: int = 640,
    height: int = 260,
    small: bool = False,
    title: str = "Trend",
) -> Markup:
    """An SVG line chart of (label, value) points (tuples or objects with .label and .value)."""
    pairs = _pairs(points)
    if not pairs:
        return Markup('<p class="muted">No values yet, so there is no trend to draw.</p>')
    if small:
        width, height = (width if width != 640 else 240), (height if height != 260 else 72)
    chart_id = f"chart-{next(_ids)}"
    left, right, top, bottom = (6, 6, 6, 6) if small else (64, 40, 34, 44)
    plot_w, plot_h = width - left - right, height - top - bottom
    comparator_name = (comparator_label or "").strip() or "Comparator"

    values = [v for _, v in pairs]
    target, comparator = bounds.usable(target), bounds.usable(comparator)
    extent = [*values, *(x for x in (target, comparator) if x is not None)]
    lo, hi, ticks = _scale(extent, 3 if small else 5)

    def x_at(i: int) -> float:
        return left + (plot_w / 2 if len(pairs) == 1 else plot_w * i / (len(pairs) - 1))

    def y_at(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    first, last = pairs[0], pairs[-1]
    description = (
        f"{len(pairs)} values from {first[0]} ({format_value(first[1], unit)}) "
        f"to {last[0]} ({format_value(last[1], unit)})."
    )
    if target is not None:
        description += f" Target {format_value(target, unit)}."
    if comparator is not None:
        description += f" {comparator_name} {format_value(comparator, unit)}."

    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        + _attrs(
            class_="chart chart--small" if small else "chart",
            viewBox=f"0 0 {width} {height}",
            width=width,
            height=height,
            role="img",
            aria_labelledby=f"{chart_id}-title {chart_id}-desc",
        )
        + ">",
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    if not small:
        # A word unit ("people", "days") goes once above the axis; only "%" sits beside each tick.
        tick_unit = unit if (unit or "").strip() == "%" else ""
        if unit and not tick_unit:
            parts.append(
                "<text "
                + _attrs(class_="chart__unit", x=left - 8, y=top - 18, text_anchor="end", fill=TEXT_COLOUR)
                + f">{escape(unit.strip())}</text>"
            )
        for tick in ticks:
            y = _num(y_at(tick))
            parts.append(
                "<line "
                + _attrs(class_="chart__grid", x1=left, x2=left + plot_w, y1=y, y2=y, stroke=GRID_COLOUR)
                + "/>"
            )
            parts.append(
                "<text "
                + _attrs(class_="chart__tick", x=left - 8, y=_num(y_at(tick) + 4), text_anchor="end", fill=TEXT_COLOUR)
                + f">{escape(format_value(tick, tick_unit))}</text>"
            )
        every = max(1, math.ceil(len(pairs) / max(1, plot_w // 70)))
        for i, (label, _) in enumerate(pairs):
            if i % every and i != len(pairs) - 1:
                continue
            parts.append(
                "<text "
                + _attrs(class_="chart__label", x=_num(x_at(i)), y=height - bottom + 20, text_anchor="middle")
                + f' fill="{TEXT_COLOUR}">{escape(label)}</text>'
            )

    label_ys: list[float] = []

    def reference_line(value: float, name: str, colour: str, dash: str, css: str) -> None:
        y = y_at(value)
        parts.append(
            "<line "
            + _attrs(
                class_=css,
                x1=left,
                x2=left + plot_w,
                y1=_num(y),
                y2=_num(y),
                stroke=colour,
                stroke_width=2,
                stroke_dasharray=dash,
            )
            + f"><title>{escape(name)}: {escape(format_value(value, unit))}</title></line>"
        )
        if not small:
            # The label sits just above its line at the right; below it if another label is already there.
            label_y = y - 6
            if any(abs(label_y - taken) < 14 for taken in label_ys) or label_y < top:
                label_y = y + 16
            label_ys.append(label_y)
            parts.append(
                "<text "
                + _attrs(class_=css + "-label", x=left + plot_w, y=_num(label_y), text_anchor="end", fill=colour)
                + f">{escape(name)} {escape(format_value(value, unit))}</text>"
            )

    if target is not None:
        reference_line(target, "Target", TARGET_COLOUR, "6 4", "chart__target")
    if comparator is not None:
        reference_line(comparator, comparator_name, COMPARATOR_COLOUR, "2 3", "chart__comparator")

    coordinates = " ".join(f"{_num(x_at(i))},{_num(y_at(v))}" for i, (_, v) in enumerate(pairs))
    parts.append(
        "<polyline "
        + _attrs(
            class_="chart__line",
            points=coordinates,
            fill="none",
            stroke=LINE_COLOUR,
            stroke_width=1.5 if small else 2.5,
            stroke_linejoin="round",
        )
        + "/>"
    )
    for i, (label, value) in enumerate(pairs):
        parts.append(
            "<circle "
            + _attrs(
                class_="chart__point", cx=_num(x_at(i)), cy=_num(y_at(value)), r=2 if small else 4, fill=LINE_COLOUR
            )
            + f"><title>{escape(label)}: {escape(format_value(value, unit))}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
