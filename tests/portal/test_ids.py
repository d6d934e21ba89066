"""Numbers too large to be an id name nothing: a 404 or an empty result, never an error page.

PostgreSQL raises on an INTEGER beyond its range rather than finding nothing, so
these ids must be turned away before any query runs.
"""

import pytest

from evidence import imports
from evidence.assessment.assessments import citation_problems, map_reference
from evidence.library.mappings import MappingError
from evidence.vocab import Role
from tests.evidence.imports.test_imports import METRIC, csv_file, has_error
from tests.factories import make_item, statement

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "address",
    [
        f"/evidence/{HUGE}",
        f"/evidence/{HUGE}/files/1",
        f"/evidence/1/files/{HUGE}",
        f"/rounds/{HUGE}",
        f"/review/{HUGE}",
        f"/evidence/{2**31}",
    ],
)
def test_an_id_beyond_the_database_is_not_found(client, login, address):
    login(Role.ADMIN)
    assert client.get(address).status_code == 404


@pytest.mark.parametrize("round_arg", [HUGE, "²", "-1", "x"])
def test_a_statement_page_for_an_impossible_round_is_not_found(client, login, round_arg):
    login(Role.QUALITY_LEAD)
    assert client.get(f"/statements/safe-pathways?round={round_arg}").status_code == 404


@pytest.mark.parametrize("page", [HUGE, "-5", "0", "²", "many"])
def test_an_impossible_page_number_shows_the_first_page(client, login, page):
    login(Role.QUALITY_LEAD)
    make_item("Discharge to usual place of residence")
    response = client.get(f"/evidence?page={page}")
    assert response.status_code == 200
    assert "Discharge to usual place of residence" in response.get_data(as_text=True)


def test_searching_for_an_impossible_reference_finds_nothing(client, login):
    login(Role.QUALITY_LEAD)
    make_item("Discharge to usual place of residence")
    response = client.get(f"/evidence?q=E-{HUGE}")
    assert response.status_code == 200
    assert "Discharge to usual place of residence" not in response.get_data(as_text=True)


def test_citing_an_impossible_reference_is_named_as_missing(app):
    assert citation_problems(f"As [E-{HUGE}] shows.") == [(f"E-{HUGE}", "does not exist")]


def test_mapping_an_impossible_reference_says_there_is_no_such_item(app):
    with pytest.raises(MappingError, match=f"There is no evidence item E-{HUGE}"):
        map_reference(statement("equity"), f"E-{HUGE}", "partners", "strength", "", user=None)


def test_a_metric_import_names_an_impossible_reference_as_unknown(app):
    plan = imports.plan_file(METRIC, "m.csv", csv_file([["Metric", "Period", "Value"], [f"E-{HUGE}", "2026-09", "10"]]))
    assert has_error(plan, 2, "Metric", "Unknown metric reference")
