"""Ids in addresses and forms: only what the database can hold is looked up.

An id beyond the range of an INTEGER column makes PostgreSQL (and SQLite's
driver) raise instead of finding nothing, so such ids are treated as not found
before any query runs.
"""

from __future__ import annotations

from flask import abort
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField
from wtforms.validators import StopValidation

from evidence.bounds import MAX_ID
from evidence.db import db


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number beyond ``MAX_ID`` does not match, so it is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_arg(value: str | None) -> int | None:
    """A query-string id (ASCII digits, at most ``MAX_ID``), or None when the text is not one."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


class IdField(IntegerField):
    """An id posted by a form (a hidden field, a select's value). Text that is not one, or a number
    beyond ``MAX_ID``, is refused with ``message`` before any query is asked about it."""

    def __init__(self, label=None, validators=None, message="Not a valid choice.", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        self.data = id_arg(valuelist[0].strip()) if valuelist else None

    def pre_validate(self, form):
        if self.data is None and self.raw_data and self.raw_data[0]:  # a space is no more an id than "abc"
            raise StopValidation(self.message)


def part_or_404(model, part_id: int, **owner: int):
    """The row of ``model`` with this id, when it belongs to the owner the address names (``item_id=…``,
    ``statement_id=…``); else 404, as for a row that does not exist."""
    row = db.session.get(model, part_id)
    if row is None or any(getattr(row, name) != value for name, value in owner.items()):
        abort(404)
    return row


def page_arg(value: str | None) -> int:
    """A page number from the query string: 1 when missing or not a usable number."""
    number = id_arg(value)
    return number if number else 1


def init_app(app) -> None:
    app.url_map.converters["int"] = IdConverter
