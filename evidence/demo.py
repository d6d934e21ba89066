"""The demo portfolio of a fictional council, for trying the portal out.

The content lives in ``demo_data/portfolio.yaml``; this module checks it and
inserts whatever is missing. Rows are matched by natural keys (users by email,
items by ``demo:<key>``, the round by name, assessments by statement, actions by
statement and description). Rows already present are left as they are, so
loading again changes nothing and never undoes work done while trying the demo.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import func, select

from evidence import audit, fields
from evidence.access.accounts import MIN_PASSWORD_LENGTH
from evidence.db import db
from evidence.fields import ASSESSMENT_TEXTS
from evidence.framework_sync import sync_framework
from evidence.library.items import CHOICE_FIELDS, default_review_by
from evidence.library.metrics import set_comparator_point
from evidence.library.personal_data import ITEM_TEXT_FIELDS, scan_fields
from evidence.models import (
    Action,
    Assessment,
    EvidenceCategory,
    EvidenceItem,
    Mapping,
    MetricPoint,
    QualityStatement,
    Round,
    User,
    utcnow,
)
from evidence.settings import AUTHORITY_NAME, set_setting
from evidence.vocab import ActionStatus, Kind, Role, RoundStatus, Stance, Status

DATA_FILE = "demo_data/portfolio.yaml"
KEY_PREFIX = "demo:"
# The data file cites evidence by key, [[key]]; ids exist only once items are inserted.
KEY_CITATION = re.compile(r"\[\[([a-z0-9-]+)\]\]")
QUARTER_LABEL = re.compile(r"^(\d{4}) Q([1-4])$")
# A line that starts a block of its own in markdown, rather than continuing the sentence above it.
BLOCK_START = re.compile(r"^\s*(?:[-*+] |\d+[.)] |>|#|\|)")
# How long ago the demo's story starts: accounts are made, then evidence arrives over the months after.
STORY_MONTHS = 7

# What an item of the data file holds beyond the item's own fields (``evidence.fields``).
COMMON_FIELDS = {*fields.COMMON_FIELDS, "key", "kind", "status", "owner", "return_reason", "mappings"}
# The fields of its kind that accepted demo evidence may leave out; it must have every other one.
OPTIONAL_FIELDS = {"target", "link_url", "comparators"}


def kind_fields(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields of an item of this kind that accepted evidence must have, then the optional ones."""
    names = (*fields.fields_for(kind), *(("points", "comparators") if kind == Kind.METRIC else ()))
    return tuple(n for n in names if n not in OPTIONAL_FIELDS), tuple(n for n in names if n in OPTIONAL_FIELDS)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: str
    password: str


class DemoDataError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("the demo data is not valid:\n  - " + "\n  - ".join(problems))
        self.problems = problems


@cache
def read_portfolio() -> dict[str, Any]:
    """The parsed data file (shared: treat it as read-only)."""
    return yaml.safe_load(resources.files("evidence").joinpath(DATA_FILE).read_text(encoding="utf-8"))


DEMO_ACCOUNTS: list[DemoAccount] = [DemoAccount(**account) for account in read_portfolio()["accounts"]]


def period_of(label: str) -> date:
    """The first day of the month ("Apr 2026") or calendar quarter ("2026 Q2") a label names."""
    if match := QUARTER_LABEL.match(label):
        return date(int(match[1]), 3 * int(match[2]) - 2, 1)
    return datetime.strptime(label, "%b %Y").date()


def cite(text: str, items: dict[str, EvidenceItem]) -> str:
    return KEY_CITATION.sub(lambda m: f"[{items[m[1]].reference}]", unwrap(text)).strip()


def unwrap(text: str | None) -> str:
    """Prose as people type it: the data file's lines, wrapped to fit the file, joined back into sentences.
    Blank lines (paragraphs) and list items stay; a list item's wrapped lines join the item."""
    lines: list[str] = []
    for line in (text or "").splitlines():
        if lines and lines[-1].strip() and line.strip() and not BLOCK_START.match(line):
            lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
        else:
            lines.append(line.rstrip())
    return "\n".join(lines).strip()


