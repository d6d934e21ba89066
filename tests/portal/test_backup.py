"""Backup and restore: the round trip brings back exactly what was there."""

import os

from sqlalchemy import select

from evidence.db import db
from evidence.models import EvidenceItem
from tests.factories import make_item


def _upload(app, name: str, content: bytes) -> None:
    os.makedirs(app.config["UPLOAD_DIR"], exist_ok=True)
    with open(os.path.join(app.config["UPLOAD_DIR"], name), "wb") as f:
        f.write(content)


def test_backup_change_restore_finds_the_original(app, runner, tmp_path):
    kept = make_item("Transitions survey")
    _upload(app, "ab" * 32, b"original file")
    out = tmp_path / "backups" / "assure.zip"

    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 file(s)" in result.output and out.exists()

    # Change everything after the backup: edit, delete, add, and lose the file.
    kept.title = "Edited after the backup"
    make_item("Added after the backup")
    db.session.commit()
    os.remove(os.path.join(app.config["UPLOAD_DIR"], "ab" * 32))

    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert [i.title for i in db.session.scalars(select(EvidenceItem))] == ["Transitions survey"]
    with open(os.path.join(app.config["UPLOAD_DIR"], "ab" * 32), "rb") as f:
        assert f.read() == b"original file"


def test_restore_refuses_a_file_that_is_not_a_backup(runner, tmp_path):
    bogus = tmp_path / "notes.zip"
    bogus.write_bytes(b"not a zip at all")
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code != 0 and "is not an Assure backup" in result.output


def test_restore_asks_before_replacing(runner, tmp_path):
    out = tmp_path / "b.zip"
    runner.invoke(args=["backup", "--out", str(out)])
    result = runner.invoke(args=["restore", str(out)], input="n\n")
    assert result.exit_code != 0 and "Aborted" in result.output


def test_backup_to_an_unwritable_place_is_a_clear_error(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(args=["backup", "--out", str(blocker / "inside" / "b.zip")])
    assert result.exit_code != 0 and "Error" in result.output
