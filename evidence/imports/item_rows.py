"""Importers whose rows are evidence items, one item per row, matched again by a natural key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evidence import audit
from evidence.db import db
from evidence.imports.base import (
    CREATE,
    UNCHANGED,
    UPDATE,
    Importer,
    ImportResult,
    ParsedRow,
    Plan,
    PlannedRow,
    RowError,
    add_mappings,
    describe_mappings,
    in_chunks,
    mapping_changes,
    new_item,
    personal_note,
    record_mappings,
    scan,
    show,
)
from evidence.models import EvidenceItem, Mapping, User


class ItemImporter(Importer):
    """One spreadsheet row is one evidence item of ``kind``; importing it again finds the same item."""

    kind: str = ""
    # item attribute -> its label in the preview's list of changes
    field_labels: dict[str, str] = {}
    # the attributes the personal data guard reads, each shown under its label
    scanned_fields: tuple[str, ...] = ()
    # the column blamed when two rows describe the same item
    identity_column: str = ""
    identity_description: str = ""

    # -- to implement

    def identity(self, values: dict[str, Any]) -> str:
        """The item's natural key, from the columns that identify it."""
        raise NotImplementedError

    def fields(self, values: dict[str, Any]) -> dict[str, Any]:
        """Item attributes from a row; None means "not given" (an update leaves it alone)."""
        raise NotImplementedError

    def defaults(self, values: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        """Values for a new item where the row left an optional cell blank."""
        return {}

    def display(self, values: dict[str, Any], fields: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def scanned_text(self, fields: dict[str, Any]) -> dict[str, str | None]:
        return {self.field_labels[name]: fields.get(name) for name in self.scanned_fields}

    # -- planning

    def plan_rows(self, parsed: list[ParsedRow], errors: list[RowError]):
        checked, new_errors = self.checked_rows(parsed, errors)
        keys: dict[str, int] = {}
        good: list[tuple[ParsedRow, str]] = []
        for row in checked:
            key = self.identity(row.values)
            if key in keys:
                new_errors.append(
                    self.error(
                        row,
                        self.identity_column,
                        row.raw.get(self.identity_column),
                        f"Repeats row {keys[key]}: the same {self.identity_description}",
                    )
                )
                continue
            keys[key] = row.row
            good.append((row, key))
        existing = self._existing(list(keys))
        planned: list[PlannedRow] = []
        for row, key in good:
            planned.append(self._plan_row(row, key, existing.get(key)))
        return planned, new_errors, [], {}

    def _existing(self, keys: list[str]) -> dict[str, EvidenceItem]:
        found: dict[str, EvidenceItem] = {}
        for chunk in in_chunks(keys):
            query = (
                select(EvidenceItem)
                .where(EvidenceItem.natural_key.in_(chunk))
                .options(selectinload(EvidenceItem.mappings).selectinload(Mapping.statement))
                .options(selectinload(EvidenceItem.mappings).selectinload(Mapping.category))
            )
            for item in db.session.scalars(query):
                found[item.natural_key] = item
        return found

    def _plan_row(self, row: ParsedRow, key: str, item: EvidenceItem | None) -> PlannedRow:
        fields = self.fields(row.values)
        wanted = self.mappings_of(row.values)
        if item is None:
            values = {**fields, **{k: v for k, v in self.defaults(row.values, fields).items() if fields.get(k) is None}}
            values = {k: v for k, v in values.items() if v is not None}
            changes = ["map to " + describe_mappings(wanted)] if wanted else []
            return PlannedRow(
                row.row,
                CREATE,
                ["New", *self.display(row.values, values)],
                changes=changes,
                findings=scan(self.scanned_text(values)),
                payload={"key": key, "fields": values, "wanted": wanted},
            )
        changed = {name: value for name, value in fields.items() if value is not None and getattr(item, name) != value}
        to_add, to_change, mapping_notes = mapping_changes(item, wanted)
        descriptions = [
            f"{self.field_labels.get(name, name)}: {show(getattr(item, name))} → {show(value)}"
            for name, value in changed.items()
        ] + mapping_notes
        action = UPDATE if descriptions else UNCHANGED
        shown = {name: getattr(item, name) for name in fields} | changed
        return PlannedRow(
            row.row,
            action,
            [item.reference, *self.display(row.values, shown)],
            changes=descriptions,
            findings=scan(self.scanned_text(changed)) if action == UPDATE else [],
            payload={"item": item, "changed": changed, "add": to_add, "restance": to_change},
        )

    # -- writing

    def write(self, plan: Plan, user: User | None, confirmed_personal_data: bool) -> ImportResult:
        result = ImportResult(kind=self.key)
        created: list[tuple[EvidenceItem, PlannedRow]] = []
        updated: list[tuple[EvidenceItem, PlannedRow, dict[str, Any], list[Mapping]]] = []
        for planned in plan.rows:
            payload = planned.payload
            if planned.action == CREATE:
                item = new_item(self.kind, user, payload["key"], **payload["fields"])
                item.personal_data = bool(planned.findings)
                add_mappings(item, payload["wanted"], user)
                db.session.add(item)
                created.append((item, planned))
            elif planned.action == UPDATE:
                item = payload["item"]
                before = audit.snapshot(item, list(payload["changed"])) if payload["changed"] else {}
                for name, value in payload["changed"].items():
                    setattr(item, name, value)
                if planned.findings:
                    item.personal_data = True
                for mapping, stance in payload["restance"]:
                    mapping.stance = stance
                added = add_mappings(item, payload["add"], user)
                updated.append((item, planned, before, added))
            else:
                result.unchanged += 1
        db.session.flush()
        source = f"import of {plan.filename}"
        for item, planned in created:
            note = personal_note(planned)
            audit.record(
                "import",
                item,
                entity_id=item.id,
                user=user,
                summary=f"Created and accepted by the {source}, row {planned.row}{note}",
                after=audit.snapshot(item, ["kind", "title", "status", *self.field_labels]),
            )
            record_mappings(item.mappings, user)
            result.created += 1
            result.references.append(item.reference)
        for item, planned, before, added in updated:
            audit.record(
                "update",
                item,
                entity_id=item.id,
                user=user,
                summary=f"Updated by the {source}, row {planned.row}: {'; '.join(planned.changes)}"
                + personal_note(planned),
                before=before or None,
                after=audit.snapshot(item, list(before)) if before else None,
            )
            record_mappings(added, user)
            result.updated += 1
            result.references.append(item.reference)
        return result
