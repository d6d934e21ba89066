"""Numbers, dates and ids at and just past every bound, through every form of every kind of evidence.

The bounds are those of ``evidence.bounds``: counts from 0 to 10,000,000, percentages from 0 to 100, other
figures within a trillion of zero, dates and periods in 1990–2100, ids up to 2,147,483,647. A value at a bound
is saved as given; a value past it is refused with a message that names the field, every table is left exactly
as it was, and nothing answers 500.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from evidence.db import db
from evidence.library import items
from evidence.models import Action, EvidenceItem, today
from evidence.vocab import Kind, Role, Status
from tests.factories import make_action, make_item, make_round
from tests.portal.test_submissions import COMMON, KINDS

YEARS = "is outside the years 1990–2100"
HUGE = "9" * 400


@dataclass(frozen=True)
class Refused:
    message: str  # what the page must say (the field's label and why)


def database() -> dict[str, list[tuple]]:
    """Every row of every table: a refused request must leave all of it as it was."""
    db.session.rollback()  # what is committed, not what a refused request left in the session
    return {
        table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
        for table in db.metadata.sorted_tables
    }


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def check(response, outcome, before, saved) -> None:
    """A refused value: a message and nothing changed. A value in range: saved as ``saved()`` reads it back."""
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if isinstance(outcome, Refused):
        assert response.status_code != 302, f"{outcome.message!r} was not refused"
        assert outcome.message in page_text(response)
        assert database() == before
    else:
        assert response.status_code == 302, page_text(response)[:3000]
        db.session.rollback()
        assert saved() == outcome


def each(cases, attempt) -> None:
    """Run ``attempt(value, outcome)`` for every case, then report every case that failed, named by its value."""
    failures = []
    for value, outcome in cases:
        try:
            attempt(value, outcome)
        except Exception as exc:  # an assertion, or an error a request raised (the test app propagates them)
            db.session.rollback()
            failures.append(f"{str(value)[:40]!r}: {type(exc).__name__}: {str(exc)[:500]}")
    assert not failures, "\n".join(failures)


def labelled(label: str, cases):
    """The cases with each refusal's message under the field's label."""
    return [(v, Refused(f"{label}: {o.message}") if isinstance(o, Refused) else o) for v, o in cases]


# --- The values ---------------------------------------------------------------------------------------------------

DATES = [
    ("1989-12-31", Refused(f"1989-12-31 {YEARS}.")),
    ("1990-01-01", date(1990, 1, 1)),
    ("01/01/1990", date(1990, 1, 1)),
    ("2100-12-31", date(2100, 12, 31)),
    ("2101-01-01", Refused(f"2101-01-01 {YEARS}.")),
    ("9999-12-31", Refused(f"9999-12-31 {YEARS}.")),
    ("31/12/9999", Refused(f"9999-12-31 {YEARS}.")),
    ("0001-01-01", Refused(f"0001-01-01 {YEARS}.")),
]


def counts(label: str, least: int) -> list[tuple[str, object]]:
    """A whole number that counts something: ``least`` (0 or 1) up to 10,000,000."""
    between = "is not between 0 and 10,000,000."
    return [
        (str(least), least),
        ("-0", Refused(f"{label}: 0 is out of range") if least else 0),
        ("10,000,000", 10_000_000),
        ("10000001", Refused(f"{label}: 10,000,001 {between}")),
        ("2147483647", Refused(f"{label}: 2,147,483,647 {between}")),
        ("2147483648", Refused(f"{label}: 2,147,483,648 {between}")),
        ("3000000000", Refused(f"{label}: 3,000,000,000 {between}")),
        ("9" * 20, Refused(f"{label}: a number of more than 16 digits {between}")),
        (HUGE, Refused(f"{label}: “{HUGE}” is not a whole number")),
        ("1e309", Refused(f"{label}: “1e309” is not a whole number")),
        ("inf", Refused(f"{label}: “inf” is not a whole number")),
        ("NaN", Refused(f"{label}: “NaN” is not a whole number")),
        (str(least - 1), Refused(f"{label}: {least - 1} is out of range")),
    ]


PERCENTS = [
    ("0", 0.0),
    ("-0", 0.0),
    ("100", 100.0),
    ("100%", 100.0),
    ("-0.1", Refused("Result (%): -0.1 is out of range")),
    ("100.1", Refused("Result (%): 100.1 is out of range")),
    ("inf", Refused("Result (%): “inf” is not a percentage")),
    ("NaN", Refused("Result (%): “NaN” is not a percentage")),
    ("1e309", Refused("Result (%): “1e309” is not a percentage")),
    (HUGE, Refused(f"Result (%): “{HUGE}” is not a percentage")),
]


BETWEEN = "is not between -1,000,000,000,000 and 1,000,000,000,000."
# A metric's figure (not a percentage): finite, within a trillion either side of zero.
FIGURES = [
    ("1000000000000", 1e12),
    ("-1,000,000,000,000", -1e12),
    ("-0", 0.0),
    ("1000000000001", Refused(f"1,000,000,000,001 {BETWEEN}")),
    ("-1000000000001", Refused(f"-1,000,000,000,001 {BETWEEN}")),
    ("1e309", Refused("“1e309” is not a number")),
    ("inf", Refused("“inf” is not a number")),
    ("-inf", Refused("“-inf” is not a number")),
    ("NaN", Refused("“NaN” is not a number")),
    (HUGE, Refused(f"“{HUGE}” is not a number")),
]


PERIODS = [
    ("1990 Q1", date(1990, 1, 1)),
    ("Jan 1990", date(1990, 1, 1)),
    ("2100 Q4", date(2100, 10, 1)),
    ("2100-12", date(2100, 12, 1)),
    ("1989 Q4", Refused(f"1989 {YEARS}.")),
    ("Dec 1989", Refused(f"1989 {YEARS}.")),
    ("2101 Q1", Refused(f"2101 {YEARS}.")),
    ("0000 Q1", Refused(f"0000 {YEARS}.")),
    ("9999-12", Refused(f"9999 {YEARS}.")),
]


# --- The forms ------------------------------------------------------------------------------------------------------


def form_data(kind: str, **changes) -> dict[str, str]:
    data = {**COMMON, **KINDS[kind][0]}
    if kind == Kind.METRIC:
        data["unit"] = ""  # a plain figure; the percentage cases set "%" themselves
    data.update(changes)
    return data


def submit(client, kind: str, **changes):
    return client.post(f"/submit?kind={kind}", data=form_data(kind, **changes))


def submitted(client, kind: str) -> EvidenceItem:
    assert submit(client, kind).status_code == 302
    return db.session.scalar(select(EvidenceItem).order_by(EvidenceItem.id.desc()).limit(1))


def review(client, item: EvidenceItem, action: str = "save", **changes):
    """The reviewer's form: "save" keeps the item waiting, "accept" accepts it with the changes."""
    data = {**form_data(item.kind, **changes), "version": item.version, "action": action}
    return client.post(f"/review/{item.id}", data=data)


