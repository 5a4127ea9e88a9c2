"""Auth's tables: accounts (``users``) and refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, column_property, mapped_column

from cheese_runtime.db.base import Base
from cheese_runtime.db.types import UTCDateTime, UUIDString, new_id, utcnow
from cheese_runtime.db.users import references_user, users


class User(Base):
    """An account. Extends the runtime's ``users`` table (the identity other
    functions' rows reference, cheese_runtime/db/users.py) with its columns."""

    __tablename__ = "users"
    __table_args__ = ({"extend_existing": True},)

    # The runtime table's own column, not a redeclared one: keys to it stay valid.
    id: Mapped[str] = column_property(users.c.id)
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

    Tokens of one login form a family (the session: its id is the access
    tokens' ``sid``): each refresh uses one and issues its successor;
    presenting a used token again revokes the whole family, unless it is a
    retry within the reuse grace (``functions/auth/tokens.py``).
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family", "family_id"),
        Index("ix_refresh_tokens_user", "user_id"),
    )

    id: Mapped[str] = mapped_column(UUIDString, primary_key=True, default=new_id)
    family_id: Mapped[str] = mapped_column(UUIDString)
    user_id: Mapped[str] = mapped_column(UUIDString, references_user())
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The successor issued when this token was used, sealed with a key only
    # this token's plaintext yields: a retry within the reuse grace gets it back.
    successor_sealed: Mapped[str | None] = mapped_column(String(128), nullable=True)
