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
from evidence.library.metrics import format_value

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
    chart = _LineChart(pairs, bounds.usable(target), bounds.usable(comparator), unit, width, height, small)
    comparator_name = (comparator_label or "").strip() or "Comparator"
    chart.open(title, chart.describe(comparator_name))
    if not small:
        chart.axes()
    if chart.target is not None:
        chart.reference_line(chart.target, "Target", TARGET_COLOUR, "6 4", "chart__target")
    if chart.comparator is not None:
        chart.reference_line(chart.comparator, comparator_name, COMPARATOR_COLOUR, "2 3", "chart__comparator")
    chart.series()
    return Markup("".join(chart.parts) + "</svg>")


class _LineChart:
    """The geometry of one chart and the SVG parts drawn so far, from the back to the front."""

    def __init__(self, pairs, target, comparator, unit: str, width: int, height: int, small: bool):
        self.pairs, self.target, self.comparator, self.unit = pairs, target, comparator, unit
        self.width, self.height, self.small = width, height, small
        self.id = f"chart-{next(_ids)}"
        self.left, right, self.top, self.bottom = (6, 6, 6, 6) if small else (64, 40, 34, 44)
        self.plot_w, self.plot_h = width - self.left - right, height - self.top - self.bottom
        extent = [*(v for _, v in pairs), *(x for x in (target, comparator) if x is not None)]
        self.lo, self.hi, self.ticks = _scale(extent, 3 if small else 5)
        self.parts: list[str] = []
        self.label_ys: list[float] = []

    def x_at(self, i: int) -> float:
        pairs = self.pairs
        return self.left + (self.plot_w / 2 if len(pairs) == 1 else self.plot_w * i / (len(pairs) - 1))

    def y_at(self, v: float) -> float:
        return self.top + self.plot_h - (v - self.lo) / (self.hi - self.lo) * self.plot_h

    def value(self, v: float) -> str:
        return format_value(v, self.unit)

    def describe(self, comparator_name: str) -> str:
        """The chart in words, for people who cannot see it."""
        (first_label, first), (last_label, last) = self.pairs[0], self.pairs[-1]
        text = (
            f"{len(self.pairs)} values from {first_label} ({self.value(first)}) to {last_label} ({self.value(last)})."
        )
        if self.target is not None:
            text += f" Target {self.value(self.target)}."
        if self.comparator is not None:
            text += f" {comparator_name} {self.value(self.comparator)}."
        return text

    def open(self, title: str, description: str) -> None:
        self.parts += [
            '<svg xmlns="http://www.w3.org/2000/svg" '
            + _attrs(
                class_="chart chart--small" if self.small else "chart",
                viewBox=f"0 0 {self.width} {self.height}",
                width=self.width,
                height=self.height,
                role="img",
                aria_labelledby=f"{self.id}-title {self.id}-desc",
            )
            + ">",
            f'<title id="{self.id}-title">{escape(title)}</title>',
            f'<desc id="{self.id}-desc">{escape(description)}</desc>',
        ]

    def axes(self) -> None:
        """The unit, the grid lines with their values, and the period labels along the bottom."""
        left, top, plot_w = self.left, self.top, self.plot_w
        # A word unit ("people", "days") goes once above the axis; only "%" sits beside each tick.
        tick_unit = self.unit if (self.unit or "").strip() == "%" else ""
        if self.unit and not tick_unit:
            self.parts.append(
                "<text "
                + _attrs(class_="chart__unit", x=left - 8, y=top - 18, text_anchor="end", fill=TEXT_COLOUR)
                + f">{escape(self.unit.strip())}</text>"
            )
        for tick in self.ticks:
            y = _num(self.y_at(tick))
            self.parts.append(
                "<line "
                + _attrs(class_="chart__grid", x1=left, x2=left + plot_w, y1=y, y2=y, stroke=GRID_COLOUR)
                + "/>"
            )
            self.parts.append(
                "<text "
                + _attrs(
                    class_="chart__tick", x=left - 8, y=_num(self.y_at(tick) + 4), text_anchor="end", fill=TEXT_COLOUR
                )
                + f">{escape(format_value(tick, tick_unit))}</text>"
            )
        every = max(1, math.ceil(len(self.pairs) / max(1, plot_w // 70)))
        for i, (label, _) in enumerate(self.pairs):
            if i % every and i != len(self.pairs) - 1:
                continue
            self.parts.append(
                "<text "
                + _attrs(
                    class_="chart__label", x=_num(self.x_at(i)), y=self.height - self.bottom + 20, text_anchor="middle"
                )
                + f' fill="{TEXT_COLOUR}">{escape(label)}</text>'
            )

    def reference_line(self, value: float, name: str, colour: str, dash: str, css: str) -> None:
        """A target or comparator across the plot, labelled at its right end (on a full-size chart)."""
        y = self.y_at(value)
        self.parts.append(
            "<line "
            + _attrs(
                class_=css,
                x1=self.left,
                x2=self.left + self.plot_w,
                y1=_num(y),
                y2=_num(y),
                stroke=colour,
                stroke_width=2,
                stroke_dasharray=dash,
            )
            + f"><title>{escape(name)}: {escape(self.value(value))}</title></line>"
        )
        if self.small:
            return
        # The label sits just above its line at the right; below it if another label is already there.
        label_y = y - 6
        if any(abs(label_y - taken) < 14 for taken in self.label_ys) or label_y < self.top:
            label_y = y + 16
        self.label_ys.append(label_y)
        self.parts.append(
            "<text "
            + _attrs(class_=css + "-label", x=self.left + self.plot_w, y=_num(label_y), text_anchor="end", fill=colour)
            + f">{escape(name)} {escape(self.value(value))}</text>"
        )

    def series(self) -> None:
        """The line through the values, and a point with its label and value at each."""
        coordinates = " ".join(f"{_num(self.x_at(i))},{_num(self.y_at(v))}" for i, (_, v) in enumerate(self.pairs))
        self.parts.append(
            "<polyline "
            + _attrs(
                class_="chart__line",
                points=coordinates,
                fill="none",
                stroke=LINE_COLOUR,
                stroke_width=1.5 if self.small else 2.5,
                stroke_linejoin="round",
            )
            + "/>"
        )
        for i, (label, value) in enumerate(self.pairs):
            self.parts.append(
                "<circle "
                + _attrs(
                    class_="chart__point",
                    cx=_num(self.x_at(i)),
                    cy=_num(self.y_at(value)),
                    r=2 if self.small else 4,
                    fill=LINE_COLOUR,
                )
                + f"><title>{escape(label)}: {escape(self.value(value))}</title></circle>"
            )
