"""The change history as people read it: every kind of change the portal records, in words, never raw."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from evidence import history, imports
from evidence.access import accounts, api_tokens, passwords, sso
from evidence.assessment import peer
from evidence.assessment.actions import create_action, update_action
from evidence.assessment.assessments import save_assessment
from evidence.assessment.rounds import create_round, sign_off
from evidence.db import db
from evidence.framework_sync import replace_framework
from evidence.library import items, mappings, metrics, storage
from evidence.models import AuditEvent
from evidence.together import comments
from evidence.vocab import ActionStatus, Kind, Role, Stance, Status
from exports.packs import export_round
from quality_statements.loader import load_default_framework
from tests.conftest import PASSWORD, sign_in
from tests.evidence.imports.test_imports import METRIC_HEADER, SURVEY_HEADER, csv_file, survey_row
from tests.factories import category, make_item, statement

ROOT = Path(__file__).resolve().parents[2]
CODE = [p for folder in ("evidence", "exports", "portal") for p in (ROOT / folder).rglob("*.py")]


# --- Every action the code records has words ------------------------------------------------------------


def _recorded_actions() -> set[str]:
    """The actions every ``audit.record(...)`` in the code can record, read from the source.

    The first argument is a string, a choice of strings, a module constant or (in the items module)
    a parameter whose values are passed as ``action=...``; ``record_new`` records "create" and
    ``record_change`` "update"."""
    found: set[str] = set()
    for path in CODE:
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        passed = {
            kw.value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            for kw in node.keywords
            if kw.arg == "action" and isinstance(kw.value, ast.Constant)
        }
        defaults = {
            default.value
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)
            for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
            if arg.arg == "action" and isinstance(default, ast.Constant)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            owner = (
                node.func.value.id
                if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                else ""
            )
            if name == "record_new" and owner == "audit":
                found.add("create")
            if name == "record_change" and owner == "audit":
                found.add("update")
            if name != "record" or owner != "audit" or not node.args:
                continue
            found |= _values(node.args[0], constants, passed | defaults, path)
    return found


IMPORTED = {"SIGN_IN": accounts.SIGN_IN, "SIGN_IN_FAILED": accounts.SIGN_IN_FAILED}


def _values(node: ast.expr, constants: dict, passed: set[str], path: Path) -> set[str]:
    """The strings an action argument can be: a literal, either branch of a choice, or a name's values."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body, constants, passed, path) | _values(node.orelse, constants, passed, path)
    if isinstance(node, ast.Name) and node.id == "action":
        return passed
    if isinstance(node, ast.Name) and (node.id in constants or node.id in IMPORTED):
        return {constants.get(node.id) or IMPORTED[node.id]}
    raise AssertionError(f"{path}: cannot tell what {ast.unparse(node)} records")


def test_every_action_the_code_records_has_words():
    recorded = _recorded_actions()
    assert {"create", "update", "accept", "return", "sign_off", "export", "sign_in", "resubmit"} <= recorded
    assert sorted(recorded - set(history.ACTIONS)) == [], "give each new audit action its words in history.ACTIONS"


# --- Every recorded change renders without raw values ------------------------------------------------------

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
RAW_ID = re.compile(r"\bid\b|\bid \d", re.IGNORECASE)
VOCAB_CODES = {m.value for v in (Kind, Status, Stance, ActionStatus, Role) for m in v if m.value != m.label}


