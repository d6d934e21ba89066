"""Recording changes in the append-only audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect

from evidence.db import db
from evidence.models import AuditEvent, User


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """The column values of a model instance, as JSON-safe values."""
    columns = fields or [c.key for c in inspect(obj).mapper.column_attrs]
    return {name: _plain(getattr(obj, name)) for name in columns}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (before.get(k), after.get(k)) for k in after if before.get(k) != after.get(k)}


def record(
    action: str,
    entity: Any | None = None,
    *,
    user: User | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session; it commits with the change it describes."""
    if entity is not None:
        entity_type = entity_type or entity.__tablename__
        if entity_id is None:
            db.session.flush()
            entity_id = entity.id
    if before is not None and after is not None:
        # Keep only what changed, so the trail reads as a list of edits.
        diff = changed(before, after)
        before = {k: v[0] for k, v in diff.items()}
        after = {k: v[1] for k, v in diff.items()}
    event = AuditEvent(
        action=action,
        entity_type=entity_type or "",
        entity_id=entity_id,
        user_id=user.id if user is not None and getattr(user, "id", None) else None,
        summary=summary,
        before=before,
        after=after,
        remote_addr=remote_addr,
    )
    db.session.add(event)
    return event


def record_new(entity: Any, fields: Iterable[str], *, user: User | None = None, summary: str = "") -> AuditEvent:
    """Add a new row to the session and record its creation, with the values of ``fields`` it was created with."""
    db.session.add(entity)
    db.session.flush()
    return record("create", entity, user=user, summary=summary, after=snapshot(entity, list(fields)))


def record_change(entity: Any, changes: dict[str, Any], *, user: User | None = None, summary: str = "") -> AuditEvent:
    """Set ``changes`` on a row and record them, with the values before and after."""
    before = snapshot(entity, list(changes))
    for name, value in changes.items():
        setattr(entity, name, value)
    return record("update", entity, user=user, summary=summary, before=before, after=snapshot(entity, list(changes)))


def history(entity_type: str, entity_id: int) -> list[AuditEvent]:
    return db.session.scalars(
        db.select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
