"""Two people saving one item at once: the refused save shows their version beside this one.

Shared by the review page (submissions) and an accepted item's edit page.
"""

from __future__ import annotations

from datetime import date

from flask import flash

from evidence.fields import FIELD_LABELS
from evidence.framework_sync import statements_in_order
from evidence.library import items
from evidence.vocab import Kind
from portal.review.forms import LEAD_HINTS
from portal.templating import format_date


def shown(name: str, value, statement_names: dict[str, str]) -> str:
    """A field's value as the conflict table shows it."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, date):
        return format_date(value)
    if name == "suggested_statements":
        return ", ".join(statement_names.get(key, key) for key in value)
    if name in items.CHOICE_FIELDS and value in set(items.CHOICE_FIELDS[name]):
        return items.CHOICE_FIELDS[name](value).label
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def item_page(item, form, *, findings, conflict) -> dict:
    """What the review page and the edit page both give their template: the item, its form with the quality
    lead's hints, the personal data findings and, after a refused save, the conflict table."""
    statement_names = {s.key: s.name for s in statements_in_order()}
    return {
        "item": item,
        "form": form,
        "kind": Kind(item.kind),
        "hints": LEAD_HINTS,
        "findings": findings,
        "conflict": conflict,
        "labels": FIELD_LABELS,
        "statement_names": statement_names,
        "shown": lambda name, value: shown(name, value, statement_names),
    }


def refused(form, changes: dict, exc: items.VersionConflict) -> dict:
    """Another person saved first: say so, show their version beside this one, and keep this one in the
    form, now based on theirs, so that saving again is a deliberate choice to replace it."""
    theirs = exc.theirs
    flash(
        f"Nothing was saved: {theirs.reference} was changed by someone else while you were editing it. "
        "Their version is shown beside yours; your changes are still in the form.",
        "error",
    )
    form.version.data = str(theirs.version)
    return {"theirs": theirs, "differences": theirs.differences(changes)}
