"""Where the portfolio's figures are kept between writes: this process's memory, or Redis when set.

With several worker processes each keeps its own copy in memory, which is still never stale (every
copy is keyed by the database's portfolio version); Redis shares one copy between them all.
"""

from __future__ import annotations

from cachelib import RedisCache, SimpleCache
from flask import Flask

from evidence import portfolio_version
from evidence.db import db
from evidence.portfolio_cache import EXTENSION

# A day at most: keys carry the date, so yesterday's figures are never read again.
TIMEOUT_SECONDS = 24 * 60 * 60
# Figures of one version: a few per page and per statement, and a version lives until the next write.
MEMORY_ENTRIES = 500


def store_for(config) -> SimpleCache | RedisCache:
    url = config.get("REDIS_URL")
    if url:
        import redis

        # A Redis that does not answer costs a page at most a second before the figures are computed.
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        return RedisCache(
            host=client, key_prefix=f"{config['REDIS_KEY_PREFIX']}:figures:", default_timeout=TIMEOUT_SECONDS
        )
    return SimpleCache(threshold=MEMORY_ENTRIES, default_timeout=TIMEOUT_SECONDS)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = store_for(app.config)
    with app.app_context():
        portfolio_version.watch(db.engine)

    @app.before_request
    def _read_version_afresh():
        portfolio_version.forget(db.session)
