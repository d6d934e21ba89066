"""The action tracker: every improvement action in one list, filtered, edited in place and downloaded."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from evidence.assessment.rounds import sign_off
from evidence.db import db
from evidence.models import Action, AuditEvent, today
from evidence.vocab import ActionStatus, Role
from tests.factories import make_action, make_round


def _rows(html: str) -> list[str]:
    """The descriptions of the listed actions, in order."""
    return [
        re.sub(r"<[^>]+>", " ", m).split("  ")[0].strip() for m in re.findall(r'<th scope="row">(.*?)</th>', html, re.S)
    ]


@pytest.fixture
def portfolio(app):
    spring = make_round("Spring 2026 self-assessment")
    summer = make_round("Summer 2026 self-assessment")
    on = today()
    actions = {
        "late": make_action("safe-pathways", "Call every carer back", owner="Carers lead", due_date=on - timedelta(5)),
        "soon": make_action("safeguarding", "Audit section 42 enquiries", owner="Head of Safeguarding", due_date=on),
        "done": make_action(
            "safe-pathways",
            "Publish the discharge leaflet",
            owner="Carers lead",
            due_date=on - timedelta(30),
            status=ActionStatus.DONE,
        ),
        "undated": make_action("equity", "Map unpaid carers by ward", owner="TBC", due_date=None),
        "later": make_action("equity", "Train staff on equity", owner="Equality officer", due_date=on + timedelta(90)),
    }
    actions["late"].round_id = summer.id
    actions["soon"].round_id = spring.id
    db.session.commit()
    return {"spring": spring, "summer": summer, **actions}


def test_the_tracker_lists_every_action_soonest_first_with_no_date_last(client, login, portfolio):
    login(Role.MANAGER)
    html = client.get("/actions").get_data(as_text=True)
    assert _rows(html) == [
        "Publish the discharge leaflet",
        "Call every carer back",
        "Audit section 42 enquiries",
        "Train staff on equity",
        "Map unpaid carers by ward",
    ]
    assert "5 actions." in html
    late = html[html.index(f'id="action-{portfolio["late"].id}"') :]
    assert late[: late.index("</tr>")].count("Overdue") == 1 and 'class="row--overdue"' in html
    assert "No owner" in html  # "TBC" is nobody yet
    assert 'name="status" id="status-' not in html  # a manager reads; the quality lead changes status
    latest = client.get("/actions?sort=due_desc").get_data(as_text=True)
    assert _rows(latest)[0] == "Train staff on equity" and _rows(latest)[-1] == "Map unpaid carers by ward"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("owner=Carers+lead", ["Publish the discharge leaflet", "Call every carer back"]),
        ("status=done", ["Publish the discharge leaflet"]),
        ("status=not_done", ["Call every carer back", "Audit section 42 enquiries", "Train staff on equity",
                             "Map unpaid carers by ward"]),
        ("statement=equity", ["Train staff on equity", "Map unpaid carers by ward"]),
        ("due=overdue", ["Call every carer back"]),
        ("due=none", ["Map unpaid carers by ward"]),
        ("owner=Carers+lead&due=overdue", ["Call every carer back"]),
    ],
)  # fmt: skip
def test_each_filter_narrows_the_list(client, login, portfolio, query, expected):
    login(Role.QUALITY_LEAD)
    assert _rows(client.get(f"/actions?{query}").get_data(as_text=True)) == expected


def test_due_this_month_is_the_calendar_month(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    html = client.get("/actions?due=this_month").get_data(as_text=True)
    on = today()
    expected = {
        "Call every carer back": (on - timedelta(5)).month == on.month,
        "Audit section 42 enquiries": True,
        "Publish the discharge leaflet": (on - timedelta(30)).month == on.month,
    }
    assert set(_rows(html)) == {name for name, shown in expected.items() if shown}


def test_a_round_filter_shows_that_rounds_actions_and_those_of_no_round(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    html = client.get(f"/actions?round={portfolio['spring'].id}").get_data(as_text=True)
    assert "Audit section 42 enquiries" in _rows(html) and "Call every carer back" not in _rows(html)
    assert "Round: Spring 2026 self-assessment" in html


def test_a_filter_value_that_is_not_a_choice_is_named_and_ignored(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    response = client.get("/actions?status=" + "x" * 5000 + "&round=99999999999999999999&due=soon&owner=%F0%9F%92%A5")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(_rows(html)) == 5
    assert "Due: “soon” is not one of the choices, so it was not used." in html


def test_the_lead_changes_a_status_in_place_and_returns_to_the_same_filtered_list(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    late = portfolio["late"]
    version = late.version
    response = client.post(
        f"/actions/{late.id}/status",
        data={"status": "in_progress", "version": str(version), "back": "owner=Carers+lead&due=overdue"},
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/actions?owner=Carers+lead&due=overdue#action-{late.id}")
    db.session.refresh(late)
    assert late.status == ActionStatus.IN_PROGRESS and late.version == version + 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "action")).all()[-1]
    assert event.summary == "Status changed from Open to In progress"
    page = client.get(response.location).get_data(as_text=True)
    assert "“Call every carer back” is now in progress." in page


def test_a_status_change_made_on_an_older_version_is_refused(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    late = portfolio["late"]
    stale = late.version
    client.post(f"/actions/{late.id}/status", data={"status": "in_progress", "version": str(stale)})
    response = client.post(f"/actions/{late.id}/status", data={"status": "done", "version": str(stale)})
    assert response.status_code == 409
    assert "someone else changed this action after you opened the page. It is now in progress" in response.get_data(
        as_text=True
    )
    db.session.refresh(late)
    assert late.status == ActionStatus.IN_PROGRESS


@pytest.mark.parametrize("status", ["finished", "", "x" * 10_000, "\x00", "Done"])
def test_a_status_that_is_not_one_changes_nothing(client, login, portfolio, status):
    login(Role.QUALITY_LEAD)
    late = portfolio["late"]
    version = late.version
    response = client.post(f"/actions/{late.id}/status", data={"status": status, "version": str(version)})
    assert response.status_code == 422
    assert "Status not changed: Not a valid choice." in response.get_data(as_text=True)
    db.session.refresh(late)
    assert (late.status, late.version) == (ActionStatus.OPEN, version)


def test_an_action_of_a_signed_off_round_shows_its_status_but_cannot_change(client, login, make_user, portfolio):
    sign_off(portfolio["summer"], make_user(Role.MANAGER), confirmed=True)
    login(Role.QUALITY_LEAD)
    late = portfolio["late"]
    html = client.get("/actions").get_data(as_text=True)
    row = html[html.index(f'id="action-{late.id}"') :]
    row = row[: row.index("</tr>")]
    assert "signed off" in row and "<select" not in row
    response = client.post(f"/actions/{late.id}/status", data={"status": "done", "version": str(late.version)})
    assert response.status_code == 409 and "signed off" in response.get_data(as_text=True)
    assert db.session.get(Action, late.id).status == ActionStatus.OPEN


def test_staff_cannot_see_the_tracker_and_a_manager_cannot_change_a_status(client, login, portfolio):
    login(Role.MANAGER)
    late = portfolio["late"]
    refused = client.post(f"/actions/{late.id}/status", data={"status": "done", "version": late.version})
    assert refused.status_code == 403
    client.post("/sign-out")
    login(Role.STAFF)
    assert client.get("/actions").status_code == 403


def test_the_dashboard_counts_overdue_actions_in_words_that_agree_and_links_to_them(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    html = client.get("/dashboard").get_data(as_text=True)
    tile = re.search(r'<a class="tile[^"]*" href="([^"]+)" data-testid="overdue-count-tile">(.*?)</a>', html, re.S)
    href = tile.group(1).replace("&amp;", "&")
    assert " ".join(re.sub(r"<[^>]+>", " ", tile.group(2)).split()) == "1 overdue action"
    assert "due=overdue" in href and f"round={portfolio['summer'].id}" in href
    listed = client.get(href).get_data(as_text=True)
    assert _rows(listed) == ["Call every carer back"] and "1 overdue action ·" in listed


def test_the_tracker_is_in_the_navigation_of_those_who_may_open_it(client, login):
    login(Role.MANAGER)
    assert '<a href="/actions">Actions</a>' in client.get("/dashboard").get_data(as_text=True)


# --- Downloads ------------------------------------------------------------------------------------


def test_the_excel_download_holds_the_filtered_list_with_dates_and_formulas_kept_as_text(client, login, portfolio):
    make_action("safe-pathways", '=HYPERLINK("http://evil.example","Click")', owner="@SUM(A1)", due_date=None)
    login(Role.MANAGER)
    response = client.get("/actions/download.xlsx?statement=safe-pathways")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=improvement-actions-")
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["Actions"]
    assert sheet["A1"].value.startswith("3 actions · Quality statement: Safe pathways")
    header = [c.value for c in sheet[2]]
    assert header == ["Quality statement", "Round", "What will be done", "Owner", "Due date", "Status", "Overdue"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [r[2] for r in rows] == ["Publish the discharge leaflet", "Call every carer back", rows[2][2]]
    assert rows[1][1] == "Summer 2026 self-assessment" and rows[1][6] == "Yes" and rows[1][5] == "Open"
    assert rows[1][4].date() == today() - timedelta(5) and sheet["E4"].number_format == "d mmm yyyy"
    formula = sheet["C5"]
    assert formula.value.startswith("=HYPERLINK") and formula.data_type == "s" and formula.quotePrefix
    assert sheet["D5"].data_type == "s" and sheet["D5"].quotePrefix


def test_the_csv_download_is_excel_friendly_and_defuses_formulas(client, login, portfolio):
    make_action("equity", "+cmd|' /C calc'!A0", owner="Equality officer", due_date=date(2027, 1, 31))
    login(Role.MANAGER)
    response = client.get("/actions/download.csv?statement=equity")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][2] == "What will be done"
    by_description = {r[2]: r for r in rows[1:]}
    assert "'+cmd|' /C calc'!A0" in by_description
    assert by_description["'+cmd|' /C calc'!A0"][4] == "2027-01-31"
    assert by_description["Map unpaid carers by ward"][3:5] == ["TBC", ""]


def test_an_unknown_download_format_is_not_found(client, login):
    login(Role.MANAGER)
    assert client.get("/actions/download.pdf").status_code == 404


def test_the_statement_pages_action_edit_is_refused_when_the_tracker_changed_it_first(client, login, portfolio):
    login(Role.QUALITY_LEAD)
    late = portfolio["late"]
    opened = late.version
    client.post(f"/actions/{late.id}/status", data={"status": "in_progress", "version": str(opened)})
    edit = {"description": "Call every carer back within a day", "owner": "Carers lead", "status": "open"}
    response = client.post(f"/statements/safe-pathways/actions/{late.id}/edit", data={**edit, "version": opened})
    assert response.status_code == 409
    assert "someone else changed this action after you opened the page" in response.get_data(as_text=True)
    db.session.refresh(late)
    assert (late.description, late.status) == ("Call every carer back", ActionStatus.IN_PROGRESS)
