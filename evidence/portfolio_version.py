"""Which state of the portfolio the database holds: an epoch and a version that every write moves on.

Every transaction that writes to a portfolio table adds one to ``portfolio_version.version`` just
before it commits, in that same transaction, so a reader never sees the new rows under the old
version nor the new version without its rows. Writes are noticed on the engine, as the SQL goes to the
database, so ORM flushes, bulk statements, Core inserts from the importers and the demo, and raw SQL all
count; the tables below, which hold nobody's evidence or judgement, do not. Any other table counts, so a
table added later can only cause a needless recount, never a stale figure.

The version is taken at the very end of the transaction, after every other lock it holds, so two
writers wait for each other there rather than deadlock. The row is made by the first write, with a
new random epoch: a database that is new, emptied or restored (``RESET_SQL``) starts a new epoch, and
version numbers of an old one never match.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

TABLE = "portfolio_version"

# Writes to these tables leave every figure computed from the portfolio as it was.
NOT_PORTFOLIO = frozenset(
    {
        TABLE,
        "user_session",  # signing in and out
        "password_reset",
        "api_token",  # a token's last use is written on every API call
        "notification",  # delivered, read and unread
        "notification_preference",
        "mail_outbox",
        "audit_event",  # written beside a portfolio change, which counts by itself
        "jobs",  # a background job's progress and heartbeat; what an import job writes counts by itself
        "alembic_version",
    }
)

# The first words of a statement that writes rows, and the table it writes.
_ROW_WRITE = re.compile(r"\s*(?:insert\s+(?:or\s+\w+\s+)?into|replace\s+into|update|delete\s+from)\s+[\"`]?(\w+)", re.I)
_WRITE_AFTER_WITH = re.compile(r"\)\s*(?:insert|update|delete|merge)\b", re.I)
_SCHEMA_WRITE = ("truncate", "create", "drop", "alter")
_DIRTY = "assure_portfolio_written"  # on the DBAPI connection's info: this transaction wrote the portfolio
_SAVEPOINT = "assure_portfolio_version"


def _bump_sql() -> str:
    # A uuid of hex digits only, so it can be written into the SQL; used only when the row is new.
    return (
        f"INSERT INTO {TABLE} (id, epoch, version) VALUES (1, '{uuid.uuid4()}', 1) "
        f"ON CONFLICT (id) DO UPDATE SET version = {TABLE}.version + 1"
    )


# What a restore runs on the restored database (of SQLite; PostgreSQL names the schema): the next write then
# starts a new epoch.
RESET_SQL = f"DELETE FROM {TABLE}"


def writes_portfolio(statement: str) -> bool:
    """Does this SQL change the portfolio? (Reads, savepoints and writes to ``NOT_PORTFOLIO`` do not.)"""
    head = statement[:40].lstrip().lower()
    if head.startswith("with"):
        # A common table expression may end in a write, to a table the regex below cannot pick out: it
        # counts then, so that a figure is recomputed rather than left stale.
        return _WRITE_AFTER_WITH.search(statement) is not None
    if head.startswith(("select", "savepoint", "release", "rollback", "pragma", "set ", "show", "begin")):
        return False
    match = _ROW_WRITE.match(statement)
    if match:
        return match.group(1).lower() not in NOT_PORTFOLIO
    return head.startswith(_SCHEMA_WRITE)


def _noticed(conn, cursor, statement, parameters, context, executemany) -> None:
    if not conn.info.get(_DIRTY) and writes_portfolio(statement):
        conn.info[_DIRTY] = True


def _commit(conn) -> None:
    """Just before the database commits: move the version on if the transaction wrote the portfolio."""
    if not conn.info.pop(_DIRTY, False):
        return
    # Straight on the DBAPI connection: the transaction is being committed, and this must not be noticed.
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            cursor.execute(_bump_sql())
        except Exception as exc:  # a database not yet upgraded has no such table: nothing to keep in step
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            log.warning("portfolio version not moved on: %s", exc)
        cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    finally:
        cursor.close()


def _forget_writes(conn, *args) -> None:
    conn.info.pop(_DIRTY, None)


def _reset(dbapi_connection, record, reset_state) -> None:
    # A connection handed back to the pool unfinished is rolled back there: its writes are gone.
    record.info.pop(_DIRTY, None)


def watch(engine: Engine) -> None:
    """Keep the version of the database behind ``engine`` in step with every write (once per engine)."""
    if event.contains(engine, "before_cursor_execute", _noticed):
        return
    event.listen(engine, "before_cursor_execute", _noticed)
    event.listen(engine, "commit", _commit)
    event.listen(engine, "rollback", _forget_writes)
    event.listen(engine.pool, "reset", _reset)


@dataclass(frozen=True)
class Version:
    epoch: str
    number: int

    def __str__(self) -> str:
        return f"{self.epoch}.{self.number}"


_READ = text(f"SELECT epoch, version FROM {TABLE} WHERE id = 1")
_MAKE = text(f"INSERT INTO {TABLE} (id, epoch, version) VALUES (1, :epoch, 0) ON CONFLICT (id) DO NOTHING")
_KEPT = "assure_portfolio_version"  # in the session's info: (transaction, Version) read in it


def _plain(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def unsaved_writes(session: Session) -> bool:
    """Has this session changed the portfolio in a transaction not yet committed (or not yet flushed)?

    Figures computed now would show what may yet be rolled back, so they are not kept."""
    session = _plain(session)
    if session.new or session.dirty or session.deleted:
        return True
    if session.get_transaction() is None:
        return False
    return bool(session.connection().info.get(_DIRTY))


def current(session: Session) -> Version:
    """The portfolio's version, read once per transaction (the row is made if it is missing)."""
    session = _plain(session)
    kept = session.info.get(_KEPT)
    transaction = session.get_transaction()
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1]
    row = session.execute(_READ).first()
    if row is None:
        # Made on a connection of its own, so that reading a page writes nothing in the page's transaction.
        with session.get_bind().begin() as connection:
            connection.execute(_MAKE, {"epoch": str(uuid.uuid4())})
            row = connection.execute(_READ).first()
    version = Version(row[0], row[1])
    session.info[_KEPT] = (session.get_transaction(), version)
    return version


def forget(session: Session) -> None:
    """Read the version afresh next time (at the start of each request)."""
    session = _plain(session)
    session.info.pop(_KEPT, None)
