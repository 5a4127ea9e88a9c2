"""Relational models (Aurora PostgreSQL in AWS, SQLite locally).

Every table is declared here, on one metadata, so that one Alembic history
migrates the whole schema.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, MetaData, String, Text
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


class RefreshToken(Base):
    """One issued refresh token; only its SHA-256 is stored.

    Tokens of one login form a family: each refresh uses one and issues its
    successor; presenting a used token again revokes the whole family.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"), Index("ix_refresh_tokens_user", "user_id"))

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    family_id: Mapped[str] = mapped_column(UUIDString)
    user_id: Mapped[str] = mapped_column(UUIDString, ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
