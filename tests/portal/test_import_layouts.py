"""The column-mapping step and the council's settings, through the pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from evidence import settings
from evidence.db import db
from evidence.models import AuditEvent, ImportLayout, MetricPoint
from evidence.vocab import Role
from tests.evidence.imports.test_layouts import HEADER, OURS, national_rows
from tests.portal.test_imports import csv_file, digest_of, to_preview, upload


def national_csv(count: int = 110) -> bytes:
    return csv_file([HEADER, *national_rows(count)])


@pytest.fixture
def lead(login):
    settings.set_council("Derbyshire County Council", OURS)
    db.session.commit()
    return login(Role.QUALITY_LEAD)


def columns_page(client, data: bytes) -> tuple[str, str]:
    response = upload(client, "metric", "ascof.csv", data)
    assert response.status_code == 302 and "/import/metric/columns/" in response.location
    return response.location, client.get(response.location).get_data(as_text=True)


MAPPING = {
    "column_metric": "3",
    "column_period": "0",
    "column_value": "4",
    "comparator_0": "5",
    "comparator_name_0": "Median of councils",
    "filter_0": "1",
    "filter_value_0": OURS,
    "name": "ASCOF national file",
}


def test_a_file_of_another_shape_is_mapped_saved_and_read_with_its_layout_next_time(client, lead):
    url, page = columns_page(client, national_csv())
    assert "missing the columns Metric, Period" in page
    assert "Local authority code" in page and "E10000007 · E06000001 · E06000002" in page  # sample values
    # The council's code is offered as the rows to take, and the template's spellings are recognised.
    assert re.search(r'<option selected value="1">B · Local authority code</option>', page)
    assert f'value="{OURS}"' in page
    assert re.search(r'id="column_value"[^>]*>.*?<option selected value="4">E · Value', page, re.S)

    refused = client.post(url, data={**MAPPING, "column_period": ""})
    assert refused.status_code == 400
    assert "Period: choose the column that holds it." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportLayout)) == 0

    # 6,600 rows are read and checked by a job; the preview is shown from what it kept.
    saved = client.post(url, data=MAPPING)
    assert saved.status_code == 303 and "/jobs/" in saved.location
    location = to_preview(client, saved)
    preview = client.get(location).get_data(as_text=True)
    assert "saved layout “ASCOF national file”" in preview
    assert "60 of 6,600 rows" in preview and "60 points to add" in preview
    digest = digest_of(location)
    done = client.post("/import/metric/confirm", data={"digest": digest}, follow_redirects=True)
    assert "60 points added" in done.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MetricPoint)) == 60

    again = upload(client, "metric", "ascof (1).csv", national_csv())
    assert "/columns/" not in again.location  # no question this time
    assert "already in the portfolio" in client.get(to_preview(client, again)).get_data(as_text=True)
    listed = client.get("/import/metric").get_data(as_text=True)
    assert "ASCOF national file" in listed and f"Local authority code is {OURS}" in listed


@pytest.mark.parametrize(
    "change",
    [
        {"column_period": "abc"},
        {"column_period": "99999999999999"},
        {"column_period": "-1"},
        {"filter_0": "7777"},
        {"name": "x\x00" * 300},
        {"name": "A" * 5000},
        {"comparator_name_0": "\u202e" * 50},
        {"filter_value_0": "x" * 10_000},
    ],
)
def test_hostile_mapping_input_is_refused_without_saving(client, lead, change):
    url, _ = columns_page(client, national_csv(count=2))
    response = client.post(url, data={**MAPPING, **change})
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportLayout)) == 0


def test_the_columns_page_of_a_missing_upload_is_not_found(client, lead):
    assert client.get("/import/metric/columns/" + "0" * 64).status_code == 404
    assert client.get("/import/register/columns/" + "0" * 64).status_code == 404


def test_the_council_is_set_on_the_administration_page(client, login):
    login(Role.ADMIN)
    page = client.get("/admin/council").get_data(as_text=True)
    assert "ONS code" in page
    bad = client.post("/admin/council", data={"name": "Derbyshire County Council", "code": "E1000"})
    assert bad.status_code == 400 and "ONS code: a letter and eight digits" in bad.get_data(as_text=True)
    assert settings.council() == ("", "")
    blank = client.post("/admin/council", data={"name": " ", "code": OURS})
    assert blank.status_code == 400 and "Council name: enter the council" in blank.get_data(as_text=True)
    done = client.post("/admin/council", data={"name": "Derbyshire  County Council", "code": "e10000007"})
    assert done.status_code == 302
    assert settings.council() == ("Derbyshire County Council", OURS)
    assert "Derbyshire County Council" in client.get("/admin/council").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).filter_by(entity_type="setting"))
    assert event.after == {"name": "Derbyshire County Council", "code": OURS}


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_only_curators_map_columns_and_only_administrators_set_the_council(client, login, role):
    login(role)
    assert client.get("/import/metric/columns/" + "0" * 64).status_code == 403
    assert client.get("/admin/council").status_code == 403
    assert client.post("/admin/council", data={"name": "X", "code": OURS}).status_code == 403
    assert settings.council() == ("", "")
