"""A portal under hostile input: sample data, the forms found on its pages, and what each post did.

``Site`` wraps an app (in an app context the caller holds) and its test clients, one signed in per
role. ``Site.reset()`` empties the evidence, rounds and audit trail and builds the sample every form
needs: an item of every kind in every state a form acts on (submitted for review, returned to its
staff owner, accepted with a mapping), a metric with points, an open round with an action.
``Site.discover()`` opens each page that holds a form, as the role that uses it, and parses its POST
forms into ``Target``s. ``Site.post()`` sends one set of values and reports an ``Outcome``: whether
the portal answered with a server error, accepted or refused the values, and whether the database
changed in a way it should not (a refused post that changed any table other than the audit trail, or
an accepted one that changed a table its form does not own). After an accepted post the pages that
show what was stored are opened again, and the form is saved again with good values, so that a stored
bad value that breaks a later page or save is caught at the post that stored it.
"""

from __future__ import annotations

import io
import itertools
import re
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from flask import g
from sqlalchemy import delete, select, update
from werkzeug.datastructures import MultiDict

from bench import hostile_inputs as hi
from evidence.assessment import round_view
from evidence.db import db
from evidence.framework_sync import sync_framework
from evidence.library.mappings import new_mapping
from evidence.models import (
    Action,
    EvidenceCategory,
    EvidenceItem,
    MetricPoint,
    QualityStatement,
    Round,
    User,
    today,
)
from evidence.vocab import Kind, Role, Stance, Status

PASSWORD = "hostile input password 42"
ROLES = (Role.STAFF, Role.QUALITY_LEAD, Role.MANAGER, Role.ADMIN)
ANONYMOUS = "anonymous"
ROOT = Path(__file__).resolve().parent.parent
CODE = tuple(str(ROOT / package) for package in ("portal", "evidence", "exports", "quality_statements"))

# --- Good values for every field, so that one hostile field at a time reaches the code behind the form -----------

GOOD: dict[str, str] = {
    "title": "Carers feel listened to in assessments",
    "summary": "Most carers said they were listened to.",
    "source": "Carers' survey 2026",
    "period_start": "2026-04-01",
    "period_end": "2026-06-30",
    "review_by": "2027-06-30",
    "survey_name": "Survey of Adult Carers",
    "question": "Were you listened to?",
    "respondents": "120",
    "result_percent": "61",
    "population": "Carers",
    "unit": "days",
    "target": "10",
    "quote_text": "They listened to me.",
    "speaker_role": "Carer 2",
    "link_url": "https://council.example/policy",
    "evidences": "How transitions are planned",
    "partner_organisation": "Integrated care board",
    "feedback_method": "Partnership board",
    "cases_reviewed": "25",
    "audit_outcome": "Most plans were reviewed on time.",
    "setting": "Discharge huddle",
    "observer_role": "Principal social worker",
    "point_period_0": "2026 Q1",
    "point_value_0": "70",
    "reason": "Please name the survey's source.",
    "period": "2026 Q3",
    "value": "72",
    "name": "England average",
    "note": "Seen in the carers' survey.",
    "description": "Deliver transitions training",
    "owner": "Head of Transitions",
    "due_date": "2026-09-30",
    "rationale": "Strong evidence from carers.",
    "key_findings": "Carers feel heard.",
    "strengths": "Listening.",
    "areas_for_improvement": "Waiting times.",
    "override_reason": "",
    "password": "wrong password for this account",
}

# What the parts of a field's name say about the values it takes.
DATE_NAMES = {"period_start", "period_end", "review_by", "due_date", "date_from", "date_to"}
NUMBER_NAMES = {"respondents", "result_percent", "target", "cases_reviewed", "value", "score"}
ID_NAMES = {"round", "version", "reference", "a", "b", "digest"}

KIND_VALUES: dict[str, dict] = {
    Kind.SURVEY: {
        "survey_name": "Survey of Adult Carers",
        "question": "Were you listened to?",
        "respondents": 120,
        "result_percent": 61.0,
        "population": "Carers",
    },
    Kind.METRIC: {
        "unit": "days",
        "direction": "lower",
        "target": 10.0,
    },
    Kind.QUOTE: {"quote_text": "They listened.", "speaker_role": "Carer 2", "voice": "carer", "quote_tone": "neutral"},
    Kind.DOCUMENT: {"link_url": "https://council.example/policy", "evidences": "How transitions are planned"},
    Kind.PARTNER_FEEDBACK: {"partner_organisation": "Integrated care board", "feedback_method": "Partnership board"},
    Kind.CASE_AUDIT: {"cases_reviewed": 25, "audit_outcome": "Most plans were reviewed on time."},
    Kind.OBSERVATION: {"setting": "Discharge huddle", "observer_role": "Principal social worker"},
}

