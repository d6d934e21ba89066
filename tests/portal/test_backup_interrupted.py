"""A restore or a backup killed with SIGKILL at a random moment leaves nothing half-done.

`flask backup` and `flask restore` run as processes of their own against a database of the test's own
(a SQLite file, or a PostgreSQL database when the run has one) and are killed after a random delay
within the time a whole run takes, several times over.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from evidence.backups import postgres as postgres_module
from evidence.backups import restore as restore_module
from evidence.backups import restore_backup
from evidence.backups import sqlite as sqlite_module
from evidence.backups import uploads as uploads_module
from evidence.db import db
from evidence.framework_sync import sync_framework
from evidence.library import storage
from evidence.models import EvidenceItem
from portal import MIGRATIONS_DIR, create_app
from tests.backup_tools import database_state, upload_state
from tests.conftest import stamp_head
from tests.factories import make_item, make_round

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 8


@pytest.fixture
def portal(empty_database_url, tmp_path):
    """An app on the test's own database, with the schema at the newest revision and the framework loaded."""
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "UPLOAD_DIR": str(tmp_path / "uploads")}
    )
    with app.app_context():
        db.create_all()
        stamp_head()
        sync_framework()
        yield app
        db.session.remove()
        db.engine.dispose()


def _flask(app, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "SECRET_KEY": "interrupted-test",
        "FLASK_APP": "portal",
    }
    env.pop("FLASK_DEBUG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _timed_run(app, *args: str, expect: int = 0) -> float:
    started = time.monotonic()
    process = _flask(app, *args)
    output = process.communicate()[0].decode()
    assert process.returncode == expect, output
    return time.monotonic() - started


def _moments(app, tmp_path, whole: float) -> tuple[int, list[float]]:
    """Random delays (and their seed) spread over the part of a run after Python and the app have started."""
    not_a_zip = tmp_path / "not-a-backup.zip"
    not_a_zip.write_bytes(b"not a zip")
    started = _timed_run(app, "restore", str(not_a_zip), "--yes", expect=1)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    low = min(started * 0.9, whole * 0.5)
    return seed, sorted(rng.uniform(low, whole * 1.05) for _ in range(TRIALS))


def _kill_after(process: subprocess.Popen, delay: float) -> None:
    time.sleep(delay)
    process.kill()
    process.communicate()


def _state(app) -> tuple[dict, dict]:
    db.session.remove()
    return database_state(db.engine), upload_state(Path(app.config["UPLOAD_DIR"]))


@pytest.fixture
def two_states(portal, tmp_path):
    """A backup ("new"), then a different portfolio in the portal ("old") and a backup of that.

    Returns the (database, files) state of each, the new zip, and a function that puts the old back.
    """
    upload_dir = Path(portal.config["UPLOAD_DIR"])
    for n in range(40):
        make_item(f"Backed-up evidence {n}", mappings=[("safe-pathways", "staff-leaders", "shortfall")])
    make_round("Spring 2026", scores={"safe-pathways": 2})
    for n in range(150):
        storage.store(f"row,value\n{n},backed up\n".encode() * 2000, f"backed-{n}.csv", upload_dir)
    new = _state(portal)
    new_zip = tmp_path / "new.zip"
    _timed_run(portal, "backup", "--out", str(new_zip))
    for item in db.session.scalars(select(EvidenceItem).limit(10)):
        item.title = f"Edited {item.id}"
    for item in db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id.desc()).limit(10)):
        db.session.delete(item)
    db.session.commit()
    make_item("Added after the backup")
    for path in sorted(p for p in upload_dir.rglob("*") if p.is_file())[:20]:
        path.unlink()
    for n in range(20):
        storage.store(f"row,value\n{n},later\n".encode() * 2000, f"later-{n}.csv", upload_dir)
    old = _state(portal)
    old_zip = tmp_path / "old.zip"
    _timed_run(portal, "backup", "--out", str(old_zip))

    def reset() -> None:
        db.engine.dispose()
        _restore(portal, old_zip)
        assert _state(portal) == old

    return old, new, new_zip, reset


def _restore(app, backup: Path) -> None:
    restore_backup(
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config["UPLOAD_DIR"],
        backup,
        migrations_dir=MIGRATIONS_DIR,
        max_bytes=1024**3,
    )


def _check(state, old, new, where: str) -> str:
    tables, files = state
    assert tables in (old[0], new[0]), f"the database is a mix of the old and the new data {where}"
    mine = old if tables == old[0] else new
    # Around the commit the upload folder holds the old and the new files together, so that whichever
    # database a kill leaves, every file it refers to is there.
    assert files in (mine[1], {**old[1], **new[1]}), f"the uploaded files do not match the database {where}"
    return ("old" if mine is old else "new") + (" (union)" if files != mine[1] else "")


