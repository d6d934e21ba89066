"""The PDF self-assessment of a round: the report as print HTML, laid out by WeasyPrint.

``report_html(view, generated_at)`` renders ``templates/report.html`` (Jinja,
autoescaped: user text can never become markup) with the print stylesheet
``templates/report.css``: A4, the council's name and the round in a running
header, "Page N of M" in the footer, one page break and one PDF bookmark per
statement, a contents page whose page numbers WeasyPrint fills in.

``build_pdf`` turns that into bytes. WeasyPrint fetches nothing but the charts
embedded in the page as ``data:`` URLs, and the file carries one fixed time
and document id (the round's sign-off), so a signed-off round gives the same
bytes every time. WeasyPrint needs Pango from the system; it is imported only
when a PDF is made, so the portal runs without it and says what is missing.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from evidence.assessment.round_view import RoundView
from evidence.library.citations import link_citations
from exports import ExportUnavailable, palette
from exports.charts import ChartCache
from exports.markup import markdown_to_html
from exports.report import Report, build_report
from exports.text import xml_safe


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("exports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_xml_safe,
    )
    env.filters["markdown"] = _markdown
    env.filters["capitalize_first"] = lambda text: text[:1].upper() + text[1:]
    return env


def _xml_safe(value):
    """Every value printed drops the characters XML cannot hold, as the Word document does."""
    if isinstance(value, Markup):
        return Markup(xml_safe(str(value)))
    return xml_safe(value) if isinstance(value, str) else value


def _markdown(text: str | None, anchor: str) -> Markup:
    """A lead's markdown as safe HTML, each [E-12] linked to its row in the section's evidence table."""
    html = markdown_to_html(text)
    return Markup(link_citations(html, lambda reference: f"#{anchor}-{reference}")) if html else Markup("")


@cache
def stylesheet() -> str:
    """The print stylesheet, with the portal's score and band colours."""
    css = resources.files("exports").joinpath("templates/report.css").read_text(encoding="utf-8")
    rules = [
        f".score-{score} {{ color: #{c.text}; background: #{c.background}; border-color: #{c.text}; }}"
        for score, c in palette.SCORE_COLOURS.items()
    ]
    none = palette.NONE_COLOURS
    rules.append(f".score-none {{ color: #{none.text}; background: #{none.background}; border-color: #{none.text}; }}")
    differs = palette.DIFFERS_COLOURS
    rules.append(f".peer-differs {{ color: #{differs.text}; background: #{differs.background}; font-weight: bold; }}")
    return css + "\n/* Score and band colours (exports/palette.py) */\n" + "\n".join(rules) + "\n"


def score_class(colours: palette.Colours) -> str:
    """The CSS class that wears these colours (bands wear the colours of the score of the same rank)."""
    for score, candidate in palette.SCORE_COLOURS.items():
        if candidate == colours:
            return f"score-{score}"
    return "score-none"


def report_html(view: RoundView, generated_at: datetime, *, report: Report | None = None) -> str:
    report = report or build_report(view, generated_at)
    charts = ChartCache()

    def chart_src(chart) -> str:
        return "data:image/png;base64," + base64.b64encode(charts.png(chart.item)).decode("ascii")

    return (
        _environment()
        .get_template("report.html")
        .render(
            report=report,
            stamp=report.stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),  # naive UTC, as stored
            css=stylesheet(),
            score_class=score_class,
            chart_src=chart_src,
        )
    )


def document_id(report: Report) -> bytes:
    """The PDF's /ID: the same for the same round and time, so a signed-off round's file never changes."""
    seed = f"assure:{report.authority}:{report.title}:{report.stamp.isoformat()}"
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32].encode("ascii")


def build_pdf(view: RoundView, generated_at: datetime) -> bytes:
    """The round's self-assessment as a PDF (bytes)."""
    try:
        from weasyprint import HTML, URLFetcher
    except (ImportError, OSError) as error:  # OSError: Pango or its friends are missing
        raise ExportUnavailable(
            "the PDF needs WeasyPrint and the Pango library: run `make install` (it installs Debian's "
            f"libpango-1.0-0 and libpangoft2-1.0-0 when missing). ({error})"
        ) from error
    report = build_report(view, generated_at)
    html = report_html(view, generated_at, report=report)
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    document = HTML(string=html, url_fetcher=fetcher, base_url="about:blank").render()
    return document.write_pdf(pdf_identifier=document_id(report), uncompressed_pdf=False)
