"""Writes that a sign-off must not race: a lock on the round rows, taken first in the transaction.

Signing a round off reads its assessments and actions and the accepted evidence, mappings and metric
points in several queries and keeps them as the round's snapshot. So that the snapshot is the live rows
at one moment, every write that changes what an open round's snapshot reads locks the round row first
and then reads the round's status again: a write either commits before the sign-off starts reading
(and is in the snapshot), or waits for the sign-off to commit and then finds the round signed off
(and is refused with ``RoundFrozenError``). Writes into one round (its assessments and actions) lock
that round; writes to the portfolio that every open round reads (evidence, mappings, metric points,
actions outside any round) lock every open round.

Deadlocks cannot arise: round rows are locked before anything else a transaction writes, in id order,
and only a sign-off takes the exclusive lock (on its one round).

PostgreSQL: ``SELECT ... FOR SHARE`` for writers (they do not wait for one another), ``FOR UPDATE`` for
a sign-off; a row locked by a sign-off is read again, as committed, once the sign-off ends.
SQLite: locks are on the whole database, and with pysqlite a plain SELECT does not begin a transaction,
so a SELECT locks nothing; an UPDATE that leaves the round rows as they are begins the transaction and
takes the database's write lock, which every other writer then waits for.
"""

from __future__ import annotations

from sqlalchemy import select, update

from evidence.db import db
from evidence.models import Round
from evidence.vocab import RoundStatus


class RoundError(ValueError):
    """A round could not be created or changed; the message says why in plain words."""


class RoundFrozenError(RoundError):
    """The round has been signed off: nothing in it can be edited."""

    def __init__(self, round_: Round):
        when = round_.signed_off_at.strftime("%-d %b %Y") if round_.signed_off_at else "an earlier date"
        super().__init__(
            f"“{round_.name}” was signed off on {when}, so nothing in it can be edited. Create a new round to carry on."
        )
        self.round = round_


def ensure_open(round_: Round | None) -> None:
    """Refuse early from the round as already read; only ``lock_round`` makes it certain."""
    if round_ is not None and round_.signed_off:
        raise RoundFrozenError(round_)


def lock_round(round_: Round, *, sign_off: bool = False) -> None:
    """Lock ``round_`` before writing into it (exclusively, to sign it off), then read its status
    afresh. Raises RoundFrozenError, rolling the transaction back, once it is signed off."""
    _lock(Round.id == round_.id, exclusive=sign_off)  # reads round_ again, as it stands once locked
    if round_.signed_off:
        error = RoundFrozenError(round_)
        db.session.rollback()  # ends the transaction, so the lock goes with it
        raise error


def lock_open_rounds() -> None:
    """Lock every open round before a write to what their sign-off snapshots read."""
    _lock(Round.status == RoundStatus.OPEN, exclusive=False)


def _lock(condition, *, exclusive: bool) -> None:
    query = select(Round).where(condition).order_by(Round.id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(Round).where(condition).values(status=Round.status),
            execution_options={"synchronize_session": False},
        )
    else:
        query = query.with_for_update(read=not exclusive)
    db.session.scalars(query).all()
