"""Several writers at once: no write is lost and nothing is corrupted.

Each thread works in its own application context, so its own session and
connection, as concurrent requests do. The suite runs this on SQLite and,
in CI, again on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from evidence.assessment.assessments import ConflictError, save_assessment, statement_by_key
from evidence.db import db
from evidence.library.items import create_item
from evidence.models import Assessment, AuditEvent, EvidenceItem, Round, User
from tests.factories import make_round

THREADS = 6
ITEMS_EACH = 5
STATEMENTS = ["assessing-needs", "healthier-lives", "equity", "care-provision", "partnerships", "governance"]


def _run_together(app, work) -> list[BaseException]:
    """Start every thread at the same moment; return what any of them raised."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                work(n)
            except BaseException as exc:  # collected and reported by the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_concurrent_submissions_and_assessments_lose_nothing(app, make_user):
    user_id = make_user().id  # threads must not touch the main thread's objects
    round_id = make_round().id

    def work(n: int) -> None:
        writer = db.session.get(User, user_id)
        for i in range(ITEMS_EACH):
            create_item(
                "observation",
                {"title": f"Observation {n}-{i}", "source": f"Team {n}", "setting": "Ward"},
                user=writer,
            )
        # Each thread owns one statement and saves it three times in a row.
        round_ = db.session.get(Round, round_id)
        statement = statement_by_key(STATEMENTS[n])
        for version in range(3):
            save_assessment(
                round_, statement, {"score": 1 + version, "rationale": f"Writer {n}, save {version}"}, version, writer
            )

    errors = _run_together(app, work)
    assert [repr(e) for e in errors] == []
    db.session.expire_all()
    titles = db.session.scalars(select(EvidenceItem.title)).all()
    assert len(titles) == THREADS * ITEMS_EACH == len(set(titles))
    creates = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.entity_type == "evidence_item", AuditEvent.action == "create"
        )
    )
    assert creates == THREADS * ITEMS_EACH
    saved = {a.statement.key: a for a in db.session.scalars(select(Assessment))}
    for n, key in enumerate(STATEMENTS):
        assert (saved[key].score, saved[key].rationale, saved[key].version) == (3, f"Writer {n}, save 2", 3)


def test_racing_edits_of_one_statement_let_exactly_one_win(app, make_user):
    user_id = make_user().id
    round_id = make_round().id
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def work(n: int) -> None:
        writer = db.session.get(User, user_id)
        try:
            save_assessment(
                db.session.get(Round, round_id),
                statement_by_key("safe-pathways"),
                {"score": 2, "rationale": f"Version from writer {n}"},
                0,  # every writer started from the same empty form
                writer,
            )
            result = "saved"
        except ConflictError:
            db.session.rollback()
            result = "conflict"
        with lock:
            outcomes[result] += 1

    errors = _run_together(app, work)
    assert [repr(e) for e in errors] == []
    assert outcomes == {"saved": 1, "conflict": THREADS - 1}
    db.session.expire_all()
    (assessment,) = db.session.scalars(select(Assessment)).all()
    assert assessment.version == 1 and assessment.rationale.startswith("Version from writer ")
    audit_rows = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "assessment")).all()
    assert len(audit_rows) == 1 and audit_rows[0].after["rationale"] == assessment.rationale
