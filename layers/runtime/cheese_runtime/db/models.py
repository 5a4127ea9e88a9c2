"""Relational models (Aurora PostgreSQL in AWS, SQLite locally).

Every table is declared here, on one metadata, so that one Alembic history
migrates the whole schema.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cheese_runtime.db.types import UTCDateTime, UUIDString, new_id, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254))
    # Lower-cased email: uniqueness is case-insensitive on every engine.
    email_normalized: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(Text)
    # "active", or "deleting" between DELETE /v1/auth/me and the erasure job.
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Space-separated roles, e.g. "admin".
    roles: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConsentRecord(Base):
    """One user's decision on one consent scope (cheese_runtime.consent), and when it was made.

    Explicit, timestamped consent to processing that needs it (GDPR art. 9,
    BIPA); shared by every function, so it lives with the accounts.
    """

    __tablename__ = "consent_records"

    user_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefreshToken(Base):
    """One issued refresh token; only its SHA-256 is stored.

    Tokens of one login form a family: each refresh uses one and issues its
    successor; presenting a used token again revokes the whole family.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family", "family_id"),
        Index("ix_refresh_tokens_user", "user_id"),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    family_id: Mapped[str] = mapped_column(UUIDString)
    user_id: Mapped[str] = mapped_column(UUIDString, ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- smile ranking and the donation ledger (functions/smile_rank) ------------
# No foreign keys to users: smile records are erased by the smile_rank consumer
# of UserDeletionRequested (which also fixes the rank materialisation), and the
# ledger outlives accounts (pseudonymous user ids, append-only).


class SmilePhoto(Base):
    """One analysed photo as smile_rank saw it: its faces' scores and what it earned.

    ``status``: "counted" (earned ``points`` > 0), "capped" (daily cap reached),
    "no_smiles", "duplicate" (of ``duplicate_of``), "reversed" (deleted while its
    period was open), "deleted" (deleted after its period closed, or before
    the analysis arrived: a tombstone that makes a late PhotoAnalyzed a no-op).
    """

    __tablename__ = "smile_photos"
    __table_args__ = (
        Index("ix_smile_photos_user_sha256", "user_id", "sha256"),
        Index("ix_smile_photos_user_phash", "user_id", "perceptual_hash"),
    )

    photo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(UUIDString)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The 64-bit dHash as a signed 64-bit integer (fits BIGINT on every engine).
    perceptual_hash: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Sorted person ids (or "?" for unknown people) of the usable faces.
    face_signature: Mapped[str] = mapped_column(Text, default="")
    faces: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Where the points went: the ISO week (period), the month and the UTC day.
    period_id: Mapped[str | None] = mapped_column(String(8), nullable=True)
    month_key: Mapped[str | None] = mapped_column(String(7), nullable=True)
    earned_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    analyzed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SmileDaily(Base):
    """Points a user earned on a UTC day (the daily cap)."""

    __tablename__ = "smile_daily"

    user_id: Mapped[str] = mapped_column(UUIDString, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    points: Mapped[int] = mapped_column(Integer, default=0)


class SmileTotal(Base):
    """Materialised points per user per ranking scope: ("week", "2026-W47"), ("month", "2026-11"), ("all", "all")."""

    __tablename__ = "smile_totals"
    __table_args__ = (Index("ix_smile_totals_ranking", "scope", "period_key", "points", "user_id"),)

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[str] = mapped_column(UUIDString, primary_key=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmileScoreCount(Base):
    """How many users of a ranking scope hold exactly ``points``: rank = 1 + users above, without a scan."""

    __tablename__ = "smile_score_counts"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(8), primary_key=True)
    points: Mapped[int] = mapped_column(Integer, primary_key=True)
    users: Mapped[int] = mapped_column(Integer, default=0)


class Charity(Base):
    __tablename__ = "charities"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CharityChoice(Base):
    """A user's charity from period ``effective_from`` (an ISO week id) on; history is kept."""

    __tablename__ = "charity_choices"

    user_id: Mapped[str] = mapped_column(UUIDString, primary_key=True)
    effective_from: Mapped[str] = mapped_column(String(8), primary_key=True)
    charity_id: Mapped[str] = mapped_column(UUIDString, ForeignKey("charities.id"))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DonationPeriod(Base):
    """A donation period (ISO week): budget and rate, then the close's state machine open → closing → closed."""

    __tablename__ = "donation_periods"

    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), default="open")
    currency: Mapped[str] = mapped_column(String(3))
    budget_minor: Mapped[int] = mapped_column(BigInteger)
    rate_minor_per_point: Mapped[int] = mapped_column(BigInteger)
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_points: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    allocated_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    budget_bound: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    closing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PeriodAllocation(Base):
    """The frozen result of a period close's allocation: what each participant's points are worth."""

    __tablename__ = "period_allocations"

    # No foreign keys: 100,000 rows written in the close's snapshot would each
    # key-share-lock the same period row and a few charity rows (see README).
    period_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[str] = mapped_column(UUIDString, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)
    charity_id: Mapped[str] = mapped_column(UUIDString)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # 1 when the largest-remainder rule gave this user one of the leftover units.
    remainder_unit: Mapped[int] = mapped_column(Integer, default=0)


