"""Smile_rank's tables: smile points, the rank materialisation, charities,
donation periods and the double-entry donation ledger (revision 0002_smiles_ledger).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cheese_runtime.db.base import Base
from cheese_runtime.db.types import UTCDateTime, UUIDString, new_id, utcnow

# What became of a photo's points (the API's PhotoSmiles.status).
PhotoStatus = Literal["counted", "capped", "no_smiles", "duplicate", "reversed", "deleted"]

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
    faces: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[PhotoStatus] = mapped_column(String(16))
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
