"""Figures that depend only on the portfolio (and the date), computed once per version of it.

``kept(name, compute, *args)`` returns what ``compute(*args)`` returned for the same portfolio version
(``evidence.portfolio_version``), the same day and the same arguments, or computes it and keeps it.
A write anywhere moves the version on, so a kept figure is never older than the database. Values are
plain data (dataclasses, dicts, tuples), never ORM objects, since they outlive the session and may be
pickled to Redis; arguments are ids and keys, never ORM objects.

The store is the database's, as the portal set it (``keep_in``; ``portal.caching`` chooses memory or
Redis): without one, or while this session holds writes not yet committed, figures are computed and not kept.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from evidence import portfolio_version
from evidence.db import db
from evidence.models import today

log = logging.getLogger(__name__)

EXTENSION = "assure.portfolio_cache"
T = TypeVar("T")

# Each database's store (cachelib's interface), by the engine that reaches it: an app has an engine of its own.
_STORES: weakref.WeakKeyDictionary[Engine, Any] = weakref.WeakKeyDictionary()


def keep_in(engine: Engine, store) -> None:
    """Keep the figures of the database behind ``engine`` in ``store``."""
    _STORES[engine] = store


def _store():
    try:
        engine = db.engine
    except RuntimeError:  # outside an application: no database of its own, nowhere to keep figures
        return None
    return _STORES.get(engine)


def key_for(name: str, version: portfolio_version.Version, args: tuple) -> str:
    # Arguments are digested: any length fits, and no text a person wrote is kept in a key.
    digest = hashlib.sha256(repr(args).encode()).hexdigest()[:24]
    return f"{name}:{version}:{today().isoformat()}:{digest}"


def kept(name: str, compute: Callable[..., T], *args: Any) -> T:
    store = _store()
    if store is None or portfolio_version.unsaved_writes(db.session):
        return compute(*args)
    key = key_for(name, portfolio_version.current(db.session), args)
    try:
        hit = store.get(key)
    except Exception as exc:  # the database is the truth: an unreachable cache only costs time
        log.warning("figure cache unavailable: %s", exc)
        return compute(*args)
    if hit is not None:
        return hit[0]
    value = compute(*args)
    try:
        store.set(key, (value,))  # a tuple, so that a figure of None is kept too
    except Exception as exc:
        log.warning("figure cache unavailable: %s", exc)
    return value


def figure(name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """``@figure("gaps")``: the decorated function's result is ``kept`` under that name and its arguments."""

    def decorate(compute: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(compute)
        def wrapper(*args: Any) -> T:
            return kept(name, compute, *args)

        wrapper.uncached = compute
        return wrapper

    return decorate