class Story:
    """When things happened in the demo: evidence submitted over the past months, each item reviewed a few
    days after it arrived, the items still waiting sent in over the last weeks. Spread by each item's place
    in the data file and its period, so that the same file always tells the same story."""

    def __init__(self, now: datetime):
        self.now = now
        self.start = now - timedelta(days=30 * STORY_MONTHS)

    def at(self, day: date, n: int) -> datetime:
        """A time in the working day of ``day`` (before now), different for each ``n``."""
        moment = datetime.combine(day, time(9, 0)) + timedelta(minutes=(n * 47) % 450)
        return min(moment, self.now - timedelta(minutes=5 + n))

    def submitted(self, spec: dict[str, Any], n: int, waiting: int | None) -> datetime:
        """When item ``n`` of the file was sent; ``waiting`` counts the items still awaiting review, or None."""
        today_ = self.now.date()
        if waiting is not None:  # still in the queue: sent within the last three weeks, the first oldest
            return self.at(today_ - timedelta(days=max(1, 20 - 6 * waiting)), n)
        # A fortnight or so after the period it covers ends, within the story; a long period's document
        # (a strategy) was sent during it.
        day = spec["period_end"] + timedelta(days=5 + (n * 7) % 24)
        latest = today_ - timedelta(days=10)
        if day > latest:
            day = latest - timedelta(days=(n * 11) % 90)
        earliest = self.start.date() + timedelta(days=14)
        if day < earliest:
            day = earliest + timedelta(days=(n * 5) % 60)
        return self.at(day, n)

    def reviewed(self, submitted: datetime, n: int) -> datetime:
        return min(submitted + timedelta(days=1 + n % 6, hours=2), self.now - timedelta(minutes=1))


# --- Checking the data file -----------------------------------------------------


def check(data: dict[str, Any], statement_keys: set[str], category_keys: set[str]) -> list[str]:
    """Everything wrong with the data file, so that a bad edit inserts nothing."""
    problems: list[str] = []
    emails = {a.email for a in DEMO_ACCOUNTS}
    for account in DEMO_ACCOUNTS:
        if account.role not in set(Role):
            problems.append(f"account {account.email}: unknown role '{account.role}'")
        if len(account.password) < MIN_PASSWORD_LENGTH:
            problems.append(f"account {account.email}: password shorter than {MIN_PASSWORD_LENGTH}")
    if data.get("curator") not in emails:
        problems.append("the curator must be one of the accounts")

    keys: set[str] = set()
    accepted: set[str] = set()
    for number, spec in enumerate(data.get("items") or [], start=1):
        where = f"item {spec.get('key') or number}"
        problems += [f"{where}: {p}" for p in _check_item(spec, emails, statement_keys, category_keys)]
        if spec.get("key") in keys:
            problems.append(f"{where}: key used twice")
        keys.add(spec.get("key"))
        if spec.get("status", Status.ACCEPTED) == Status.ACCEPTED:
            accepted.add(spec.get("key"))

    round_spec = data.get("round") or {}
    if not round_spec.get("name"):
        problems.append("the round needs a name")
    for key, text in (round_spec.get("statements") or {}).items():
        where = f"assessment of {key}"
        if key not in statement_keys:
            problems.append(f"{where}: unknown quality statement")
        if text.get("score") not in (1, 2, 3, 4, None):
            problems.append(f"{where}: a score must be 1 to 4")
        for category in text.get("category_scores") or {}:
            if category not in category_keys:
                problems.append(f"{where}: unknown evidence category '{category}'")
        cited = KEY_CITATION.findall(" ".join(text.get(f) or "" for f in ASSESSMENT_TEXTS))
        for key_cited in sorted(set(cited) - accepted):
            problems.append(f"{where}: cites [[{key_cited}]], which is not an accepted item")
    for number, action in enumerate(round_spec.get("actions") or [], start=1):
        if action.get("statement") not in statement_keys:
            problems.append(f"action {number}: unknown quality statement")
        if action.get("status") not in set(ActionStatus):
            problems.append(f"action {number}: unknown status '{action.get('status')}'")
        if not (action.get("description") and action.get("owner")):
            problems.append(f"action {number}: needs a description and an owner")
    return problems


