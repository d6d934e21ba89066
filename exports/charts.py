"""A metric's trend as a PNG image, for the Word document and the PDF.

Drawn with matplotlib's Agg renderer through its object interface (no pyplot,
so nothing global is touched) and saved without the software name or a time,
so the same points give the same bytes. User text reaches matplotlib only as
plain text: ``$`` is escaped so a label never becomes mathtext.
"""

from __future__ import annotations

import threading
import warnings
from io import BytesIO

from evidence.assessment.round_view import ItemView
from evidence.library.metrics import format_value, side_by_side
from exports import palette
from exports.report import drawable_points

WIDTH_CM = 16.0
HEIGHT_CM = 5.6
DPI = 200
FONT = "DejaVu Sans"  # ships with matplotlib, so every machine draws the same glyphs
MAX_LABEL = 24
MAX_TICKS = 8

# matplotlib's font cache and text layout are shared by the whole process: one chart at a time.
_lock = threading.Lock()


def _plain(text: object, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _hex(colour: str) -> str:
    return f"#{colour}"


def trend_png(item: ItemView) -> bytes:
    """The metric's values over time, with its target as a reference line and each comparator series beside
    them; a percentage's axis from 0, and the latest value written at its point."""
    # Imported here: matplotlib takes a second to load, and only a document with charts needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    details = item.details
    unit = (details.get("unit") or "").strip()
    percent = unit == "%"
    names, rows = side_by_side(drawable_points(item), item.comparators)
    labels = [_plain(r.label, MAX_LABEL) for r in rows]
    own = [(i, r.value) for i, r in enumerate(rows) if r.value is not None]
    target = details.get("target")
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a glyph DejaVu lacks (an emoji in a label) is drawn as a box
        figure = Figure(figsize=(WIDTH_CM / 2.54, HEIGHT_CM / 2.54), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(len(rows)))
        axes.plot(
            [i for i, _ in own],
            [float(v) for _, v in own],
            color=_hex(palette.SERIES_VALUE),
            linewidth=2,
            marker="o",
            markersize=4,
            label="Value",
            zorder=3,
        )
        if target is not None:
            axes.axhline(
                float(target),
                color=_hex(palette.SERIES_TARGET),
                linewidth=1.4,
                linestyle=(0, (6, 3)),
                label=_plain(f"Target {format_value(float(target), unit)}"),
            )
        for index, name in enumerate(names):
            values = [(i, r.comparators[index]) for i, r in enumerate(rows) if r.comparators[index] is not None]
            axes.plot(
                [i for i, _ in values],
                [float(v) for _, v in values],
                color=_hex(palette.comparator_colour(index)),
                linewidth=1.4,
                linestyle=(0, (2, 2)),
                marker="s",
                markersize=3,
                label=_plain(name, 40),
                zorder=2,
            )
        last, latest = own[-1]
        axes.annotate(
            _plain(format_value(float(latest), unit)),
            (last, float(latest)),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=7.5,
            fontweight="bold",
            color=_hex(palette.SERIES_VALUE),
            fontfamily=FONT,
            zorder=4,
        )
        step = max(1, -(-len(positions) // MAX_TICKS))
        shown = positions[::step]
        if positions[-1] not in shown:
            shown.append(positions[-1])
        axes.set_xticks(shown, [labels[i] for i in shown])
        axes.set_xlim(-0.4, max(positions) + 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
        if percent:  # from 0: a rise of two points must not look like a leap
            highest = max([v for r in rows for v in (r.value, *r.comparators) if v is not None] + [target or 0])
            axes.set_ylim(0, 100 if highest > 80 else highest * 1.15 or 1)
        else:
            axes.margins(y=0.15)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _plain(format_value(y, "%" if percent else ""))))
        if unit and not percent:
            axes.set_ylabel(_plain(unit, 30), fontsize=7.5, color=_hex(palette.MUTED), fontfamily=FONT)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            axes.spines[side].set_color(_hex(palette.LINE))
        axes.grid(axis="y", color=_hex(palette.LINE), linewidth=0.6)
        axes.set_axisbelow(True)
        axes.tick_params(labelsize=7.5, colors=_hex(palette.MUTED), length=0, pad=4)
        for text in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
            text.set_fontfamily(FONT)
        axes.legend(
            loc="upper left",
            bbox_to_anchor=(0, 1.16 + 0.09 * ((len(names) + 2) // 4)),
            ncols=4,
            frameon=False,
            prop={"family": FONT, "size": 7.5},
            handlelength=2.4,
        )
        figure.subplots_adjust(left=0.08, right=0.99, top=0.85 - 0.08 * ((len(names) + 2) // 4), bottom=0.14)
        out = BytesIO()
        figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


class ChartCache:
    """Each metric drawn once per document, however many statements cite it."""

    def __init__(self) -> None:
        self._images: dict[int, bytes] = {}

    def png(self, item: ItemView) -> bytes:
        if item.id not in self._images:
            self._images[item.id] = trend_png(item)
        return self._images[item.id]
