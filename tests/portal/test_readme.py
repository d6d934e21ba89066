"""The README's permission matrix is the one in the code."""

from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_permission_matrix_is_current(runner):
    text = README.read_text()
    documented = text.split("<!-- permissions:start -->")[1].split("<!-- permissions:end -->")[0].strip()
    printed = runner.invoke(args=["permissions"]).output.strip()
    assert documented == printed, "run `flask --app portal permissions` and paste it into the README"


def test_readme_opens_with_the_two_commands():
    lines = [line for line in README.read_text().splitlines() if line.strip()]
    assert lines[1] == "```sh"
    assert lines[2].startswith("make run") and lines[3].startswith("make test")
