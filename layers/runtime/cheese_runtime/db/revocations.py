"""The runtime's revoked-sessions table (the API over it: cheese_runtime/auth/revocation.py,
revision 0019_revocations_in_database).

Every token verifier reads it, so the table is the runtime's, next to the
``users`` identity. No foreign key: a ``user#`` row must outlive the user it
revokes (erasure deletes the account; its last tokens are refused until
they expire). Rows hold identifiers only (no e-mail, no name). Each revocation
deletes the rows past ``expires_at``: what stays is about the last quarter
hour's revocations (in a quiet system, its last ones until the next).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cheese_runtime.db.base import Base


class RevokedSession(Base):
    """``sid#<refresh-token family>`` (one session ended) or ``user#<id>`` (all of them)."""

    __tablename__ = "revoked_sessions"

    revoked_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    # Epoch seconds, rounded up: a token issued (iat) at or before it is refused.
    revoked_at: Mapped[int] = mapped_column(BigInteger)
    # Epoch seconds after which no token the row concerns can still be valid.
    expires_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_revoked_sessions_expires_at", "expires_at"),)
