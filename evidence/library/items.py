"""Evidence items through their life: submitted, reviewed (accepted or returned), resubmitted, edited.

Every change records an audit event with the values before and after. Only
accepted items count towards scores, gaps and exports; the functions here are
the one way an item's status moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from evidence import audit, bounds
from evidence.access.roles import CURATORS, has_role
from evidence.assessment.round_lock import lock_open_rounds
from evidence.bounds import add_months
from evidence.db import db
from evidence.fields import ALL_KIND_FIELDS, COMMON_FIELDS, FIELD_LABELS, KIND_FIELDS, fields_for
from evidence.library import citations, personal_data
from evidence.library.metrics import MetricError, parse_period, set_point
from evidence.library.storage import StoredFile
from evidence.models import Attachment, AuditEvent, EvidenceItem, User, today, utcnow
from evidence.together import events
from evidence.vocab import Direction, Kind, QuoteTone, Role, Status, Voice

# What must be filled in for each kind, beyond title and source.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.SURVEY: ("survey_name", "result_percent"),
    Kind.METRIC: ("direction",),
    Kind.QUOTE: ("quote_text", "speaker_role", "voice", "quote_tone"),
    Kind.DOCUMENT: ("evidences",),
    Kind.PARTNER_FEEDBACK: ("partner_organisation",),
    Kind.CASE_AUDIT: ("cases_reviewed", "audit_outcome"),
    Kind.OBSERVATION: ("setting",),
}
TEXT_LIMITS = {
    "title": 300,
    "source": 300,
    "survey_name": 200,
    "population": 200,
    "unit": 40,
    "speaker_role": 100,
    "link_url": 500,
    "partner_organisation": 200,
    "feedback_method": 200,
    "setting": 200,
    "observer_role": 100,
}
# Fields whose value is one of a vocabulary's (stored as the plain value, shown as its label).
CHOICE_FIELDS = {"direction": Direction, "voice": Voice, "quote_tone": QuoteTone}
AUDITED_FIELDS = [
    "kind",
    *COMMON_FIELDS,
    *ALL_KIND_FIELDS,
    "status",
    "return_reason",
    "personal_data",
    "owner_id",
]


class ItemError(ValueError):
    """A change that cannot be made; the message names the field or the reason."""


class PersonalDataFound(ItemError):
    """Accepting needs an explicit confirmation: the item's text looks like it holds personal data."""

    def __init__(self, findings: list[personal_data.Finding]):
        self.findings = findings
        super().__init__("the text looks like it holds personal data: " + "; ".join(f.describe() for f in findings))


