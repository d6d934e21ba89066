"""``python -m tests.jobs_worker PAUSE_AT MARK -- flask args``: ``flask jobs worker`` that stops dead at one point
of a job (touching MARK, then sleeping) so that a test can kill it there with SIGKILL.

PAUSE_AT is ``import-write`` (the import's rows are flushed inside its open transaction) or ``export-file`` (the
export's file is written under its temporary name, not yet renamed).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def _pause(mark: str) -> None:
    Path(mark).touch()
    time.sleep(600)


def main() -> None:
    pause_at, mark, *args = sys.argv[1:]
    if pause_at == "import-write":
        from evidence.imports import item_rows

        original = item_rows.audit.record

        def record(*a, **kw):
            if a and a[0] == "import":
                from evidence.db import db

                db.session.flush()
                _pause(mark)
            return original(*a, **kw)

        item_rows.audit.record = record
    elif pause_at == "export-file":
        from evidence.jobs import files

        real_fsync = os.fsync

        class _Os:
            def __getattr__(self, name):
                return getattr(os, name)

            @staticmethod
            def fsync(fd):
                real_fsync(fd)
                _pause(mark)

        files.os = _Os()
    from flask.cli import main as flask_main

    sys.argv = ["flask", *args]
    flask_main()


if __name__ == "__main__":
    main()