@pytest.mark.slow
def test_a_restore_killed_at_any_moment_leaves_the_old_data_or_the_new(portal, two_states, tmp_path):
    old, new, new_zip, reset = two_states
    reset()
    whole = _timed_run(portal, "restore", str(new_zip), "--yes")
    assert _state(portal) == new, "an uninterrupted restore brings back exactly the backup"

    seed, delays = _moments(portal, tmp_path, whole)
    outcomes = []
    for trial, delay in enumerate(delays):
        reset()
        _kill_after(_flask(portal, "restore", str(new_zip), "--yes"), delay)
        where = f"(seed {seed}, trial {trial}, killed after {delay:.2f} s of {whole:.2f} s)"
        outcomes.append(f"{delay:.2f}s: {_check(_state(portal), old, new, where)}")
    print(f"restore killed {TRIALS} times (seed {seed}): {outcomes}")

    reset()  # the next run sweeps what killed runs left
    assert not list(Path(portal.config["UPLOAD_DIR"]).parent.glob(".assure-restore-*"))


def _second_call(function):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        function(*args, **kwargs)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)

    return wrapper


# Where a restore is killed, and what it must leave: the old data, or (from the commit on) the new.
PHASES = [
    ("once the database is checked", "check", "old"),
    ("once the union and aside trees are built", "UploadSwap.prepare", "old"),
    ("once the database's script has run, uncommitted", "Loader.prepare", "old"),
    ("once the upload folder shows the union", "UploadSwap.enter", "old"),
    ("just after the commit", "Loader.commit", "new"),
    ("once the old files are moved aside", "exchange", "new"),
    ("once everything is in place", "UploadSwap.finish", "new"),
]


@pytest.mark.parametrize(("moment", "step", "expected"), PHASES, ids=[p[0] for p in PHASES])
def test_a_restore_killed_at_each_step_leaves_the_old_data_or_the_new(portal, two_states, moment, step, expected):
    old, new, new_zip, reset = two_states
    reset()
    backend = restore_module.ENGINES[make_url(portal.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()]
    db.engine.dispose()
    pid = os.fork()
    if pid == 0:  # the child restores and kills itself with SIGKILL right after the step
        try:
            if step == "exchange":
                uploads_module.exchange = _second_call(uploads_module.exchange)
            else:
                owner_name, _, name = step.rpartition(".")
                owner = {"UploadSwap": uploads_module.UploadSwap, "Loader": backend.Loader, "": backend}[owner_name]
                original = getattr(owner, name)

                def then_die(*args, **kwargs):
                    result = original(*args, **kwargs)
                    os.kill(os.getpid(), signal.SIGKILL)
                    return result

                setattr(owner, name, then_die)
            _restore(portal, new_zip)
        finally:
            os._exit(3)  # reached only if the step never ran
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "the restore was killed"
    outcome = _check(_state(portal), old, new, f"(killed {moment})")
    assert outcome.startswith(expected), outcome

    _restore(portal, new_zip)  # the next run sweeps what the killed one left, and then restores
    assert _state(portal) == new
    assert not list(Path(portal.config["UPLOAD_DIR"]).parent.glob(".assure-restore-*"))


@pytest.mark.slow
def test_a_backup_killed_half_way_leaves_no_partial_file(portal, tmp_path):
    upload_dir = Path(portal.config["UPLOAD_DIR"])
    for n in range(20):
        make_item(f"Evidence {n}")
    rng = random.Random()
    for n in range(150):
        words = " ".join(rng.choice(["care", "home", "carer", "safe", "review", "plan"]) for _ in range(12000))
        storage.store(f"note\n{n} {words}\n".encode(), f"note-{n}.csv", upload_dir)
    db.session.remove()
    folder = tmp_path / "backups"
    out = folder / "assure.zip"
    whole = _timed_run(portal, "backup", "--out", str(out))
    out.unlink()

    seed, delays = _moments(portal, tmp_path, whole)
    for trial, delay in enumerate(delays):
        _kill_after(_flask(portal, "backup", "--out", str(out)), delay)
        where = f"(seed {seed}, trial {trial}, killed after {delay:.2f} s of {whole:.2f} s)"
        visible = [p.name for p in folder.iterdir() if not p.name.startswith(".assure-backup-")]
        assert visible in ([], ["assure.zip"]), f"a partial file is left beside the backup {where}: {visible}"
        if out.exists():  # the kill came after the zip was complete and in place
            with zipfile.ZipFile(out) as archive:
                assert archive.testzip() is None and len(archive.namelist()) == 152, where
            out.unlink()

    _timed_run(portal, "backup", "--out", str(out))  # the next run sweeps what killed runs left
    assert sorted(p.name for p in folder.iterdir()) == ["assure.zip"]


def test_a_backup_sweeps_the_unpacked_copy_a_killed_restore_left(portal, tmp_path):
    upload_dir = Path(portal.config["UPLOAD_DIR"])
    make_item("Personal details in the backup")
    storage.store(b"name,need\nA. Person,home care\n", "people.csv", upload_dir)
    first = tmp_path / "first.zip"
    _timed_run(portal, "backup", "--out", str(first))
    db.engine.dispose()
    pid = os.fork()
    if pid == 0:
        try:
            original = sqlite_module.check if "sqlite" in str(db.engine.url) else postgres_module.check

            def then_die(*args, **kwargs):
                original(*args, **kwargs)
                os.kill(os.getpid(), signal.SIGKILL)

            sqlite_module.check = postgres_module.check = then_die
            _restore(portal, first)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    (left,) = upload_dir.parent.glob(".assure-restore-*")
    assert (left / "uploads").exists(), "the killed restore had unpacked the backup"

    _timed_run(portal, "backup", "--out", str(tmp_path / "second.zip"))
    assert not left.exists()
