"""Values an older version could have stored: Infinity, NaN, numbers as large as the column holds, the year 9999.

Each is written straight into the database, past every check, as it could be by an older version or a script.
Every page that shows the item, both exports and the sign-off must still answer (no 500, a snapshot PostgreSQL
accepts as JSON), and the item must then be put right through its own forms.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from evidence.db import db
from evidence.library.items import FIELD_LABELS
from evidence.models import Action, Assessment, AuditEvent, ComparatorPoint, EvidenceItem, MetricPoint, Round
from evidence.vocab import Kind, Role
from tests import jobs
from tests.factories import make_action, make_item, make_round, statement
from tests.portal.test_out_of_range_forms import form_data

INF, NAN = float("inf"), float("nan")
MAPPED = [("safe-pathways", "processes", "strength")]


def largest_integer() -> int:
    """The largest whole number the database's INTEGER column takes (PostgreSQL: 32 bits; SQLite: 64)."""
    return 2**31 - 1 if db.engine.dialect.name == "postgresql" else 2**63 - 1


# (kind, column, stored value); a column of MetricPoint is the metric's first point, Action the action's.
BAD = [
    (Kind.METRIC, MetricPoint.value, INF),
    (Kind.METRIC, MetricPoint.value, -INF),
    (Kind.METRIC, MetricPoint.value, NAN),
    (Kind.METRIC, MetricPoint.value, 1e308),
    (Kind.METRIC, MetricPoint.period, date(9999, 12, 1)),
    (Kind.METRIC, EvidenceItem.target, INF),
    (Kind.METRIC, ComparatorPoint.value, NAN),
    (Kind.METRIC, ComparatorPoint.value, -1e308),
    (Kind.SURVEY, EvidenceItem.result_percent, INF),
    (Kind.SURVEY, EvidenceItem.result_percent, NAN),
    (Kind.SURVEY, EvidenceItem.result_percent, 1e308),
    (Kind.SURVEY, EvidenceItem.respondents, "largest"),
    (Kind.CASE_AUDIT, EvidenceItem.cases_reviewed, "largest"),
    (Kind.SURVEY, EvidenceItem.period_end, date(9999, 12, 31)),
    (Kind.QUOTE, EvidenceItem.period_start, date(1, 1, 1)),
    (Kind.DOCUMENT, EvidenceItem.review_by, date(9999, 12, 31)),
    (Kind.OBSERVATION, EvidenceItem.review_by, date(1, 1, 1)),
    (Kind.PARTNER_FEEDBACK, EvidenceItem.period_start, date(9999, 12, 31)),
    (None, Action.due_date, date(9999, 12, 31)),
    (None, Action.due_date, date(1, 1, 1)),
]

VALID = {
    Kind.SURVEY: {"survey_name": "ASCS", "result_percent": 61.0, "respondents": 412},
    Kind.METRIC: {"unit": "days", "direction": "lower", "target": 21.0,
                  "comparators": {"England": [(date(2026, 1, 1), "Jan 2026", 25.0)]}},
    Kind.QUOTE: {"quote_text": "They listened.", "speaker_role": "Carer", "voice": "carer", "quote_tone": "neutral"},
    Kind.DOCUMENT: {"evidences": "How transitions are planned", "link_url": "https://council.example/policy"},
    Kind.PARTNER_FEEDBACK: {"partner_organisation": "ICB"},
    Kind.CASE_AUDIT: {"cases_reviewed": 40, "audit_outcome": "Most plans reviewed on time."},
    Kind.OBSERVATION: {"setting": "Discharge huddle"},
}  # fmt: skip


def _id(case) -> str:
    kind, column, value = case
    return f"{kind or 'action'}-{column.key}-{value}"