def resubmit(client, item: EvidenceItem, **changes):
    return client.post(
        f"/my-submissions/{item.id}/edit", data={**form_data(item.kind, **changes), "version": item.version}
    )


def returned(client, lead, kind: str) -> EvidenceItem:
    item = submitted(client, kind)
    items.return_item(item, user=lead, reason="Check the figures.")
    return item


def item_value(item_id: int, name: str):
    return lambda: getattr(db.session.get(EvidenceItem, item_id), name)


def new_item_value(name: str, before_ids: set[int]):
    def read():
        (item,) = db.session.scalars(select(EvidenceItem).where(EvidenceItem.id.not_in(before_ids or {0}))).all()
        return getattr(item, name)

    return read


def item_ids() -> set[int]:
    return set(db.session.scalars(select(EvidenceItem.id)))


FORMS = ["submit", "review", "accept", "resubmit"]


@pytest.fixture
def lead(login):
    return login(Role.QUALITY_LEAD)


def attempt(client, lead, form: str, kind: str, outcome, **changes) -> None:
    """Post ``changes`` through ``form``: a new submission, a review of one (saved or accepted), or a returned
    one corrected by its submitter."""
    name = next(iter(changes))
    if form == "submit":
        ids, before = item_ids(), database()
        response = submit(client, kind, **changes)
        saved = new_item_value(name, ids)
    else:
        item = returned(client, lead, kind) if form == "resubmit" else submitted(client, kind)
        before = database()
        if form == "resubmit":
            response = resubmit(client, item, **changes)
        else:
            response = review(client, item, action="accept" if form == "accept" else "save", **changes)
        saved = item_value(item.id, name)
    check(response, outcome, before, saved)


