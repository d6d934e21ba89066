"""The data model: framework, accounts, evidence, rounds and the audit trail.

Vocabulary columns hold the values of the enums in ``evidence.vocab`` as
plain strings, which keeps them readable in exports and in SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy import false as sql_false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from evidence.db import db
from evidence.library import citations, search_index
from evidence.vocab import ActionStatus, Channel, Kind, PeerStatus, Role, RoundStatus, Stance, Status
from quality_statements import scoring

SEARCHED_FIELDS = ("title", "summary", "source", "quote_text")

# werkzeug's scrypt by default; the test suite swaps in a cheap method to stay fast.
PASSWORD_METHOD = "scrypt"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    return utcnow().date()


# --- Framework -----------------------------------------------------------------


class Setting(db.Model):
    """Small key/value facts about the installation (authority name, framework version)."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PortfolioVersion(db.Model):
    """One row: which state of the portfolio this is, so figures computed from it can be kept until it changes.

    ``version`` goes up in the transaction of every write to the portfolio (``evidence.portfolio_version``);
    ``epoch`` is new whenever the row is made afresh (a new or emptied database, a restored backup), so a
    version number never means two different portfolios.
    """

    __tablename__ = "portfolio_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)


class Theme(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    statements: Mapped[list[QualityStatement]] = relationship(
        back_populates="theme", order_by="QualityStatement.position"
    )


class QualityStatement(db.Model):
    __tablename__ = "quality_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    we_statement: Mapped[str] = mapped_column(Text)
    i_statements: Mapped[list[str]] = mapped_column(JSON, default=list)

    theme: Mapped[Theme] = relationship(back_populates="statements")


class EvidenceCategory(db.Model):
    __tablename__ = "evidence_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)


class Score(TypeDecorator):
    """A statement's score: 1–4, or NULL when unscored. The domain writes nothing else; a value stored
    outside 1–4 some other way reads back as unscored, so that no page or roll-up fails on it."""

    impl = Integer
    cache_ok = True

    def process_result_value(self, value, dialect):
        return value if scoring.is_score(value) else None


# --- Accounts ------------------------------------------------------------------


class User(UserMixin, db.Model):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_app_user_oidc_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The directory account this user signs in with (single sign-on): its issuer and subject.
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    # Set when an administrator chose the password (a new account, or a reset): the next sign-in asks for a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sql_false())

    # The token of the signed-in session this user was loaded through (evidence.access.user_sessions); not stored.
    session_token = None

    def get_id(self) -> str | None:
        # What Flask-Login keeps in the session and remember cookies: the session's token, never the user id,
        # so that ending the session makes every copy of those cookies worthless.
        return self.session_token

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class ApiToken(db.Model):
    """A personal API token: scripts act as its user, within its scope. Only the token's SHA-256 is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(16))  # "read" or "write" (evidence.access.api_tokens)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the first characters, so its owner can tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One signed-in browser. Its cookies carry a random token; only the token's SHA-256 is kept here."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class PasswordReset(db.Model):
    """A one-time link an administrator issued so that someone can choose a new password.

    Only the SHA-256 of the link's token is kept; the link works once, until it expires."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


# --- Evidence ------------------------------------------------------------------


class ItemFacts:
    """What an evidence item says of itself, from its id, kind, review-by date and points: the same for
    the stored item and for the plain copy a round's view holds (``round_view.ItemView``)."""

    @property
    def reference(self) -> str:
        return citations.reference(self.id)

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label

    def is_stale(self, on: date | None = None) -> bool:
        return self.review_by is not None and self.review_by < (on or today())

    @property
    def latest_point(self):
        return self.points[-1] if self.points else None


class EvidenceItem(ItemFacts, db.Model):
    """One piece of evidence. Kind-specific fields are nullable columns on the one table,
    so that search, filters and the register export need no joins."""

    __tablename__ = "evidence_item"
    __table_args__ = (
        Index("ix_evidence_item_status_kind", "status", "kind"),
        Index("ix_evidence_item_review_by", "review_by"),
        # The library lists accepted items newest first, and the dashboard counts the stale ones.
        Index("ix_evidence_item_status_id", "status", "id"),
        Index("ix_evidence_item_status_review_by", "status", "review_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    review_by: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=Status.SUBMITTED)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    # Set when a reviewer accepted text that looked like personal data, having confirmed it.
    personal_data: Mapped[bool] = mapped_column(default=False)
    # Statement keys the submitter thinks this evidences; the quality lead maps for real.
    suggested_statements: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Identity of an imported row, so importing the same file twice changes nothing.
    natural_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # What the library's search matches: the searchable fields, lowercased (kept by an ORM event).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    # survey finding
    survey_name: Mapped[str | None] = mapped_column(String(200))
    question: Mapped[str | None] = mapped_column(Text)
    respondents: Mapped[int | None] = mapped_column(Integer)
    result_percent: Mapped[float | None] = mapped_column(Float)
    population: Mapped[str | None] = mapped_column(String(200))
    # metric
    unit: Mapped[str | None] = mapped_column(String(40))
    direction: Mapped[str | None] = mapped_column(String(8))
    target: Mapped[float | None] = mapped_column(Float)
    # quote
    quote_text: Mapped[str | None] = mapped_column(Text)
    speaker_role: Mapped[str | None] = mapped_column(String(100))
    voice: Mapped[str | None] = mapped_column(String(16))
    quote_tone: Mapped[str | None] = mapped_column(String(16))
    # document / process
    link_url: Mapped[str | None] = mapped_column(String(500))
    evidences: Mapped[str | None] = mapped_column(Text)
    # partner feedback
    partner_organisation: Mapped[str | None] = mapped_column(String(200))
    feedback_method: Mapped[str | None] = mapped_column(String(200))
    # case audit
    cases_reviewed: Mapped[int | None] = mapped_column(Integer)
    audit_outcome: Mapped[str | None] = mapped_column(Text)
    # observation
    setting: Mapped[str | None] = mapped_column(String(200))
    observer_role: Mapped[str | None] = mapped_column(String(100))

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    mappings: Mapped[list[Mapping]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Mapping.id"
    )
    points: Mapped[list[MetricPoint]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="MetricPoint.period"
    )
    comparators: Mapped[list[ComparatorSeries]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ComparatorSeries.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Attachment.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    @property
    def stale(self) -> bool:
        return self.is_stale()


def search_text(values: dict[str, Any]) -> str:
    """The lowercased text search looks in, from the searchable fields' values."""
    return "\n".join((values.get(name) or "") for name in SEARCHED_FIELDS).lower()


@event.listens_for(EvidenceItem, "before_insert")
@event.listens_for(EvidenceItem, "before_update")
def _keep_search_text(mapper, connection, item: EvidenceItem) -> None:
    item.search_text = search_text({name: getattr(item, name) for name in SEARCHED_FIELDS})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object``: the full-text index is DDL of its own (evidence/library/search_index.py)."""
    return not (reflected and compare_to is None and search_index.is_index_object(name, type_))


# The library's full-text index, built with the table and kept by the database (see search_index).
search_index.install(EvidenceItem.__table__)


class MetricPoint(db.Model):
    __tablename__ = "metric_point"
    __table_args__ = (UniqueConstraint("item_id", "period", name="uq_metric_point_item_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id", ondelete="CASCADE"), index=True)
    period: Mapped[date] = mapped_column(Date)  # first day of the month or quarter measured
    label: Mapped[str] = mapped_column(String(40))  # as people say it: "2026 Q3", "Sep 2026"
    value: Mapped[float] = mapped_column(Float)

    item: Mapped[EvidenceItem] = relationship(back_populates="points")


class ComparatorSeries(db.Model):
    """What a metric is compared with (England average, region, nearest neighbours): a value per period,
    since a published comparator changes every period as the council's own figure does."""

    __tablename__ = "comparator_series"
    __table_args__ = (UniqueConstraint("item_id", "name", name="uq_comparator_series_item_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    item: Mapped[EvidenceItem] = relationship(back_populates="comparators")
    points: Mapped[list[ComparatorPoint]] = relationship(
        back_populates="series", cascade="all, delete-orphan", order_by="ComparatorPoint.period"
    )

    def point_for(self, period: date) -> ComparatorPoint | None:
        return next((p for p in self.points if p.period == period), None)


class ComparatorPoint(db.Model):
    __tablename__ = "comparator_point"
    __table_args__ = (UniqueConstraint("series_id", "period", name="uq_comparator_point_series_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("comparator_series.id", ondelete="CASCADE"), index=True)
    period: Mapped[date] = mapped_column(Date)  # as a metric point's: the first day of the period
    label: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)

    series: Mapped[ComparatorSeries] = relationship(back_populates="points")


class Attachment(db.Model):
    """A file stored outside the static folder under its content hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    item: Mapped[EvidenceItem] = relationship(back_populates="attachments")


class Mapping(db.Model):
    """Evidence item → quality statement, under an evidence category, with a stance."""

    __table_args__ = (
        UniqueConstraint("item_id", "statement_id", "category_id", name="uq_mapping_item_statement_category"),
        # Covers the evidence counts (``evidence.assessment.summary``) and each stance's newest items on a
        # statement page.
        Index("ix_mapping_statement_category_stance", "statement_id", "category_id", "stance", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("quality_statement.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("evidence_category.id"))
    stance: Mapped[str] = mapped_column(String(16), default=Stance.CONTEXT)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    item: Mapped[EvidenceItem] = relationship(back_populates="mappings")
    statement: Mapped[QualityStatement] = relationship()
    category: Mapped[EvidenceCategory] = relationship()

    @property
    def stance_label(self) -> str:
        return Stance(self.stance).label


# --- Self-assessment -----------------------------------------------------------


class Round(db.Model):
    """A self-assessment round. Signing off freezes it and keeps a snapshot of its evidence."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # The accepted evidence and mappings as they stood at sign-off (plain JSON).
    # Deferred: a large portfolio's snapshot runs to megabytes, and most pages that list
    # rounds never read it (see evidence.assessment.round_view for the cached reader).
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    assessments: Mapped[list[Assessment]] = relationship(back_populates="round", cascade="all, delete-orphan")

    @property
    def signed_off(self) -> bool:
        return self.status == RoundStatus.SIGNED_OFF

    @property
    def status_label(self) -> str:
        return RoundStatus(self.status).label


class Assessment(db.Model):
    """One quality statement's self-assessment within a round."""

    __table_args__ = (UniqueConstraint("round_id", "statement_id", name="uq_assessment_round_statement"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("quality_statement.id"))
    score: Mapped[int | None] = mapped_column(Score)
    rationale: Mapped[str] = mapped_column(Text, default="")
    key_findings: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    areas_for_improvement: Mapped[str] = mapped_column(Text, default="")
    # Optional aid: a 1-4 score per evidence category key, and why the lead departed from its suggestion.
    category_scores: Mapped[dict[str, int] | None] = mapped_column(JSON)
    override_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # Optimistic locking: a save based on an older version is refused, never silently applied.
    version: Mapped[int] = mapped_column(Integer, default=1)

    round: Mapped[Round] = relationship(back_populates="assessments")
    statement: Mapped[QualityStatement] = relationship()
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class Action(db.Model):
    """An improvement action against a quality statement."""

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("quality_statement.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"))
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ActionStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: a change based on an older version is refused, never silently applied.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    statement: Mapped[QualityStatement] = relationship()
    round: Mapped[Round | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return ActionStatus(self.status).label

    def is_overdue(self, on: date | None = None) -> bool:
        return self.status != ActionStatus.DONE and self.due_date is not None and self.due_date < (on or today())


# --- Imports ---------------------------------------------------------------------


class ImportLayout(db.Model):
    """Which column of a council's own file is which, saved by name and used again for a file with the same header.

    ``columns`` maps each import column it fills ("Metric", "Period", …) to a position in the file's header (from
    0); ``comparators`` names columns holding comparators ([{"position": 5, "name": "Median of councils"}]);
    ``filters`` keeps only rows whose cell in a column equals a value ([{"position": 1, "value": "E10000007"}]).
    """

    __tablename__ = "import_layout"
    __table_args__ = (UniqueConstraint("kind", "header_key", name="uq_import_layout_kind_header"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    header_key: Mapped[str] = mapped_column(String(64))  # SHA-256 of the header as headings are matched
    header: Mapped[list[str]] = mapped_column(JSON)
    columns: Mapped[dict[str, int]] = mapped_column(JSON)
    comparators: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    filters: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    updated_by: Mapped[User | None] = relationship()


# --- Working together: notifications, mail, comments, the peer challenge ------------


class NotificationPreference(db.Model):
    """How one person hears of one kind of notification; a kind without a row is sent by email too."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), default=Channel.EMAIL)


class Notification(db.Model):
    """One thing one person is told, in the portal; emailed in that day's digest of its kind when they chose so."""

    __tablename__ = "notification"
    __table_args__ = (
        # A fact found by the daily scan (an item going stale, an action falling due) is told once.
        UniqueConstraint("user_id", "dedupe_key", name="uq_notification_user_dedupe_key"),
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_pending_mail", "channel", "outbox_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    # What it is about, for the portal to link to: "item:12", "round:3", "statement:3:safe-pathways", "review".
    target: Mapped[str] = mapped_column(String(120), default="")
    # Whether text in it looked like personal data when it was made: then no mail quotes it.
    sensitive: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(8), default=Channel.APP)  # as chosen when it was made
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship()


class MailOutbox(db.Model):
    """One email: a person's digest of one kind for one day. Made once (the unique key), sent until it is."""

    __tablename__ = "mail_outbox"
    __table_args__ = (UniqueConstraint("user_id", "kind", "day", name="uq_mail_outbox_user_kind_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200))  # the same on every attempt
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)  # a run is sending it (or died doing so)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    user: Mapped[User] = relationship()


class Comment(db.Model):
    """A comment on an evidence item, or on a statement's assessment in a round; a reply names its thread."""

    __table_args__ = (Index("ix_comment_round_statement", "round_id", "statement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_item.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("quality_statement.id"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    body: Mapped[str] = mapped_column(Text)  # markdown
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set on the thread's first comment when someone resolves the thread.
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class PeerChallenge(db.Model):
    """A round's peer challenge: open while the invited reviewers rate it; closed by a manager or at sign-off."""

    __tablename__ = "peer_challenge"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=PeerStatus.OPEN)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def is_open(self) -> bool:
        return self.status == PeerStatus.OPEN


class PeerInvite(db.Model):
    """A peer reviewer invited to a round: the only rounds they can see."""

    __tablename__ = "peer_invite"
    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_peer_invite_round_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    invited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PeerReview(db.Model):
    """The peer team's rating (1–4) and written challenge on one statement of a round, and the council's reply."""

    __tablename__ = "peer_review"
    __table_args__ = (UniqueConstraint("round_id", "statement_id", name="uq_peer_review_round_statement"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("quality_statement.id"))
    rating: Mapped[int | None] = mapped_column(Score)
    challenge: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    response: Mapped[str] = mapped_column(Text, default="")
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    statement: Mapped[QualityStatement] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])

    __mapper_args__ = {"version_id_col": version}


# --- Audit trail ---------------------------------------------------------------


class AuditEvent(db.Model):
    """Append-only record of a change: who, when, what, before and after."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()


class Job(db.Model):
    """Work that runs outside a web request (an export, a large import), with its progress and result.

    The id is random and unguessable; only the owner and administrators may open it all the same.
    Progress and the heartbeat are written by whichever process runs the job, in transactions of their
    own, so that every server shows the same bar.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    title: Mapped[str] = mapped_column(String(300), default="")  # what the job page calls it
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)  # none while the amount of work is unknown
    stage: Mapped[str] = mapped_column(String(200), default="")
    result_path: Mapped[str | None] = mapped_column(String(300))  # relative to UPLOAD_DIR
    result_name: Mapped[str | None] = mapped_column(String(255))
    result_type: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)  # what a finished job did, for the person
    error: Mapped[str | None] = mapped_column(Text)  # why it failed, for the person
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship()
