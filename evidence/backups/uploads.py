"""Putting a backup's uploaded files in place of the live ones, around the database's commit.

The backup's files are unpacked into a staging folder beside the live upload folder (same filesystem).
Two more trees are built there from hard links, so nothing is copied: the *union* (every live file and
every backup file; where both hold the same path with different bytes, the live version) and the
*aside* tree (the live files the backup does not hold, or holds with different bytes). Then, around the
commit of the database, which is the one moment the restore takes effect:

1. before: the union is exchanged with the live folder in one rename, so whichever database a kill
   leaves behind, every file it refers to is there;
2. after: the aside tree gets its visible, dated name beside the upload folder, and the staging folder
   is exchanged with the live one, which now holds exactly the backup's files.

A restore stopped before the commit exchanges the union back out, and the live folder is as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime
from pathlib import Path, PurePosixPath

from evidence.backups.scratch import exchange

CHUNK = 1024 * 1024


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # a filesystem without hard links: copy instead
        shutil.copy2(source, target)


def _live_files(root: Path) -> dict[PurePosixPath, Path]:
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            files[PurePosixPath(path.relative_to(root).as_posix())] = path
    return files


class UploadSwap:
    def __init__(self, live: Path, staged: Path, work: Path, backup_files: dict[PurePosixPath, str]) -> None:
        self.live, self.staged, self.backup_files = live, staged, backup_files
        self.union, self.aside = work / "union", work / "aside"
        self.entered = False
        self.moved_to: Path | None = None
        self.moved = 0

    def prepare(self) -> None:
        """Build the union and aside trees out of sight; the live folder is only read."""
        if not self.live.exists():
            return
        self.union.mkdir()
        for relative in self.backup_files:
            _link(self.staged.joinpath(*relative.parts), self.union.joinpath(*relative.parts))
        for relative, path in _live_files(self.live).items():
            sha = self.backup_files.get(relative)
            staged = self.staged.joinpath(*relative.parts)
            if sha is not None and path.stat().st_size == staged.stat().st_size and _sha256(path) == sha:
                continue  # the backup holds the same file
            if sha is not None:  # the same path with other bytes: the live version until the commit
                self.union.joinpath(*relative.parts).unlink()
            _link(path, self.union.joinpath(*relative.parts))
            _link(path, self.aside.joinpath(*relative.parts))
            self.moved += 1
        mode = self.live.stat().st_mode
        for folder in (self.union, self.staged):
            os.chmod(folder, mode)

    def enter(self) -> None:
        """Before the commit: the live folder shows the union (old and new files)."""
        if self.union.exists():  # there was a live folder to make a union with
            exchange(self.union, self.live)
            self.entered = True

    def leave(self) -> None:
        """Undo ``enter`` when the restore stops before its commit."""
        if self.entered:
            exchange(self.union, self.live)
            self.entered = False

    def finish(self) -> None:
        """After the commit: move aside what the backup does not hold, then show exactly the backup's files."""
        if self.moved:
            self.moved_to = self._aside_name()
            os.rename(self.aside, self.moved_to)
        if self.live.exists():
            exchange(self.staged, self.live)
        else:
            os.rename(self.staged, self.live)

    def _aside_name(self) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        candidate, n = self.live.with_name(f"{self.live.name}-replaced-{stamp}"), 1
        while candidate.exists():
            n += 1
            candidate = self.live.with_name(f"{self.live.name}-replaced-{stamp}-{n}")
        return candidate