@pytest.mark.parametrize("form", FORMS)
def test_period_dates_of_every_kind(client, lead, form):
    for kind in Kind:
        each(
            labelled("Period start", DATES),
            lambda v, o, kind=kind: attempt(client, lead, form, kind, o, period_start=v, period_end=v),
        )


@pytest.mark.parametrize("form", ["review", "accept"])
def test_the_review_by_date_of_every_kind(client, lead, form):
    for kind in Kind:
        each(labelled("Review by", DATES), lambda v, o, kind=kind: attempt(client, lead, form, kind, o, review_by=v))


@pytest.mark.parametrize("form", FORMS)
def test_respondents(client, lead, form):
    each(counts("Respondents (n)", 0), lambda v, o: attempt(client, lead, form, Kind.SURVEY, o, respondents=v))


@pytest.mark.parametrize("form", FORMS)
def test_cases_reviewed(client, lead, form):
    each(counts("Cases reviewed", 1), lambda v, o: attempt(client, lead, form, Kind.CASE_AUDIT, o, cases_reviewed=v))


@pytest.mark.parametrize("form", FORMS)
def test_a_survey_result(client, lead, form):
    each(PERCENTS, lambda v, o: attempt(client, lead, form, Kind.SURVEY, o, result_percent=v))


@pytest.mark.parametrize("form", FORMS)
def test_a_metrics_target(client, lead, form):
    each(
        labelled(items.FIELD_LABELS["target"], FIGURES),
        lambda v, o: attempt(client, lead, form, Kind.METRIC, o, target=v),
    )


PERCENT_TARGETS = [
    ("100", 100.0),
    ("0", 0.0),
    ("100.1", Refused("Target: 100.1 is not a percentage between 0 and 100.")),
    ("-0.1", Refused("Target: -0.1 is not a percentage between 0 and 100.")),
]


@pytest.mark.parametrize("form", FORMS)
def test_the_target_of_a_percentage(client, lead, form):
    each(PERCENT_TARGETS, lambda v, o: attempt(client, lead, form, Kind.METRIC, o, target=v, unit="%"))


def points_of(item_id: int):
    return lambda: [(p.period, p.value) for p in db.session.get(EvidenceItem, item_id).points]


POINT_FORMS = ["submit", "resubmit"]


def point_attempt(client, lead, form: str, outcome, **changes) -> None:
    """The first point row of a new metric (submit) or of a returned one (resubmit)."""
    changes = {"point_period_1": "", "point_value_1": "", "point_period_2": "", "point_value_2": "", **changes}
    if form == "submit":
        ids, before = item_ids(), database()
        response = submit(client, Kind.METRIC, **changes)

        def saved():
            (item,) = db.session.scalars(select(EvidenceItem).where(EvidenceItem.id.not_in(ids or {0}))).all()
            return points_of(item.id)()
    else:
        item = returned(client, lead, Kind.METRIC)
        before = database()
        response = resubmit(client, item, **changes)
        saved = points_of(item.id)
    check(response, outcome, before, saved)