def _check_item(spec: dict[str, Any], emails: set[str], statement_keys: set[str], category_keys: set[str]) -> list[str]:
    if spec.get("kind") not in set(Kind):
        return [f"unknown kind '{spec.get('kind')}'"]
    problems = []
    required, optional = kind_fields(spec["kind"])
    status = spec.get("status", Status.ACCEPTED)
    if unknown := set(spec) - COMMON_FIELDS - set(required) - set(optional):
        problems.append(f"fields not used by this kind: {', '.join(sorted(unknown))}")
    for name in ("key", "title", "summary", "source", "period_start", "period_end"):
        if not spec.get(name):
            problems.append(f"missing {name}")
    if isinstance(spec.get("period_start"), date) and isinstance(spec.get("period_end"), date):
        if spec["period_start"] > spec["period_end"]:
            problems.append("the period ends before it starts")
    elif spec.get("period_start") or spec.get("period_end"):
        problems.append("period dates must be written as YYYY-MM-DD")
    if status not in set(Status):
        problems.append(f"unknown status '{status}'")
    if status == Status.ACCEPTED:
        problems += [f"accepted {spec['kind']} needs {name}" for name in required if spec.get(name) is None]
    elif spec.get("mappings"):
        problems.append("only accepted evidence is mapped")
    if status == Status.RETURNED and not spec.get("return_reason"):
        problems.append("a returned item needs its reason")
    if "owner" in spec and spec["owner"] not in emails:
        problems.append(f"owner {spec['owner']} is not a demo account")
    for name, vocabulary in CHOICE_FIELDS.items():
        if name in spec and spec[name] not in set(vocabulary):
            problems.append(f"{name} must be one of {', '.join(vocabulary)}")
    labels = [*(spec.get("points") or {}), *(x for series in (spec.get("comparators") or {}).values() for x in series)]
    for label in labels:
        try:
            period_of(str(label))
        except ValueError:
            problems.append(f"point label '{label}' is neither 'Apr 2026' nor '2026 Q2'")
    for key in spec.get("suggested_statements") or []:
        if key not in statement_keys:
            problems.append(f"suggests unknown quality statement '{key}'")
    for mapping in spec.get("mappings") or []:
        if len(mapping) != 4:
            problems.append(f"mapping {mapping} is not [statement, category, stance, note]")
        elif mapping[0] not in statement_keys or mapping[1] not in category_keys or mapping[2] not in set(Stance):
            problems.append(f"mapping {mapping[:3]} names an unknown statement, category or stance")
    # The demo must pass the same personal data guard as real evidence.
    texts = ((label, str(spec[name])) for name, label in ITEM_TEXT_FIELDS.items() if spec.get(name))
    problems += [f"looks like personal data: {finding.describe()}" for finding in scan_fields(texts)]
    return problems


# --- Loading --------------------------------------------------------------------


def load_demo() -> dict[str, int]:
    """Load the demo portfolio, inserting only what is missing; returns how many demo rows there are."""
    sync_framework()
    data = read_portfolio()
    statements = {s.key: s for s in db.session.scalars(select(QualityStatement))}
    categories = {c.key: c for c in db.session.scalars(select(EvidenceCategory))}
    if problems := check(data, set(statements), set(categories)):
        raise DemoDataError(problems)

    set_setting(AUTHORITY_NAME, data["authority"])
    story = Story(utcnow())
    users = _ensure_users(DEMO_ACCOUNTS, story)
    curator = users[data["curator"]]
    items = _ensure_items(data["items"], users, curator, statements, categories, story)
    round_ = _ensure_round(data["round"], items, curator, statements, story)
    db.session.commit()
    return _counts(list(items.values()), round_)


def clear_database() -> None:
    """Delete every row of every table (accounts, evidence, rounds, settings, the audit trail), children
    first, in one transaction: the start of ``flask demo --reset``. Uploaded files stay in the upload folder."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def _ensure_users(accounts: Iterable[DemoAccount], story: Story) -> dict[str, User]:
    accounts = list(accounts)
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_([a.email for a in accounts])))}
    for account in accounts:
        if account.email in users:
            continue
        user = User(email=account.email, name=account.name, role=account.role, created_at=story.start)
        user.set_password(account.password)
        db.session.add(user)
        event = audit.record(
            "create", user, summary=f"User {account.email} created with role {Role(account.role).label}"
        )
        event.at = story.start
        users[account.email] = user
    db.session.flush()
    return users


def _ensure_items(
    specs: list[dict[str, Any]],
    users: dict[str, User],
    curator: User,
    statements: dict[str, QualityStatement],
    categories: dict[str, EvidenceCategory],
    story: Story,
) -> dict[str, EvidenceItem]:
    natural_keys = [KEY_PREFIX + spec["key"] for spec in specs]
    existing = {
        item.natural_key: item
        for item in db.session.scalars(select(EvidenceItem).where(EvidenceItem.natural_key.in_(natural_keys)))
    }
    items = {}
    waiting = 0
    for n, spec in enumerate(specs):
        status = spec.get("status", Status.ACCEPTED)
        item = existing.get(KEY_PREFIX + spec["key"])
        if item is None:
            sent = story.submitted(spec, n, waiting if status == Status.SUBMITTED else None)
            reviewed = story.reviewed(sent, n) if status != Status.SUBMITTED else None
            item = _new_item(spec, users, curator, statements, categories, sent, reviewed)
            db.session.add(item)
            event = audit.record("create", item, user=item.submitted_by, summary=f"{item.title} (demo portfolio)")
            event.at = sent
            if reviewed is not None:
                _record_review(item, curator, reviewed)
        waiting += status == Status.SUBMITTED
        items[spec["key"]] = item
    return items


def _record_review(item: EvidenceItem, curator: User, at: datetime) -> None:
    """The reviewer's decision in the trail, when it was made, as the review page would have recorded it."""
    if item.status == Status.RETURNED:
        event = audit.record(
            "return",
            item,
            user=curator,
            summary=f"Returned: {item.return_reason}",
            after={"status": item.status, "return_reason": item.return_reason},
        )
    else:
        event = audit.record("accept", item, user=curator, summary="Accepted", after={"status": item.status})
    event.at = at


