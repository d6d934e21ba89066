"""Ids in addresses: only what the database can hold is looked up.

An id beyond the range of an INTEGER column makes PostgreSQL (and SQLite's
driver) raise instead of finding nothing, so such ids are treated as not found
before any query runs.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from evidence.models import MAX_ID


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number beyond ``MAX_ID`` does not match, so it is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_arg(value: str | None) -> int | None:
    """A query-string id (ASCII digits, at most ``MAX_ID``), or None when the text is not one."""
    if not value or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def page_arg(value: str | None) -> int:
    """A page number from the query string: 1 when missing or not a usable number."""
    number = id_arg(value)
    return number if number else 1


def init_app(app) -> None:
    app.url_map.converters["int"] = IdConverter