def as_points(cases, period: date | None = None, value: float | None = None):
    """Cases whose saved outcome is the metric's one point: (period, value)."""
    return [(v, o if isinstance(o, Refused) else [(period or o, value if value is not None else o)]) for v, o in cases]


@pytest.mark.parametrize("form", POINT_FORMS)
def test_a_metrics_values(client, lead, form):
    each(
        as_points(labelled("Value 1", FIGURES), period=date(2026, 1, 1)),
        lambda v, o: point_attempt(client, lead, form, o, point_period_0="2026 Q1", point_value_0=v),
    )


@pytest.mark.parametrize("form", POINT_FORMS)
def test_a_metrics_periods(client, lead, form):
    each(
        as_points(labelled("Period 1", PERIODS), value=5.0),
        lambda v, o: point_attempt(client, lead, form, o, point_period_0=v, point_value_0="5"),
    )


PERCENT_VALUES = [
    ("100", 100.0),
    ("-0", 0.0),
    ("100.1", Refused("100.1 is not a percentage between 0 and 100.")),
    ("-0.1", Refused("-0.1 is not a percentage between 0 and 100.")),
]


@pytest.mark.parametrize("form", POINT_FORMS)
def test_the_values_of_a_percentage(client, lead, form):
    each(
        as_points(labelled("Value 1", PERCENT_VALUES), period=date(2026, 1, 1)),
        lambda v, o: point_attempt(
            client, lead, form, o, unit="%", target="", point_period_0="2026 Q1", point_value_0=v
        ),
    )


# --- Adding a point to a metric in the library ---------------------------------------------------------------------


def add_point(client, outcome, period: str, value: str, unit: str = "") -> None:
    item = make_item("Days to assessment", kind=Kind.METRIC, direction="lower", unit=unit)
    before = database()
    response = client.post(f"/evidence/{item.id}/points", data={"period": period, "value": value})
    check(response, outcome, before, points_of(item.id))


def test_the_add_point_forms_value(client, lead):
    cases = as_points(labelled("Value", FIGURES), period=date(2026, 1, 1))
    each(cases, lambda v, o: add_point(client, o, "2026 Q1", v))


def test_the_add_point_forms_period(client, lead):
    each(as_points(labelled("Period", PERIODS), value=5.0), lambda v, o: add_point(client, o, v, "5"))


def test_the_add_point_forms_percentage(client, lead):
    cases = [
        ("100", 100.0),
        ("0", 0.0),
        ("100.1", Refused("Value: 100.1 is not a percentage between 0 and 100.")),
        ("-0.1", Refused("Value: -0.1 is not a percentage between 0 and 100.")),
    ]
    each(as_points(cases, period=date(2026, 1, 1)), lambda v, o: add_point(client, o, "2026 Q1", v, unit="%"))


def comparators_of(item_id: int):
    item = db.session.get(EvidenceItem, item_id)
    return lambda: [(s.name, p.period, p.value) for s in item.comparators for p in s.points]


def add_comparator_point(client, outcome, name: str, period: str, value: str, unit: str = "") -> None:
    item = make_item("Days to assessment", kind=Kind.METRIC, direction="lower", unit=unit)
    before = database()
    data = {"comparator-name": name, "comparator-period": period, "comparator-value": value}
    response = client.post(f"/evidence/{item.id}/comparators", data=data)
    check(response, outcome, before, comparators_of(item.id))


def test_the_comparator_forms_value(client, lead):
    cases = [
        (v, o if isinstance(o, Refused) else [("England average", date(2026, 1, 1), o)])
        for v, o in labelled("Value", FIGURES)
    ]
    each(cases, lambda v, o: add_comparator_point(client, o, "England average", "2026 Q1", v))


