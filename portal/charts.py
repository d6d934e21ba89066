"""Server-rendered SVG charts: no script, no inline styles, every text escaped.

``line_chart`` draws a metric's trend with its target line and each comparator series (England average,
region…) beside it. It is used on evidence item pages (full size) and statement pages (``small=True``).
Colours are presentation attributes, so the Content Security Policy (no inline styles) is kept; a
stylesheet may still override them through the classes. The value axis of a percentage starts at 0,
so that a short rise does not look like a leap, and the latest value is written beside its point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import count
from typing import Any

from markupsafe import Markup, escape

from evidence import bounds
from evidence.library.metrics import PeriodRow, format_value, side_by_side

LINE_COLOUR = "#1d4f91"
TARGET_COLOUR = "#067647"
# One colour and dash per comparator series, in turn; assure.css gives the legend the same (legend--comparator-N).
COMPARATOR_STYLES = (("#b54708", "2 3"), ("#7a2e8e", "8 3 2 3"), ("#0e7c86", "4 2"), ("#6b4f1d", "1 2"))
GRID_COLOUR = "#e4e7ec"
TEXT_COLOUR = "#5b6474"

_ids = count(1)


def comparator_style(index: int) -> tuple[str, str, int]:
    """The colour, dash and legend class number (from 1) of the ``index``-th comparator (from 0)."""
    colour, dash = COMPARATOR_STYLES[index % len(COMPARATOR_STYLES)]
    return colour, dash, index % len(COMPARATOR_STYLES) + 1


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _scale(values: Sequence[float], ticks: int, percent: bool = False) -> tuple[float, float, list[float]]:
    """The axis: from 0 for a percentage (to 100 at most); otherwise around the values with room above and
    below, so that no line or label sits on the edge of the plot."""
    lo, hi = min(values), max(values)
    if percent and lo >= 0:
        lo, hi = 0.0, max(hi * 1.08, 1.0)
    elif lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    else:
        pad = (hi - lo) * 0.1
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo, ticks)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if min(values) >= 0 > lo:
        lo = 0.0
    if percent and max(values) <= 100 < hi:
        hi = 100.0
        step = _nice_step(hi - lo, ticks)
    n = round((hi - lo) / step)
    return lo, hi, [lo + i * step for i in range(n + 1) if lo + i * step <= hi + step / 1000]


def _attrs(**attrs: Any) -> str:
    return " ".join(f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"' for name, value in attrs.items())


def _num(x: float) -> str:
    return f"{x:.1f}"


def line_chart(
    points: Iterable[Any],
    target: float | None = None,
    comparators: Sequence[Any] = (),
    unit: str = "",
    width: int = 640,
    height: int = 260,
    small: bool = False,
    title: str = "Trend",
) -> Markup:
    """An SVG line chart of a metric's points (objects with .period, .label and .value, or (label, value)
    tuples) and of its ``comparators`` (objects with .name and .points), over every period any of them has."""
    names, rows = side_by_side(points, comparators)
    if not any(r.value is not None for r in rows):
        return Markup('<p class="muted">No values yet, so there is no trend to draw.</p>')
    if small:
        width, height = (width if width != 640 else 240), (height if height != 260 else 72)
    chart = _LineChart(rows, names, bounds.usable(target), unit, width, height, small)
    chart.open(title, chart.describe())
    if not small:
        chart.axes()
    if chart.target is not None:
        chart.reference_line(chart.target, "Target", TARGET_COLOUR, "6 4", "chart__target")
    for index in range(len(names)):
        chart.comparator(index)
    chart.series()
    if not small:
        chart.latest_label()
    return Markup("".join(chart.parts) + "</svg>")


class _LineChart:
    """The geometry of one chart and the SVG parts drawn so far, from the back to the front."""

    def __init__(self, rows: list[PeriodRow], names: list[str], target, unit: str, width: int, height: int, small):
        self.rows, self.names, self.target, self.unit = rows, names, target, unit
        self.width, self.height, self.small = width, height, small
        self.id = f"chart-{next(_ids)}"
        self.left, right, self.top, self.bottom = (6, 6, 6, 6) if small else (64, 40, 34, 44)
        self.plot_w, self.plot_h = width - self.left - right, height - self.top - self.bottom
        extent = [v for r in rows for v in (r.value, *r.comparators) if v is not None]
        if target is not None:
            extent.append(target)
        self.lo, self.hi, self.ticks = _scale(extent, 3 if small else 5, percent=(unit or "").strip() == "%")
        self.parts: list[str] = []
        self.label_ys: list[float] = []

    @property
    def values(self) -> list[tuple[int, str, float]]:
        """(column, period label, value) of each of the metric's own values."""
        return [(i, r.label, r.value) for i, r in enumerate(self.rows) if r.value is not None]

    def x_at(self, i: int) -> float:
        rows = self.rows
        return self.left + (self.plot_w / 2 if len(rows) == 1 else self.plot_w * i / (len(rows) - 1))

    def y_at(self, v: float) -> float:
        return self.top + self.plot_h - (v - self.lo) / (self.hi - self.lo) * self.plot_h

    def value(self, v: float) -> str:
        return format_value(v, self.unit)

    def describe(self) -> str:
        """The chart in words, for people who cannot see it."""
        values = self.values
        (_, first_label, first), (_, last_label, last) = values[0], values[-1]
        text = f"{len(values)} values from {first_label} ({self.value(first)}) to {last_label} ({self.value(last)})."
        if self.target is not None:
            text += f" Target {self.value(self.target)}."
        for index, name in enumerate(self.names):
            own = [(r.label, r.comparators[index]) for r in self.rows if r.comparators[index] is not None]
            if own:
                text += f" {name}: {self.value(own[-1][1])} in {own[-1][0]}."
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
        every = max(1, math.ceil(len(self.rows) / max(1, plot_w // 70)))
        for i, row in enumerate(self.rows):
            if i % every and i != len(self.rows) - 1:
                continue
            self.parts.append(
                "<text "
                + _attrs(
                    class_="chart__label", x=_num(self.x_at(i)), y=self.height - self.bottom + 20, text_anchor="middle"
                )
                + f' fill="{TEXT_COLOUR}">{escape(row.label)}</text>'
            )

    def reference_line(self, value: float, name: str, colour: str, dash: str, css: str) -> None:
        """The target across the plot, labelled at its right end (on a full-size chart)."""
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

    def comparator(self, index: int) -> None:
        """One comparator series: a dashed line through its values, and a small mark at each (a series of one
        value is its mark alone)."""
        colour, dash, number = comparator_style(index)
        name = self.names[index]
        own = [(i, r.label, r.comparators[index]) for i, r in enumerate(self.rows) if r.comparators[index] is not None]
        css = f"chart__comparator chart__comparator--{number}"
        if len(own) > 1:
            self.parts.append(
                "<polyline "
                + _attrs(
                    class_=css,
                    points=" ".join(f"{_num(self.x_at(i))},{_num(self.y_at(v))}" for i, _, v in own),
                    fill="none",
                    stroke=colour,
                    stroke_width=1 if self.small else 2,
                    stroke_dasharray=dash,
                    stroke_linejoin="round",
                )
                + f"><title>{escape(name)}</title></polyline>"
            )
        for i, label, value in own:
            self.parts.append(
                "<rect "
                + _attrs(
                    class_=css + "-point",
                    x=_num(self.x_at(i) - 3),
                    y=_num(self.y_at(value) - 3),
                    width=6,
                    height=6,
                    fill=colour,
                )
                + f"><title>{escape(name)}, {escape(label)}: {escape(self.value(value))}</title></rect>"
            )

    def series(self) -> None:
        """The line through the metric's values, and a point with its period and value at each."""
        values = self.values
        coordinates = " ".join(f"{_num(self.x_at(i))},{_num(self.y_at(v))}" for i, _, v in values)
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
        for i, label, value in values:
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

    def latest_label(self) -> None:
        """The latest value written beside its point: above it, or below when the target's label is there."""
        i, _, value = self.values[-1]
        x, y = self.x_at(i), self.y_at(value)
        label_y = y - 10
        if any(abs(label_y - taken) < 14 for taken in self.label_ys) or label_y < self.top:
            label_y = y + 20
        anchor = "end" if x > self.left + self.plot_w / 2 else "start"
        self.parts.append(
            "<text "
            + _attrs(
                class_="chart__latest",
                x=_num(x - 6 if anchor == "end" else x + 6),
                y=_num(label_y),
                text_anchor=anchor,
                fill=LINE_COLOUR,
            )
            + f">{escape(self.value(value))}</text>"
        )