def _new_item(
    spec: dict[str, Any],
    users: dict[str, User],
    curator: User,
    statements: dict[str, QualityStatement],
    categories: dict[str, EvidenceCategory],
    sent: datetime,
    reviewed: datetime | None,
) -> EvidenceItem:
    required, optional = kind_fields(spec["kind"])
    series = ("points", "comparators")
    details = {
        name: unwrap(spec[name]) if isinstance(spec[name], str) else spec[name]
        for name in (*required, *optional)
        if name in spec and name not in series
    }
    owner = users[spec["owner"]] if "owner" in spec else curator
    status = spec.get("status", Status.ACCEPTED)
    item = EvidenceItem(
        natural_key=KEY_PREFIX + spec["key"],
        kind=spec["kind"],
        title=spec["title"],
        summary=unwrap(spec["summary"]),
        source=spec["source"],
        period_start=spec["period_start"],
        period_end=spec["period_end"],
        review_by=spec.get("review_by") or default_review_by(spec["kind"], spec["period_end"]),
        status=status,
        owner=owner,
        submitted_by=owner,
        return_reason=unwrap(spec.get("return_reason")) or None,
        suggested_statements=list(spec.get("suggested_statements") or []),
        created_at=sent,
        updated_at=reviewed or sent,
        **details,
    )
    if reviewed is not None:
        item.reviewed_by, item.reviewed_at = curator, reviewed
    for label, value in (spec.get("points") or {}).items():
        item.points.append(MetricPoint(period=period_of(label), label=label, value=float(value)))
    for name, series in (spec.get("comparators") or {}).items():
        for label, value in series.items():
            set_comparator_point(item, name, period_of(label), label, float(value))
    for statement_key, category_key, stance, note in spec.get("mappings") or []:
        item.mappings.append(
            Mapping(
                statement=statements[statement_key],
                category=categories[category_key],
                stance=stance,
                note=note,
                created_by_id=curator.id,
                created_at=reviewed or sent,
            )
        )
    return item


def _ensure_round(
    spec: dict[str, Any],
    items: dict[str, EvidenceItem],
    curator: User,
    statements: dict[str, QualityStatement],
    story: Story,
) -> Round:
    # Opened eight weeks ago; the lead has scored a statement every few days since.
    opened = story.at(story.now.date() - timedelta(weeks=8), 0)
    round_ = db.session.scalar(select(Round).where(Round.name == spec["name"]))
    if round_ is None:
        round_ = Round(name=spec["name"], status=RoundStatus.OPEN, created_by=curator, created_at=opened)
        db.session.add(round_)
        event = audit.record("create", round_, user=curator, summary=f"Round {spec['name']} opened")
        event.at = opened
    if round_.signed_off:  # a signed-off round is frozen
        return round_

    db.session.flush()  # items need ids before their references can be cited
    assessed = set(db.session.scalars(select(Assessment.statement_id).where(Assessment.round_id == round_.id)))
    for n, (key, text) in enumerate(spec["statements"].items()):
        if statements[key].id in assessed:
            continue
        db.session.add(
            Assessment(
                round=round_,
                statement=statements[key],
                score=text.get("score"),
                category_scores=text.get("category_scores"),
                updated_by=curator,
                updated_at=story.at(opened.date() + timedelta(days=4 + 5 * n), n),
                **{field: cite(text.get(field), items) for field in ASSESSMENT_TEXTS},
            )
        )

    actions = db.session.execute(select(Action.statement_id, Action.description).where(Action.round_id == round_.id))
    present = {tuple(row) for row in actions}
    for n, action in enumerate(spec.get("actions") or []):
        statement = statements[action["statement"]]
        if (statement.id, unwrap(action["description"])) in present:
            continue
        agreed = story.at(opened.date() + timedelta(days=7 + 4 * n), n)
        db.session.add(
            Action(
                statement=statement,
                round_id=round_.id,
                created_at=agreed,
                updated_at=agreed,
                description=unwrap(action["description"]),
                owner=action["owner"],
                due_date=action.get("due_date"),
                status=action["status"],
            )
        )
    return round_


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _counts(items: list[EvidenceItem], round_: Round) -> dict[str, int]:
    item_ids = [item.id for item in items]
    return {
        "evidence items": _count(EvidenceItem, EvidenceItem.id.in_(item_ids)),
        "mappings": _count(Mapping, Mapping.item_id.in_(item_ids)),
        "metric points": _count(MetricPoint, MetricPoint.item_id.in_(item_ids)),
        "rounds": _count(Round, Round.id == round_.id),
        "assessments": _count(Assessment, Assessment.round_id == round_.id),
        "actions": _count(Action, Action.round_id == round_.id),
        "users": _count(User, User.email.in_([a.email for a in DEMO_ACCOUNTS])),
    }
