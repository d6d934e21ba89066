"""The portfolio's version moves on with every committed write to the portfolio, in the same transaction,
and with nothing else."""

from __future__ import annotations

from sqlalchemy import insert, text

from evidence import portfolio_version
from evidence.db import db
from evidence.models import EvidenceItem, PortfolioVersion, Setting, UserSession, utcnow
from evidence.together.notifications import mark_all_read
from evidence.vocab import Kind, Role, Status
from tests.conftest import sign_in
from tests.factories import make_item


def version():
    return portfolio_version.current(db.session)


def read_elsewhere():
    """The version as another connection sees it: only what is committed."""
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT epoch, version FROM portfolio_version")).first()
        count = connection.scalar(text("SELECT count(*) FROM setting WHERE key = 'probe'"))
    return (tuple(row) if row else None), count


def test_a_committed_write_moves_the_version_on_and_a_rolled_back_one_does_not(app):
    before = version()
    db.session.add(Setting(key="probe", value="1"))
    db.session.flush()
    assert portfolio_version.unsaved_writes(db.session)
    db.session.rollback()
    assert version() == before and not portfolio_version.unsaved_writes(db.session)

    make_item("Carers survey")
    after = version()
    assert after.epoch == before.epoch and after.number == before.number + 1


def test_the_new_version_is_committed_with_the_write_and_not_before(app):
    before, _ = read_elsewhere()
    db.session.add(Setting(key="probe", value="1"))
    db.session.flush()
    assert read_elsewhere() == (before, 0)  # neither the row nor the version yet
    db.session.commit()
    (epoch, number), count = read_elsewhere()
    assert count == 1 and epoch == before[0] and number == before[1] + 1


def test_core_and_raw_sql_writes_count_too(app):
    first = version().number
    db.session.execute(
        insert(EvidenceItem.__table__),
        [{"kind": Kind.SURVEY, "title": "Bulk", "status": Status.ACCEPTED, "summary": "", "source": "", "version": 1}],
    )
    db.session.commit()
    assert version().number == first + 1
    db.session.execute(text("UPDATE evidence_item SET title = 'Renamed'"))
    db.session.commit()
    assert version().number == first + 2


def test_sign_ins_notification_reads_and_sessions_leave_it_alone(app, client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    before = version()
    assert sign_in(client, user).status_code == 302
    client.get("/dashboard")
    mark_all_read(user)
    db.session.add(UserSession(token_hash="x" * 64, user_id=user.id, expires_at=utcnow()))
    db.session.commit()
    client.post("/sign-out")
    assert version() == before


def test_a_missing_row_is_made_with_a_new_epoch_and_the_next_write_starts_from_it(app):
    old = version()
    db.session.query(PortfolioVersion).delete()
    db.session.commit()
    fresh = version()
    assert fresh.epoch != old.epoch
    make_item("After the reset")
    assert version() == portfolio_version.Version(fresh.epoch, fresh.number + 1)


def test_which_statements_write_the_portfolio():
    writes = portfolio_version.writes_portfolio
    assert writes("INSERT INTO evidence_item (title) VALUES (?)")
    assert writes('UPDATE "mapping" SET stance=%(stance)s')
    assert writes("DELETE FROM assessment WHERE id = 1")
    assert writes("INSERT INTO some_table_added_later (x) VALUES (1)")  # unknown tables count
    assert writes("TRUNCATE evidence_item, mapping")
    assert writes("WITH old AS (SELECT id FROM mapping) DELETE FROM mapping WHERE id IN (SELECT id FROM old)")
    for statement in (
        "SELECT * FROM evidence_item",
        "INSERT INTO user_session (token_hash) VALUES (?)",
        "UPDATE notification SET read_at = ?",
        "UPDATE api_token SET last_used_at = ?",
        "UPDATE jobs SET progress = ?",
        "INSERT INTO audit_event (action) VALUES (?)",
        "DELETE FROM mail_outbox",
        "SAVEPOINT sa_savepoint_1",
        "WITH x AS (SELECT 1) SELECT * FROM x",
    ):
        assert not writes(statement), statement
