"""A NUL character cannot be stored by PostgreSQL: forms drop it, addresses holding it are refused."""

import pytest

from evidence.db import db
from evidence.models import EvidenceItem, Round
from evidence.vocab import Kind, Role
from tests.portal.test_submissions import COMMON, KINDS


def test_a_pasted_nul_is_dropped_from_form_text(client, login):
    login(Role.QUALITY_LEAD)
    response = client.post("/rounds", data={"name": "Winter\x00 2026"})
    assert response.status_code == 302
    assert db.session.query(Round).one().name == "Winter 2026"

    quote = {**COMMON, **KINDS[Kind.QUOTE][0], "title": "Handover\x00 sheet", "quote_text": "We know\x00 what matters"}
    response = client.post("/submit?kind=quote", data=quote)
    assert response.status_code == 302
    item = db.session.query(EvidenceItem).one()
    assert (item.title, item.quote_text) == ("Handover sheet", "We know what matters")
    assert "we know what matters" in item.search_text


@pytest.mark.parametrize("address", ["/evidence?q=%00discharge", "/evidence?%00=1", "/statements/safe%00pathways"])
def test_an_address_holding_nul_is_refused_with_a_reason(client, login, address):
    login(Role.QUALITY_LEAD)
    response = client.get(address)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
