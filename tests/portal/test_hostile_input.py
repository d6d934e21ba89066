"""Hostile input into every form of every evidence kind and every import: no server error, nothing half-written.

The forms are discovered, not listed (``bench.hostile_site``): the sample holds an item of every kind
in every state a form acts on, and each page is opened as the role that uses it. One field at a time
gets a hostile value while the others keep good ones, so the value reaches the code behind the form.
Every post must answer without a server error; a refused one must leave every table but the audit
trail as it was, an accepted one may change only its form's own tables, and the pages showing what
it stored must still open. Hypothesis explores new values on each local run and replays the same
ones in CI; the values at and past every bound (``BOUNDS``) go through every typed field and every
typed import column on every run. ``python -m bench.hostile`` sends ten thousand of them.
"""

from __future__ import annotations

import os

import pytest
from flask import flash, redirect, request, url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bench import hostile_inputs as hi
from bench.hostile_site import (
    PATH_FIELD,
    Case,
    Field,
    Form,
    Site,
    Target,
    hostile_import,
    import_specs,
    odd_imports,
    send_import,
)
from evidence.db import db
from evidence.models import EvidenceItem, Round
from evidence.vocab import Kind, Role
from portal.permissions import SIGNED_IN, allow
from tests.factories import make_item, make_round

CI = bool(os.environ.get("CI"))  # CI replays the same examples; local runs explore new ones

# The hostile text the export tests also put into every plain-text field of every format.
HOSTILE_SAMPLES = list(hi.VALUES[hi.TEXT])
HOSTILE_TEXT = st.one_of(st.sampled_from(HOSTILE_SAMPLES), st.text(max_size=300))


def hypothesis_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=CI,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture
def site(app) -> Site:
    site = Site(app)
    site.reset()
    return site


class Attack:
    """Posts cases into one form, and builds its page afresh after a post that went through."""

    def __init__(self, site: Site, target: Target, failures: list[str]):
        self.site, self.target, self.failures = site, target, failures

    def __call__(self, case: Case) -> None:
        outcome = self.site.post(self.target, case)
        for problem in filter(None, (outcome.error, outcome.partial)):
            self.failures.append(f"{self.target.name}: {case.describe()} → {outcome.status}: {problem}")
        if outcome.accepted or outcome.error:
            self.target = self.site.refresh(self.target)


def _typed_inputs(target: Target):
    """The fields that take numbers, dates, periods or ids: one of each repeated row (metric values)."""
    seen = set()
    for f in target.inputs:
        row = f.name.rstrip("0123456789").rstrip("_") if f.name[-1].isdigit() else f.name
        row = "category" if row.startswith("category_") else row
        if f.value_class != hi.TEXT and f.kind != "checkbox" and row not in seen:
            seen.add(row)
            yield f


def _assert_every_form_is_there(targets: list[Target]) -> None:
    names = {t.name for t in targets}
    for kind in Kind:
        label = kind.label.lower()
        for form in ("Submit", "Review", "Return", "Correct and resubmit", "Map from the item page"):
            assert f"{form}: {label}" in names
    expected = {
        "Add a metric value",
        "Statement: save assessment",
        "Statement: map evidence",
        "Statement: add action",
        "Statement: edit action",
        "Statement: remove a mapping",
        "Rounds: create",
        "Rounds: sign off",
        "Exports: download",
        "Admin: add user",
        "Admin: change role",
        "Admin: disable or enable",
        "Sign in",
        "Account: create an API token",
        "Admin: sign-in settings",
        *(f"Import {s.label.lower()}: confirm form" for s in import_specs()),
    }
    assert expected <= names, expected - names


def _form_attacker(attack: Attack):
    """Up to three fields of the form at once get a value from the catalogue or any text; a button is pressed."""
    inputs = attack.target.inputs

    @hypothesis_settings(3)
    @given(st.data())
    def attack_form(data):
        values = {}
        if inputs:
            chosen = st.lists(st.sampled_from(inputs), min_size=1, max_size=3, unique_by=lambda f: f.name)
            for f in data.draw(chosen):
                values[f.name] = data.draw(st.sampled_from(hi.values_for(f.value_class)) | st.text(max_size=300))
        attack(Case(tuple(values.items()), data.draw(st.integers(0, 7))))

    return attack_form


@pytest.mark.slow
def test_every_form_of_every_kind_survives_hostile_input(site):
    targets = site.discover()
    _assert_every_form_is_there(targets)
    failures: list[str] = []
    for target in targets:
        _form_attacker(Attack(site, target, failures))()
    assert failures == [], "\n".join(failures[:30])


@pytest.mark.slow
def test_every_typed_field_of_every_form_holds_at_its_bounds(site):
    """Numbers past every column type, year 9999 and year 0, and ids too large, one field at a time.
    A field every kind's form shares (the period, the version) gets every value on the first kind's form
    and the first value on the others'."""
    failures: list[str] = []
    tried = set()
    for target in site.discover():
        attack = Attack(site, target, failures)
        for f in _typed_inputs(target):
            values = hi.BOUNDS[f.value_class]
            for value in values if (target.endpoint, f.name) not in tried else values[:1]:
                attack(Case.of(**{f.name: value}))
            tried.add((target.endpoint, f.name))
        if any(part.isdigit() for part in target.form.action.split("?")[0].split("/")):
            attack(Case.of(**{PATH_FIELD: hi.TWENTY_DIGITS}))
    assert failures == [], "\n".join(failures[:30])


