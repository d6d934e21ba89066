"""Metrics mapped to a statement appear on its page as small trend charts with their values."""

from datetime import date

from evidence.vocab import Kind, Role
from tests.factories import make_item


def test_statement_page_draws_the_trends_of_its_metrics(client, login):
    login(Role.MANAGER)
    metric = make_item(
        "Over-65s home after discharge",
        kind=Kind.METRIC,
        unit="%",
        target=95.0,
        mappings=[("safe-pathways", "processes", "shortfall")],
        points=[(date(2026, m, 1), f"2026-{m:02d}", 80.0 + m) for m in range(1, 7)],
    )
    make_item("Unmapped metric", kind=Kind.METRIC, points=[(date(2026, 1, 1), "Jan", 1.0)])
    make_item(
        "Pending metric", kind=Kind.METRIC, status="submitted", mappings=[("safe-pathways", "processes", "context")]
    )
    html = client.get("/statements/safe-pathways").get_data(as_text=True)
    section = html[html.index('id="metrics-heading"') :]
    section = section[: section.index("</section>")]
    assert metric.reference in section and section.count("<svg") == 1
    assert "latest 86% (2026-06), target 95%" in section
    assert "Unmapped metric" not in section and "Pending metric" not in section


def test_no_metric_section_without_metrics(client, login):
    login(Role.MANAGER)
    assert 'id="metrics-heading"' not in client.get("/statements/equity").get_data(as_text=True)
