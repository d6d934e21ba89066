"""Exports and large imports as background jobs: in the portal's thread pool and in a real RQ worker, with
progress, the same file as the synchronous build, nothing partial when a job fails or its worker is killed,
and Retry."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evidence.assessment.round_view import round_view
from evidence.db import db
from evidence.jobs import files, progress, store
from evidence.models import EvidenceItem, Job, utcnow
from evidence.vocab import Role
from exports.packs import build_export
from portal.jobs.runners import RqRunner, ThreadRunner
from tests import jobs
from tests.conftest import sign_in
from tests.exports.test_workbook import build_round, sign_off
from tests.portal.test_imports import SURVEY_HEADER, csv_file, digest_of, to_preview, upload

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/11"


@pytest.fixture
def threads(app):
    app.extensions["jobs"] = ThreadRunner(app)
    return app


@pytest.fixture
def signed_round(app):
    built = build_round()
    sign_off(built["round"])  # a signed-off round exports byte for byte the same every time
    return built["round"]


def survey_rows(n: int) -> bytes:
    rows = [SURVEY_HEADER]
    rows += [["ASCS 2025-26", f"Question {i}", "61%", "412", "2026-01-05", "", ""] for i in range(n)]
    return csv_file(rows)


def main(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


def items() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(EvidenceItem.id)))


def test_an_export_runs_in_the_background_with_progress_and_gives_the_synchronous_file(
    client, login, threads, signed_round, monkeypatch
):
    monkeypatch.setattr(progress, "INTERVAL_SECONDS", 0)
    login(Role.MANAGER)
    started = time.perf_counter()
    response = client.post("/exports/download", data={"round": signed_round.id, "format": "xlsx"})
    answered = time.perf_counter() - started
    job_id = jobs.job_id_of(response)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "<progress" in page and "Excel workbook" in page
    seen = []
    deadline = time.monotonic() + 120
    while (state := client.get(f"/jobs/{job_id}.json").get_json())["state"] not in ("done", "failed"):
        seen.append((state["state"], state["stage"], state["percent"]))
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert state["state"] == "done" and state["percent"] == 100, state
    assert any(s in ("queued", "running") for s, _, _ in seen)  # the request answered before the file was made
    assert answered < 2
    download = client.get(state["download"])
    assert download.status_code == 200
    assert "assure-winter-2026-self-assessment.xlsx" in download.headers["Content-Disposition"]
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert download.data == build_export(round_view(signed_round), "xlsx").data
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Download assure-winter-2026-self-assessment.xlsx" in page and "http-equiv" not in page


def test_the_running_page_refreshes_itself_without_javascript_and_polls_with_it(client, login, app, signed_round):
    user = login(Role.MANAGER)
    job = store.create("export", user, {"round": signed_round.id, "format": "xlsx"}, "Excel workbook")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert f'data-job-poll="/jobs/{job.id}.json"' in page
    assert client.get(f"/jobs/{job.id}.json").get_json()["state"] == "queued"


def test_only_the_owner_and_administrators_see_a_job_or_its_file(app, make_user, signed_round):
    owner, other, admin = make_user(Role.MANAGER), make_user(Role.QUALITY_LEAD), make_user(Role.ADMIN)
    mine = app.test_client()
    sign_in(mine, owner)
    state = jobs.wait_for(
        mine, jobs.job_id_of(mine.post("/exports/download", data={"round": signed_round.id, "format": "markdown"}))
    )
    job_id = state["id"]
    assert mine.get(state["download"]).status_code == 200
    theirs = app.test_client()
    sign_in(theirs, other)
    for url in (f"/jobs/{job_id}", f"/jobs/{job_id}.json", f"/jobs/{job_id}/download"):
        assert theirs.get(url).status_code == 404
    assert theirs.post(f"/jobs/{job_id}/retry").status_code == 404
    boss = app.test_client()
    sign_in(boss, admin)
    assert boss.get(f"/jobs/{job_id}").status_code == 200
    assert boss.get(state["download"]).status_code == 200
    assert len(job_id) >= 32  # 192 random bits: not guessable either


def test_a_big_import_runs_as_a_job_with_progress(client, login, threads, monkeypatch):
    threads.config["JOBS_IMPORT_ROWS"] = 100
    monkeypatch.setattr(progress, "INTERVAL_SECONDS", 0)
    written = []
    real = store.progress
    monkeypatch.setattr(store, "progress", lambda *a: (written.append(a[2:]), real(*a)))
    login(Role.QUALITY_LEAD)
    digest = digest_of(to_preview(client, upload(client, "survey", "big.csv", survey_rows(400))))
    written.clear()  # the check's own bar went before
    state = jobs.wait_for(client, jobs.job_id_of(client.post("/import/survey/confirm", data={"digest": digest})))
    assert state["state"] == "done", state
    assert "400 created" in state["message"]
    assert items() == 400
    stages = [stage for _, _, stage in written]
    assert stages[0].startswith("Reading and checking the rows of big.csv") and stages[-1].startswith("Writing 400")
    done = [d for d, _, _ in written]
    assert done == sorted(done) and len(set(done)) > 10  # the bar moved row by row while the file was read


def test_a_large_file_is_checked_by_a_job_and_its_preview_shown_from_what_it_kept(
    client, login, threads, make_user, app
):
    threads.config["JOBS_IMPORT_ROWS"] = 100
    login(Role.QUALITY_LEAD)
    rows = [SURVEY_HEADER] + [["ASCS 2025-26", f"Question {i}", "61%", "412", "2026-01-05", "", ""] for i in range(400)]
    rows[350][2] = "lots"  # spreadsheet row 351, past the rows read while the upload waits
    answer = upload(client, "survey", "big.csv", csv_file(rows))
    assert answer.status_code == 303 and "/jobs/" in answer.headers["Location"]  # read and checked by a job
    checked = to_preview(client, answer)
    assert "check=" in checked
    page = client.get(checked).get_data(as_text=True)
    assert "1 problem in 1 row: nothing can be imported yet" in page and ">351<" in page and "lots" in page
    assert "Upload the corrected file" in page and "/import/survey/confirm" not in page

    # Only its owner sees what the check kept, and only for the upload it checked.
    other = app.test_client()
    assert sign_in(other, make_user(Role.QUALITY_LEAD)).status_code == 302
    assert other.get(checked).status_code == 404
    small = digest_of(upload(client, "survey", "small.csv", survey_rows(5)))
    assert client.get(checked.replace(digest_of(checked), small)).status_code == 404

    good = to_preview(client, upload(client, "survey", "big.csv", survey_rows(400)))
    page = client.get(good).get_data(as_text=True)
    assert "Import 400 rows" in page and "Question 399" in page
    # The same file checked in the request reads the same, word for word.
    threads.config["JOBS_IMPORT_ROWS"] = 10_000
    at_once = client.get(good.split("?")[0]).get_data(as_text=True)
    assert main(at_once) == main(page)
    threads.config["JOBS_IMPORT_ROWS"] = 100
    state = jobs.wait_for(
        client, jobs.job_id_of(client.post("/import/survey/confirm", data={"digest": digest_of(good)}))
    )
    assert state["state"] == "done" and items() == 400


def test_a_large_file_with_a_header_the_import_cannot_read_is_refused_at_once(client, login, threads):
    threads.config["JOBS_IMPORT_ROWS"] = 100
    login(Role.QUALITY_LEAD)
    header = ["Survey name", "Question", "Question", "Respondents", "Period start", "Quality statement", "Category"]
    answer = upload(
        client, "survey", "big.csv", csv_file([header] + [["A", "B", "C", "1", "2026-01-05", "", ""]] * 400)
    )
    assert answer.status_code == 422 and "twice" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Job.id))) == 0


def test_a_small_import_is_still_written_while_the_page_waits(client, login, threads):
    login(Role.QUALITY_LEAD)
    digest = digest_of(upload(client, "survey", "small.csv", survey_rows(5)))
    response = client.post("/import/survey/confirm", data={"digest": digest})
    assert response.status_code == 302 and "/jobs/" not in response.headers["Location"]
    assert items() == 5 and db.session.scalar(select(func.count(Job.id))) == 0


def test_an_import_job_that_fails_half_way_writes_nothing_and_retry_completes_it(client, login, threads, monkeypatch):
    threads.config["JOBS_IMPORT_ROWS"] = 100
    from evidence.imports import item_rows

    real, calls = item_rows.audit.record, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 150:  # 149 rows flushed and recorded inside the transaction
            raise RuntimeError("the disk filled up")
        return real(*args, **kwargs)

    monkeypatch.setattr(item_rows.audit, "record", failing)
    login(Role.QUALITY_LEAD)
    digest = digest_of(to_preview(client, upload(client, "survey", "big.csv", survey_rows(300))))
    job_id = jobs.job_id_of(client.post("/import/survey/confirm", data={"digest": digest}))
    state = jobs.wait_for(client, job_id)
    assert state["state"] == "failed" and "nothing was kept" in state["error"] and state["can_retry"]
    assert len(calls) == 150 and items() == 0
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Retry" in page and f"/import/survey/preview/{digest}" in page
    monkeypatch.setattr(item_rows.audit, "record", real)
    assert client.post(f"/jobs/{job_id}/retry").status_code == 303
    state = jobs.wait_for(client, job_id)
    assert state["state"] == "done" and items() == 300


def test_a_job_whose_process_died_is_shown_failed_and_old_files_are_cleared(client, login, app, signed_round):
    user = login(Role.MANAGER)
    job = store.create("export", user, {"round": signed_round.id, "format": "xlsx"}, "Excel workbook")
    assert store.claim(job.id) == 1
    db.session.execute(Job.__table__.update().values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    state = client.get(f"/jobs/{job.id}.json").get_json()
    assert state["state"] == "failed" and state["error"] == store.LOST and state["can_retry"]
    # A finished job's file goes a day after; the page then offers to make it again.
    started = client.post("/exports/download", data={"round": signed_round.id, "format": "xlsx"})
    state = jobs.wait_for(client, jobs.job_id_of(started))
    finished = db.session.get(Job, state["id"], populate_existing=True)
    path = Path(app.config["UPLOAD_DIR"]) / finished.result_path
    partial = path.with_name(f".{path.name}.99.partial")
    partial.write_bytes(b"half")
    os.utime(partial, (time.time() - 7200, time.time() - 7200))
    finished.finished_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert files.sweep(app.config["UPLOAD_DIR"]) == 2
    assert not path.exists() and not partial.exists()
    page = client.get(f"/jobs/{finished.id}").get_data(as_text=True)
    assert "cleared away" in page and "Make it again" in page
    assert client.get(f"/jobs/{finished.id}/download").status_code == 404
    # A month on, the job itself goes (the audit trail keeps the export).
    finished.finished_at = utcnow() - timedelta(days=31)
    db.session.commit()
    files.sweep(app.config["UPLOAD_DIR"])
    assert client.get(f"/jobs/{state['id']}").status_code == 404


# --- RQ on Redis, with real `flask jobs worker` processes ---


@pytest.fixture
def rq(app, database_url):
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS)
    try:
        connection.ping()
    except redis.exceptions.RedisError:
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    queue = f"assure-test-{uuid.uuid4().hex[:10]}"
    app.config.update(REDIS_URL=REDIS, JOBS_QUEUE=queue, JOBS_STALE_SECONDS=3)
    app.extensions["jobs"] = RqRunner(app)
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "REDIS_URL": REDIS,
        "JOBS_QUEUE": queue,
        "JOBS_STALE_SECONDS": "3",
        "SECRET_KEY": "test-secret",
    }
    yield env
    for key in connection.scan_iter(f"rq:queue:{queue}*"):
        connection.delete(key)


def worker(env, *, burst=True, pause=None, mark=None):
    flask = ["--app", "portal", "jobs", "worker", *(["--burst"] if burst else [])]
    command = [sys.executable, "-m", "tests.jobs_worker", pause, str(mark), *flask] if pause else None
    command = command or [sys.executable, "-m", "flask", *flask]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(process, timeout=180):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output.decode(errors="replace")[-3000:]


def wait_for_mark(process, mark: Path, timeout=120):
    deadline = time.monotonic() + timeout
    while not mark.exists():
        assert process.poll() is None, process.stdout.read().decode(errors="replace")[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_an_export_runs_in_an_rq_worker(client, login, rq, signed_round):
    login(Role.MANAGER)
    job_id = jobs.job_id_of(client.post("/exports/download", data={"round": signed_round.id, "format": "xlsx"}))
    assert client.get(f"/jobs/{job_id}.json").get_json()["state"] == "queued"  # no worker yet
    finish(worker(rq))
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "done", state
    assert client.get(state["download"]).data == build_export(round_view(signed_round), "xlsx").data


def test_killing_an_rq_worker_mid_import_keeps_nothing_and_retry_completes_it(client, login, rq, tmp_path):
    rq_app = client.application
    rq_app.config["JOBS_IMPORT_ROWS"] = 100
    login(Role.QUALITY_LEAD)
    checking = upload(client, "survey", "big.csv", survey_rows(300))
    finish(worker(rq))  # the check, in a worker of its own
    digest = digest_of(to_preview(client, checking))
    job_id = jobs.job_id_of(client.post("/import/survey/confirm", data={"digest": digest}))
    mark = tmp_path / "paused"
    process = worker(rq, burst=False, pause="import-write", mark=mark)
    wait_for_mark(process, mark)  # every row is flushed inside the import's open transaction
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert items() == 0
    time.sleep(3.5)  # the heartbeat grows old
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "failed" and state["error"] == store.LOST, state
    assert client.post(f"/jobs/{job_id}/retry").status_code == 303
    finish(worker(rq))
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "done", state
    assert items() == 300


def test_killing_an_rq_worker_while_it_writes_the_file_leaves_no_file_to_download(
    client, login, rq, signed_round, tmp_path
):
    login(Role.MANAGER)
    job_id = jobs.job_id_of(client.post("/exports/download", data={"round": signed_round.id, "format": "xlsx"}))
    mark = tmp_path / "paused"
    process = worker(rq, burst=False, pause="export-file", mark=mark)
    wait_for_mark(process, mark)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    folder = Path(client.application.config["UPLOAD_DIR"]) / files.FOLDER
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []  # only the temporary name
    time.sleep(3.5)
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "failed" and state["download"] is None
    assert client.get(f"/jobs/{job_id}/download").status_code == 404
    client.post(f"/jobs/{job_id}/retry")
    finish(worker(rq))
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["state"] == "done"
    assert client.get(state["download"]).data == build_export(round_view(signed_round), "xlsx").data


@pytest.mark.parametrize(
    "check", ["x" * 5000, "\x00", "\u202eabc", "' OR 1=1 --", "../../etc/passwd", "%00", "1e308", "🙂" * 40]
)
def test_a_preview_of_a_check_that_is_not_there_is_not_found(client, login, check):
    login(Role.QUALITY_LEAD)
    digest = digest_of(upload(client, "survey", "small.csv", survey_rows(5)))
    answer = client.get(f"/import/survey/preview/{digest}", query_string={"check": check})
    # A NUL no database can store is refused before any view; anything else names no check of this person's.
    assert answer.status_code == (400 if "\x00" in check else 404)
