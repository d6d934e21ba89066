"""A damaged, foreign or hostile backup is refused in one line and changes nothing.

Each test takes a backup, changes the portal afterwards (so a restore that went ahead would show),
spoils the backup in one way, and then checks that every table's rows, the schema and every uploaded
file are exactly as they were, and that nothing was written beside the upload folder.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from evidence.backups import archive as backup_archive
from evidence.backups import postgres as backup_postgres
from evidence.backups import sqlite as backup_sqlite
from evidence.db import db
from evidence.library import storage
from evidence.models import EvidenceItem
from tests.backup_tools import MiB, database_state, member, rezip, upload_state, zip_with_bomb
from tests.conftest import _postgres_database, stamp_head
from tests.factories import make_item, make_round

ROOT = Path(__file__).resolve().parents[2]


def _backend(app) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


def _database_member(app) -> str:
    return backup_archive.DATABASE_MEMBERS[_backend(app)]


@pytest.fixture
def backups(tmp_path) -> Path:
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


@pytest.fixture
def good_backup(app, runner, backups) -> Path:
    """A backup of one portfolio; the portal then holds a different one."""
    upload_dir = Path(app.config["UPLOAD_DIR"])
    make_item("Carers' survey", mappings=[("safe-pathways", "staff-leaders", "shortfall")])
    make_round("Spring 2026", scores={"safe-pathways": 2})
    storage.store(b"question,answer\nSafe,Yes\n", "carers.csv", upload_dir)
    gone = storage.store(b"period,value\n2026-04,12\n", "waits.csv", upload_dir)
    out = backups / "good.zip"
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output

    db.session.scalar(select(EvidenceItem)).title = "Edited after the backup"
    make_item("Added after the backup")
    make_round("Autumn 2026")
    storage.path_for(upload_dir, gone.sha256).unlink()
    storage.store(b"when,what\n2026-09,later\n", "later.csv", upload_dir)
    return out


def _everything(app) -> tuple:
    db.session.remove()
    upload_dir = Path(app.config["UPLOAD_DIR"])
    return database_state(db.engine), upload_state(upload_dir), sorted(os.listdir(upload_dir.parent))


def refused(app, runner, backup: Path, *phrases: str) -> str:
    """Restore ``backup``; it must be refused in one line naming ``phrases``, with nothing changed."""
    before = _everything(app)
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    line = lines[0]
    assert line.startswith("Error: Restore refused: ") and "Nothing was changed." in line, line
    for phrase in phrases:
        assert phrase in line, line
    assert _everything(app) == before
    upload_parent = Path(app.config["UPLOAD_DIR"]).parent
    assert not (upload_parent / "x").exists() and not (upload_parent.parent / "x").exists()
    return line


# --- the database in the backup ---------------------------------------------------------------


@pytest.mark.parametrize("kept", [0.6, 0.75, 0.9])
def test_a_truncated_database_is_refused(app, runner, good_backup, backups, kept):
    name = _database_member(app)
    data = member(good_backup, name)
    spoiled = rezip(good_backup, backups / "cut.zip", replace={name: data[: int(len(data) * kept)]})
    refused(app, runner, spoiled, "its database")


def _foreign_database(app, folder: Path) -> bytes:
    """A sound database of the portal's kind that another application made: no Assure tables."""
    if _backend(app) == "sqlite":
        path = folder / "other.sqlite"
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
            connection.execute("INSERT INTO notes (body) VALUES ('shopping list')")
        return path.read_bytes()
    for url in _postgres_database(os.environ["TEST_DATABASE_URL"]):
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
            connection.execute("INSERT INTO notes (body) VALUES ('shopping list')")
        dump = folder / "other.pgdump"
        subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), plain], check=True)
        return dump.read_bytes()


def test_a_database_of_another_application_is_refused(app, runner, good_backup, backups):
    foreign = _foreign_database(app, backups)
    spoiled = rezip(good_backup, backups / "foreign.zip", replace={_database_member(app): foreign})
    refused(app, runner, spoiled, "is not an Assure database")


def test_a_database_at_an_unknown_migration_revision_is_refused(app, runner, backups):
    make_item("In the backup")
    db.session.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    db.session.commit()
    out = backups / "newer.zip"
    try:
        assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    finally:
        db.session.remove()
        stamp_head()
    make_item("Added after the backup")
    refused(app, runner, out, 'migration revision "ffffffffffff"', "does not know")


def test_a_backup_of_the_other_kind_of_database_is_refused(app, runner, good_backup, backups):
    other = "postgresql" if _backend(app) == "sqlite" else "sqlite"
    manifest = json.loads(member(good_backup, backup_archive.MANIFEST))
    spoiled = rezip(
        good_backup,
        backups / "other-kind.zip",
        replace={backup_archive.MANIFEST: json.dumps({**manifest, "database": other}).encode()},
    )
    refused(app, runner, spoiled, f"the backup holds a {other} database; the portal uses {_backend(app)}")