class LedgerAccount(Base):
    """A ledger account: ("sponsor_pool", "sponsor"), ("charity", charity id) or ("pledge", user id), per currency."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner_id", "currency", name="uq_ledger_accounts_kind_owner"),
    )

    # "kind:owner:currency" (e.g. "pledge:<user id>:KRW"): the same id on every run, computable in SQL.
    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransaction(Base):
    """A balanced set of entries (append-only), posted at most once: its id is its idempotency key."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        Index("ix_ledger_transactions_user", "user_id", "period_id"),
        Index("ix_ledger_transactions_period", "period_id", "kind"),
    )

    # The idempotency key, e.g. "period-close:2026-W47:<user id>".
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    period_id: Mapped[str | None] = mapped_column(String(8), nullable=True)
    user_id: Mapped[str | None] = mapped_column(UUIDString, nullable=True)
    memo: Mapped[str] = mapped_column(String(256), default="")
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(Base):
    """One leg of a transaction: a signed amount in integer minor units (credit +, debit −) on an account."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account", "account_id"),)

    transaction_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("ledger_transactions.id"), primary_key=True
    )
    entry_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Not a foreign key: every entry would key-share-lock the one sponsor-pool
    # row, doubling a close's posting time. Accounts are created, with ids
    # derived from (kind, owner, currency), in the same database transaction
    # just before their entries (LedgerRepository.post, PeriodCloser).
    account_id: Mapped[str] = mapped_column(String(96))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- photos and people (functions/photos) -------------------------------------


class Person(Base):
    """A group of one user's faces believed to be one human."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    is_me: Mapped[bool] = mapped_column(Boolean, default=False)
    cover_face_id: Mapped[str | None] = mapped_column(UUIDString, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("user_id", "sha256", name="uq_photos_user_sha256"),
        Index("ix_photos_user_taken", "user_id", "taken_at", "id"),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(UUIDString, ForeignKey("users.id", ondelete="CASCADE"))
    # pending -> processing -> analyzed | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # upload | url | qr
    source: Mapped[str] = mapped_column(String(8))
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    perceptual_hash: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    analyzed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Face(Base):
    __tablename__ = "faces"
    __table_args__ = (Index("ix_faces_user_person", "user_id", "person_id"),)

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    photo_id: Mapped[str] = mapped_column(
        UUIDString, ForeignKey("photos.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(UUIDString, ForeignKey("users.id", ondelete="CASCADE"))
    box_x: Mapped[int] = mapped_column(Integer)
    box_y: Mapped[int] = mapped_column(Integer)
    box_w: Mapped[int] = mapped_column(Integer)
    box_h: Mapped[int] = mapped_column(Integer)
    # Which cut of a photo-booth print the face is in (0 for an ordinary photo).
    cut: Mapped[int] = mapped_column(Integer, default=0)
    landmarks: Mapped[list] = mapped_column(JSON)
    detection_score: Mapped[float] = mapped_column(Float)
    quality: Mapped[dict] = mapped_column(JSON)
    # Large and sharp enough to cluster (faces below the bar are kept, not clustered).
    usable: Mapped[bool] = mapped_column(Boolean)
    # float32 L2-normalised identity embedding; NULL without face-grouping consent.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expression: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    smile: Mapped[float | None] = mapped_column(Float, nullable=True)
    person_id: Mapped[str | None] = mapped_column(
        UUIDString, ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )
    assigned_manually: Mapped[bool] = mapped_column(Boolean, default=False)
    # The face's id in the external face index (Rekognition FaceId), when that backend is used.
    index_face_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