@dataclass(frozen=True)
class SavedItem:
    """An item as someone else saved it, as plain values that outlive the refused change."""

    reference: str
    version: int
    status: str
    values: dict[str, Any]  # the item's own fields (common and its kind's) and review-by
    changed_by: str | None
    changed_at: datetime | None

    @classmethod
    def of(cls, item: EvidenceItem) -> SavedItem:
        last = db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "evidence_item", AuditEvent.entity_id == item.id)
            .options(selectinload(AuditEvent.user))
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        names = (*COMMON_FIELDS, *fields_for(item.kind))
        return cls(
            reference=item.reference,
            version=item.version,
            status=item.status,
            values={name: _copy(getattr(item, name)) for name in names},
            changed_by=last.user.name if last is not None and last.user is not None else None,
            changed_at=item.updated_at,
        )

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    def differences(self, fields: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        """(field name, their value, the given value) for each given field where the two differ."""
        mine = _clean(fields)
        return [
            (name, self.values[name], mine[name])
            for name in self.values
            if name in mine and _same_shape(self.values[name]) != _same_shape(mine[name])
        ]


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _same_shape(value: Any) -> Any:
    """A value as compared: numbers as floats, nothing and empty text alike."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


class VersionConflict(ItemError):
    """Someone else changed the item since this edit began; ``theirs`` is the item as they saved it."""

    def __init__(self, theirs: SavedItem):
        super().__init__(
            f"{theirs.reference} was changed by someone else while you were editing it. "
            "Nothing was saved; reload the page to see their changes."
        )
        self.theirs = theirs


def default_review_by(kind: str, period_end: date | None = None, period_start: date | None = None, on=None) -> date:
    """When evidence of this kind is due a review: its kind's months after the period it covers ends.

    The one rule, for a submission, a reviewer's blank review-by and an import alike: evidence ages from
    when it describes, not from when it reached the portal, so a survey run two years ago and imported today
    is already due a review. Without a period, the months run from ``on`` (today). At the latest
    ``bounds.LAST_DATE``, so a period ending late in the range still has one.
    """
    return add_months(period_end or period_start or on or today(), Kind(kind).review_months)


# --- Rights --------------------------------------------------------------------------------------


def is_owner(item: EvidenceItem, user: User | None) -> bool:
    uid = getattr(user, "id", None)
    return uid is not None and uid in (item.owner_id, item.submitted_by_id)


def can_view(item: EvidenceItem, user: User | None) -> bool:
    """Curators see everything; owners see their own; managers see accepted evidence."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if has_role(user, *CURATORS) or is_owner(item, user):
        return True
    return has_role(user, Role.MANAGER) and item.status == Status.ACCEPTED


def can_add_points(item: EvidenceItem, user: User | None) -> bool:
    return item.kind == Kind.METRIC and (has_role(user, *CURATORS) or is_owner(item, user))


# --- Checking values -----------------------------------------------------------------------------


def check_fields(kind: str, fields: Mapping[str, Any]) -> None:
    """Raise ItemError naming the first field that is missing or out of range."""
    kind = Kind(kind)
    allowed = set(COMMON_FIELDS) | set(KIND_FIELDS[kind])
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ItemError(f"{', '.join(unknown)} do not belong to a {kind.label.lower()}")

    def label(name: str) -> str:
        return FIELD_LABELS[name]

    for name in ("title", "source", *REQUIRED_FIELDS[kind]):
        if name in fields and (fields[name] is None or (isinstance(fields[name], str) and not fields[name].strip())):
            raise ItemError(f"{label(name)}: this is required for a {kind.label.lower()}")
    for name, limit in TEXT_LIMITS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise ItemError(f"{label(name)}: at most {limit} characters")
    for name in ("period_start", "period_end", "review_by"):
        if fields.get(name) is not None and not isinstance(fields[name], date):
            raise ItemError(f"{label(name)}: not a date")
        try:
            if fields.get(name) is not None:
                bounds.check_date(fields[name])
        except bounds.OutOfRange as exc:
            raise ItemError(f"{label(name)}: {exc}") from None
    start, end = fields.get("period_start"), fields.get("period_end")
    if start and end and end < start:
        raise ItemError("Period end: must be on or after the period start")
    if end and not start:
        raise ItemError("Period start: give a start when there is an end")
    percent = fields.get("result_percent")
    if percent is not None and not 0 <= percent <= 100:
        raise ItemError("Result (%): must be between 0 and 100")
    for name in ("respondents", "cases_reviewed"):
        value = fields.get(name)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ItemError(f"{label(name)}: must be a whole number, 0 or more")
    for name, bound in bounds.ITEM_NUMBERS.items():
        try:
            if fields.get(name) is not None:
                bound.check(fields[name])
        except bounds.OutOfRange as exc:
            raise ItemError(f"{label(name)}: {exc}") from None
    for name, vocab in CHOICE_FIELDS.items():
        value = fields.get(name)
        if value and value not in set(vocab):
            raise ItemError(f"{label(name)}: choose one of {', '.join(m.label for m in vocab)}")
    link = fields.get("link_url")
    if link and not link.lower().startswith(("http://", "https://")):
        raise ItemError("Link: must start with http:// or https://")


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
            if name not in ("title", "summary", "source") and value == "":
                value = None
        if name in ("summary", "source") and value is None:
            value = ""
        if name == "suggested_statements":
            value = list(dict.fromkeys(value or []))
        out[name] = value
    return out


def parse_points(points: Iterable[tuple[str, float]]) -> list[tuple[date, str, float]]:
    """(period text, value) pairs → (first day, label, value), refusing bad or repeated periods
    and values that are not numbers a metric may hold (``bounds.MEASURE``)."""
    parsed: list[tuple[date, str, float]] = []
    seen: dict[date, str] = {}
    for n, (period_text, value) in enumerate(points, start=1):
        try:
            period = parse_period(period_text)
        except MetricError as exc:
            raise ItemError(f"Point {n}: {exc}") from exc
        if value is None:
            raise ItemError(f"Point {n}: enter a value for {period.label}")
        if period.start in seen:
            raise ItemError(f"Point {n}: {period.label} is already given as {seen[period.start]}")
        seen[period.start] = period.label
        try:
            value = bounds.MEASURE.check(value)
        except bounds.OutOfRange as exc:
            raise ItemError(f"Point {n}: {exc} (the value for {period.label})") from None
        parsed.append((period.start, period.label, value))
    return parsed


def _check_percentages(parsed: Sequence[tuple[date, str, float]], unit: str | None) -> None:
    """Each point's value in the range of the metric's unit (``bounds.UNIT_RULE``)."""
    for n, (_, label, value) in enumerate(parsed, start=1):
        if problem := bounds.point_problem(value, unit):
            raise ItemError(f"Point {n}: {problem.replace(' is ', f' for {label} is ', 1)}")


def _set_points(item: EvidenceItem, parsed: Sequence[tuple[date, str, float]]) -> None:
    existing = {p.period: p for p in item.points}
    wanted = {period for period, _, _ in parsed}
    for period, point in existing.items():
        if period not in wanted:
            item.points.remove(point)
    for period, label, value in parsed:
        set_point(item, period, label, value, existing.get(period))


def _points_snapshot(item: EvidenceItem) -> list[str]:
    return [f"{p.label}: {p.value:g}" for p in sorted(item.points, key=lambda p: p.period)]


def _attach(item: EvidenceItem, files: Iterable[StoredFile], user: User | None) -> None:
    for stored in files:
        item.attachments.append(
            Attachment(
                sha256=stored.sha256,
                original_name=stored.original_name,
                content_type=stored.content_type,
                size=stored.size,
                uploaded_by_id=getattr(user, "id", None),
            )
        )


def _apply(item: EvidenceItem, fields: Mapping[str, Any]) -> None:
    """Check and set fields; when the period moves and review-by was the default, the default follows."""
    fields = _clean(fields)
    merged = {name: getattr(item, name) for name in (*COMMON_FIELDS, *fields_for(item.kind))}
    merged.update(fields)
    check_fields(item.kind, {k: v for k, v in merged.items() if k in fields or k in ("period_start", "period_end")})
    was_default = item.review_by == default_review_by(item.kind, item.period_end, item.period_start)
    for name, value in fields.items():
        setattr(item, name, value)
    if "review_by" not in fields and (was_default or item.review_by is None):
        item.review_by = default_review_by(item.kind, item.period_end, item.period_start)


def _check_version(item: EvidenceItem, expected_version: int | str | None) -> None:
    if expected_version is not None and _version(expected_version) != item.version:
        raise VersionConflict(SavedItem.of(item))


@contextmanager
def _changing(item: EvidenceItem) -> Iterator[None]:
    """One change to an item, committed at the end or not at all.

    The open rounds are locked first, because their sign-off snapshots read the evidence. A change that
    loses a race (someone saved the item at the same version: StaleDataError when the versioned UPDATE
    finds no row, or a clash on a unique value) is refused with the version that won, never an error page.
    """
    item_id = item.id
    lock_open_rounds()
    try:
        yield
        db.session.commit()
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        current = db.session.get(EvidenceItem, item_id)
        if current is None:
            raise ItemError(f"{citations.reference(item_id)} was removed while you were editing it") from exc
        raise VersionConflict(SavedItem.of(current)) from exc
    except BaseException:
        db.session.rollback()
        raise


def _version(value: int | str) -> int | None:
    """A version as a form sends it back; text that is not one never matches, so the save is refused."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- The life of an item --------------------------------------------------------------------------


def create_item(
    kind: str,
    fields: Mapping[str, Any],
    *,
    user: User | None,
    points: Iterable[tuple[str, float]] = (),
    files: Iterable[StoredFile] = (),
) -> EvidenceItem:
    """A new submission, owned by the person who sent it, waiting for review."""
    try:
        kind = Kind(kind)
    except ValueError as exc:
        raise ItemError(f"Kind: '{kind}' is not a kind of evidence") from exc
    fields = _clean(fields)
    if kind == Kind.QUOTE and not fields.get("quote_tone"):
        fields["quote_tone"] = QuoteTone.NEUTRAL
    for name in ("title", "source", *REQUIRED_FIELDS[kind]):
        fields.setdefault(name, None)
    check_fields(kind, fields)
    parsed = parse_points(points) if kind == Kind.METRIC else []
    _check_percentages(parsed, fields.get("unit"))
    item = EvidenceItem(
        kind=kind,
        status=Status.SUBMITTED,
        owner_id=getattr(user, "id", None),
        submitted_by_id=getattr(user, "id", None),
        suggested_statements=[],
        summary="",
        source="",
    )
    for name, value in fields.items():
        setattr(item, name, value)
    if not item.review_by:
        item.review_by = default_review_by(kind, item.period_end, item.period_start)
    for period, label, value in parsed:
        set_point(item, period, label, value)
    _attach(item, files, user)
    db.session.add(item)
    db.session.flush()
    # What was given, without the empty fields of other kinds.
    after = {k: v for k, v in audit.snapshot(item, AUDITED_FIELDS).items() if v not in (None, "", [])}
    if parsed:
        after["points"] = _points_snapshot(item)
    audit.record("create", item, user=user, summary=f"Submitted {kind.label.lower()} “{item.title}”", after=after)
    for stored in files:
        audit.record("attach", item, user=user, summary=f"Attached {stored.original_name}")
    events.submission_waiting(item, user)
    db.session.commit()
    return item


def update_item(
    item: EvidenceItem,
    fields: Mapping[str, Any],
    *,
    user: User | None,
    points: Iterable[tuple[str, float]] | None = None,
    files: Iterable[StoredFile] = (),
    expected_version: int | None = None,
    summary: str = "Edited",
    action: str = "update",
    new_status: str | None = None,
) -> EvidenceItem:
    """Change an item's fields (and, for a metric, optionally its whole series of points); ``summary`` and
    ``action`` say how the change is recorded, ``new_status`` what status the item takes with it."""
    _check_version(item, expected_version)
    files = list(files)
    parsed = parse_points(points) if points is not None and item.kind == Kind.METRIC else None
    _check_percentages(parsed or [], fields.get("unit", item.unit))
    with _changing(item):
        before = audit.snapshot(item, AUDITED_FIELDS)
        before["points"] = _points_snapshot(item)
        _apply(item, fields)  # checks every value before setting any
        if new_status is not None:
            item.status = new_status
            item.return_reason = None
        if parsed is not None:
            _set_points(item, parsed)
        _attach(item, files, user)
        after = audit.snapshot(item, AUDITED_FIELDS)
        after["points"] = _points_snapshot(item)
        audit.record(action, item, user=user, summary=summary, before=before, after=after)
        for stored in files:
            audit.record("attach", item, user=user, summary=f"Attached {stored.original_name}")
        if new_status == Status.SUBMITTED:
            events.submission_waiting(item, user, resubmitted=True)
    return item


class _Preview:
    """An item as it would read with some changes applied, for the personal data check."""

    def __init__(self, item: EvidenceItem, changes: Mapping[str, Any] | None):
        self._item, self._changes = item, dict(changes or {})

    def __getattr__(self, name: str) -> Any:
        if name == "return_reason":  # cleared on acceptance; the reviewer's words are not evidence
            return None
        if name in self._changes:
            return self._changes[name]
        return getattr(self._item, name)


def personal_data_findings(item: EvidenceItem, changes: Mapping[str, Any] | None = None):
    """What in the item's text (with any pending changes) looks like personal data."""
    return personal_data.scan_item(_Preview(item, changes))


def accept_item(
    item: EvidenceItem,
    *,
    user: User | None,
    changes: Mapping[str, Any] | None = None,
    confirm_personal_data: bool = False,
    expected_version: int | None = None,
) -> EvidenceItem:
    """Accept an item (with the reviewer's edits applied first). Text that looks like personal data
    stops the acceptance unless the reviewer confirms it; the confirmation is recorded."""
    if item.status == Status.ACCEPTED:
        raise ItemError(f"{item.reference} is already accepted")
    _check_version(item, expected_version)
    findings = personal_data_findings(item, changes)
    if findings and not confirm_personal_data:
        raise PersonalDataFound(findings)
    with _changing(item):
        before = audit.snapshot(item, AUDITED_FIELDS)
        if changes:
            _apply(item, changes)  # checks every value before setting any
        item.status = Status.ACCEPTED
        item.return_reason = None
        item.reviewed_by_id = getattr(user, "id", None)
        item.reviewed_at = utcnow()
        item.personal_data = bool(findings)
        if findings:
            audit.record(
                "personal_data",
                item,
                user=user,
                summary="Accepted after confirming that text which looks like personal data may stay: "
                + "; ".join(f.describe() for f in findings),
                after={"personal_data": True, "findings": [f.describe() for f in findings]},
            )
        audit.record(
            "accept",
            item,
            user=user,
            summary="Accepted",
            before=before,
            after=audit.snapshot(item, AUDITED_FIELDS),
        )
        events.submission_reviewed(item, user, accepted=True)
    return item


def return_item(item: EvidenceItem, *, user: User | None, reason: str) -> EvidenceItem:
    """Send an item back to its submitter, saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise ItemError("Reason: say why it is being returned, so the submitter can put it right")
    if item.status not in (Status.SUBMITTED, Status.ACCEPTED):
        raise ItemError(f"{item.reference} is {item.status_label.lower()}, so it cannot be returned")
    with _changing(item):
        before = audit.snapshot(item, ["status", "return_reason"])
        item.status = Status.RETURNED
        item.return_reason = reason
        item.reviewed_by_id = getattr(user, "id", None)
        item.reviewed_at = utcnow()
        audit.record(
            "return",
            item,
            user=user,
            summary=f"Returned: {reason}",
            before=before,
            after=audit.snapshot(item, ["status", "return_reason"]),
        )
        events.submission_reviewed(item, user, accepted=False)
    return item


def resubmit(item: EvidenceItem, fields: Mapping[str, Any], *, user: User | None, **given: Any) -> EvidenceItem:
    """The submitter's corrected version of a returned item goes back to the review queue (``given``: the points,
    files and expected version, as for ``update_item``)."""
    if item.status != Status.RETURNED:
        raise ItemError(f"{item.reference} is {item.status_label.lower()}; only a returned item can be resubmitted")
    if not is_owner(item, user):
        raise ItemError(f"{item.reference} is not yours to resubmit")
    return update_item(
        item,
        fields,
        user=user,
        **given,
        summary="Corrected and resubmitted",
        action="resubmit",
        new_status=Status.SUBMITTED,
    )


def review_queue(status: str) -> Select:
    """The statement listing the items waiting with this status, the longest waiting first."""
    return (
        select(EvidenceItem)
        .where(EvidenceItem.status == status)
        .order_by(EvidenceItem.updated_at.asc(), EvidenceItem.id.asc())
        .options(selectinload(EvidenceItem.submitted_by), selectinload(EvidenceItem.attachments))
    )


def status_counts(statuses: Iterable[str]) -> dict[str, int]:
    """How many items have each of these statuses (one aggregate query; a status no item has is left out)."""
    return dict(
        db.session.execute(
            select(EvidenceItem.status, func.count(EvidenceItem.id))
            .where(EvidenceItem.status.in_(list(statuses)))
            .group_by(EvidenceItem.status)
        ).all()
    )


def items_for_owner(user: User):
    """The statement listing a person's own submissions, newest first."""
    return (
        db.select(EvidenceItem)
        .where((EvidenceItem.owner_id == user.id) | (EvidenceItem.submitted_by_id == user.id))
        .order_by(EvidenceItem.id.desc())
    )