def test_a_backup_without_its_database_is_refused(app, runner, good_backup, backups):
    spoiled = rezip(good_backup, backups / "no-database.zip", drop={_database_member(app)})
    refused(app, runner, spoiled, f"it holds no database ({_database_member(app)})")


# --- unsafe members ---------------------------------------------------------------------------


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("added", "problem"),
    [
        (("uploads/../../x", b"x"), "has an unsafe path"),
        (("uploads/../x", b"x"), "has an unsafe path"),
        (("/tmp/x", b"x"), "has an absolute path"),
        (("C:/x", b"x"), "has an absolute path"),
        (("uploads\\..\\..\\x", b"x"), "has a backslash"),
        ((_symlink("uploads/ab/x"), b"/etc/passwd"), "is a symbolic link"),
        (("x", b"x"), "is not part of an Assure backup"),
        (("notes/", b""), "is not part of an Assure backup"),
    ],
)
def test_an_unsafe_member_is_refused_before_anything_is_written(app, runner, good_backup, backups, added, problem):
    spoiled = rezip(good_backup, backups / "unsafe.zip", add=[added])
    name = added[0] if isinstance(added[0], str) else added[0].filename
    refused(app, runner, spoiled, json.dumps(name), problem)


def test_a_member_that_appears_twice_is_refused(app, runner, good_backup, backups):
    with zipfile.ZipFile(good_backup) as archive:
        upload = next(name for name in archive.namelist() if name.startswith("uploads/"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it is asked to write
        spoiled = rezip(good_backup, backups / "twice.zip", add=[(upload, b"other bytes")])
    refused(app, runner, spoiled, json.dumps(upload), "appears twice")


def test_a_truncated_zip_is_refused(app, runner, good_backup, backups):
    spoiled = backups / "cut.zip"
    spoiled.write_bytes(good_backup.read_bytes()[: good_backup.stat().st_size // 2])
    refused(app, runner, spoiled, "is not an Assure backup", "not a readable zip")


# --- sizes ------------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_a_byte_is_unpacked(app, runner, good_backup, backups):
    app.config["RESTORE_MAX_BYTES"] = 1024 * MiB
    bomb = zip_with_bomb(good_backup, backups / "bomb.zip", "uploads/ff/bomb", 1536)
    assert bomb.stat().st_size < 2 * MiB  # 1.5 GB of zeros in a small zip
    started = time.monotonic()
    refused(app, runner, bomb, "it would unpack to 1.5 GB", "more than the restore limit of 1.0 GB", "RESTORE_MAX_GB")
    assert time.monotonic() - started < 10


def test_a_member_that_inflates_past_its_header_gives_no_more_than_its_header_says(app, runner, good_backup, backups):
    name = _database_member(app)
    without = rezip(good_backup, backups / "without.zip", drop={name})
    liar = zip_with_bomb(without, backups / "liar.zip", name, 1536, declared=MiB)
    refused(app, runner, liar, json.dumps(name), "is damaged")


def test_members_that_together_pass_the_limit_are_refused(app, runner, good_backup, backups):
    with zipfile.ZipFile(good_backup) as archive:
        unpacked = sum(max(info.file_size, backup_archive.BLOCK) for info in archive.infolist())
    app.config["RESTORE_MAX_BYTES"] = unpacked + 100_000
    extra = [(f"uploads/ee/extra-{n}", os.urandom(40_000)) for n in range(3)]
    manifest = json.loads(member(good_backup, backup_archive.MANIFEST))
    manifest["uploads"] += len(extra)
    spoiled = rezip(
        good_backup, backups / "many.zip", replace={backup_archive.MANIFEST: json.dumps(manifest).encode()}, add=extra
    )
    refused(app, runner, spoiled, "more than the restore limit")


# Runs `flask restore` and then reports the process's own peak memory: VmHWM starts afresh at exec,
# unlike ru_maxrss, which on Linux carries over the peak of the (large) test process it was forked from.
_RESTORE_AND_REPORT = """
import atexit, sys
from flask.cli import main

def report():
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print("peak-memory-kb", peak.split()[1])

atexit.register(report)
sys.argv = ["flask", "restore", sys.argv[1], "--yes"]
main()
"""


def _restore_in_a_process(app, backup: Path) -> tuple[int, str, float, int]:
    """Run `flask restore` as its own process: (exit code, output, seconds, peak memory in MB)."""
    environment = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "SECRET_KEY": "restore-test",
        "FLASK_APP": "portal",
    }
    environment.pop("FLASK_DEBUG", None)
    db.session.remove()
    db.engine.dispose()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _RESTORE_AND_REPORT, str(backup)],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    peak = int(output.rsplit("peak-memory-kb", 1)[1].split()[0])
    return done.returncode, output, seconds, peak // 1024


def test_a_database_that_is_a_zip_bomb_is_refused_at_its_first_chunk(app, runner, good_backup, backups):
    """The issue's case: 1.6 MB of zip that inflates to 1.5 GB, under the default limit of 4 GB."""
    name = _database_member(app)
    without = rezip(good_backup, backups / "without.zip", drop={name})
    bomb = zip_with_bomb(without, backups / "bomb.zip", name, 1536)
    before = _everything(app)
    code, output, seconds, megabytes = _restore_in_a_process(app, bomb)
    assert code == 1 and f"the member {json.dumps(name)} is not" in output and "Nothing was changed." in output
    print(f"a 1.5 GB database bomb refused at its first chunk in {seconds:.1f} s, peak memory {megabytes} MB")
    assert seconds < 30 and megabytes < 200, (seconds, megabytes)
    assert _everything(app) == before


@pytest.mark.slow
def test_a_disguised_database_bomb_is_streamed_to_disk_in_little_memory_and_refused(app, runner, good_backup, backups):
    """1.5 GB that begins like a database file: unpacked in chunks (the limit is 4 GB), then found out."""
    name = _database_member(app)
    start = backup_archive.DATABASE_SIGNATURES[_backend(app)][0]
    without = rezip(good_backup, backups / "without.zip", drop={name})
    bomb = zip_with_bomb(without, backups / "bomb.zip", name, 1536, start=start)
    before = _everything(app)
    code, output, seconds, megabytes = _restore_in_a_process(app, bomb)
    assert code == 1 and "Restore refused: its database" in output and "Nothing was changed." in output, output
    print(f"a 1.5 GB database bomb streamed and refused in {seconds:.1f} s, peak memory {megabytes} MB")
    assert seconds < 120 and megabytes < 200, (seconds, megabytes)
    assert _everything(app) == before


# --- the manifest -----------------------------------------------------------------------------


def _manifest(good_backup: Path, **changes) -> bytes:
    manifest = json.loads(member(good_backup, backup_archive.MANIFEST))
    for key, value in changes.items():
        if value is None:
            manifest.pop(key)
        else:
            manifest[key] = value
    return json.dumps(manifest).encode()


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (lambda good: b"{not json", "its manifest (backup.json) is not valid JSON"),
        (lambda good: b"\xff\xfe", "its manifest (backup.json) is not valid JSON"),
        (lambda good: b"[" * 50_000, "its manifest (backup.json) is not valid JSON"),
        (lambda good: b"[1, 2, 3]", "its manifest (backup.json) is not a JSON object"),
        (lambda good: b"x" * 70_000, "its manifest (backup.json) is larger than"),
        (lambda good: _manifest(good, database=None), 'its manifest (backup.json) has no "database"'),
        (lambda good: _manifest(good, uploads="2"), 'its manifest\'s "uploads" is "2", not a count of files'),
        (lambda good: _manifest(good, uploads=True), 'its manifest\'s "uploads" is true, not a count of files'),
        (lambda good: _manifest(good, uploads=-1), 'its manifest\'s "uploads" is -1'),
        (lambda good: _manifest(good, uploads=9), "its manifest lists 9 uploaded files but it holds 2"),
        (lambda good: _manifest(good, created_at="yesterday"), '"created_at" is "yesterday", not a date'),
        (lambda good: _manifest(good, created_at=["2026"]), '"created_at" is ["2026"], not a date'),
        (lambda good: _manifest(good, database="oracle"), '"database" is "oracle", not sqlite or postgresql'),
    ],
)
def test_a_malformed_manifest_is_refused_in_one_line(app, runner, good_backup, backups, spoil, problem):
    spoiled = rezip(good_backup, backups / "manifest.zip", replace={backup_archive.MANIFEST: spoil(good_backup)})
    refused(app, runner, spoiled, problem)


def test_a_backup_without_a_manifest_is_refused(app, runner, good_backup, backups):
    spoiled = rezip(good_backup, backups / "no-manifest.zip", drop={backup_archive.MANIFEST})
    refused(app, runner, spoiled, "it is not an Assure backup (no backup.json)")


# --- a restore that fails part-way ------------------------------------------------------------


def test_a_restore_that_cannot_get_at_the_database_is_undone(app, runner, good_backup, monkeypatch):
    """Another session holds the database, so the restore fails after the upload folder was swapped."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if _backend(app) == "sqlite":
        monkeypatch.setattr(backup_sqlite, "BUSY_SECONDS", 1)
        holder = sqlite3.connect(make_url(url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        phrase = "the database stayed in use"
    else:
        monkeypatch.setattr(backup_postgres, "LOCK_TIMEOUT", "1s")
        holder = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        holder.execute("SELECT count(*) FROM evidence_item")  # holds a lock until the transaction ends
        phrase = "lock timeout"
    try:
        refused(app, runner, good_backup, phrase)
    finally:
        holder.rollback()
        holder.close()
