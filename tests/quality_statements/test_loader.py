"""The framework file: the shipped one loads, and each kind of malformed file is named."""

import pytest
import yaml

from quality_statements import DEFAULT_FRAMEWORK_PATH, FrameworkError, load_default_framework, load_framework
from quality_statements.loader import parse_framework

EXPECTED = {
    "How the local authority works with people": [
        "Assessing needs",
        "Supporting people to live healthier lives",
        "Equity in experience and outcomes",
    ],
    "How the local authority provides support": [
        "Care provision, integration and continuity",
        "Partnerships and communities",
    ],
    "How the local authority ensures safety within the system": [
        "Safe pathways, systems and transitions",
        "Safeguarding",
    ],
    "Leadership": ["Governance, management and sustainability", "Learning, improvement and innovation"],
}


def test_shipped_framework_has_the_four_themes_and_nine_statements():
    framework = load_default_framework()
    assert {t.name: [s.name for s in framework.statements_in(t.key)] for t in framework.themes} == EXPECTED
    assert [c.name for c in framework.categories] == [
        "People's experience",
        "Feedback from staff and leaders",
        "Feedback from partners",
        "Processes",
    ]
    assert framework.score_labels[1] == "Evidence shows significant shortfalls"
    assert framework.score_labels[4] == "Evidence shows an exceptional standard"


def test_leadership_statements_have_no_i_statements_and_the_others_do():
    framework = load_default_framework()
    for statement in framework.statements:
        assert statement.we_statement
        assert bool(statement.i_statements) == (statement.theme != "leadership"), statement.name


@pytest.mark.parametrize(
    ("variant", "key"),
    [
        ("Safe systems, pathways and transitions", "safe-pathways"),
        ("Supporting people to lead healthier lives", "healthier-lives"),
        ("  safe PATHWAYS, systems and transitions ", "safe-pathways"),
        ("safeguarding", "safeguarding"),
    ],
)
def test_known_variants_are_accepted(variant, key):
    assert load_default_framework().find_statement(variant).key == key


def _shipped() -> dict:
    return yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text())


def _problems(data) -> list[str]:
    with pytest.raises(FrameworkError) as caught:
        parse_framework(yaml.safe_dump(data))
    return caught.value.problems


def test_missing_field_is_named():
    data = _shipped()
    del data["quality_statements"][2]["name"]
    assert _problems(data) == ["quality statement 'equity': missing field 'name'"]


def test_duplicate_statement_is_named():
    data = _shipped()
    data["quality_statements"].append(dict(data["quality_statements"][0]))
    assert "duplicate quality statement 'assessing-needs'" in _problems(data)


def test_unknown_theme_is_named():
    data = _shipped()
    data["quality_statements"][5]["theme"] = "safety"
    problems = _problems(data)
    assert "quality statement 'safe-pathways': unknown theme 'safety'" in problems


def test_missing_score_label_and_section_are_named():
    data = _shipped()
    del data["score_labels"][3]
    del data["evidence_categories"]
    assert _problems(data) == ["score_labels: missing label for score 3", "missing section 'evidence_categories'"]


def test_every_problem_is_reported_at_once():
    data = _shipped()
    del data["version"]
    data["themes"][0].pop("name")
    data["quality_statements"][0]["i_statements"] = "not a list"
    problems = _problems(data)
    assert "missing field 'version'" in problems
    assert "themes[1]: missing field 'name'" in problems
    assert "quality statement 'assessing-needs': field 'i_statements' must be a list of text" in problems


def test_not_yaml_and_not_a_mapping(tmp_path):
    with pytest.raises(FrameworkError, match="not valid YAML at line"):
        parse_framework("version: 1\nthemes: [unclosed\nname: x: y\n")
    with pytest.raises(FrameworkError, match="must be a mapping"):
        parse_framework("- just\n- a list\n")
    with pytest.raises(FrameworkError, match="cannot read"):
        load_framework(tmp_path / "missing.yaml")