def store(user, kind, column, value) -> tuple[EvidenceItem, Round, object]:
    """An item of every kind (``user``'s), a round citing them all, and ``value`` written into ``column`` unchecked;
    returns the item, the round and the value as the database now holds it."""
    every = {k: make_item(f"A {k.label.lower()}", kind=k, mappings=MAPPED, owner_id=user.id, **VALID[k]) for k in Kind}
    metric = every[Kind.METRIC]
    metric.points.extend(
        MetricPoint(period=date(2026, m, 1), label=date(2026, m, 1).strftime("%b %Y"), value=20.0 + m) for m in (1, 2)
    )
    action = make_action("safe-pathways", "Train the team")
    round_ = make_round()
    citations = " ".join(f"[{item.reference}]" for item in every.values())
    db.session.add(
        Assessment(round=round_, statement=statement("safe-pathways"), score=3, rationale=f"As {citations} show.")
    )
    db.session.commit()
    value = largest_integer() if value == "largest" else value
    if isinstance(value, float) and math.isnan(value) and db.engine.dialect.name == "sqlite" and not column.nullable:
        pytest.skip("SQLite stores NaN as NULL, which this column refuses: only PostgreSQL can hold it")
    table = column.class_
    values = {column.key: value}
    if table is EvidenceItem:
        row = every[kind].id
    elif table is ComparatorPoint:
        row = metric.comparators[0].points[0].id
    elif table is MetricPoint:
        row = min(p.id for p in metric.points)
        if column.key == "period":
            values["label"] = value.strftime("%b %Y")
    else:
        row = action.id
    db.session.execute(update(table).where(table.id == row).values(values))
    db.session.commit()
    db.session.expire_all()
    held = db.session.scalar(select(column).where(table.id == row))
    return (every[kind] if kind else metric), round_, held


def not_finite(value) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def open_ok(client, address: str) -> str:
    response = client.get(address)
    assert response.status_code == 200, f"{address} answered {response.status_code}"
    return response.get_data(as_text=True)


def download(client, round_: Round, fmt: str) -> bytes:
    response = jobs.export(client, round_.id, fmt)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    data = response.get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
    if fmt == "xlsx":
        load_workbook(io.BytesIO(data), read_only=True).close()
    return data


