"""The audit trail as people read it: who did what, and each change in words.

The trail keeps values as the database holds them: ids, vocabulary codes, ISO dates, raw
numbers and markdown. ``entries`` turns events into ``Entry`` rows that name people,
statements, categories, rounds and evidence; use the labels of the vocabularies; write dates
the UK way; give numbers their units; read markdown as text; and cut long text down to the
part that changed. Pages only lay the entries out.

Every action the code records has a name in ``ACTIONS`` and every field it records a label in
``LABELS`` (a test walks the code for both), so a new kind of change cannot reach a page raw.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import markdown as md
import nh3
from sqlalchemy import select

from evidence import audit
from evidence.access.api_tokens import Scope
from evidence.db import db
from evidence.fields import ASSESSMENT_TEXTS, FIELD_LABELS
from evidence.imports import CREATE, IMPORTERS, UNCHANGED, UPDATE
from evidence.library import citations
from evidence.library.metrics import format_value
from evidence.models import AuditEvent, EvidenceCategory, EvidenceItem, QualityStatement, Round, User
from evidence.vocab import (
    ActionStatus,
    Direction,
    Kind,
    PeerStatus,
    QuoteTone,
    Role,
    RoundStatus,
    Stance,
    Status,
    Voice,
)
from evidence.wording import count
from quality_statements import scoring

EMPTY = "—"
LONG = 160  # characters: longer text is shown as the part that changed, with a little context
CONTEXT = 40

# What each recorded action is called when its event has no summary of its own.
ACTIONS = {
    "create": "Created",
    "update": "Changed",
    "attach": "File attached",
    "accept": "Accepted",
    "return": "Returned to the submitter",
    "resubmit": "Corrected and resubmitted",
    "personal_data": "Accepted with possible personal data confirmed",
    "map": "Mapped to a quality statement",
    "unmap": "Mapping removed",
    "delete": "Removed",
    "add_point": "Value added",
    "update_point": "Value changed",
    "add_comparator": "Comparator value added",
    "update_comparator": "Comparator value changed",
    "points": "Values imported",
    "import": "Imported",
    "sign_off": "Signed off",
    "export": "Exported",
    "revoke": "Revoked",
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in refused",
    "password_change": "Password changed",
    "password_temporary": "Temporary password set",
    "password_reset_link": "One-time password link issued",
    "password_reset": "Password reset with a one-time link",
    "framework_load": "Framework loaded",
    "comment": "Comment added",
    "resolve": "Conversation resolved",
    "reopen": "Conversation reopened",
    "peer_open": "Peer challenge opened",
    "peer_close": "Peer challenge closed",
    "peer_invite": "Peer reviewer invited",
    "peer_uninvite": "Peer reviewer removed",
}

# The words for every field the trail records.
LABELS = {
    **FIELD_LABELS,
    **ASSESSMENT_TEXTS,
    "kind": "Kind",
    "status": "Status",
    "return_reason": "Reason for returning it",
    "personal_data": "Holds personal data",
    "owner_id": "Owner",
    "points": "Values",
    "item_id": "Evidence",
    "statement_id": "Quality statement",
    "category_id": "Evidence category",
    "stance": "Stance",
    "note": "Note",
    "score": "Score",
    "category_scores": "Evidence category scores",
    "override_reason": "Reason for departing from the suggested score",
    "description": "What will be done",
    "owner": "Owner",
    "due_date": "Due date",
    "round_id": "Round",
    "name": "Name",
    "signed_off_at": "Signed off",
    "signed_off_by_id": "Signed off by",
    "period": "Period",
    "value": "Value",
    "comparator": "Comparator",
    "comparators": "Comparator values",
    "findings": "What looked like personal data",
    "format": "Format",
    "file": "File",
    "bytes": "Size",
    "sha256": "Fingerprint (SHA-256)",
    "references": "Evidence",
    CREATE: "Created",
    UPDATE: "Updated",
    UNCHANGED: "Unchanged",
    "email": "Email",
    "role": "Role",
    "active": "Can sign in",
    "user": "Account",
    "scope": "Scope",
    "groups": "Directory groups",
    "create_users": "Create accounts at first sign-in",
    "role_mapping": "Roles for directory groups",
    "password_sign_in": "Password sign-in",
    "break_glass_email": "Administrator who may still use a password",
    "body": "Comment",
    "item": "Evidence",
    "thread_id": "In reply to",
    "author_id": "Written by",
    "resolved_at": "Resolved",
    "resolved_by_id": "Resolved by",
    "peer": "Peer challenge",
    "reviewer": "Peer reviewer",
    "rating": "Peer rating",
    "challenge": "Written challenge",
    "response": "The council's response",
}

USER_FIELDS = {"owner_id", "signed_off_by_id"}
DATE_FIELDS = {"period_start", "period_end", "review_by", "due_date", "signed_off_at"}
MARKDOWN_FIELDS = {*ASSESSMENT_TEXTS, "summary", "body", "challenge", "response"}
WHOLE_NUMBERS = {"respondents", "cases_reviewed", CREATE, UPDATE, UNCHANGED}
VOCABULARIES = {
    "stance": Stance,
    "voice": Voice,
    "quote_tone": QuoteTone,
    "direction": Direction,
    "role": Role,
    "scope": Scope,
    "peer": PeerStatus,
}
STATUSES = {"evidence_item": Status, "action": ActionStatus, "round": RoundStatus}
EXPORT_FORMATS = {
    "xlsx": "Excel workbook",
    "docx": "Word document",
    "pdf": "PDF document",
    "markdown": "Markdown pack",
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the field had no earlier value to show (a creation)
    after: str | None  # None: the field is gone (a removal)


@dataclass(frozen=True)
class Entry:
    at: datetime
    when: str  # "3 Mar 2026 14:05"
    who: str
    what: str
    changes: list[Change] = field(default_factory=list)


def uk_date(value: date | datetime | None, with_time: bool = False) -> str:
    """3 Mar 2026, or 3 Mar 2026 14:05 (the portal's one way of writing a date)."""
    if value is None:
        return ""
    if with_time and isinstance(value, datetime):
        return value.strftime("%-d %b %Y %H:%M")
    return value.strftime("%-d %b %Y")


def markdown_text(text: str) -> str:
    """Markdown as the words a reader sees, on one line: no asterisks, hashes or link syntax."""
    rendered = md.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    rendered = re.sub(r"</(p|li|h\d|tr|blockquote)>|<br\s*/?>", " ", rendered)
    return _SPACES.sub(" ", html.unescape(nh3.clean(rendered, tags=set()))).strip()


def shorten(before: str, after: str) -> tuple[str, str]:
    """Two long texts cut to where they differ, with some context either side and "…" where text is left out."""
    if len(before) <= LONG and len(after) <= LONG:
        return before, after
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    return _excerpt(before, start, len(before) - end), _excerpt(after, start, len(after) - end)


def _excerpt(text: str, start: int, stop: int) -> str:
    """The text from ``start`` to ``stop`` (itself cut short when long) with ``CONTEXT`` characters either side."""
    lead, tail = max(0, start - CONTEXT), min(len(text), stop + CONTEXT)
    changed = text[start:stop]
    if len(changed) > 2 * CONTEXT:
        changed = changed[: CONTEXT + CONTEXT // 2].rstrip() + " … " + changed[-CONTEXT // 2 :].lstrip()
    shown = (text[lead:start] + changed + text[stop:tail]).strip()
    return ("… " if lead else "") + shown + (" …" if tail < len(text) else "")


def _clip(text: str) -> str:
    return text if len(text) <= LONG else text[:LONG].rstrip() + " …"


class _Names:
    """The names behind the ids and keys a batch of events holds, read in one query per kind of thing."""

    def __init__(self, events: list[AuditEvent]):
        wanted: dict[str, set] = {"user": set(), "statement": set(), "category": set(), "round": set(), "item": set()}
        for event in events:
            for values in (event.before or {}, event.after or {}):
                for name, value in values.items():
                    if name in USER_FIELDS and isinstance(value, int):
                        wanted["user"].add(value)
                    elif name == "statement_id" and isinstance(value, int):
                        wanted["statement"].add(value)
                    elif name == "category_id" and isinstance(value, int):
                        wanted["category"].add(value)
                    elif name == "round_id" and isinstance(value, int):
                        wanted["round"].add(value)
                    elif name == "item_id" and isinstance(value, int):
                        wanted["item"].add(value)
            if event.entity_type == "evidence_item" and event.entity_id:
                wanted["item"].add(event.entity_id)
        self.users = self._read(User.id, User.name, wanted["user"])
        self.statements = self._read(QualityStatement.id, QualityStatement.name, wanted["statement"])
        self.statement_keys = dict(db.session.execute(select(QualityStatement.key, QualityStatement.name)).all())
        self.categories = self._read(EvidenceCategory.id, EvidenceCategory.name, wanted["category"])
        self.category_keys = dict(db.session.execute(select(EvidenceCategory.key, EvidenceCategory.name)).all())
        self.rounds = self._read(Round.id, Round.name, wanted["round"])
        self.items = self._read(EvidenceItem.id, EvidenceItem.title, wanted["item"])
        self.units = self._read(EvidenceItem.id, EvidenceItem.unit, wanted["item"])

    @staticmethod
    def _read(key, value, ids: set) -> dict:
        ids = {i for i in ids if citations.findable(i)}
        if not ids:
            return {}
        return dict(db.session.execute(select(key, value).where(key.in_(ids))).all())

    def item(self, item_id: int) -> str:
        title = self.items.get(item_id)
        return f"{citations.reference(item_id)} {title}" if title else citations.reference(item_id)


def _label(vocabulary, value: Any) -> str:
    try:
        return vocabulary(value).label
    except ValueError:
        return str(value)


def _size(n: int) -> str:
    if n < 1024:
        return count(n, "byte")
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _when(text: str) -> str:
    try:
        return uk_date(datetime.fromisoformat(text), with_time=bool(_ISO_DATETIME.match(text)))
    except ValueError:
        return text


def value_text(name: str, value: Any, event: AuditEvent, names: _Names, unit: str | None = None) -> str:
    """One recorded value as people read it."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name in USER_FIELDS:
        return names.users.get(value, "an account since removed")
    if name == "statement_id":
        return names.statements.get(value, "a quality statement since removed")
    if name == "category_id":
        return names.categories.get(value, "an evidence category since removed")
    if name == "round_id":
        return names.rounds.get(value, "a round since removed")
    if name == "item_id":
        return names.item(value)
    if name == "suggested_statements":
        return ", ".join(names.statement_keys.get(key, key) for key in value)
    if name == "category_scores" and isinstance(value, dict):
        return "; ".join(f"{names.category_keys.get(k, k)}: {v}" for k, v in value.items())
    if name == "role_mapping" and isinstance(value, dict):
        return "; ".join(f"{group}: {_label(Role, role)}" for group, role in value.items())
    if name == "score":
        return f"{value} · {scoring.label_for(value)}" if scoring.is_score(value) else str(value)
    if name == "status":
        return _label(STATUSES.get(event.entity_type, Status), value)
    if name == "kind":
        if event.entity_type == "import":
            importer = IMPORTERS.get(value)
            return importer.label if importer else str(value)
        return _label(Kind, value)
    if name in VOCABULARIES:
        return _label(VOCABULARIES[name], value)
    if name == "format":
        return EXPORT_FORMATS.get(value, str(value))
    if name == "bytes" and isinstance(value, int):
        return _size(value)
    if isinstance(value, int | float) and name in WHOLE_NUMBERS:
        return f"{value:,}"
    if isinstance(value, int | float) and name == "result_percent":
        return format_value(value, "%")
    if isinstance(value, int | float) and name in ("target", "comparator_value", "value"):
        return format_value(value, unit)
    if isinstance(value, list):
        return ("; " if name == "findings" else ", ").join(str(v) for v in value)
    if isinstance(value, str) and (name in DATE_FIELDS or _ISO_DATE.match(value) or _ISO_DATETIME.match(value)):
        return _when(value)
    if isinstance(value, str) and name in MARKDOWN_FIELDS:
        return markdown_text(value)
    if isinstance(value, float):
        return format_value(value)
    return _SPACES.sub(" ", str(value)).strip()


def label(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def _changes(event: AuditEvent, names: _Names) -> list[Change]:
    before, after = event.before or {}, event.after or {}
    unit = after.get("unit") or before.get("unit")
    if unit is None and event.entity_type == "evidence_item":
        unit = names.units.get(event.entity_id)
    changes = []
    for name in dict.fromkeys([*before, *after]):
        old = value_text(name, before[name], event, names, unit) if name in before else None
        new = value_text(name, after[name], event, names, unit) if name in after else None
        if old is not None and new is not None:
            old, new = shorten(old, new)
        else:
            old, new = (_clip(old) if old is not None else None), (_clip(new) if new is not None else None)
        if old is not None and old == new:
            continue  # differed only in a way nobody reads (0.5 and 0.50, a markdown mark)
        changes.append(Change(label(name), old, new))
    return changes


def entries(events: Iterable[AuditEvent]) -> list[Entry]:
    """The events as people read them, in the order given."""
    events = list(events)
    names = _Names(events)
    return [
        Entry(
            at=event.at,
            when=uk_date(event.at, with_time=True),
            who=event.user.name if event.user else "System",
            what=event.summary or ACTIONS.get(event.action, "Changed"),
            changes=_changes(event, names),
        )
        for event in events
    ]


def history(entity_type: str, entity_id: int) -> list[Entry]:
    """The change history of one thing, newest first, ready to show."""
    return entries(audit.history(entity_type, entity_id))
