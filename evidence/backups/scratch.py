"""Scratch space for backups and restores, so that a run killed at any moment leaves nothing behind for good.

Every run works in a private folder beside what it writes (same filesystem, so its results can be renamed
into place) and holds a lock on that folder. The kernel drops the lock when the process dies, however it
dies, so the next run knows which folders belong to dead runs and removes them before it starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from evidence.backups.errors import RestoreRefused


def _open_folder(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)


def _still_there(path: Path, fd: int) -> bool:
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def sweep(parent: Path, prefix: str) -> None:
    """Remove the scratch folders of runs that died; a folder whose run is alive is locked and kept."""
    for path in parent.glob(prefix + "*"):
        try:
            fd = _open_folder(path)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            if _still_there(path, fd):
                shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)  # only now may a run that was waiting for this folder see that it is gone


@contextlib.contextmanager
def workspace(parent: Path, prefix: str) -> Iterator[Path]:
    """A private folder in ``parent``, removed on the way out; leftovers of dead runs are swept first."""
    sweep(parent, prefix)
    while True:
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        fd = _open_folder(path)
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits while a sweep that reached it first removes it
        if _still_there(path, fd):
            break
        os.close(fd)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


@contextlib.contextmanager
def locked(folder: Path, *, shared: bool = False) -> Iterator[None]:
    """One restore at a time (and no backup during it): a lock on the folder that holds the uploads."""
    fd = _open_folder(folder)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RestoreRefused("another backup or restore is running; try again when it has finished") from None
        yield
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)


def exchange(a: Path, b: Path) -> None:
    """Swap two folders in one step (Linux renameat2), so neither name is ever missing.

    Where the system cannot (another kernel, a filesystem without the call), three renames do it, and ``b``
    is missing for the instant between the second and the third.
    """
    if _renameat2 is not None:
        done = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE))
        if done == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), str(b))
    hold = a.with_name(a.name + "-exchanging")
    os.rename(a, hold)
    os.rename(b, a)
    os.rename(hold, b)


@contextlib.contextmanager
def output_file(target: Path, work: Path) -> Iterator[BinaryIO]:
    """A file that appears as ``target`` only once it is complete, readable by its owner alone.

    Where the filesystem allows, it has no name at all while it is written (O_TMPFILE), so a run killed
    half-way leaves nothing; elsewhere it is written in the private ``work`` folder, which the next run
    sweeps. Either way it becomes ``target`` with one rename.
    """
    named = work / target.name
    try:
        fd = os.open(target.parent, os.O_TMPFILE | os.O_RDWR, 0o600)
    except (AttributeError, OSError):
        fd = os.open(named, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        unnamed = False
    else:
        unnamed = True
    with os.fdopen(fd, "w+b") as file:
        yield file
        file.flush()
        os.fsync(file.fileno())
        if unnamed:
            try:
                os.link(f"/proc/self/fd/{file.fileno()}", named, follow_symlinks=True)
            except OSError:  # no /proc: give the bytes a name the slow way
                file.seek(0)
                with open(os.open(named, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as copy:
                    shutil.copyfileobj(file, copy)
        os.replace(named, target)