def test_the_comparator_forms_period_and_name(client, lead):
    cases = [(v, o if isinstance(o, Refused) else [("Region", o, 5.0)]) for v, o in labelled("Period", PERIODS)]
    each(cases, lambda v, o: add_comparator_point(client, o, "Region", v, "5"))
    names = [
        ("", Refused("Comparator: name it, e.g. England average.")),
        ("   ", Refused("Comparator: name the comparator, e.g. England average.")),
        ("x" * 101, Refused("Comparator: at most 100 characters.")),
        ("x" * 100, [("x" * 100, date(2026, 1, 1), 5.0)]),
        ("  Nearest \x00 neighbours ", [("Nearest neighbours", date(2026, 1, 1), 5.0)]),
    ]
    each(names, lambda v, o: add_comparator_point(client, o, v, "2026 Q1", "5"))


def test_the_comparator_forms_percentage(client, lead):
    cases = [
        ("100", [("Median", date(2026, 1, 1), 100.0)]),
        ("100.1", Refused("Value: 100.1 is not a percentage between 0 and 100.")),
        ("-0.1", Refused("Value: -0.1 is not a percentage between 0 and 100.")),
    ]
    each(cases, lambda v, o: add_comparator_point(client, o, "Median", "2026 Q1", v, unit="%"))


# --- Improvement actions, exports and versions ----------------------------------------------------------------------


def test_an_actions_due_date(client, lead):
    make_round()

    def attempt_action(value, outcome):
        before, ids = database(), set(db.session.scalars(select(Action.id)))
        response = client.post(
            "/statements/safe-pathways/actions",
            data={
                "action-description": "Train the team",
                "action-owner": "Head of Transitions",
                "action-due_date": value,
                "action-status": "open",
            },
        )
        check(
            response,
            outcome,
            before,
            lambda: db.session.scalar(select(Action.due_date).where(Action.id.not_in(ids or {0}))),
        )

        action = make_action("safe-pathways", due_date=today())
        before = database()
        response = client.post(
            f"/statements/safe-pathways/actions/{action.id}/edit",
            data={"description": "Train the team", "owner": "Head of Transitions", "due_date": value, "status": "open"},
        )
        check(response, outcome, before, lambda: db.session.get(Action, action.id).due_date)

    each(labelled("Due date", DATES), attempt_action)


@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")  # no query is asked about a non-id
@pytest.mark.parametrize(
    "round_id", ["99999999999999999999", "2147483648", "2147483647", "-1", "0", "1e3", "²", "", " "]
)
def test_the_export_download_refuses_a_round_that_cannot_exist(client, lead, round_id):
    make_round()
    before = database()
    response = client.post("/exports/download", data={"round": round_id, "format": "xlsx"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Nothing was exported: choose a round" in page_text(response)
    assert database() == before


@pytest.mark.parametrize("version", ["abc", "99999999999999999999", "-1", "1.5", "NaN"])
def test_an_edit_carrying_an_unreadable_version_is_refused_as_out_of_date(client, lead, version):
    item = make_item("Carers feel listened to", status=Status.SUBMITTED, survey_name="SACE", result_percent=61.0)
    before = database()
    data = {**form_data(Kind.SURVEY), "version": version, "action": "save"}
    response = client.post(f"/review/{item.id}", data=data)
    assert response.status_code == 409  # a conflict, shown with the saved version beside the edit
    assert "was changed by someone else" in page_text(response)
    assert database() == before


@pytest.mark.parametrize("round_id", ["9" * 5000, "99999999999999999999", "2147483648", "-1", "NaN"])
def test_choosing_a_round_that_cannot_exist_is_refused(client, lead, round_id):
    make_round("Winter")
    make_round("Spring")
    assert client.get("/exports", query_string={"round": round_id, "format": "xlsx"}).status_code == 422
    assert client.get("/rounds/compare", query_string={"a": round_id, "b": round_id}).status_code == 422