@pytest.fixture
def everything(app, client, make_user):
    """The portal's every kind of change, made the way people make them."""
    lead = make_user(Role.QUALITY_LEAD, email="priya.lead@example.gov.uk", name="Priya Lead")
    staff = make_user(Role.STAFF, name="Sam Whitcombe")
    manager = make_user(Role.MANAGER, name="Morgan Manager")
    admin = make_user(Role.ADMIN, name="Ada Admin")

    quote = items.create_item(
        Kind.QUOTE,
        {
            "title": "A carer on the discharge",
            "source": "Carers' forum",
            "quote_text": "Mrs Patel rang 01632 960 123 every day and nobody called back.",
            "speaker_role": "Carer",
            "voice": "carer",
            "quote_tone": "barrier",
            "suggested_statements": ["safe-pathways"],
        },
        user=staff,
    )
    items.return_item(quote, user=lead, reason="Please remove the name and the phone number.")
    items.resubmit(
        quote,
        {"quote_text": "Mrs Patel rang every day and nobody called back."},
        user=staff,
        expected_version=quote.version,
        files=[storage.store(b"%PDF-1.4\n%%EOF\n", "forum notes.pdf", app.config["UPLOAD_DIR"])],
    )
    items.accept_item(quote, user=lead, confirm_personal_data=True)
    survey = items.create_item(
        Kind.SURVEY,
        {"title": "Carers feel listened to", "source": "SACE", "survey_name": "SACE", "result_percent": 55.0},
        user=staff,
    )
    items.accept_item(survey, user=lead)
    long_summary = "**61%** of carers said they felt listened to in every locality. " + " ".join(
        f"Locality {n} reported {50 + n}% agreement." for n in range(1, 12)
    )
    items.update_item(
        survey,
        {
            "result_percent": 61.0,
            "respondents": 1204,
            "review_by": date(2027, 3, 31),
            "summary": long_summary,
        },
        user=lead,
    )
    items.update_item(survey, {"summary": long_summary.replace("every locality", "all eleven localities")}, user=lead)
    metric = make_item("Delayed discharges", kind=Kind.METRIC, unit="days", target=5.0, direction="lower")
    metrics.add_point(metric, "2026-07", 6.5, lead)
    metrics.add_point(metric, "2026-07", 5.5, lead, replace=True)
    metrics.add_comparator_point(metric, "England average", "2026-07", 7.5, lead)
    metrics.add_comparator_point(metric, "England average", "2026-07", 7.0, lead, replace=True)
    mapping = mappings.add_mapping(
        survey, statement("safe-pathways"), category("peoples-experience"), "strength", "", lead
    )
    mappings.remove_mapping(mapping, user=lead)

    round_ = create_round("Spring 2027 self-assessment", lead)
    first = {"score": 2, "rationale": f"**Mixed** evidence [{survey.reference}]."}
    save_assessment(round_, statement("safe-pathways"), first, 0, lead)
    save_assessment(
        round_,
        statement("safe-pathways"),
        {"score": 3, "rationale": "Better now.", "category_scores": {"peoples-experience": 3}},
        1,
        lead,
    )
    action = create_action(
        statement("safe-pathways"),
        {"description": "Call every carer back within a day", "owner": "Carers lead", "due_date": date(2027, 1, 31)},
        lead,
        round_,
    )
    update_action(
        action, {"description": action.description, "owner": "Carers lead", "status": ActionStatus.IN_PROGRESS}, lead
    )
    reviewer = make_user(Role.PEER_REVIEWER, email="pat.peer@example.gov.uk", name="Pat Peer")
    peer.open_challenge(round_, manager)
    peer.invite(round_, reviewer, manager)
    peer.save_rating(round_, statement("safe-pathways"), reviewer, 2, "Where do carers say so themselves?")
    peer.save_response(round_, statement("safe-pathways"), lead, "The carers' survey is cited.")
    peer.uninvite(round_, reviewer, manager)
    posted = comments.comment_on_item(survey, lead, "Is @Sam Whitcombe content with **this**?")
    comments.toggle_resolved(posted.comment, lead)
    comments.toggle_resolved(posted.comment, lead)
    export_round(round_, "xlsx", user=manager)
    sign_off(round_, manager, confirmed=True)
    create_round("Autumn 2027 self-assessment", lead, carry_forward_from=round_)

    survey_file = csv_file([SURVEY_HEADER, survey_row()])
    imports.import_file(imports.get_importer("survey"), "survey.csv", survey_file, lead)
    metric_file = csv_file([METRIC_HEADER, [metric.reference, "2026-08", "5"], ["New metric", "2026 Q2", "3"]])
    imports.import_file(imports.get_importer("metric"), "metrics.csv", metric_file, lead)

    newcomer = accounts.create_user("new.person@example.gov.uk", "New Person", Role.STAFF, "a long enough password")
    accounts.change_role(newcomer, Role.MANAGER, admin)
    passwords.set_temporary(newcomer, "a temporary password 1", by=admin)
    passwords.use_link(passwords.issue_link(newcomer, by=admin).token, "a new long enough password")
    passwords.change_own(newcomer, "a new long enough password", "another long enough password")
    accounts.set_active(newcomer, False, admin)
    replace_framework(replace(load_default_framework(), version="2027.1"), by=admin)
    token = api_tokens.create(admin, "Nightly report", api_tokens.Scope.READ)
    api_tokens.revoke(token.token, by=admin)
    sso.save_rules(sso.SignInRules(create_users=True, role_mapping={"ASC Leads": Role.QUALITY_LEAD}), by=admin)
    identity = sso.Identity("https://login.example", "abc", "jo@example.gov.uk", True, "Jo Directory", ("ASC Leads",))
    sso.sign_in(identity, sso.load_rules(), "127.0.0.1")
    sso.refuse("the directory did not answer", "jo@example.gov.uk", "127.0.0.1")
    sso.refuse_password("jo@example.gov.uk", "127.0.0.1")
    sign_in(client, lead)
    sign_in(client, lead, PASSWORD + "wrong")
    return {"lead": lead, "staff": staff, "survey": survey, "quote": quote, "round": round_, "metric": metric}


def _texts(entry: history.Entry) -> list[str]:
    return [
        entry.what,
        *(c.label for c in entry.changes),
        *(v for c in entry.changes for v in (c.before, c.after) if v),
    ]


