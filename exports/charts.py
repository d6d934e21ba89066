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
from evidence.library.metrics import format_value
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
    """The metric's values over time, with its target and comparator as reference lines."""
    # Imported here: matplotlib takes a second to load, and only a document with charts needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    points = drawable_points(item)
    details = item.details
    unit = (details.get("unit") or "").strip()
    labels = [_plain(p.label, MAX_LABEL) for p in points]
    values = [float(p.value) for p in points]
    target = details.get("target")
    comparator = details.get("comparator_value")
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a glyph DejaVu lacks (an emoji in a label) is drawn as a box
        figure = Figure(figsize=(WIDTH_CM / 2.54, HEIGHT_CM / 2.54), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(len(values)))
        axes.plot(
            positions,
            values,
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
        if comparator is not None:
            name = _plain(details.get("comparator_label") or "Comparator", 40)
            axes.axhline(
                float(comparator),
                color=_hex(palette.SERIES_COMPARATOR),
                linewidth=1.4,
                linestyle=(0, (2, 2)),
                label=f"{name} {_plain(format_value(float(comparator), unit))}",
            )
        step = max(1, -(-len(positions) // MAX_TICKS))
        shown = positions[::step]
        if positions[-1] not in shown:
            shown.append(positions[-1])
        axes.set_xticks(shown, [labels[i] for i in shown])
        axes.set_xlim(-0.4, max(positions) + 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
        percent = unit == "%"
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
            bbox_to_anchor=(0, 1.16),
            ncols=3,
            frameon=False,
            prop={"family": FONT, "size": 7.5},
            handlelength=2.4,
        )
        figure.subplots_adjust(left=0.08, right=0.99, top=0.85, bottom=0.14)
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