def _import_failures(site: Site, kind: str, upload: hi.ImportFile) -> list[str]:
    return [
        f"import {kind}, {upload.what}: {step} → {outcome.status}: {problem}"
        for step, outcome in send_import(site, kind, upload).items()
        for problem in filter(None, (outcome.error, outcome.partial))
    ]


@pytest.mark.slow
def test_every_typed_import_column_holds_at_its_bounds_in_preview_and_confirm(site):
    failures: list[str] = []
    for spec in import_specs():
        for column, value_class in spec.classes.items():
            for value in hi.BOUNDS.get(value_class, ()):
                for fmt in (hi.CSV, hi.XLSX):
                    failures += _import_failures(site, spec.kind, hostile_import(site, spec, column, value, fmt))
    assert failures == [], "\n".join(failures[:30])


@pytest.mark.slow
def test_broken_disguised_and_oversized_files_are_refused_cleanly(site):
    """The file checks are shared; the register has limits and a sheet of its own (the benchmark tries all four)."""
    failures: list[str] = []
    for spec in (s for s in import_specs() if s.kind in ("survey", "register")):
        for upload in odd_imports(site, spec):
            failures += _import_failures(site, spec.kind, upload)
    assert failures == [], "\n".join(failures[:30])


def _import_attacker(site: Site, spec, failures: list[str]):
    """One cell of a good row gets a value from the catalogue or any text, in a CSV file or a workbook."""

    @hypothesis_settings(6)
    @given(st.data())
    def attack_import(data):
        column = data.draw(st.sampled_from(spec.header))
        value = data.draw(st.sampled_from(hi.values_for(spec.classes[column])) | st.text(max_size=200))
        fmt = data.draw(st.sampled_from((hi.CSV, hi.XLSX)))
        failures.extend(_import_failures(site, spec.kind, hostile_import(site, spec, column, value, fmt)))

    return attack_import


@pytest.mark.slow
def test_every_import_column_survives_hostile_cells(site):
    failures: list[str] = []
    for spec in import_specs():
        _import_attacker(site, spec, failures)()
    assert failures == [], "\n".join(failures[:30])


def test_the_check_reports_a_write_left_by_a_refused_post_and_a_server_error(app):
    """The judge itself: a view that writes and then refuses, or writes what its form does not own, or raises."""

    @allow(*SIGNED_IN)
    def careless():
        db.session.add(Round(name=f"Written by {request.form['how']}"))
        db.session.commit()
        if request.form["how"] == "raise":
            raise RuntimeError("the view failed")
        if request.form["how"] == "refuse":
            return "refused", 422
        flash("Saved.", "success")
        return redirect("/")

    app.add_url_rule("/careless", "careless", careless, methods=["POST"])
    site = Site(app)
    site.reset()
    form = Form("/careless", {"how": Field("how", "text", [""])})
    target = Target("Careless", "careless", Role.STAFF, "/careless", form, {"how": ["refuse"]}, spec=None)

    refused = site.post(target, Case.of())
    assert not refused.accepted and refused.status == 422
    assert refused.partial == "refused (422) but changed round (1 row)"
    accepted = site.post(target, Case.of(how="accept"))
    assert accepted.accepted and accepted.partial == "accepted but also changed round (1 row)"
    failed = site.post(target, Case.of(how="raise"))
    assert failed.error.startswith("RuntimeError: the view failed")
    assert failed.partial == "answered 500 and changed round (1 row)"


# What people (or scanners) put in the query strings of pages: oversized and non-ASCII numbers,
# a NUL, a negative page, an impossible date, LIKE wildcards.
HOSTILE_QUERY = ["99999999999999999999", "²", "\x00", "-1", "2026-02-30", "%_"]
QUERY_NAMES = ["q", "kind", "statement", "category", "stance", "status", "owner", "stale", "date_from",
               "date_to", "sort", "page", "round", "a", "b", "format", "show"]  # fmt: skip


@pytest.mark.slow
def test_every_page_survives_hostile_query_strings(app, client, login):
    login(Role.ADMIN)
    make_item("Probe item")  # fills the pages' addresses
    make_round()
    pages = []
    with app.test_request_context():
        item_id = db.session.scalar(select(func.min(EvidenceItem.id)))
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            args = {name: "safe-pathways" if name == "key" else item_id for name in rule.arguments}
            pages.append(url_for(rule.endpoint, **args))
    failures = [
        f"{page}?{name}={value!r} answered {status}"
        for page in sorted(set(pages))
        for name in QUERY_NAMES
        for value in HOSTILE_QUERY
        if (status := client.get(page, query_string={name: value}).status_code) >= 500
    ]
    assert failures == [], "\n".join(failures[:20])
