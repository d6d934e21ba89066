"""The scratch-space helpers of backups: the one-step folder swap, sweeping dead runs, complete-only files."""

from __future__ import annotations

import fcntl
import os

import pytest

from evidence.backups import scratch


@pytest.fixture(params=["renameat2", "three renames"])
def exchange_kind(request, monkeypatch):
    if request.param == "three renames":
        monkeypatch.setattr(scratch, "_renameat2", None)
    elif scratch._renameat2 is None:
        pytest.skip("this system has no renameat2")
    return request.param


def test_exchange_swaps_two_folders_and_their_contents(tmp_path, exchange_kind):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from-a").write_text("a")
    (b / "from-b").write_text("b")
    scratch.exchange(a, b)
    assert os.listdir(a) == ["from-b"] and os.listdir(b) == ["from-a"]
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]


def test_a_sweep_removes_the_folders_of_dead_runs_and_keeps_a_running_one(tmp_path):
    dead = tmp_path / ".assure-backup-dead"
    dead.mkdir()
    (dead / "database.sqlite").write_bytes(b"copy")
    with scratch.workspace(tmp_path, ".assure-backup-") as running:
        (running / "database.sqlite").write_bytes(b"copy")
        scratch.sweep(tmp_path, ".assure-backup-")
        assert not dead.exists() and running.exists(), "a folder whose run holds its lock is kept"
    assert not running.exists(), "a run removes its own folder"


def test_a_sweep_leaves_other_names_alone(tmp_path):
    (tmp_path / "assure.zip").write_bytes(b"backup")
    (tmp_path / ".assure-restore-x").mkdir()
    scratch.sweep(tmp_path, ".assure-backup-")
    assert sorted(os.listdir(tmp_path)) == [".assure-restore-x", "assure.zip"]


@pytest.mark.parametrize("unnamed", [True, False], ids=["O_TMPFILE", "named in the work folder"])
def test_an_output_file_appears_only_when_complete(tmp_path, monkeypatch, unnamed):
    if not unnamed:
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    target, work = tmp_path / "assure.zip", tmp_path / ".work"
    work.mkdir()
    with scratch.output_file(target, work) as file:
        file.write(b"half")
        assert not target.exists()
        assert os.listdir(tmp_path) == [".work"]
        assert os.listdir(work) == ([] if unnamed else ["assure.zip"])
        file.write(b" and the rest")
    assert target.read_bytes() == b"half and the rest"
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_an_output_file_that_fails_leaves_nothing(tmp_path):
    target, work = tmp_path / "assure.zip", tmp_path / ".work"
    work.mkdir()
    with pytest.raises(RuntimeError), scratch.output_file(target, work) as file:
        file.write(b"half")
        raise RuntimeError("the disk filled")
    assert sorted(os.listdir(tmp_path)) == [".work"] and not os.listdir(work)


def test_only_one_restore_at_a_time(tmp_path):
    busy = pytest.raises(scratch.RestoreRefused, match="another backup or restore")
    with scratch.locked(tmp_path), busy, scratch.locked(tmp_path, shared=True):
        pass
    with scratch.locked(tmp_path, shared=True), scratch.locked(tmp_path, shared=True):
        pass  # backups may run side by side
    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and the lock is gone once they finish
    os.close(fd)
