"""A statement's score across rounds, as a small SVG drawn on the server."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 120, 32, 4
SCORE_COLOURS = {1: "#b42318", 2: "#b54708", 3: "#067647", 4: "#1849a9"}


def score_sparkline(rounds, scores: list[int | None], name: str) -> Markup:
    """Scores 1-4 left to right, oldest first; a gap where a round left the statement unscored.

    The table beside it holds the same values, so the chart is hidden from screen readers.
    """
    points = [(i, s) for i, s in enumerate(scores) if s is not None]
    if not points:
        return Markup('<span class="muted small">No scores</span>')
    step = (WIDTH - 2 * PAD) / max(len(scores) - 1, 1)

    def xy(i: int, score: int) -> tuple[float, float]:
        return PAD + i * step, HEIGHT - PAD - (score - 1) * (HEIGHT - 2 * PAD) / 3

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" aria-hidden="true" focusable="false">',
        f"<title>{escape(name)}: score history</title>",
    ]
    for grid in (1, 4):
        y = xy(0, grid)[1]
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7ec"/>')
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, s) for i, s in points))
    parts.append(f'<polyline points="{line}" fill="none" stroke="#5b6474" stroke-width="1.5"/>')
    for i, s in points:
        x, y = xy(i, s)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{SCORE_COLOURS[s]}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
