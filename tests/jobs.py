"""Starting an export through the Exports page and fetching its file from the job's page, as a browser does."""

from __future__ import annotations

import re
import time


def job_id_of(response) -> str:
    """The job an answer sent the browser to (a 303 to /jobs/<id>)."""
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    found = re.search(r"/jobs/([A-Za-z0-9_-]+)$", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def wait_for(client, job_id: str, timeout: float = 120) -> dict:
    """Poll the job's JSON until it has finished; its last state."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/jobs/{job_id}.json").get_json()
        if state["state"] in ("done", "failed") or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def export(client, round_id, fmt: str):
    """Post the Exports page's download form and fetch the file the job made; the download's response."""
    job_id = job_id_of(client.post("/exports/download", data={"round": round_id, "format": fmt}))
    state = wait_for(client, job_id)
    assert state["state"] == "done", state
    return client.get(state["download"])
