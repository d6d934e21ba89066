"""A BI script pushes metric points with curl and a personal token; they appear on the item's chart.

The portal is served for real (``live_server``), the token is made with ``flask tokens create`` as an
administrator would for a script, the points are sent by the curl command the README shows, and the item
page is then read in Chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import FLASK, _environment
from tests.browser.helpers import QUALITY_LEAD, ROOT, screenshot, sign_in


def _token(live_folder, email: str, scope: str) -> str:
    env = _environment(live_folder / "browser.sqlite", live_folder / "uploads")
    done = subprocess.run(
        [*FLASK, "tokens", "create", "--email", email, "--scope", scope, "--name", "Data warehouse feed"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _curl(url: str, token: str, body: dict) -> tuple[int, dict]:
    """The README's command: curl -X POST … -H "Authorization: Bearer $ASSURE_TOKEN" --data @points.json"""
    assert shutil.which("curl"), "curl is needed for this test (Debian's curl package)"
    done = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--write-out",
            "\n%{http_code}",
            "-X",
            "POST",
            url,
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "Content-Type: application/json",
            "--data",
            json.dumps(body),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    text, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(text)


def test_points_pushed_with_curl_appear_on_the_items_chart(live_server, tmp_path, open_page):
    token = _token(tmp_path, QUALITY_LEAD[0], "write")
    metrics = _get(f"{live_server}/api/v1/items?kind=metric&per_page=1", token)["items"]
    metric = metrics[0]
    points = {
        "points": [
            {"metric": metric["reference"], "period": "2031-01", "value": 71.5},
            {"metric": metric["reference"], "period": "2031-02", "value": 73},
        ]
    }
    status, answer = _curl(f"{live_server}/api/v1/metric-points", token, points)
    assert (status, answer["created"], answer["references"]) == (200, 2, [metric["reference"]]), answer
    status, again = _curl(f"{live_server}/api/v1/metric-points", token, points)
    assert (status, again["created"], again["unchanged"]) == (200, 0, 2)  # the same feed twice changes nothing

    series = _get(f"{live_server}/api/v1/items/{metric['id']}", token)["points"]
    assert [(p["label"], p["value"]) for p in series[-2:]] == [("Jan 2031", 71.5), ("Feb 2031", 73)]

    page = open_page(live_server)
    sign_in(page, *QUALITY_LEAD)
    page.goto(f"/evidence/{metric['id']}")
    values = page.locator("#values")
    chart = values.locator("svg.chart")
    expect(chart.locator("desc")).to_contain_text("to Feb 2031 (73")
    expect(chart.locator("text.chart__label").last).to_have_text("Feb 2031")
    expect(values.get_by_role("row", name="Jan 2031")).to_contain_text("71.5")
    expect(values.get_by_role("row", name="Feb 2031")).to_contain_text("73")
    screenshot(page, "api-feed-metric-chart")
