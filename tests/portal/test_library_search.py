"""The library page's search: the hint, best matches first unless another order is chosen, any text answered."""

import re

import pytest

from evidence.vocab import Kind, Role
from tests.factories import make_item
from tests.portal.test_library import rows


@pytest.fixture
def portfolio(app):
    make_item("Hospital discharge delays", kind=Kind.METRIC, summary="Delays rose.", source="BI team")
    make_item("Carers respite review", summary="It mentions discharge once.", source="Carers team")
    make_item("Annual reviews", summary="Reviews on time.", source="Reviews team")


def test_the_page_explains_the_search_language(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    page = client.get("/evidence").get_data(as_text=True)
    assert 'aria-describedby="q-hint"' in page
    hint = re.search(r'<p class="hint small" id="q-hint">([^<]+)</p>', page)[1]
    for operator in ("&#34;A phrase&#34;", "-word", "OR", "*"):
        assert operator in hint


def test_a_search_lists_best_matches_first_and_says_so(client, login, portfolio):
    login(Role.MANAGER)
    page = client.get("/evidence?q=discharge").get_data(as_text=True)
    assert rows(page) == ["Hospital discharge delays", "Carers respite review"]
    assert "match “discharge”, best matches first." in page
    # The form sends its sort along with the words: the default keeps the order by relevance.
    page = client.get("/evidence?q=discharge&sort=relevance").get_data(as_text=True)
    assert rows(page) == ["Hospital discharge delays", "Carers respite review"]
    assert '<option selected value="relevance">Best match first</option>' in page


def test_the_other_sorts_are_still_offered_with_words(client, login, portfolio):
    login(Role.MANAGER)
    page = client.get("/evidence?q=discharge&sort=title").get_data(as_text=True)
    assert rows(page) == ["Carers respite review", "Hospital discharge delays"]
    assert "best matches first" not in page
    for label in ("Newest first", "Title A–Z", "Period (latest first)", "Review by (soonest first)"):
        assert f">{label}</option>" in page


def test_without_words_the_list_stays_newest_first(client, login, portfolio):
    login(Role.MANAGER)
    page = client.get("/evidence").get_data(as_text=True)
    assert rows(page) == ["Annual reviews", "Carers respite review", "Hospital discharge delays"]
    assert "best matches first" not in page


def test_a_prefix_and_leaving_out_from_the_address(client, login, portfolio):
    login(Role.MANAGER)
    assert rows(client.get("/evidence?q=revi").get_data(as_text=True)) == ["Annual reviews", "Carers respite review"]
    assert rows(client.get("/evidence?q=team+-carers+-bi").get_data(as_text=True)) == ["Annual reviews"]


@pytest.mark.parametrize(
    "q", ['"', "*", "-", "OR", "NEAR(a b)", "AND(", "'; DROP TABLE x; --", "😀", "!!!", "E-99999999999999999999"]
)
def test_any_text_gets_a_page(client, login, portfolio, q):
    login(Role.QUALITY_LEAD)
    response = client.get("/evidence", query_string={"q": q})
    assert response.status_code == 200


def test_a_nul_in_the_words_is_refused_as_in_every_address(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    assert client.get("/evidence", query_string={"q": "a\x00b"}).status_code == 400


def test_too_many_words_are_named(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    page = client.get("/evidence", query_string={"q": " ".join(["discharge"] * 20)}).get_data(as_text=True)
    assert "Only the first 16 words and phrases were searched for." in page
    assert rows(page) == ["Hospital discharge delays", "Carers respite review"]
