"""Backup and restore: the round trip brings back exactly what was there."""

import os
from pathlib import Path

from sqlalchemy import select, text

from evidence.db import db
from evidence.library import storage
from evidence.models import EvidenceItem
from tests.backup_tools import database_state, upload_state
from tests.conftest import stamp_head
from tests.factories import make_action, make_item, make_round


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
    assert "and 1 file to" in result.output and out.exists()

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


def _portfolio(upload_dir: Path) -> None:
    make_item("Carers' survey", mappings=[("safe-pathways", "staff-leaders", "shortfall")])
    make_item("Waiting times", kind="metric", mappings=[("care-provision", "processes", "context")])
    make_round("Spring 2026", scores={"safe-pathways": 2, "care-provision": 3})
    make_action("safe-pathways")
    storage.store(b"question,answer\nSafe,Yes\n", "carers.csv", upload_dir)
    storage.store(b"period,value\n2026-04,12\n", "waits.csv", upload_dir)


def test_a_good_restore_brings_back_exactly_what_was_backed_up(app, runner, tmp_path):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    _portfolio(upload_dir)
    db.session.remove()
    backed_up = database_state(db.engine), upload_state(upload_dir)
    out = tmp_path / "backups" / "assure.zip"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0

    # Afterwards: an edit, a deletion, a new item, one file lost and one file the backup does not hold.
    db.session.scalar(select(EvidenceItem).where(EvidenceItem.title == "Waiting times")).title = "Edited"
    db.session.delete(db.session.scalar(select(EvidenceItem).where(EvidenceItem.title == "Carers' survey")))
    make_item("Added after the backup")
    later = storage.store(b"when,what\n2026-09,new\n", "later.csv", upload_dir)
    storage.path_for(upload_dir, next(iter(backed_up[1])).split("/")[-1]).unlink()

    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert (database_state(db.engine), upload_state(upload_dir)) == backed_up
    (aside,) = tmp_path.glob("uploads-replaced-*")
    assert upload_state(aside) == {f"{later.sha256[:2]}/{later.sha256}": later.sha256}
    assert f"1 uploaded file that the backup does not hold was moved to {aside}" in result.output
    assert not list(tmp_path.glob(".assure-*")), "the restore's scratch folder is removed"


def test_a_restore_onto_a_fresh_install_creates_the_upload_folder(app, runner, tmp_path):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    _portfolio(upload_dir)
    files = upload_state(upload_dir)
    out = tmp_path / "assure.zip"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    for path in upload_dir.rglob("*"):
        if path.is_file():
            path.unlink()
    for folder in sorted(upload_dir.rglob("*"), reverse=True):
        folder.rmdir()
    upload_dir.rmdir()

    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    assert upload_state(upload_dir) == files
    assert "moved to" not in result.output


def test_a_backup_from_an_older_version_is_restored_and_the_upgrade_is_named(app, runner, tmp_path):
    make_item("Kept through the upgrade")
    db.session.execute(text("UPDATE alembic_version SET version_num = 'b4aa759a1e2d'"))  # the first migration
    db.session.commit()
    out = tmp_path / "old.zip"
    try:
        assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
        stamp_head()
        result = runner.invoke(args=["restore", str(out), "--yes"])
        assert result.exit_code == 0, result.output
        assert "flask --app portal db upgrade" in result.output
        db.session.remove()
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == "b4aa759a1e2d"
    finally:
        db.session.remove()
        stamp_head()