@pytest.mark.parametrize(("kind", "column", "value"), BAD, ids=[_id(c) for c in BAD])
def test_a_stored_bad_value_breaks_no_page_export_or_sign_off_and_is_put_right(client, login, kind, column, value):
    user = login(Role.ADMIN)
    item, round_, held = store(user, kind, column, value)
    if not_finite(held):  # the item's page says so rather than failing
        assert "not a number" in open_ok(client, f"/evidence/{item.id}")
    for address in (
        f"/evidence/{item.id}",
        "/evidence",
        f"/evidence?kind={item.kind}",
        "/evidence?stale=yes",
        "/evidence?date_from=2026-01-01",
        "/statements/safe-pathways",
        "/statements",
        "/dashboard",
        "/gaps",
        "/rounds",
        f"/rounds/{round_.id}",
        f"/evidence/{item.id}/edit",
        "/actions",
        "/actions?due=overdue",
        f"/exports?round={round_.id}&format=xlsx",
        f"/exports/preview/{round_.id}/safe-pathways",
    ):
        open_ok(client, address)
    download(client, round_, "xlsx")
    download(client, round_, "markdown")
    for fmt in ("xlsx", "csv"):  # the action tracker's lists
        assert client.get(f"/actions/download.{fmt}").status_code == 200
    load_workbook(io.BytesIO(client.get("/actions/download.xlsx").get_data()), read_only=True).close()

    response = client.post(f"/rounds/{round_.id}/sign-off", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    signed = db.session.get(Round, round_.id)
    assert signed.signed_off
    json.dumps(signed.snapshot, allow_nan=False)  # JSON PostgreSQL takes: no NaN or Infinity
    for address in (f"/rounds/{round_.id}", f"/statements/safe-pathways?round={round_.id}", "/rounds", "/dashboard"):
        open_ok(client, address)
    download(client, signed, "xlsx")
    download(client, signed, "markdown")
    put_right(client, item, column, held)


def put_right(client, item: EvidenceItem, column, value) -> None:
    """Correct the bad value through the form a person would use, and check the correction is stored."""
    if column.class_ is Action:
        action = db.session.scalar(select(Action))
        data = {"description": "Train the team", "owner": "Head of Transitions", "due_date": "2026-12-31"}
        response = client.post(f"/statements/safe-pathways/actions/{action.id}/edit", data={**data, "status": "open"})
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(Action, action.id).due_date == date(2026, 12, 31)
    elif column is MetricPoint.value:
        response = client.post(
            f"/evidence/{item.id}/points", data={"period": "Jan 2026", "value": "30", "replace": "y"}
        )
        assert response.status_code == 302
        db.session.expire_all()
        assert [(p.label, p.value) for p in db.session.get(EvidenceItem, item.id).points] == [
            ("Jan 2026", 30.0),
            ("Feb 2026", 22.0),
        ]
    elif column is ComparatorPoint.value:
        data = {
            "comparator-name": "England",
            "comparator-period": "Jan 2026",
            "comparator-value": "26",
            "comparator-replace": "y",
        }
        assert client.post(f"/evidence/{item.id}/comparators", data=data).status_code == 302
        db.session.expire_all()
        (series,) = db.session.get(EvidenceItem, item.id).comparators
        assert [(p.label, p.value) for p in series.points] == [("Jan 2026", 26.0)]
    elif column is MetricPoint.period:
        # No form can name a period past the range, so the series is corrected as a whole: the item goes
        # back to its owner, whose form lists every point.
        assert client.post(f"/review/{item.id}/return", data={"reason": "Check the dates."}).status_code == 302
        assert 'value="Dec 9999"' in open_ok(client, f"/my-submissions/{item.id}/edit")
        points = {
            "point_period_0": "Feb 2026",
            "point_value_0": "22",
            "point_period_1": "Dec 2026",
            "point_value_1": "30",
            "point_period_2": "",
            "point_value_2": "",
        }
        data = {**form_data(Kind.METRIC), "version": db.session.get(EvidenceItem, item.id).version, **points}
        response = client.post(f"/my-submissions/{item.id}/edit", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
        db.session.expire_all()
        assert [(p.period, p.value) for p in db.session.get(EvidenceItem, item.id).points] == [
            (date(2026, 2, 1), 22.0),
            (date(2026, 12, 1), 30.0),
        ]
    else:
        # The accepted item's edit form shows the value held; saved back as it stands it is refused, naming the field.
        edit = f"/evidence/{item.id}/edit"
        field = re.search(rf'<input[^>]*name="{column.key}"[^>]*>', open_ok(client, edit)).group(0)
        shown = html.unescape(re.search(r'value="([^"]*)"', field).group(1)) if 'value="' in field else ""
        version = db.session.get(EvidenceItem, item.id).version
        if shown:
            data = {**form_data(item.kind), column.key: shown, "version": version}
            response = client.post(edit, data=data)
            assert response.status_code == 422
            assert f"{FIELD_LABELS[column.key]}: " in html.unescape(response.get_data(as_text=True))
            db.session.expire_all()
            assert db.session.get(EvidenceItem, item.id).version == version
        data = {**form_data(item.kind), "version": version}
        response = client.post(edit, data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
        db.session.expire_all()
        stored = getattr(db.session.get(EvidenceItem, item.id), column.key)
        assert stored is not None and stored != value
        assert not isinstance(stored, float) or math.isfinite(stored)
    # The audit trail records what was put right, as JSON PostgreSQL takes.
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(3)).all()
    for event in events:
        json.dumps([event.before, event.after], allow_nan=False)


@pytest.mark.parametrize(
    ("score", "category_scores"),
    [(9, None), (0, {"peoples-experience": 9}), (-3, {"peoples-experience": "3", "processes": 3000000000})],
)
def test_a_stored_score_outside_one_to_four_reads_as_unscored_and_breaks_nothing(client, login, score, category_scores):
    login(Role.ADMIN)
    round_ = make_round()
    db.session.add(Assessment(round=round_, statement=statement("safe-pathways"), score=3, rationale="Sound."))
    db.session.commit()
    db.session.execute(
        update(Assessment).values(score=score, category_scores=category_scores)
    )  # past every check, as a script could
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(Assessment.score)) is None  # read back as not scored

    for address in ("/dashboard", "/statements", "/statements/safe-pathways", "/rounds", f"/rounds/{round_.id}"):
        assert "Not scored" in open_ok(client, address) or address in ("/dashboard", "/rounds")
    download(client, round_, "xlsx")
    download(client, round_, "markdown")
    for fmt in ("xlsx", "csv"):  # the action tracker's lists
        assert client.get(f"/actions/download.{fmt}").status_code == 200
    load_workbook(io.BytesIO(client.get("/actions/download.xlsx").get_data()), read_only=True).close()
    assert client.post(f"/rounds/{round_.id}/sign-off", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, round_.id).snapshot["assessments"][0]["score"] is None
    open_ok(client, f"/statements/safe-pathways?round={round_.id}")
