"""A synthetic portfolio of N accepted evidence items, inserted in bulk into a fresh database.

Every kind with its own fields, 1-4 mappings per item across the nine statements and
four categories, 24 monthly points per metric, some stale items, a few submitted and
returned ones, five rounds (four signed off with a snapshot, one open) with an
assessment of every statement, and some actions. The evidence arrives in five
tranches, one per round, so older rounds' snapshots hold fewer items, as they would.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select, text

from evidence.assessment.round_view import live_view
from evidence.bounds import add_months
from evidence.db import db
from evidence.fields import ALL_KIND_FIELDS
from evidence.framework_sync import sync_framework
from evidence.models import (
    Action,
    Assessment,
    Attachment,
    AuditEvent,
    ComparatorPoint,
    ComparatorSeries,
    EvidenceCategory,
    EvidenceItem,
    Mapping,
    MetricPoint,
    QualityStatement,
    Round,
    User,
    search_text,
    utcnow,
)
from evidence.settings import AUTHORITY_NAME, set_setting
from evidence.vocab import ActionStatus, Direction, Kind, QuoteTone, Role, RoundStatus, Stance, Status, Voice

LEAD_EMAIL = "bench.lead@example.gov.uk"
PASSWORD = "bench password 2026"
AUTHORITY = "Benchshire County Council"
ROUNDS = 5
POINTS_PER_METRIC = 24
STALE_SHARE = 0.12
BATCH = 2_000

# How often each kind occurs, roughly as a real portfolio holds them.
KIND_WEIGHTS = {
    Kind.SURVEY: 14,
    Kind.METRIC: 16,
    Kind.QUOTE: 22,
    Kind.DOCUMENT: 18,
    Kind.PARTNER_FEEDBACK: 10,
    Kind.CASE_AUDIT: 12,
    Kind.OBSERVATION: 8,
}
TOPICS = [
    "hospital discharge", "carers' assessments", "waiting lists for assessment", "safeguarding enquiries",
    "transitions from children's services", "direct payments", "reablement", "annual reviews",
    "home care capacity", "occupational therapy waits", "mental health crisis support",
    "learning disability day services", "sensory impairment support", "advocacy referrals",
    "deprivation of liberty safeguards", "information and advice",
    "unpaid carers' respite", "market sustainability", "workforce vacancies", "complaints and compliments",
    "co-production with people", "equality of access", "technology-enabled care", "delayed discharge from hospital",
]  # fmt: skip
AREAS = ["North locality", "South locality", "East locality", "West locality", "County-wide", "City"]
PARTNERS = ["Integrated care board", "Acute hospital trust", "Community health trust", "Healthwatch", "Carers' centre"]
METRICS = [
    ("Proportion of people who use services who feel safe", "%", Direction.HIGHER),
    ("Days from referral to completed Care Act assessment", "days", Direction.LOWER),
    ("People still at home 91 days after discharge into reablement", "%", Direction.HIGHER),
    ("Permanent admissions to care homes per 100,000 aged 65+", "per 100k", Direction.LOWER),
    ("Section 42 enquiries concluded within 60 days", "%", Direction.HIGHER),
    ("People waiting for an annual review", "people", Direction.LOWER),
]
SURVEYS = ["Adult social care survey", "Carers survey", "Staff survey"]
ROLES = ["Social worker", "Occupational therapist", "Team manager", "Carer", "Person who uses services", "Partner"]


@dataclass
class Portfolio:
    """What the benchmark needs to know about the portfolio it built."""

    n: int
    url: str
    lead_email: str = LEAD_EMAIL
    password: str = PASSWORD
    metric_id: int = 0
    open_round_id: int = 0
    signed_off_round_id: int = 0
    seconds: float = 0.0
    snapshot_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _months_ago(today: date, months: int) -> date:
    return add_months(today.replace(day=1), -months)


class _Builder:
    def __init__(self, n: int, seed: int):
        self.n = n
        self.rng = random.Random(seed)
        self.now = utcnow()
        self.today = self.now.date()
        self.statements = {s.key: s.id for s in db.session.scalars(select(QualityStatement))}
        self.categories = {c.key: c.id for c in db.session.scalars(select(EvidenceCategory))}
        self.pairs = [(s, c) for s in self.statements for c in self.categories]
        self.kinds = list(KIND_WEIGHTS)
        self.kind_weights = list(KIND_WEIGHTS.values())
        self.mapped: dict[str, list[int]] = {key: [] for key in self.statements}
        self.accepted_ids: list[int] = []
        self.metric_id = 0

    # --- people ---------------------------------------------------------------

    def users(self) -> None:
        people = [(LEAD_EMAIL, "Bench Quality Lead", Role.QUALITY_LEAD)]
        people += [("bench.manager@example.gov.uk", "Bench Director", Role.MANAGER)]
        people += [("bench.admin@example.gov.uk", "Bench Administrator", Role.ADMIN)]
        people += [(f"staff{i}@example.gov.uk", f"Staff Member {i}", Role.STAFF) for i in range(1, 13)]
        users = []
        for email, name, role in people:
            user = User(email=email, name=name, role=role, created_at=self.now)
            if users:  # only the quality lead signs in: one real (slow) password hash is enough
                user.password_hash = users[0].password_hash
            else:
                user.set_password(PASSWORD)
            users.append(user)
        db.session.add_all(users)
        db.session.flush()
        self.lead_id = users[0].id
        self.manager_id = users[1].id
        self.staff_ids = [u.id for u in users[3:]]

    # --- evidence -------------------------------------------------------------

    def item_row(self, number: int, status: str) -> dict:
        rng = self.rng
        # The first few items take every kind in turn, so even a tiny portfolio has them all.
        kind = self.kinds[number - 1] if number <= len(self.kinds) else rng.choices(self.kinds, self.kind_weights)[0]
        topic = rng.choice(TOPICS)
        area = rng.choice(AREAS)
        start = _months_ago(self.today, rng.randint(2, 30))
        end = add_months(start, rng.choice([1, 3, 3, 6])) - timedelta(days=1)
        if rng.random() < STALE_SHARE:
            review_by = self.today - timedelta(days=rng.randint(1, 200))
        else:
            review_by = self.today + timedelta(days=rng.randint(1, 400))
        owner = rng.choice(self.staff_ids)
        row = {
            "kind": kind,
            "title": f"{Kind(kind).label}: {topic} in the {area} ({start:%b %Y}) #{number}",
            "summary": (
                f"What we found about **{topic}** in the {area}. "
                f"The picture is {rng.choice(['improving', 'mixed', 'stable', 'worsening'])} since the last review; "
                f"see the source for method and caveats.\n\n- Reported to the {rng.choice(PARTNERS)} board\n"
                f"- Next step: {rng.choice(['repeat next quarter', 'share with teams', 'audit again'])}"
            ),
            "source": f"{rng.choice(['Performance team', 'Quality assurance', 'Workforce team', 'Commissioning'])}"
            f", {area}",
            "period_start": start,
            "period_end": end,
            "review_by": review_by,
            "status": status,
            "owner_id": owner,
            "submitted_by_id": owner,
            "reviewed_by_id": self.lead_id if status != Status.SUBMITTED else None,
            "reviewed_at": self.now if status != Status.SUBMITTED else None,
            "return_reason": "Please add the period it covers and the source." if status == Status.RETURNED else None,
            "personal_data": False,
            "suggested_statements": [rng.choice(list(self.statements))],
            "created_at": datetime.combine(end, datetime.min.time()) + timedelta(days=7),
            "updated_at": self.now,
            "version": 1,
        }
        if kind == Kind.SURVEY:
            row |= {
                "survey_name": f"{rng.choice(SURVEYS)} {start.year}",
                "question": f"How satisfied are you with {topic}?",
                "respondents": rng.randint(40, 2_000),
                "result_percent": round(rng.uniform(30, 95), 1),
                "population": rng.choice(["People who use services", "Carers", "Staff"]),
            }
        elif kind == Kind.METRIC:
            name, unit, direction = rng.choice(METRICS)
            row |= {
                "title": f"{name} ({area}) #{number}",
                "unit": unit,
                "direction": direction,
                "target": round(rng.uniform(40, 90), 1),
            }
        elif kind == Kind.QUOTE:
            row |= {
                "quote_text": f"When it came to {topic}, the team listened and I knew who to call.",
                "speaker_role": f"{rng.choice(ROLES)} {rng.randint(1, 40)}",
                "voice": rng.choice(list(Voice)),
                "quote_tone": rng.choice(list(QuoteTone)),
            }
        elif kind == Kind.DOCUMENT:
            row |= {
                "evidences": f"Our procedure for {topic}, approved by the senior leadership team.",
                "link_url": f"https://intranet.example.gov.uk/policies/{number}" if rng.random() < 0.5 else None,
            }
        elif kind == Kind.PARTNER_FEEDBACK:
            row |= {
                "partner_organisation": rng.choice(PARTNERS),
                "feedback_method": rng.choice(["Structured interview", "Partnership board minutes", "Survey"]),
            }
        elif kind == Kind.CASE_AUDIT:
            row |= {
                "cases_reviewed": rng.randint(10, 120),
                "audit_outcome": f"Most cases met the standard for {topic}; recording of outcomes needs work.",
            }
        else:
            row |= {
                "setting": rng.choice(["Front door team", "Hospital discharge hub", "Day centre"]),
                "observer_role": rng.choice(["Principal social worker", "Quality assurance officer"]),
            }
        # Every row carries every column, so the rows insert as one executemany per batch.
        return dict.fromkeys(ALL_KIND_FIELDS) | row

    def insert_items(self, count: int, status: str, first_number: int) -> list[int]:
        """Insert ``count`` items with their mappings, points, attachments and audit trail; return their ids."""
        ids: list[int] = []
        for start in range(0, count, BATCH):
            rows = [self.item_row(first_number + start + i, status) for i in range(min(BATCH, count - start))]
            # Core inserts with explicit ids: one executemany per batch (the ORM's bulk insert splits
            # batches wherever a value is None, and RETURNING would split them too).
            first_id = (db.session.scalar(select(func.max(EvidenceItem.id))) or 0) + 1
            batch_ids = list(range(first_id, first_id + len(rows)))
            for item_id, row in zip(batch_ids, rows, strict=True):
                row["id"] = item_id
                row["search_text"] = search_text(row)  # what the ORM event sets on a save
            db.session.execute(insert(EvidenceItem.__table__), rows)
            mappings, points, attachments, events, series, compared = [], [], [], [], [], []
            for item_id, row in zip(batch_ids, rows, strict=True):
                if status == Status.ACCEPTED:
                    mappings += self.mapping_rows(item_id, row)
                if row["kind"] == Kind.METRIC:
                    points += self.point_rows(item_id, row)
                    # One comparator series per metric, a value each period (its id is the metric's: one each).
                    series.append({"id": item_id, "item_id": item_id, "name": "England average"})
                    compared += [
                        {"series_id": item_id, "period": p["period"], "label": p["label"], "value": p["value"] - 2}
                        for p in points[-POINTS_PER_METRIC:]
                    ]
                    if status == Status.ACCEPTED and not self.metric_id:
                        self.metric_id = item_id
                if row["kind"] == Kind.DOCUMENT and not row.get("link_url"):
                    attachments.append(
                        {
                            "item_id": item_id,
                            "sha256": f"{item_id:064x}",
                            "original_name": f"procedure-{item_id}.pdf",
                            "content_type": "application/pdf",
                            "size": 120_000,
                            "uploaded_at": row["created_at"],
                            "uploaded_by_id": row["owner_id"],
                        }
                    )
                events += self.event_rows(item_id, row)
            tables = (
                (Mapping, mappings),
                (MetricPoint, points),
                (ComparatorSeries, series),
                (ComparatorPoint, compared),
                (Attachment, attachments),
            )
            for model, data in tables:
                if data:
                    db.session.execute(insert(model.__table__), data)
            db.session.execute(insert(AuditEvent.__table__), events)
            ids += batch_ids
        if status == Status.ACCEPTED:
            self.accepted_ids += ids
        db.session.commit()
        return ids

    def mapping_rows(self, item_id: int, row: dict) -> list[dict]:
        rng = self.rng
        chosen = rng.sample(self.pairs, rng.choice([1, 1, 2, 2, 2, 3, 3, 4]))
        out = []
        for s_key, c_key in chosen:
            self.mapped[s_key].append(item_id)
            out.append(
                {
                    "item_id": item_id,
                    "statement_id": self.statements[s_key],
                    "category_id": self.categories[c_key],
                    "stance": rng.choices([Stance.STRENGTH, Stance.SHORTFALL, Stance.CONTEXT], [5, 3, 2])[0],
                    "note": rng.choice(["", "Shows the trend since the last round.", "Partly relevant."]),
                    "created_at": row["created_at"],
                    "created_by_id": self.lead_id,
                }
            )
        return out

    def point_rows(self, item_id: int, row: dict) -> list[dict]:
        first = _months_ago(self.today, POINTS_PER_METRIC + 1)
        value = self.rng.uniform(40, 80)
        out = []
        for i in range(POINTS_PER_METRIC):
            period = add_months(first, i)
            value = max(0.0, value + self.rng.uniform(-3, 3))
            out.append({"item_id": item_id, "period": period, "label": f"{period:%b %Y}", "value": round(value, 1)})
        return out

    def event_rows(self, item_id: int, row: dict) -> list[dict]:
        events = [
            {
                "at": row["created_at"],
                "user_id": row["owner_id"],
                "action": "submit",
                "entity_type": "evidence_item",
                "entity_id": item_id,
                "summary": f"Submitted E-{item_id}",
                "before": None,
                "after": {"title": row["title"], "status": Status.SUBMITTED},
                "remote_addr": None,
            }
        ]
        if row["status"] != Status.SUBMITTED:
            events.append(
                {
                    "at": row["created_at"] + timedelta(days=2),
                    "user_id": self.lead_id,
                    "action": "accept" if row["status"] == Status.ACCEPTED else "return",
                    "entity_type": "evidence_item",
                    "entity_id": item_id,
                    "summary": f"Reviewed E-{item_id}",
                    "before": {"status": Status.SUBMITTED},
                    "after": {"status": row["status"]},
                    "remote_addr": None,
                }
            )
        return events

    # --- rounds ---------------------------------------------------------------

    def cite(self, statement_key: str, how_many: int) -> str:
        pool = self.mapped[statement_key] or self.accepted_ids
        picks = sorted(self.rng.sample(pool, min(how_many, len(pool))))
        return ", ".join(f"[E-{i}]" for i in picks)

    def round_(self, number: int, signed_off_at: datetime | None) -> Round:
        rng = self.rng
        season = ["Spring", "Summer", "Autumn", "Winter", "Spring"][number - 1]
        round_ = Round(
            name=f"{season} {self.today.year - 1 + number // 4} self-assessment (round {number})",
            status=RoundStatus.OPEN,
            created_at=(signed_off_at or self.now) - timedelta(days=60),
            created_by_id=self.lead_id,
        )
        db.session.add(round_)
        db.session.flush()
        for s_key, s_id in self.statements.items():
            scores = {c: rng.randint(1, 4) for c in self.categories} if rng.random() < 0.5 else None
            db.session.add(
                Assessment(
                    round_id=round_.id,
                    statement_id=s_id,
                    score=rng.choices([1, 2, 3, 4], [1, 4, 6, 2])[0],
                    rationale=(
                        f"The evidence for this statement is broadly positive: {self.cite(s_key, 3)} show the "
                        f"direction of travel, while {self.cite(s_key, 2)} point to work still to do."
                    ),
                    key_findings="\n".join(f"- Finding {i + 1}: see {self.cite(s_key, 2)}." for i in range(4)),
                    strengths=f"- Timely responses, see {self.cite(s_key, 2)}.\n- Strong partnerships.",
                    areas_for_improvement=f"- Waiting times for reviews, see {self.cite(s_key, 1)}.",
                    category_scores=scores,
                    override_reason="Judgement on the balance of evidence." if scores else None,
                    updated_at=signed_off_at or self.now,
                    updated_by_id=self.lead_id,
                    version=1,
                )
            )
        for i, s_key in enumerate(self.statements):
            if (i + number) % 3 == 0:
                db.session.add(
                    Action(
                        statement_id=self.statements[s_key],
                        round_id=round_.id,
                        description=f"Round {number}: act on the shortfalls found for {s_key}",
                        owner=f"Head of service {i + 1}",
                        due_date=(signed_off_at or self.now).date() + timedelta(days=rng.randint(-60, 120)),
                        status=rng.choice(list(ActionStatus)),
                        created_at=self.now,
                        updated_at=self.now,
                    )
                )
        db.session.flush()
        return round_

    def sign_off(self, round_: Round, when: datetime) -> float:
        round_.status = RoundStatus.SIGNED_OFF
        round_.signed_off_at = when
        round_.signed_off_by_id = self.manager_id
        db.session.flush()
        db.session.refresh(round_)
        started = time.perf_counter()
        round_.snapshot = live_view(round_).to_dict()
        elapsed = time.perf_counter() - started
        db.session.commit()
        db.session.expunge_all()
        return elapsed

    def standing_actions(self) -> None:
        """Actions that belong to no round (carried from year to year)."""
        for i, s_id in enumerate(self.statements.values()):
            for j in range(2):
                db.session.add(
                    Action(
                        statement_id=s_id,
                        round_id=None,
                        description=f"Standing action {j + 1} for statement {i + 1}",
                        owner="Principal social worker",
                        due_date=self.today + timedelta(days=self.rng.randint(-90, 180)),
                        status=self.rng.choice(list(ActionStatus)),
                        created_at=self.now,
                        updated_at=self.now,
                    )
                )
        db.session.flush()


def build_portfolio(app, n: int, seed: int = 2026) -> Portfolio:
    """Create the schema in the app's (empty) database and fill it; return what the benchmark needs."""
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        sync_framework()
        set_setting(AUTHORITY_NAME, AUTHORITY)
        builder = _Builder(n, seed)
        builder.users()
        builder.standing_actions()
        db.session.commit()

        tranches = [n * (i + 1) // ROUNDS - n * i // ROUNDS for i in range(ROUNDS)]
        snapshot_seconds = 0.0
        signed_off_id = open_id = 0
        number = 1
        for index, count in enumerate(tranches, start=1):
            builder.insert_items(count, Status.ACCEPTED, number)
            number += count
            if index < ROUNDS:
                when = builder.now - timedelta(days=90 * (ROUNDS - index))
                round_ = builder.round_(index, when)
                signed_off_id = round_.id
                snapshot_seconds += builder.sign_off(round_, when)
        # A few items still waiting for review, and some sent back.
        builder.insert_items(max(1, n // 100), Status.SUBMITTED, number)
        builder.insert_items(max(1, n // 200), Status.RETURNED, number + n // 100 + 1)
        open_round = builder.round_(ROUNDS, None)
        open_id = open_round.id
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The ids were given explicitly, so move the sequence past them for items added later.
            db.session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('evidence_item', 'id'), (SELECT max(id) FROM evidence_item))"
                )
            )
            db.session.commit()
            # Planner statistics and the visibility map, as autovacuum keeps them for a database in use
            # (it also runs after bulk inserts). VACUUM cannot run inside a transaction.
            # (SQLite keeps no statistics unless ANALYZE is run, which the portal never does.)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))

        counts = {
            "accepted items": db.session.scalar(
                select(func.count(EvidenceItem.id)).where(EvidenceItem.status == Status.ACCEPTED)
            ),
            "submitted or returned items": db.session.scalar(
                select(func.count(EvidenceItem.id)).where(EvidenceItem.status != Status.ACCEPTED)
            ),
            "stale accepted items": db.session.scalar(
                select(func.count(EvidenceItem.id)).where(
                    EvidenceItem.status == Status.ACCEPTED, EvidenceItem.review_by < builder.today
                )
            ),
            "mappings": db.session.scalar(select(func.count(Mapping.id))),
            "metric points": db.session.scalar(select(func.count(MetricPoint.id))),
            "rounds": db.session.scalar(select(func.count(Round.id))),
            "assessments": db.session.scalar(select(func.count(Assessment.id))),
            "actions": db.session.scalar(select(func.count(Action.id))),
            "audit events": db.session.scalar(select(func.count(AuditEvent.id))),
        }
        portfolio = Portfolio(
            n=n,
            url=str(db.engine.url.render_as_string(hide_password=False)),
            metric_id=builder.metric_id,
            open_round_id=open_id,
            signed_off_round_id=signed_off_id,
            snapshot_seconds=snapshot_seconds,
            counts=counts,
        )
        db.session.remove()
    portfolio.seconds = time.perf_counter() - started
    return portfolio
