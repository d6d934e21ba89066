"""The workbook as a background job at N items: how long the request that starts it takes, and how long until
the job is done, beside the same workbook built in the request as before.

    python -m bench.jobs [--n 20000] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench import databases
from bench.portfolio import build_portfolio
from bench.run import close, make_app, say
from portal.jobs.runners import InlineRunner, ThreadRunner

POLL_SECONDS = 0.2  # the job page polls every second; finer here to time the end closely


def _export(client, round_id: int) -> tuple[float, float, int]:
    """Start the workbook and fetch it: seconds until the request answered, until the file was in hand, bytes."""
    started = time.perf_counter()
    response = client.post("/exports/download", data={"round": round_id, "format": "xlsx"})
    answered = time.perf_counter() - started
    assert response.status_code == 303, response.status_code
    status = response.headers["Location"] + ".json"
    while (state := client.get(status).get_json())["state"] not in ("done", "failed"):
        time.sleep(POLL_SECONDS)
    assert state["state"] == "done", state
    size = len(client.get(state["download"]).data)
    return answered, time.perf_counter() - started, size


def measure(app, portfolio, round_id: int, repeats: int) -> dict:
    """The workbook through the thread pool (the portal's runner without Redis), then built inside the request
    as before jobs (the inline runner: the request answers once the file is made)."""
    client = app.test_client()
    client.post("/sign-in", data={"email": portfolio.lead_email, "password": portfolio.password})
    results = {}
    for name, runner in (("job", ThreadRunner), ("in the request", InlineRunner)):
        app.extensions["jobs"] = runner(app)
        runs = [_export(client, round_id) for _ in range(repeats)]
        results[name] = {
            "answer_ms": statistics.median(r[0] for r in runs) * 1000,
            "done_s": statistics.median(r[1] for r in runs),
            "bytes": runs[-1][2],
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with databases.fresh_database(args.database, "jobs") as fresh:
        say(f"building a portfolio of {args.n:,} items ({databases.describe(args.database)})")
        app = make_app(fresh.url, fresh.folder)
        try:
            portfolio = build_portfolio(app, args.n)
            for label, round_id in (("open", portfolio.open_round_id), ("signed off", portfolio.signed_off_round_id)):
                say(f"workbook of the {label} round as a job, {args.repeats} times")
                result = measure(app, portfolio, round_id, args.repeats)
                job, inline = result["job"], result["in the request"]
                print(
                    f"{databases.describe(args.database)}, N = {args.n:,}, {label} round "
                    f"({job['bytes'] / 1024:,.0f} KiB), medians of {args.repeats}: as a job, the request answered "
                    f"in {job['answer_ms']:.0f} ms and the file was ready after {job['done_s']:.1f} s; built in "
                    f"the request, it answered after {inline['answer_ms'] / 1000:.1f} s "
                    f"(file in hand {inline['done_s']:.1f} s)"
                )
        finally:
            close(app)


if __name__ == "__main__":
    main()