# Which tables an accepted post of each form may change (besides the audit trail).
MAY_CHANGE: dict[str, frozenset[str]] = {
    "submissions.new": frozenset({"evidence_item", "metric_point", "attachment"}),
    "submissions.edit": frozenset({"evidence_item", "metric_point", "attachment"}),
    "review.item": frozenset({"evidence_item"}),
    "review.send_back": frozenset({"evidence_item"}),
    "library.add_mapping": frozenset({"mapping"}),
    "library.remove_mapping": frozenset({"mapping"}),
    "library.add_point": frozenset({"metric_point"}),
    "library.add_comparator_point": frozenset({"comparator_series", "comparator_point"}),
    "statements.save": frozenset({"assessment"}),
    "statements.add_mapping": frozenset({"mapping"}),
    "statements.remove": frozenset({"mapping"}),
    "statements.add_action": frozenset({"action"}),
    "statements.edit_action": frozenset({"action"}),
    "statements.add_comment": frozenset({"comment", "notification"}),
    "library.add_comment": frozenset({"comment", "notification"}),
    "admin.council": frozenset({"setting"}),
    "actions.change_status": frozenset({"action"}),
    "rounds.create": frozenset({"round", "assessment", "action"}),
    "rounds.sign": frozenset({"round"}),
    "exports.download": frozenset({"jobs"}),  # the export runs as a job
    "admin.users": frozenset({"app_user"}),
    "admin.change_role": frozenset({"app_user"}),
    "admin.toggle_active": frozenset({"app_user"}),
    "auth.sign_in": frozenset(),
    "account.create_token": frozenset({"api_token"}),
    "sso_settings.edit": frozenset({"setting"}),
    "imports.upload": frozenset({"jobs"}),  # a large file's rows are checked by a job
    "imports.preview": frozenset(),
    "imports.confirm": frozenset(
        {"evidence_item", "mapping", "metric_point", "comparator_series", "comparator_point", "jobs"}
    ),
}


# Forms that show what they stored: after an accepted post, saving them again with what they show must work.
SAVED_AGAIN = frozenset({"review.item", "submissions.edit", "statements.save", "statements.edit_action"})


def field_class(name: str, options: list[str] = ()) -> str:
    """The class of hostile values that suit a field, read from its name (and a select's options)."""
    base = name.rsplit("-", 1)[-1]
    if base in DATE_NAMES:
        return hi.DATE
    if base.startswith("point_period") or base == "period":
        return hi.PERIOD
    if base.startswith("point_value") or base in NUMBER_NAMES or base.startswith("category_"):
        return hi.NUMBER
    if base in ID_NAMES or (options and all(o.isdigit() for o in options if o)):
        return hi.ID
    return hi.TEXT


# --- Forms as a browser sees them --------------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, hidden, select, radio, checkbox, checkboxes, submit
    value: list[str] = field(default_factory=list)  # what the page fills in or ticks
    options: list[str] = field(default_factory=list)

    @property
    def value_class(self) -> str:
        return field_class(self.name, self.options)


@dataclass
class Form:
    action: str
    fields: dict[str, Field]

    @property
    def inputs(self) -> list[Field]:
        """The fields a person fills in (not the CSRF token, not the buttons)."""
        return [f for f in self.fields.values() if f.kind != "submit" and f.name != "csrf_token"]

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return [(f.name, value) for f in self.fields.values() if f.kind == "submit" for value in f.options]


