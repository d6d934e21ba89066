"""Where the portfolio's figures are kept between writes: this process's memory, and Redis when set.

With several worker processes each keeps its own copy in memory, which is still never stale (every
copy is keyed by the database's portfolio version); Redis shares one copy between them all, so a
figure one server or process has computed is not computed again by the others.
"""

from __future__ import annotations

from collections.abc import Callable

from cachelib import BaseCache, RedisCache, SimpleCache
from flask import Flask
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from evidence import portfolio_version
from evidence.db import db
from evidence.portfolio_cache import EXTENSION, keep_in, kept

# A day at most: keys carry the date, so yesterday's figures are never read again.
TIMEOUT_SECONDS = 24 * 60 * 60
# Figures of one version: a few per page and per statement, and a version lives until the next write.
MEMORY_ENTRIES = 500


class NearAndShared(BaseCache):
    """Redis with this process's memory in front of it.

    A kept figure never changes under its key (the key names the portfolio version), so a copy read once
    from Redis serves from memory after that: a warm page costs no round trip to Redis."""

    def __init__(self, near: SimpleCache, shared: RedisCache):
        super().__init__(default_timeout=TIMEOUT_SECONDS)
        self.near, self.shared = near, shared

    def get(self, key: str):
        value = self.near.get(key)
        if value is None:
            value = self.shared.get(key)
            if value is not None:
                self.near.set(key, value)
        return value

    def set(self, key: str, value, timeout: int | None = None) -> bool:
        self.near.set(key, value, timeout)
        return self.shared.set(key, value, timeout)


def store_for(config) -> SimpleCache | NearAndShared:
    near = SimpleCache(threshold=MEMORY_ENTRIES, default_timeout=TIMEOUT_SECONDS)
    url = config.get("REDIS_URL")
    if not url:
        return near
    import redis

    # A Redis that does not answer costs a page at most a second before the figures are computed.
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    prefix = f"{config['REDIS_KEY_PREFIX']}:figures:"
    return NearAndShared(near, RedisCache(host=client, key_prefix=prefix, default_timeout=TIMEOUT_SECONDS))


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = store = store_for(app.config)
    with app.app_context():
        portfolio_version.watch(db.engine)
        keep_in(db.engine, store)

    @app.before_request
    def _read_version_afresh():
        portfolio_version.forget(db.session)


# Where the reader's CSRF token goes in a kept rendering: no text a person wrote can render as this
# (their "<" is escaped, and the sanitiser drops unknown tags), so only a token is ever put back here.
CSRF_SLOT = "<csrf-token>"


def kept_html(name: str, render: Callable[..., tuple], *args) -> tuple[Markup, ...]:
    """``kept`` for rendered parts of a page (a tuple of HTML), which may hold forms: the reader's CSRF
    token is taken out before the parts are kept and their own put back, so that one rendering serves
    everyone it is the same for and no one's token is kept."""
    token = generate_csrf()

    def without_token(*key):
        return tuple(str(part).replace(token, CSRF_SLOT) for part in render(*key))

    return tuple(Markup(part.replace(CSRF_SLOT, token)) for part in kept(name, without_token, *args))