def test_every_recorded_change_reads_in_words(everything):
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert set(history.ACTIONS) <= {e.action for e in events} | {"import"}  # each action is exercised
    unlabelled = {name for e in events for name in [*(e.before or {}), *(e.after or {})] if name not in history.LABELS}
    assert unlabelled == set(), "give each recorded field its label in history.LABELS"
    problems = []
    for event, entry in zip(events, history.entries(events), strict=True):
        for text in _texts(entry):
            for pattern in (SNAKE, ISO, RAW_ID):
                if pattern.search(text):
                    problems.append(f"{event.action} {event.entity_type}: {text!r} ({pattern.pattern})")
        for change in entry.changes:
            for value in (change.before, change.after):
                if value in VOCAB_CODES or (value and "**" in value):
                    problems.append(f"{event.action} {event.entity_type}: {change.label} = {value!r}")
    assert problems == []


def _changes(entity_type: str, entity_id: int) -> list[dict[str, tuple]]:
    return [{c.label: (c.before, c.after) for c in e.changes} for e in history.history(entity_type, entity_id)]


def test_names_labels_dates_and_units_replace_ids_codes_and_raw_numbers(everything):
    survey, quote = everything["survey"], everything["quote"]
    edit = _changes("evidence_item", survey.id)[3]  # newest first: unmapped, mapped, edited again, edited
    assert edit["Result (%)"] == ("55%", "61%")
    assert edit["Respondents (n)"] == ("—", "1,204")
    assert edit["Review by"][1] == "31 Mar 2027"
    assert edit["Summary"][1].startswith("61% of carers said")  # markdown read as text
    assert _changes("evidence_item", survey.id)[-1]["Owner"] == (None, "Sam Whitcombe")
    created = _changes("evidence_item", quote.id)[-1]
    assert created["Whose voice"] == (None, "Carer")
    assert created["Barrier or facilitator"] == (None, "Barrier")
    assert created["Suggested quality statements"] == (None, "Safe pathways, systems and transitions")
    entries = history.history("round", everything["round"].id)
    signed = next(e for e in entries if e.what.startswith("Signed off"))
    signed_changes = {c.label: (c.before, c.after) for c in signed.changes}
    assert signed_changes["Status"] == ("Open", "Signed off")
    assert signed_changes["Signed off by"] == ("—", "Morgan Manager")
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}", signed_changes["Signed off"][1])
    exported = next(e for e in entries if e.what.startswith("Exported"))
    assert {c.label: c.after for c in exported.changes}["Format"] == "Excel workbook"
    values = _changes("evidence_item", everything["metric"].id)
    assert {"Period": (None, "Jul 2026"), "Value": (None, "6.5 days")} in values


def test_long_text_shows_only_the_part_that_changed(everything):
    before, after = _changes("evidence_item", everything["survey"].id)[2]["Summary"]
    assert "in every locality." in before and "in all eleven localities." in after
    assert before.startswith("… of carers said") and before.endswith("…") and len(before) < 140


def test_a_status_is_named_in_the_words_of_its_own_vocabulary(everything):
    [action_history] = [e for e in history.history("round", everything["round"].id) if e.what.startswith("Created")]
    assert {c.label: c.after for c in action_history.changes}["Status"] == "Open"
    action_events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "action")).all()
    updated = next(e for e in history.entries(action_events) if e.what.startswith("Status changed"))
    assert {c.label: (c.before, c.after) for c in updated.changes}["Status"] == ("Open", "In progress")


def test_pages_show_the_readable_history(everything, client):
    sign_in(client, everything["lead"])
    page = client.get(f"/evidence/{everything['survey'].id}").get_data(as_text=True)
    trail = page[page.index("Change history") :]
    assert "Sam Whitcombe" in trail and "Priya Lead" in trail and "61%" in trail
    assert "Owner id" not in trail and "owner_id" not in trail and "**" not in trail
    round_page = client.get(f"/rounds/{everything['round'].id}").get_data(as_text=True)
    trail = round_page[round_page.index("Change history") :]
    assert "Morgan Manager" in trail and "signed_off" not in trail and "Signed off by id" not in trail
    statement_page = client.get(f"/statements/safe-pathways?round={everything['round'].id}").get_data(as_text=True)
    trail = statement_page[statement_page.index("Change history") :]
    assert "3 · Evidence shows a good standard" in trail and "People&#39;s experience: 3" in trail


def test_an_id_whose_row_is_gone_still_reads_in_words(app, make_user):
    now = make_user(Role.STAFF, name="Sam Whitcombe")
    event = AuditEvent(
        action="update", entity_type="evidence_item", entity_id=999, before={"owner_id": 41}, after={"owner_id": now.id}
    )
    [entry] = history.entries([event])
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("Owner", "an account since removed", "Sam Whitcombe")
    ]