class FormParser(HTMLParser):
    """Every POST form of a page: its action and each named field with its filled-in value and options."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self._option: str | None = None

    def _add(self, name: str, kind: str) -> Field:
        existing = self._form.fields.get(name)
        if existing is None:
            existing = self._form.fields[name] = Field(name, kind)
        elif existing.kind == "checkbox" and kind == "checkbox":
            existing.kind = "checkboxes"
        return existing

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self._form = Form(attrs.get("action") or self.page, {})
                self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "option" and self._select is not None:
            self._option = attrs.get("value")
            if self._option is not None:
                self._select.options.append(self._option)
                if "selected" in attrs:
                    self._select.value = [self._option]
            return
        if not name:
            return
        if tag == "textarea":
            self._textarea = self._add(name, "textarea")
            self._textarea.value = [""]
        elif tag == "select":
            self._select = self._add(name, "select")
        elif tag == "button" and (attrs.get("type") or "submit") == "submit":
            self._add(name, "submit").options.append(attrs.get("value") or "")
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("file", "button", "reset", "image"):
                return
            value = attrs.get("value")
            if kind == "submit":
                self._add(name, "submit").options.append(value or "")
            elif kind in ("radio", "checkbox"):
                f = self._add(name, kind)
                f.options.append(value if value is not None else "on")
                if "checked" in attrs:
                    f.value.append(f.options[-1])
            else:
                self._add(name, "hidden" if kind == "hidden" else "text").value = [value or ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value = [self._textarea.value[0] + data]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            if self._select is not None and not self._select.value and self._select.options:
                self._select.value = [self._select.options[0]]
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None:
                self._textarea.value = [self._textarea.value[0].removeprefix("\n")]
            self._textarea = None


def parse_forms(page: str, html: str) -> list[Form]:
    parser = FormParser(page)
    parser.feed(html)
    return parser.forms


# --- What is hostile in one post --------------------------------------------------------------------------------

PATH_FIELD = "<address id>"  # the case replaces the last id in the form's address, not a field


@dataclass(frozen=True)
class Case:
    """Hostile values for some fields of a form (the others keep good values), and the button pressed."""

    values: tuple[tuple[str, str], ...]
    button: int = 0  # which of the form's named buttons, modulo their number

    @classmethod
    def of(cls, button: int = 0, **values: str) -> Case:
        return cls(tuple(values.items()), button)

    def describe(self) -> str:
        return ", ".join(f"{name}={_show(value)}" for name, value in self.values) or "good values"


def _show(value: str, limit: int = 48) -> str:
    text = repr(value)
    if len(value) > limit:
        text = repr(value[:limit]) + f"…({len(value):,} characters)"
    return text


# --- Pages that hold forms, and the sample data each needs -------------------------------------------------------


@dataclass
class Target:
    """One form on one page, posted as one role."""

    name: str  # e.g. "Review: survey finding"
    endpoint: str
    role: str
    page: str
    form: Form
    good: dict[str, list[str]]  # the good value of every input
    spec: PageSpec

    @property
    def inputs(self) -> list[Field]:
        return self.form.inputs


@dataclass(frozen=True)
class PageSpec:
    """A page to open as ``role``, built fresh by ``build`` (the page's address and any good values it needs);
    ``forms`` picks the forms on it by endpoint, naming each target."""

    role: str
    build: Callable[[Site], tuple[str, dict[str, str]]]
    forms: dict[str, str]  # endpoint -> target name
    keep: Callable[[Site, str], bool] | None = None  # more than one form per endpoint: which action to keep


@dataclass
class Outcome:
    status: int | None = None
    accepted: bool = False
    error: str | None = None  # a server error: where and what, or the status
    partial: str | None = None  # what changed that should not have
    changed: dict[str, set] = field(default_factory=dict)


class Site:
    def __init__(self, app):
        self.app = app
        self.clients = {}
        self.users: dict[str, User] = {}
        self.sample: dict[str, int] = {}
        self._counter = itertools.count(1)
        self._known: dict | None = None  # the snapshot taken after the last request, while still current
        # What a change tells: its audit event, the notifications it sends (``evidence.together``) and the
        # portfolio's version (``evidence.portfolio_version``), which every write moves on.
        told = ("audit_event", "notification", "portfolio_version")
        self._tables = [t for t in db.metadata.sorted_tables if t.name not in told]
        self._endpoints = app.url_map.bind("localhost")
        _fresh_login_per_request(app)

    # -- sample data

    def unique(self, text: str) -> str:
        return f"{text} {next(self._counter)}"

    def reset(self) -> None:
        """Empty everything the forms write, keep the framework and the people, build the sample again."""
        self._known = None
        db.session.rollback()
        keep = [u.id for u in self.users.values()]
        for name in (
            "audit_event",
            "notification",
            "comment",
            "metric_point",
            "comparator_point",
            "comparator_series",
            "attachment",
            "mapping",
            "action",
            "assessment",
            "peer_review",
            "peer_invite",
            "peer_challenge",
            "round",
        ):
            db.session.execute(db.metadata.tables[name].delete())
        db.session.execute(delete(EvidenceItem))
        if keep:
            db.session.execute(delete(User).where(User.id.not_in(keep)))
            for role, user in self.users.items():
                db.session.execute(update(User).where(User.id == user.id).values(role=str(role), active=True))
        db.session.commit()
        round_view.clear_cache()  # round ids may come round again
        if db.session.scalar(select(QualityStatement.id).limit(1)) is None:
            sync_framework()
        if not self.users:
            self._people()
        self._sample()

    def _people(self) -> None:
        for role in ROLES:
            user = User(email=f"hostile-{role}-{uuid.uuid4().hex[:6]}@example.gov.uk", name=f"Hostile {role}")
            user.role = str(role)
            user.set_password(PASSWORD)
            db.session.add(user)
            self.users[role] = user
        db.session.commit()
        # The sign-in form gets hostile values from an address of its own, so the throttle it trips
        # never stands between the other clients and their sign-in.
        for role, user in self.users.items():
            client = self.app.test_client()
            client.environ_base["REMOTE_ADDR"] = "192.0.2.10"
            response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"could not sign in as {role}: {response.status_code}")
            self.clients[role] = client
        anonymous = self.app.test_client()
        anonymous.environ_base["REMOTE_ADDR"] = "192.0.2.1"
        self.clients[ANONYMOUS] = anonymous

    def statement(self) -> QualityStatement:
        return db.session.scalar(select(QualityStatement).order_by(QualityStatement.position).limit(1))

    def category(self) -> EvidenceCategory:
        return db.session.scalar(select(EvidenceCategory).order_by(EvidenceCategory.position).limit(1))

    def item(self, kind: str, status: str = Status.ACCEPTED, *, points: bool = True, mapped: bool = False) -> int:
        staff = self.users[Role.STAFF]
        item = EvidenceItem(
            kind=str(kind),
            status=str(status),
            title=self.unique(f"Sample {Kind(kind).label.lower()}"),
            summary="A sample for the hostile-input run.",
            source="Sample source",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 3, 31),
            review_by=today() + timedelta(days=180),
            owner_id=staff.id,
            submitted_by_id=staff.id,
            suggested_statements=[],
            return_reason="Please add the source." if status == Status.RETURNED else None,
            **KIND_VALUES[kind],
        )
        if kind == Kind.METRIC and points:
            item.points.append(MetricPoint(period=date(2026, 1, 1), label="2026 Q1", value=11.0))
            item.points.append(MetricPoint(period=date(2026, 4, 1), label="2026 Q2", value=10.5))
        if mapped:
            new_mapping(item, self.statement(), self.category(), Stance.STRENGTH)
        return _saved(item)

    def _sample(self) -> None:
        self.sample = {"round": _saved(Round(name=self.unique("Hostile-input round")))}
        for kind in Kind:
            self.sample[f"accepted:{kind}"] = self.item(kind, mapped=True)
        self.sample["action"] = self.action()

    def action(self) -> int:
        action = Action(
            statement=self.statement(),
            description="Sample action",
            owner="Head of service",
            round_id=self.sample["round"],
        )
        return _saved(action)

    def open_round(self) -> int:
        return _saved(Round(name=self.unique("Round to sign off")))

    def person(self) -> int:
        user = User(email=f"{uuid.uuid4().hex[:10]}@example.gov.uk", name="Someone to change", role=str(Role.STAFF))
        user.set_password(PASSWORD)
        return _saved(user)

    def waiting_upload(self, kind: str) -> str:
        """Upload a good file to an import and return the address of its preview."""
        data = good_import_file(self, kind, hi.CSV)
        response = self.clients[Role.QUALITY_LEAD].post(
            f"/import/{kind}", data={"file": (io.BytesIO(data.data), data.filename)}
        )
        return response.headers.get("Location", f"/import/{kind}")

    # -- finding the forms

    def discover(self, specs: Iterable[PageSpec] | None = None) -> list[Target]:
        targets = []
        for spec in specs if specs is not None else page_specs():
            targets += self._open(spec)
        return targets

    def _open(self, spec: PageSpec, only: str | None = None) -> list[Target]:
        self._known = None
        page, good = spec.build(self)
        response = self.clients[spec.role].get(page)
        if response.status_code != 200:
            raise RuntimeError(f"{page} answered {response.status_code} to {spec.role}")
        found = []
        for form in parse_forms(page, response.get_data(as_text=True)):
            endpoint = self.endpoint(form.action)
            if endpoint not in spec.forms or (only and endpoint != only):
                continue
            if spec.keep is not None and not spec.keep(self, form.action):
                continue
            if any(t.endpoint == endpoint for t in found):
                continue
            goods = {f.name: self._good(f, good) for f in form.inputs}
            found.append(Target(spec.forms[endpoint], endpoint, spec.role, page, form, goods, spec))
        return found

    def _good(self, f: Field, overrides: dict[str, str]) -> list[str]:
        if f.name in overrides:
            return [overrides[f.name]]
        base = f.name.rsplit("-", 1)[-1]
        if f.kind == "checkbox":
            return f.options[:1]  # ticked: the confirmations let a post go all the way through
        if f.kind == "checkboxes":
            return f.value
        if f.kind in ("select", "radio"):
            chosen = [v for v in f.value if v] or [o for o in f.options if o][:1]
            return chosen or f.options[:1]
        if f.value and f.value[0].strip():
            return f.value
        if base in GOOD:
            return [GOOD[base]]
        return f.value or [""]

    def endpoint(self, address: str) -> str | None:
        parts = urlsplit(address)
        try:
            endpoint, _ = self._endpoints.match(parts.path, method="POST")
        except Exception:
            return None
        return endpoint

    def refresh(self, target: Target) -> Target:
        """The same form on a freshly built page (new sample objects), for the next post."""
        found = self._open(target.spec, only=target.endpoint)
        if not found:
            raise RuntimeError(f"{target.name}: the form is no longer on {target.page}")
        return found[0]

    # -- posting

    def data_for(self, target: Target, case: Case) -> tuple[str, MultiDict]:
        values = dict(case.values)
        data = MultiDict()
        for f in target.inputs:
            if f.name in values:
                data.add(f.name, values[f.name])
            else:
                for value in target.good[f.name]:
                    data.add(f.name, value)
        buttons = target.form.buttons
        if buttons:
            name, value = buttons[case.button % len(buttons)]
            data.add(name, value)
        action = target.form.action
        if PATH_FIELD in values:
            action = _replace_last_id(action, values[PATH_FIELD])
        return action, data

    def post(self, target: Target, case: Case) -> Outcome:
        action, data = self.data_for(target, case)
        client = self.clients[target.role]
        return self.request(
            lambda: client.post(action, data=data),
            client,
            MAY_CHANGE.get(target.endpoint, frozenset()),
            follow=target,
        )

    def request(self, send, client, may_change: frozenset[str], follow: Target | None = None) -> Outcome:
        """Send one request and judge it: server error, accepted or refused, and what it changed."""
        before = self._known or self.snapshot()
        self._known = None
        outcome = Outcome()
        try:
            response = send()
        except Exception as exc:  # the app raised: a server error, reported where it was raised
            db.session.rollback()
            outcome.error = describe_exception(exc)
            outcome.status = 500
            response = None
        db.session.rollback()
        if response is not None:
            outcome.status = response.status_code
            flashes = self._take_flashes(client)
            if response.status_code >= 500:
                outcome.error = f"answered {response.status_code}"
            categories = {category for category, _ in flashes}
            download = response.status_code == 200 and "text/html" not in (response.content_type or "")
            created = response.status_code == 201  # a page showing what was made, once (an API token)
            outcome.accepted = (
                "success" in categories
                or (300 <= response.status_code < 400 and "error" not in categories)
                or download
                or created
            )
        after = self.snapshot()
        outcome.changed = _diff(before, after)
        if outcome.changed:
            tables = set(outcome.changed)
            if not outcome.accepted and not outcome.error:
                outcome.partial = f"refused ({outcome.status}) but changed {_tables(outcome.changed)}"
            elif outcome.accepted and tables - may_change:
                outcome.partial = f"accepted but also changed {_tables(outcome.changed, tables - may_change)}"
            elif outcome.error:
                outcome.partial = f"answered 500 and changed {_tables(outcome.changed)}"
        if outcome.accepted and not outcome.error:
            problem = self.look_again(outcome.changed, follow)
            if problem:
                outcome.error = problem
        else:
            self._known = after  # nothing else ran since: the next request starts from here
        return outcome

    def _take_flashes(self, client) -> list[tuple[str, str]]:
        with client.session_transaction() as session:
            return list(session.pop("_flashes", []) or [])

    def get(self, role: str, address: str) -> str | None:
        """Open a page; a server error is returned as its description."""
        self._known = None
        try:
            response = self.clients[role].get(address)
        except Exception as exc:
            db.session.rollback()
            return f"then GET {address} raised {describe_exception(exc)}"
        finally:
            db.session.rollback()
            self._take_flashes(self.clients[role])
        if response.status_code >= 500:
            return f"then GET {address} answered {response.status_code}"
        return None

    def look_again(self, changed: dict[str, set], target: Target | None) -> str | None:
        """Open the pages that show what an accepted post stored, and save its form again with good values."""
        pages = []
        for (item_id,) in changed.get("evidence_item", ()):
            pages.append((Role.QUALITY_LEAD, f"/evidence/{item_id}"))
            status = db.session.scalar(select(EvidenceItem.status).where(EvidenceItem.id == item_id))
            if status == Status.SUBMITTED:
                pages.append((Role.QUALITY_LEAD, f"/review/{item_id}"))
            elif status == Status.RETURNED:
                pages.append((Role.STAFF, f"/my-submissions/{item_id}/edit"))
        for (item_id,) in {row[:1] for row in _rows_of(changed, "metric_point", MetricPoint, "item_id")}:
            pages.append((Role.QUALITY_LEAD, f"/evidence/{item_id}"))
        for (round_id,) in changed.get("round", ()):
            pages.append((Role.MANAGER, f"/rounds/{round_id}"))
        if any(changed.get(table) for table in ("assessment", "action", "mapping")):
            pages.append((Role.QUALITY_LEAD, f"/statements/{self.statement().key}"))
        if changed.get("app_user"):
            pages.append((Role.ADMIN, "/admin/users"))
        for role, address in dict.fromkeys(pages):
            problem = self.get(role, address)
            if problem:
                return problem
        if target is not None and target.endpoint in SAVED_AGAIN:
            return self._save_again(target)
        return None

    def _save_again(self, target: Target) -> str | None:
        """The same form, as the page now offers it, posted with its good values: it must not fail."""
        try:
            response = self.clients[target.role].get(target.page)
        except Exception as exc:
            db.session.rollback()
            return f"then GET {target.page} raised {describe_exception(exc)}"
        db.session.rollback()
        if response.status_code != 200:
            return None
        again = next(
            (f for f in parse_forms(target.page, response.get_data(as_text=True)) if f.action == target.form.action),
            None,
        )
        if again is None:
            return None
        data = MultiDict()
        for f in again.inputs:
            for value in self._good(f, {}) if f.kind != "checkbox" else target.good.get(f.name, []):
                data.add(f.name, value)
        if again.buttons:
            data.add(*again.buttons[0])
        try:
            response = self.clients[target.role].post(again.action, data=data)
        except Exception as exc:
            db.session.rollback()
            return f"then saving the form again with its shown values raised {describe_exception(exc)}"
        finally:
            db.session.rollback()
            self._take_flashes(self.clients[target.role])
        if response.status_code >= 500:
            return f"then saving the form again with its shown values answered {response.status_code}"
        return None

    # -- the database, table by table

    def snapshot(self) -> dict[str, dict[tuple, int]]:
        """A fingerprint of every row of every table but the audit trail, by primary key."""
        result = {}
        for table in self._tables:
            keys = [c.name for c in table.primary_key]
            rows = db.session.execute(select(table)).mappings().all()
            result[table.name] = {tuple(row[k] for k in keys): hash(repr(tuple(row.values()))) for row in rows}
        db.session.rollback()
        return result


def _rows_of(changed: dict[str, set], table: str, model, column: str) -> list[tuple]:
    ids = [key[0] for key in changed.get(table, ())]
    if not ids:
        return []
    return [(value,) for value in db.session.scalars(select(getattr(model, column)).where(model.id.in_(ids)))]


def _diff(before: dict, after: dict) -> dict[str, set]:
    changed = {}
    for table, rows in after.items():
        old = before.get(table, {})
        keys = {k for k in rows.keys() | old.keys() if rows.get(k) != old.get(k)}
        if keys:
            changed[table] = keys
    return changed


def _tables(changed: dict[str, set], only: Iterable[str] | None = None) -> str:
    names = sorted(only if only is not None else changed)
    return ", ".join(f"{name} ({len(changed[name])} row{'s' if len(changed[name]) != 1 else ''})" for name in names)


def _replace_last_id(address: str, value: str) -> str:
    parts = urlsplit(address)
    path = re.sub(r"/\d+(/[^/]*)?$", lambda m: f"/{value}{m.group(1) or ''}", parts.path, count=1)
    return path + (f"?{parts.query}" if parts.query else "")


def describe_exception(exc: BaseException) -> str:
    """The exception and the innermost line of the portal's own code it passed through."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(CODE):
            where = f" at {Path(frame.filename).relative_to(ROOT)}:{frame.lineno} in {frame.name}"
    message = " ".join(re.split(r"\[SQL:|\(Background on", str(exc))[0].split())  # not the statement
    if len(message) > 160:
        message = message[:160] + "…"
    return f"{type(exc).__name__}: {message}{where}"


def _fresh_login_per_request(app) -> None:
    """Requests run inside one app context here, so the signed-in user must not carry from one to the next."""

    if getattr(app, "_hostile_fresh_login", False):
        return

    @app.before_request
    def _forget_login():
        g.pop("_login_user", None)

    app._hostile_fresh_login = True


# --- The pages ----------------------------------------------------------------------------------------------------


def _page(address: str, **good: str):
    return lambda site: (address, good)


def _review(kind):
    return lambda site: (f"/review/{site.item(kind, Status.SUBMITTED)}", {})


def _edit(kind):
    return lambda site: (f"/my-submissions/{site.item(kind, Status.RETURNED)}/edit", {})


def _item_page(kind):
    def build(site):
        second = db.session.scalars(select(QualityStatement.key).order_by(QualityStatement.position)).all()[1]
        return f"/evidence/{site.item(kind, mapped=True)}", {"statement": second}

    return build


def _statement_page(site):
    other = site.item(Kind.SURVEY)
    site.item(Kind.QUOTE, mapped=True)  # a mapping to remove
    return f"/statements/{site.statement().key}", {"map-reference": f"E-{other}", "map-note": GOOD["note"]}


def _action_page(site):
    return f"/statements/{site.statement().key}/actions/{site.action()}/edit", {}


def _rounds_page(site):
    return "/rounds", {"name": site.unique("Spring 2027 self-assessment")}


def _sign_off_page(site):
    return f"/rounds/{site.open_round()}", {}


def _exports_page(site):
    return f"/exports?round={site.sample['round']}&format=xlsx", {}


def _admin_page(site):
    site.sample["person"] = site.person()
    return "/admin/users", {
        "name": "New person",
        "email": f"{uuid.uuid4().hex[:10]}@example.gov.uk",
        "password": "a long enough password 1",
    }


def _keep_person(site, action: str) -> bool:
    return "/users/" not in action or f"/users/{site.sample['person']}/" in action


def _sign_in_page(site):
    return "/sign-in", {"email": site.users[Role.STAFF].email}


def _sign_in_settings_page(site):
    return "/admin/sign-in", {"break_glass_email": site.users[Role.ADMIN].email}


def _import_preview(kind):
    return lambda site: (site.waiting_upload(kind), {})


def page_specs() -> list[PageSpec]:
    """Every page that holds a form, with the sample it needs and the role that uses it."""
    specs = []
    for kind in Kind:
        label = kind.label.lower()
        specs.append(PageSpec(Role.STAFF, _page(f"/submit?kind={kind}"), {"submissions.new": f"Submit: {label}"}))
    for kind in Kind:
        label = kind.label.lower()
        specs.append(
            PageSpec(
                Role.QUALITY_LEAD,
                _review(kind),
                {"review.item": f"Review: {label}", "review.send_back": f"Return: {label}"},
            )
        )
    for kind in Kind:
        specs.append(
            PageSpec(Role.STAFF, _edit(kind), {"submissions.edit": f"Correct and resubmit: {kind.label.lower()}"})
        )
    for kind in Kind:
        forms = {"library.add_mapping": f"Map from the item page: {kind.label.lower()}"}
        if kind == Kind.METRIC:
            forms |= {
                "library.add_point": "Add a metric value",
                "library.add_comparator_point": "Add a comparator's value",
                "library.remove_mapping": "Remove a mapping (item)",
                "library.add_comment": "Comment on an item",
            }
        specs.append(PageSpec(Role.QUALITY_LEAD, _item_page(kind), forms))
    specs += [
        PageSpec(
            Role.QUALITY_LEAD,
            _statement_page,
            {
                "statements.save": "Statement: save assessment",
                "statements.add_mapping": "Statement: map evidence",
                "statements.add_action": "Statement: add action",
                "statements.remove": "Statement: remove a mapping",
                "statements.add_comment": "Statement: comment",
            },
        ),
        PageSpec(Role.QUALITY_LEAD, _action_page, {"statements.edit_action": "Statement: edit action"}),
        PageSpec(Role.QUALITY_LEAD, _rounds_page, {"rounds.create": "Rounds: create"}),
        PageSpec(Role.MANAGER, _sign_off_page, {"rounds.sign": "Rounds: sign off"}),
        PageSpec(Role.MANAGER, _exports_page, {"exports.download": "Exports: download"}),
        PageSpec(
            Role.ADMIN,
            _admin_page,
            {
                "admin.users": "Admin: add user",
                "admin.change_role": "Admin: change role",
                "admin.toggle_active": "Admin: disable or enable",
            },
            keep=_keep_person,
        ),
        PageSpec(ANONYMOUS, _sign_in_page, {"auth.sign_in": "Sign in"}),
        PageSpec(Role.STAFF, lambda site: ("/account", {}), {"account.create_token": "Account: create an API token"}),
        PageSpec(Role.ADMIN, lambda site: ("/admin/council", {}), {"admin.council": "Admin: the council"}),
        PageSpec(Role.QUALITY_LEAD, lambda site: ("/actions", {}), {"actions.change_status": "Actions: change status"}),
        PageSpec(Role.ADMIN, _sign_in_settings_page, {"sso_settings.edit": "Admin: sign-in settings"}),
    ]
    for kind, label in import_labels().items():
        specs.append(
            PageSpec(Role.QUALITY_LEAD, _import_preview(kind), {"imports.confirm": f"Import {label}: confirm form"})
        )
    return specs


def import_labels() -> dict[str, str]:
    from evidence.imports import IMPORTERS

    return {key: importer.label.lower() for key, importer in IMPORTERS.items()}


# --- Imports: upload, preview, confirm ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSpec:
    """An importer's columns and a good row of them (the template's example, or a real item for the register)."""

    kind: str
    label: str
    header: list[str]
    classes: dict[str, str]
    sheet: str | None


def import_specs() -> list[ImportSpec]:
    from evidence.imports import IMPORTERS

    return [
        ImportSpec(
            key,
            importer.label,
            [c.name for c in importer.columns],
            {c.name: hi.column_class(c.type_label) for c in importer.columns},
            getattr(importer, "sheet", None),
        )
        for key, importer in IMPORTERS.items()
    ]


def good_row(site: Site, kind: str) -> list[str]:
    """A row the importer accepts: the template's example, with a real reference for the register."""
    from evidence.imports import IMPORTERS

    importer = IMPORTERS[kind]
    row = [c.example_text for c in importer.columns]
    names = [c.name for c in importer.columns]
    if kind == "register":
        row[names.index("Reference")] = f"E-{site.sample[f'accepted:{Kind.SURVEY}']}"
    if kind == "metric":
        row[names.index("Metric")] = site.unique("Imported metric")
    return row


def good_import_file(site: Site, kind: str, fmt: str) -> hi.ImportFile:
    spec = next(s for s in import_specs() if s.kind == kind)
    return hi.import_file(spec.header, [good_row(site, kind)], fmt, "good values", spec.sheet)


def hostile_import(site: Site, spec: ImportSpec, column: str, value: str, fmt: str) -> hi.ImportFile:
    rows = hi.hostile_rows(good_row(site, spec.kind), spec.header, column, value, fmt)
    return hi.import_file(spec.header, rows, fmt, f"{column} = {_show(value)} ({fmt})", spec.sheet)


def odd_imports(site: Site, spec: ImportSpec) -> list[hi.ImportFile]:
    return hi.odd_files(spec.header, good_row(site, spec.kind), spec.sheet)


STEPS = ("upload", "check", "preview", "confirm")


def send_import(site: Site, kind: str, upload: hi.ImportFile) -> dict[str, Outcome]:
    """Upload a file, open its preview and confirm it, as a quality lead; each step's outcome."""
    client = site.clients[Role.QUALITY_LEAD]
    outcomes: dict[str, Outcome] = {}
    holder = {}

    def send_upload():
        holder["response"] = client.post(f"/import/{kind}", data={"file": (io.BytesIO(upload.data), upload.filename)})
        return holder["response"]

    outcomes["upload"] = site.request(send_upload, client, MAY_CHANGE["imports.upload"])
    location = holder.get("response").headers.get("Location", "") if holder.get("response") is not None else ""
    if "/jobs/" in location and not outcomes["upload"].error:  # a large file: its check, then its preview
        holder.pop("response")

        def send_check():
            holder["response"] = _finished_job_page(client, location)
            return holder["response"]

        outcomes["check"] = site.request(send_check, client, frozenset({"jobs"}))
        location = holder["response"].headers.get("Location", "") if holder.get("response") is not None else ""
    match = re.search(r"/preview/([0-9a-f]{64})(?:\?check=[\w-]+)?$", location)
    if outcomes["upload"].error or not match:
        return outcomes
    digest = match.group(1)
    preview = site.request(lambda: client.get(location), client, MAY_CHANGE["imports.preview"])
    preview.accepted = preview.accepted or preview.status == 200
    if preview.changed and not preview.partial:
        preview.partial = f"a preview changed {_tables(preview.changed)}"
    outcomes["preview"] = preview
    if preview.error:
        return outcomes
    outcomes["confirm"] = site.request(
        lambda: client.post(f"/import/{kind}/confirm", data={"digest": digest, "confirm_personal_data": "y"}),
        client,
        MAY_CHANGE["imports.confirm"],
    )
    return outcomes


def _finished_job_page(client, location: str, timeout: float = 120):
    """The job's page once it has finished: a check that passed sends on to its preview."""
    deadline = time.monotonic() + timeout
    while client.get(f"{location}.json").get_json()["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
    return client.get(location)


# --- After a form: what every person opens, and the round's sign-off and exports ----------------------------------

LIST_PAGES = (
    (Role.QUALITY_LEAD, "/"),
    (Role.QUALITY_LEAD, "/dashboard"),
    (Role.QUALITY_LEAD, "/evidence"),
    (Role.QUALITY_LEAD, "/evidence?status=any"),
    (Role.QUALITY_LEAD, "/review"),
    (Role.QUALITY_LEAD, "/review?show=returned"),
    (Role.QUALITY_LEAD, "/statements"),
    (Role.QUALITY_LEAD, "/gaps"),
    (Role.MANAGER, "/rounds"),
    (Role.STAFF, "/my-submissions"),
    (Role.ADMIN, "/admin/users"),
)


def closing_checks(site: Site) -> list[str]:
    """Every list page, both exports of the open round and its sign-off, after a form's values were stored."""
    problems = [p for role, address in LIST_PAGES if (p := site.get(role, address))]
    manager = site.clients[Role.MANAGER]
    round_id = site.sample["round"]
    for fmt in ("xlsx", "markdown"):
        outcome = site.request(
            lambda fmt=fmt: manager.post("/exports/download", data={"round": str(round_id), "format": fmt}),
            manager,
            frozenset(),
        )
        if outcome.error:
            problems.append(f"then the {fmt} export of the open round: {outcome.error}")
    outcome = site.request(
        lambda: manager.post(f"/rounds/{round_id}/sign-off", data={"confirm": "y"}), manager, frozenset({"round"})
    )
    if outcome.error:
        problems.append(f"then signing off the open round: {outcome.error}")
    return [p.removeprefix("then ") for p in problems]


def _saved(row) -> int:
    """Write a new row of sample data; its id."""
    db.session.add(row)
    db.session.commit()
    return row.id
