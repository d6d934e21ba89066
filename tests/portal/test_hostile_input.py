"""Hostile input into every form: no error page, a clear message, and nothing changed.

The forms are discovered, not listed: every page a curator can open is fetched,
each POST form on it is parsed, and hypothesis fills its fields with long text,
control characters, emoji, SQL and HTML fragments, extreme numbers and bad
dates. A refused post must leave every table as it was; none may answer 500.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from evidence.db import db
from evidence.models import EvidenceItem
from evidence.vocab import Role
from tests.factories import make_item, make_round

# Hostile text for every form field; the export tests also put each of these into every plain-text field.
HOSTILE_SAMPLES = [
    "",
    " ",
    "x" * 20_000,
    "'; DROP TABLE evidence_item; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '=HYPERLINK("http://x","y")',
    "\x00\x01\x02\x1b[31m",
    "🙂👍🏽 ∑ ñ",
    "-1",
    "-99999999999999999999",
    "1e308",
    "NaN",
    "2026-02-30",
    "31/31/2026",
    "0001-01-01",
    "E-999999",
    "../../etc/passwd",
]
HOSTILE_TEXT = st.one_of(st.sampled_from(HOSTILE_SAMPLES), st.text(max_size=300))


class _Forms(HTMLParser):
    """Collects each POST form's action and the names of its fields (and a select's options)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            self._current = {"action": attrs.get("action") or "", "fields": {}, "options": {}}
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "textarea", "select") and attrs.get("name"):
            if attrs.get("type") in ("submit", "button", "file"):
                return
            self._current["fields"][attrs["name"]] = attrs.get("value", "")
            if tag == "select":
                self._select = attrs["name"]
                self._current["options"][attrs["name"]] = []
        elif tag == "option" and self._current is not None and self._select:
            self._current["options"][self._select].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _discover(app, client) -> list[tuple[str, str, dict, dict]]:
    """(page, action, fields, options) for every POST form on every parameterless or sample page."""
    item = make_item("Probe item")
    make_round()
    pages = set()
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in ("static", "auth.sign_in", "health.healthz"):
                continue
            args = {}
            for name in rule.arguments:
                args[name] = "safe-pathways" if name == "key" else item.id
            try:
                pages.add(url_for(rule.endpoint, **args))
            except Exception:
                continue
    found = {}
    for page in sorted(pages):
        response = client.get(page)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            action = form["action"] or page
            if action.endswith("/sign-out"):
                continue
            found.setdefault((action, tuple(sorted(form["fields"]))), (page, action, form["fields"], form["options"]))
    return list(found.values())


def _attacker(client, action: str, fields: dict, options: dict, failures: list[str]):
    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        derandomize=bool(os.environ.get("CI")),  # CI replays the same examples; local runs explore new ones
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.data())
    def attack(data):
        values = {}
        for name in fields:
            if name == "csrf_token":
                continue
            if options.get(name) and data.draw(st.booleans()):
                values[name] = data.draw(st.sampled_from(options[name]))
            else:
                values[name] = data.draw(HOSTILE_TEXT)
        before = _counts()
        response = client.post(action, data=values)
        if response.status_code >= 500:
            failures.append(f"{action} answered {response.status_code} for {values!r:.300}")
            return
        db.session.rollback()
        if response.status_code != 302:
            after = _counts()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k] and k != "audit_event"}
            if changed:
                failures.append(f"{action} refused the input ({response.status_code}) but changed {changed}")

    return attack


@pytest.mark.slow
def test_every_form_survives_hostile_input(app, client, login):
    login(Role.ADMIN)
    forms = _discover(app, client)
    assert len(forms) >= 3, f"too few forms found to test: {forms}"
    failures: list[str] = []
    for _page, action, fields, options in forms:
        _attacker(client, action, fields, options, failures)()
    assert failures == [], "\n".join(failures[:20])


# What people (or scanners) put in the query strings of pages: oversized and non-ASCII numbers,
# a NUL, a negative page, an impossible date, LIKE wildcards.
HOSTILE_QUERY = ["99999999999999999999", "²", "\x00", "-1", "2026-02-30", "%_"]
QUERY_NAMES = ["q", "kind", "statement", "category", "stance", "status", "owner", "stale", "date_from",
               "date_to", "sort", "page", "round", "a", "b", "format", "show"]  # fmt: skip


@pytest.mark.slow
def test_every_page_survives_hostile_query_strings(app, client, login):
    login(Role.ADMIN)
    _discover(app, client)  # the sample item and round that fill the pages' addresses
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
