"""The administrator's commands: users and the framework file."""

import re

import yaml
from sqlalchemy import select

from evidence.db import db
from evidence.models import QualityStatement, User
from evidence.settings import FRAMEWORK_VERSION, get_setting
from quality_statements import DEFAULT_FRAMEWORK_PATH


def test_users_create_and_list(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "Lead@Council.gov.uk", "--role", "quality_lead", "--name", "Sam Lead"],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created lead@council.gov.uk (Quality lead)" in result.output
    user = db.session.scalar(select(User))
    assert user.check_password("a-long-password") and user.password_hash != "a-long-password"
    listing = runner.invoke(args=["users", "list"])
    assert "lead@council.gov.uk" in listing.output and "Quality lead" in listing.output


def test_users_create_takes_the_password_as_an_option(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "m@council.gov.uk", "--role", "manager", "--password", "another-long-one"]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).role == "manager"


def test_users_create_refuses_bad_input(runner):
    short = runner.invoke(args=["users", "create", "--email", "a@b.gov.uk", "--role", "staff", "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    role = runner.invoke(args=["users", "create", "--email", "a@b.gov.uk", "--role", "king", "--password", "x" * 12])
    assert role.exit_code != 0 and "king" in role.output
    runner.invoke(args=["users", "create", "--email", "a@b.gov.uk", "--role", "staff", "--password", "x" * 12])
    again = runner.invoke(args=["users", "create", "--email", "A@B.gov.uk", "--role", "staff", "--password", "x" * 12])
    assert again.exit_code != 0 and "already exists" in again.output
    assert len(db.session.scalars(select(User)).all()) == 1


def test_framework_load_replaces_wording_and_keeps_keys(runner, tmp_path):
    data = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text())
    data["version"] = "2027.1"
    data["quality_statements"][0]["we_statement"] = "Official wording of the commitment."
    path = tmp_path / "framework.yaml"
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(args=["framework", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert get_setting(FRAMEWORK_VERSION) == "2027.1"
    statement = db.session.scalar(select(QualityStatement).where(QualityStatement.key == "assessing-needs"))
    assert statement.we_statement == "Official wording of the commitment."


def test_a_malformed_framework_file_changes_nothing(runner, tmp_path):
    data = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text())
    data["version"] = "2027.2"
    data["quality_statements"][0]["theme"] = "nowhere"
    path = tmp_path / "framework.yaml"
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(args=["framework", "load", str(path)])
    assert result.exit_code != 0
    assert "unknown theme 'nowhere'" in result.output
    assert get_setting(FRAMEWORK_VERSION) == "2026.1"


def test_a_framework_that_drops_a_statement_in_use_is_refused(runner, tmp_path):
    data = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text())
    data["quality_statements"] = [s for s in data["quality_statements"] if s["key"] != "equity"]
    path = tmp_path / "framework.yaml"
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(args=["framework", "load", str(path)])
    assert result.exit_code != 0 and "drops keys in use: equity" in result.output
    assert db.session.scalar(select(QualityStatement).where(QualityStatement.key == "equity")) is not None


def test_check_names_each_problem_of_the_set_up_and_fails(app, runner, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "shared" / "uploads")
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "PROBLEM  SECRET_KEY: shorter than 32 characters" in result.output  # the tests' key is short
    assert re.search(r"ok       DATABASE_URL: .*(SQLite: one server only|at the newest migration)", result.output)
    assert f"ok       UPLOAD_DIR: {tmp_path / 'shared' / 'uploads'} can be written" in result.output
    assert "1 problem: this server should not serve the portal as it is." in result.output

    app.config["SECRET_KEY"] = "k" * 40
    assert runner.invoke(args=["check"]).exit_code == 0
